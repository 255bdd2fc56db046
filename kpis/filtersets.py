"""The FilterSets that narrow the facts and snapshots down.

They only narrow what the models' `visible_to(user)` (teams.querysets, built on teams.visibility)
returns, so a filter on a row the user may not see matches nothing.
"""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from teams.filtersets import IdFilter, TeamSubtreeFilter, search_filter
from teams.models import Rep
from teams.subjects import Scope
from teams.tree import TeamTree

from . import catalogue
from .fields import PeriodKind
from .models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
    Stage,
)
from .periods import Period

# --- Filters


class PeriodField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return Period.parse(value)
        except ValueError as e:  # not a period, or out of range
            # The label goes in params, never in the message: a % in it must stay text.
            raise forms.ValidationError("%(reason)s", code="invalid", params={"reason": str(e)}) from None


class PeriodFilter(django_filters.CharFilter):
    """A period by its label (2017-03, 2017-Q1, 2017: fiscal, as labels are written)."""

    field_class = PeriodField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", "A period label: 2017-03 (month), 2017-Q1 (quarter) or 2017 (year).")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(period_kind=value.kind, period_start=value.start)


class LocalDateRangeFilter(django_filters.DateFromToRangeFilter):
    """A range of days on a timestamp, each day taken in TIME_ZONE (as the KPIs count them)."""

    def filter(self, qs, value):
        if not value:
            return qs
        if value.start is not None and (start := self.midnight(value.start)) is not None:
            qs = qs.filter(**{f"{self.field_name}__gte": start})
        if value.stop is not None and (stop := self.midnight(value.stop, days=1)) is not None:
            qs = qs.filter(**{f"{self.field_name}__lt": stop})
        return qs

    @staticmethod
    def midnight(day, days=0):
        """The start of `day` + `days` in TIME_ZONE, in UTC; None past the calendar's ends."""
        try:
            local = dt.datetime.combine(day + dt.timedelta(days=days), dt.time.min)
            return timezone.make_aware(local, timezone.get_default_timezone()).astimezone(dt.UTC)
        except OverflowError:
            return None


def money_filter(lookup, help_text):
    return django_filters.NumberFilter(
        field_name="amount",
        lookup_expr=lookup,
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text=help_text,
    )


def days(what):
    return django_filters.DateFromToRangeFilter(
        help_text=f"{what} from `_after` to `_before`, both days included (YYYY-MM-DD)."
    )


def exactly(max_length, help_text):
    return django_filters.CharFilter(lookup_expr="iexact", max_length=max_length, help_text=help_text)


class CustomerFilterSet(django_filters.FilterSet):
    q = search_filter("name", "external_id", "sector", "country")
    owner_id = IdFilter(field_name="owner_id", help_text="Customers owned by this rep.")
    team_id = TeamSubtreeFilter(
        field_name="owner__team_id", help_text="Owned by a rep of this team or below."
    )
    sector = exactly(100, "This sector, ignoring case.")
    country = exactly(100, "This country, ignoring case.")
    acquired_on = days("Acquired")
    churned_on = days("Churned")
    churned = django_filters.BooleanFilter(
        field_name="churned_on",
        lookup_expr="isnull",
        exclude=True,
        help_text="Churned (true) or not (false).",
    )

    class Meta:
        model = Customer
        fields = []


class LeadFilterSet(django_filters.FilterSet):
    q = search_filter("name", "source")
    rep_id = IdFilter(field_name="rep_id", help_text="Leads of this rep.")
    team_id = TeamSubtreeFilter(field_name="rep__team_id", help_text="Leads of reps of this team or below.")
    customer_id = IdFilter(field_name="customer_id", help_text="Leads that became this customer.")
    source = exactly(50, "This source, ignoring case.")
    created_on = days("Created")
    converted_on = days("Converted")
    converted = django_filters.BooleanFilter(
        field_name="converted_on",
        lookup_expr="isnull",
        exclude=True,
        help_text="Converted (true) or not (false).",
    )

    class Meta:
        model = Lead
        fields = []


class OpportunityFilterSet(django_filters.FilterSet):
    q = search_filter("name", "external_id", "product")
    rep_id = IdFilter(field_name="rep_id", help_text="Deals of this rep.")
    team_id = TeamSubtreeFilter(field_name="rep__team_id", help_text="Deals of reps of this team or below.")
    customer_id = IdFilter(field_name="customer_id", help_text="Deals with this customer.")
    stage_id = IdFilter(field_name="stage_id", help_text="Deals in this stage.")
    stage = django_filters.CharFilter(
        field_name="stage__name",
        lookup_expr="iexact",
        max_length=50,
        help_text="Deals in the stage of this name.",
    )
    outcome = django_filters.ChoiceFilter(
        field_name="stage__outcome", choices=Stage.Outcome.choices, help_text="Open, won or lost deals."
    )
    product = exactly(100, "This product, ignoring case.")
    amount_min = money_filter("gte", "Amount at least this.")
    amount_max = money_filter("lte", "Amount at most this.")
    created_on = days("Created")
    closed_on = days("Closed")
    expected_close_on = days("Expected to close")

    class Meta:
        model = Opportunity
        fields = []


class ActivityFilterSet(django_filters.FilterSet):
    q = search_filter("subject")
    rep_id = IdFilter(field_name="rep_id", help_text="Activities of this rep.")
    team_id = TeamSubtreeFilter(
        field_name="rep__team_id", help_text="Activities of reps of this team or below."
    )
    customer_id = IdFilter(field_name="customer_id", help_text="Activities with this customer.")
    opportunity_id = IdFilter(field_name="opportunity_id", help_text="Activities on this deal.")
    kind = django_filters.ChoiceFilter(choices=Activity.Kind.choices, help_text="Calls, emails or meetings.")
    occurred_on = LocalDateRangeFilter(
        field_name="occurred_at",
        help_text="Happened from `_after` to `_before`, both days included, days in TIME_ZONE (YYYY-MM-DD).",
    )

    class Meta:
        model = Activity
        fields = []


class NpsResponseFilterSet(django_filters.FilterSet):
    q = search_filter("comment", "customer__name")
    customer_id = IdFilter(field_name="customer_id", help_text="Responses of this customer.")
    rep_id = IdFilter(field_name="customer__owner_id", help_text="Responses of customers this rep owns.")
    team_id = TeamSubtreeFilter(
        field_name="customer__owner__team_id", help_text="Responses of customers owned in this team or below."
    )
    score_min = django_filters.NumberFilter(
        field_name="score", lookup_expr="gte", min_value=0, max_value=10, help_text="Score at least this."
    )
    score_max = django_filters.NumberFilter(
        field_name="score", lookup_expr="lte", min_value=0, max_value=10, help_text="Score at most this."
    )
    responded_on = days("Responded")

    class Meta:
        model = NpsResponse
        fields = []


class SpendFilterSet(django_filters.FilterSet):
    q = search_filter("channel")
    rep_id = IdFilter(field_name="rep_id", help_text="Spend charged to this rep.")
    team_id = TeamSubtreeFilter(
        field_name="team_id",
        also=("rep__team_id",),
        help_text="Spend on this team or below, or on their reps.",
    )
    channel = exactly(50, "This channel, ignoring case.")
    spent_on = days("Spent")

    class Meta:
        model = AcquisitionSpend
        fields = []


class ForecastFilterSet(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(
        choices=Scope.choices, help_text="Forecasts of a rep, a team or the company."
    )
    rep_id = IdFilter(field_name="rep_id", help_text="Forecasts of this rep.")
    team_id = TeamSubtreeFilter(
        field_name="team_id",
        also=("rep__team_id",),
        help_text="Forecasts of this team or below, or of their reps.",
    )
    category = django_filters.ChoiceFilter(
        choices=ForecastSubmission.Category.choices, help_text="Commit or best case."
    )
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices, help_text="Month, quarter or year.")
    period = PeriodFilter()
    period_start = days("Periods starting")

    class Meta:
        model = ForecastSubmission
        fields = []


class StageFilterSet(django_filters.FilterSet):
    q = search_filter("name")
    outcome = django_filters.ChoiceFilter(
        choices=Stage.Outcome.choices, help_text="Open, won or lost stages."
    )

    class Meta:
        model = Stage
        fields = []


class SnapshotFilterSet(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(
        choices=Scope.choices, help_text="Snapshots of a rep, a team or the company."
    )
    subject_id = IdFilter(
        field_name="subject_id", min_value=0, help_text="Rep or team id; 0 for the company."
    )
    rep_id = IdFilter(method="filter_rep", help_text="The snapshots of this rep (scope rep).")
    team_id = IdFilter(
        method="filter_team", help_text="The snapshots of this team, the teams below it and their reps."
    )
    metric = django_filters.MultipleChoiceFilter(
        choices=[(key, key) for key in catalogue.KEYS],
        help_text="One or more metric keys (repeat the parameter).",
    )
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices, help_text="Month, quarter or year.")
    period = PeriodFilter()
    period_start = days("Periods starting")

    class Meta:
        model = KpiSnapshot
        fields = []

    def filter_rep(self, queryset, name, value):
        return queryset.filter(scope=Scope.REP, subject_id=value)

    def filter_team(self, queryset, name, value):
        subtree = TeamTree.load().subtree_ids([value])
        return queryset.filter(
            Q(scope=Scope.TEAM, subject_id__in=subtree)
            | Q(scope=Scope.REP, subject_id__in=Rep.objects.filter(team_id__in=subtree).values("pk"))
        )
