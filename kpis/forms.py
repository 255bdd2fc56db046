from django import forms

from .crm_import import FILES


class CrmImportForm(forms.Form):
    """The four files of the CRM layout; a preview imports them and rolls everything back."""

    preview = forms.BooleanField(
        required=False, initial=True, label="Preview only (check every row, save nothing)"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in FILES:
            self.fields[name] = forms.FileField(label=name)
