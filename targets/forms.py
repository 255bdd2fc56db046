from django import forms
from django.utils import timezone

from kpis import catalogue
from kpis.forms import check_import_size
from kpis.models import ForecastCategory, ForecastSubmission
from kpis.periods import KINDS, Period
from teams import visibility
from teams.models import Rep, Team
from teams.tree import TeamTree

from .numbers import GroupedDecimalField


def subject_choices(user) -> list[tuple[str, str]]:
    """The subjects `user` may set targets for, as "scope:id" values."""
    tree = TeamTree.load()
    team_ids = visibility.visible_team_ids(user, tree)
    choices = [("company:0", "Company")] if visibility.is_admin(user) else []
    teams = Team.objects.filter(pk__in=team_ids).order_by("name").values_list("pk", "name")
    choices += [(f"team:{pk}", f"Team · {name}") for pk, name in teams]
    reps = Rep.objects.filter(team_id__in=team_ids).order_by("full_name").values_list("pk", "full_name")
    choices += [(f"rep:{pk}", f"Rep · {name}") for pk, name in reps]
    return choices


METRIC_CHOICES = [(m.key, m.label) for m in catalogue.METRICS]


class TargetForm(forms.Form):
    """One target, absolute (a value) or relative (a baseline period grown by a percentage).

    The rules (who, which periods, what values) live in targets.services.target_save."""

    subject = forms.ChoiceField()
    metric = forms.ChoiceField(choices=METRIC_CHOICES, initial="revenue_won")
    period = forms.CharField(max_length=10, help_text="2017-03, 2017-Q1 or 2017.")
    mode = forms.ChoiceField(
        choices=[("absolute", "A value"), ("relative", "Relative to a baseline period")],
        widget=forms.RadioSelect,
        initial="absolute",
        label="Target as",
    )
    value = GroupedDecimalField(required=False, help_text="Ratios as fractions: 0.3 = 30%. 1,500 or 1500.")
    baseline = forms.CharField(
        max_length=10,
        required=False,
        label="Baseline period",
        help_text="Same kind as the period, e.g. 2016-Q4.",
    )
    uplift_pct = forms.DecimalField(
        required=False,
        max_digits=7,
        decimal_places=2,
        label="Uplift %",
        help_text="+10 means 10% over the baseline.",
    )

    def __init__(self, *args, user, fixed: bool = False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = subject_choices(user)
        if fixed:  # editing: subject, metric and period name the target
            for name in ("subject", "metric", "period"):
                self.fields[name].disabled = True

    def clean(self):
        data = super().clean()
        if data.get("mode") == "relative":
            data["value"] = None
        else:
            data["baseline"] = data["uplift_pct"] = None
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        scope, pk = data["subject"].split(":")
        return {
            "scope": scope,
            "subject_id": int(pk),
            "metric": data["metric"],
            "period": data["period"],
            "value": data["value"],
            "baseline": data["baseline"],
            "uplift_pct": data["uplift_pct"],
        }


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=[("targets", "Targets")])
    file = forms.FileField(
        label="CSV file", help_text="UTF-8, with a header row.", validators=[check_import_size]
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ForecastForm(forms.Form):
    """A forecast for a coming period (only one made before its period begins counts).

    The rules (who, which subject, which category) live in targets.services.forecast_submit."""

    period = forms.ChoiceField(
        help_text="A commit counts for forecast accuracy only if made before the period."
    )
    category = forms.ChoiceField(choices=ForecastSubmission.Category.choices, initial="commit")
    amount = GroupedDecimalField(min_value=0, max_digits=14, decimal_places=2, label="Revenue you commit to")

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


class ForecastCommitForm(forms.Form):
    """The forecast page's commit for the period it shows: a rep's number typed in whole, a team's
    (or the company's) as the roll-up of its children plus an adjustment (negative: less)."""

    amount = GroupedDecimalField(min_value=0, max_digits=14, decimal_places=2, label="Your commit")
    adjustment = GroupedDecimalField(
        max_digits=14,
        decimal_places=2,
        initial=0,
        label="Adjustment over the roll-up",
        help_text="Added to the roll-up of the children's latest submissions; negative to take off.",
    )

    def __init__(self, *args, adjusts: bool, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        del self.fields["amount" if adjusts else "adjustment"]


class DealCategoryForm(forms.Form):
    """A rep's forecast category for one open deal; empty: its stage's."""

    opportunity = forms.IntegerField(widget=forms.HiddenInput)
    forecast_category = forms.ChoiceField(
        choices=[("", "Its stage's"), *ForecastCategory.choices], required=False, label="Category"
    )
