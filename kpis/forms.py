from django import forms
from django.conf import settings

from .crm_import import FILES
from .imports import KINDS, MAX_IMPORT_BYTES, ImportFailed, Kind, read_table
from .models import ImportMapping


def check_import_size(upload) -> None:
    """Refuses an uploaded file over settings.IMPORT_MAX_MB before anything reads it."""
    if upload.size > settings.IMPORT_MAX_MB * 1024 * 1024:
        raise forms.ValidationError(
            "The file is over %(mb)s MB: split it into smaller files.", params={"mb": settings.IMPORT_MAX_MB}
        )


class CrmImportForm(forms.Form):
    """The four files of the CRM layout; a preview imports them and rolls everything back."""

    preview = forms.BooleanField(
        required=False, initial=True, label="Preview only (check every row, save nothing)"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in FILES:
            self.fields[name] = forms.FileField(label=name, validators=[check_import_size])


class FactsUploadForm(forms.Form):
    """The mapped import's first step: a CSV file of any CRM, what it holds, and optionally the
    saved mapping to read it with. The file is read here (its bytes: `self.content`, the table:
    `self.table`), so a file that is no CSV we can read is a form error and nothing is kept."""

    file = forms.FileField(label="CSV file", max_length=200)
    kind = forms.ChoiceField(label="It holds", choices=[(key, kind.label) for key, kind in KINDS.items()])
    mapping = forms.ModelChoiceField(
        label="Saved mapping",
        queryset=ImportMapping.objects.order_by("name"),
        required=False,
        empty_label="none: map the columns next",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("%(name)s is not a CSV file (.csv).", params={"name": upload.name})
        if upload.size > MAX_IMPORT_BYTES:  # refused before it is read into memory
            raise forms.ValidationError(
                "%(name)s is over %(mb)s MB, the most an import takes: split the file.",
                params={"name": upload.name, "mb": f"{MAX_IMPORT_BYTES / 1024 / 1024:g}"},
            )
        self.content = upload.read()
        try:
            self.table = read_table(self.content, name=upload.name)
        except ImportFailed as e:
            raise forms.ValidationError(str(e)) from e
        return upload

    def clean(self):
        data = super().clean()
        mapping, kind = data.get("mapping"), data.get("kind")
        if mapping and kind and mapping.kind != kind:
            self.add_error(
                "mapping", f"The mapping “{mapping.name}” is for {mapping.get_kind_display().lower()}."
            )
        return data


NOT_IMPORTED = ("", "— not imported —")


class ImportMappingForm(forms.Form):
    """The mapped import's second step: a column of the file for every field of the kind (the
    required ones must have one), how dates and amounts are written, what to do with bad rows, and
    a name to save the mapping under. `mapping(values)` is the unsaved ImportMapping it describes."""

    date_format = forms.ChoiceField(
        label="Dates are written", choices=ImportMapping.DATE_FORMATS, required=False
    )
    decimal_comma = forms.BooleanField(label="Decimal comma (1.234,56)", required=False)
    good_rows_only = forms.TypedChoiceField(
        label="Rows with errors",
        choices=[
            ("", "All or nothing: any bad row and nothing is imported"),
            ("1", "Import the good rows, give me the bad ones as a CSV file"),
        ],
        coerce=bool,
        empty_value=False,
        required=False,
    )
    confirmed = forms.BooleanField(label="I confirm these changes", required=False)
    save_as = forms.CharField(
        label="Save this mapping as",
        max_length=ImportMapping._meta.get_field("name").max_length,
        required=False,
        help_text="A name to reuse it by (here, or import_facts --mapping NAME); an existing one is updated.",
    )

    def __init__(self, *args, kind: Kind, header: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        columns = [NOT_IMPORTED, *((h, h) for h in header)]
        for spec in kind.fields:
            self.fields[column_field(spec.name)] = forms.ChoiceField(
                label=spec.label,
                choices=columns,
                required=False,
                help_text=spec.help,
            )

    def column_fields(self):
        """(the select, its FieldSpec) for every field of the kind, in the kind's order."""
        return [(self[column_field(spec.name)], spec) for spec in self.kind.fields]

    def clean(self):
        data = super().clean()
        for spec in self.kind.fields:
            if spec.required and not data.get(column_field(spec.name)):
                self.add_error(
                    column_field(spec.name), f"{spec.label} is required: choose the file's column."
                )
        return data

    def mapping(self, values: dict[str, dict[str, str]]) -> ImportMapping:
        data = self.cleaned_data
        columns = {spec.name: data[column_field(spec.name)] for spec in self.kind.fields}
        return ImportMapping(
            name=data["save_as"],
            kind=self.kind.key,
            columns={field: column for field, column in columns.items() if column},
            values=values,
            date_format=data["date_format"],
            decimal_comma=data["decimal_comma"],
        )


def column_field(name: str) -> str:
    return f"column_{name}"


class ValueMapForm(forms.Form):
    """One value of the file in a field that maps values (a stage, an owner …) and ours for it."""

    field = forms.CharField(widget=forms.HiddenInput)
    value = forms.CharField(widget=forms.HiddenInput, strip=False)
    ours = forms.ChoiceField(required=False)

    def __init__(self, *args, kind: Kind, **kwargs):
        super().__init__(*args, **kwargs)
        name = self.initial.get("field") or self.data.get(self.add_prefix("field"))
        spec = next((s for s in kind.fields if s.name == name and s.maps_values), None)
        self.spec = spec
        self.fields["ours"].choices = [("", "— leave unmapped —"), *(spec.choices() if spec else [])]

    def clean_field(self):
        if self.spec is None:
            raise forms.ValidationError("This field does not map values.")
        return self.cleaned_data["field"]


ValueMapFormSet = forms.formset_factory(ValueMapForm, extra=0)


def mapped_values(formset) -> dict[str, dict[str, str]]:
    """{field: {the file's value: ours}} from the value selects the admin set."""
    values: dict[str, dict[str, str]] = {}
    for form in formset:
        if form.cleaned_data.get("ours"):
            values.setdefault(form.cleaned_data["field"], {})[form.cleaned_data["value"]] = form.cleaned_data[
                "ours"
            ]
    return values
