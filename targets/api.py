"""API for targets, forecast submissions, the forecast roll-up, and the scorecard with each
metric's target, attainment, pace and status.

Writes go through targets.services (the same validation and permissions as the pages); who may
see a row is its model's visible_to.
"""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins
from rest_framework.response import Response
from rest_framework.views import APIView

from kpis import catalogue
from kpis.api import NOT_VISIBLE, bulk_upsert_action, subject_and_period
from kpis.fields import PeriodKind
from kpis.filtersets import ForecastFilterSet, PeriodFilter
from kpis.models import ForecastSubmission
from kpis.serializers import SubjectPeriodQuerySerializer
from salesperf.api import ScopedReadOnlyViewSet, ScopedViewSet
from teams import visibility
from teams.subjects import Scope

from .forecast import forecast_rollup
from .models import Target
from .selectors import scorecard
from .serializers import (
    ForecastBulkSerializer,
    ForecastRollupSerializer,
    ForecastSerializer,
    ScorecardSerializer,
    TargetSerializer,
)
from .services import target_delete


class TargetFilterSet(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(choices=Scope.choices, help_text="rep, team or company.")
    metric = django_filters.ChoiceFilter(
        choices=[(key, key) for key in catalogue.KEYS], help_text="A metric key, e.g. revenue_won."
    )
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices, help_text="month, quarter or year.")
    period = PeriodFilter()
    rep_id = django_filters.NumberFilter(field_name="rep_id", help_text="Targets of this rep.")
    team_id = django_filters.NumberFilter(
        field_name="team_id", help_text="Targets of this team (not its reps)."
    )

    class Meta:
        model = Target
        fields = ["scope", "metric", "period_kind", "period", "rep_id", "team_id"]


class TargetViewSet(ScopedViewSet):
    """Targets of the reps and teams you may see (company: admins). Managers write those below
    them, admins any; relative targets take `baseline` and `uplift_pct` instead of `value`."""

    queryset = Target.objects.select_related("rep", "team")
    may_write = staticmethod(visibility.is_manager)
    serializer_class = TargetSerializer
    filterset_class = TargetFilterSet
    ordering_fields = ["period_start", "metric", "value", "updated_at", "id"]
    ordering = ["period_start", "metric", "id"]

    def get_queryset(self):
        # Not the class's queryset, built at import: which periods exist follows the setting.
        return Target.objects.select_related("rep", "team").visible_to(self.request.user)

    def perform_destroy(self, target):
        target_delete(user=self.request.user, target=target)


class ForecastViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Forecast submissions for the reps and teams you may see (company: admins).

    Append-only history: anyone submits for the subjects they may forecast for (a rep for
    themself, a manager for their subtree, an admin for anything); nobody edits or deletes a
    submission — a correction is a new one. `submitted_at` and `submitted_by` are set by the
    server. In bulk (`bulk/`), a stored external_id is recognised, never updated
    (targets.serializers.ForecastBulkSerializer)."""

    queryset = ForecastSubmission.objects.all()
    serializer_class = ForecastSerializer
    filterset_class = ForecastFilterSet
    ordering_fields = ["submitted_at", "period_start", "amount", "id"]
    ordering = ["-submitted_at"]
    bulk = bulk_upsert_action(
        ForecastBulkSerializer,
        {
            "external_id": "F-2026-Q4-3",
            "scope": "rep",
            "rep": 3,
            "team": None,
            "period_kind": "quarter",
            "period_start": "2026-10-01",
            "category": "commit",
            "amount": "48000.00",
        },
        missing="scope",
        matched=(
            "Submissions are history, as for a single write (no PUT): a row whose external_id is "
            "stored must repeat that submission, and is then left as it is (counted as updated); "
            "one that differs is an error on the fields that differ — send a correction under a new "
            "external_id. Any other row is submitted now, by you, under the single write's rules: "
            "for a subject you may forecast for, for a period not ended, an `amount` or (a team's or "
            "the company's commit) an `adjustment` over the roll-up; `submitted_at` and "
            "`submitted_by` are the server's"
        ),
    )


class ScorecardView(APIView):
    """One subject's scorecard for one period: every metric in the catalogue, from snapshots,
    with its target, attainment, pace and status. A subject you may not see is a 404, like one
    that does not exist."""

    @extend_schema(
        parameters=[SubjectPeriodQuerySerializer],
        responses={200: ScorecardSerializer, 404: OpenApiResponse(description=NOT_VISIBLE)},
    )
    def get(self, request):
        subject, period = subject_and_period(request)
        card = scorecard(user=request.user, subject=subject, period=period, today=timezone.localdate())
        return Response(ScorecardSerializer(card).data)


class ForecastRollupView(APIView):
    """The forecast roll-up of a subject for a period (targets.forecast): for a team one line per
    child (its reps and child teams) and its own total, with quota, closed, commit, best case,
    pipeline, gap to quota, coverage, the latest commit and its change since last week. A subject
    you may not see is a 404, like one that does not exist."""

    @extend_schema(
        parameters=[SubjectPeriodQuerySerializer],
        responses={200: ForecastRollupSerializer, 404: OpenApiResponse(description=NOT_VISIBLE)},
    )
    def get(self, request):
        subject, period = subject_and_period(request)
        forecast = forecast_rollup(user=request.user, subject=subject, period=period, now=timezone.now())
        return Response(ForecastRollupSerializer(forecast).data)
