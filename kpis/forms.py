from django import forms
from django.conf import settings

from .crm_import import FILES


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
