from django import forms
from django.utils import timezone

from .models import ForecastSubmission
from .periods import KINDS, Period


class ForecastForm(forms.Form):
    """A forecast for a coming period (only one made before its period begins counts)."""

    period = forms.ChoiceField(
        help_text="A commit counts for forecast accuracy only if made before the period."
    )
    category = forms.ChoiceField(choices=ForecastSubmission.Category.choices, initial="commit")
    amount = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, label="Revenue you commit to")

    def __init__(self, *args, period: Period, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        coming = [Period.containing(kind, today).shifted(1) for kind in KINDS]
        labels = [p.label for p in coming]
        if period.label not in labels:
            labels.append(period.label)
        self.fields["period"].choices = [(label, label) for label in labels]
        self.fields["period"].initial = Period.containing(period.kind, today).shifted(1).label
