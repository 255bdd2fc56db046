"""API for targets, forecast submissions, and the scorecard with each metric's target,
attainment, pace and status.

Writes go through targets.services (the same validation and permissions as the pages); who may
see a row is its model's visible_to.
"""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from kpis import api as kpis_api
from kpis import catalogue
from kpis.fields import PeriodKind
from kpis.filtersets import ForecastFilterSet, PeriodFilter
from kpis.models import ForecastSubmission, KpiSnapshot
from kpis.periods import Period
from teams import visibility
from teams.api import ScopedReadOnlyViewSet, ScopedViewSet
from teams.filtersets import MAX_ID
from teams.models import Rep, Team
from teams.serializers import VisibleRelatedField
from teams.subjects import Scope

from .models import Target
from .selectors import targets_progress
from .services import forecast_submit, target_delete, target_save


class TargetSerializer(serializers.ModelSerializer):
    # Written as fields, read back by to_representation (the model has no such attributes).
    subject = serializers.IntegerField(
        required=False,
        allow_null=True,
        write_only=True,
        # An id no database stores would reach the query as an integer SQLite cannot hold (a 500).
        min_value=1,
        max_value=MAX_ID,
        help_text="The rep's or team's id; omit for the company.",
    )
    period = serializers.CharField(max_length=20, help_text="A period label: 2017-03, 2017-Q1 or 2017.")
    baseline = serializers.CharField(
        max_length=20,
        required=False,
        allow_null=True,
        allow_blank=True,
        write_only=True,
        help_text="Relative target: the baseline period's label (same kind as `period`).",
    )

    class Meta:
        model = Target
        fields = [
            "id",
            "scope",
            "subject",
            "metric",
            "period",
            "period_kind",
            "period_start",
            "value",
            "baseline",
            "uplift_pct",
            "last_status",
            "updated_at",
        ]
        read_only_fields = ["period_kind", "period_start", "last_status", "updated_at"]
        extra_kwargs = {
            "value": {"required": False, "allow_null": True},
            "metric": {"help_text": "A metric key."},
        }

    def to_representation(self, target):
        data = super().to_representation(target)
        data["subject"] = target.subject[1]
        data["period"] = target.period.label
        data["baseline"] = (
            Period.from_start(target.period_kind, target.baseline_start).label
            if target.baseline_start
            else None
        )
        return data

    def _save(self, *, scope, subject, metric, period, replace):
        data = self.validated_data
        return target_save(
            user=self.context["request"].user,
            scope=scope,
            subject_id=subject or 0,
            metric=metric,
            period=period,
            value=data.get("value"),
            baseline=data.get("baseline"),
            uplift_pct=data.get("uplift_pct"),
            replace=replace,
        )

    def create(self, validated_data):
        return self._save(
            scope=validated_data["scope"],
            subject=validated_data.get("subject"),
            metric=validated_data["metric"],
            period=validated_data["period"],
            replace=False,
        )

    def update(self, target, validated_data):
        moved = {
            name
            for name in ("scope", "subject", "metric", "period")
            if name in validated_data and validated_data[name] != self.to_representation(target)[name]
        }
        if moved:
            raise serializers.ValidationError(
                dict.fromkeys(
                    moved, "A target keeps its subject, metric and period: delete it and create another."
                )
            )
        scope, subject = target.subject
        return self._save(
            scope=scope, subject=subject, metric=target.metric, period=target.period, replace=True
        )


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

    def perform_destroy(self, target):
        target_delete(user=self.request.user, target=target)


class ForecastSerializer(serializers.ModelSerializer):
    """A forecast submission; a write is read as the arguments of targets.services.forecast_submit,
    which decides who may submit what. `submitted_at` and `submitted_by` are the server's."""

    rep = VisibleRelatedField(Rep, required=False, allow_null=True)
    team = VisibleRelatedField(Team, required=False, allow_null=True)
    period = serializers.SerializerMethodField()

    class Meta:
        model = ForecastSubmission
        fields = [
            "id",
            "scope",
            "rep",
            "team",
            "period_kind",
            "period_start",
            "period",
            "category",
            "amount",
            "submitted_at",
            "submitted_by",
        ]
        read_only_fields = ["submitted_at", "submitted_by"]
        extra_kwargs = {"amount": {"min_value": 0}}

    def get_period(self, obj) -> str:
        return Period.from_start(obj.period_kind, obj.period_start).label

    def validate(self, attrs):
        """The body names exactly its subject (a rep, a team, or neither) and a period's start."""
        scope, rep, team = attrs["scope"], attrs.get("rep"), attrs.get("team")
        errors = {}
        if scope == Scope.REP and rep is None:
            errors["rep"] = ["Name the rep this forecast is for."]
        if scope == Scope.TEAM and team is None:
            errors["team"] = ["Name the team this forecast is for."]
        if scope != Scope.REP and rep is not None:
            errors["rep"] = ["Only a rep forecast names a rep."]
        if scope != Scope.TEAM and team is not None:
            errors["team"] = ["Only a team forecast names a team."]
        try:
            attrs["period"] = Period.from_start(attrs["period_kind"], attrs["period_start"])
        except ValueError as exc:
            errors["period_start"] = [str(exc)]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        subject = validated_data.get("rep") or validated_data.get("team")
        return forecast_submit(
            user=self.context["request"].user,
            scope=validated_data["scope"],
            subject_id=subject.pk if subject else 0,
            period=validated_data["period"],
            amount=validated_data["amount"],
            category=validated_data.get("category", ForecastSubmission.Category.COMMIT),
        )


class ForecastViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Forecast submissions for the reps and teams you may see (company: admins).

    Append-only history: anyone submits for the subjects they may forecast for (a rep for
    themself, a manager for their subtree, an admin for anything); nobody edits or deletes a
    submission — a correction is a new one. `submitted_at` and `submitted_by` are set by the
    server."""

    queryset = ForecastSubmission.objects.all()
    serializer_class = ForecastSerializer
    filterset_class = ForecastFilterSet
    ordering_fields = ["submitted_at", "period_start", "amount", "id"]
    ordering = ["-submitted_at"]


class ScorecardView(kpis_api.ScorecardView):
    """One subject's scorecard for one period: every metric with its target, attainment, pace
    and status. A subject you may not see is a 404, like one that does not exist."""

    @extend_schema(
        parameters=[kpis_api.ScorecardQuerySerializer],
        responses={200: kpis_api.ScorecardSerializer, 404: OpenApiResponse(description=kpis_api.NOT_VISIBLE)},
    )
    def get(self, request):
        query = kpis_api.ScorecardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        card = kpis_api.scorecard(user=request.user, **query.validated_data)
        if card is None:
            raise NotFound(kpis_api.NOT_VISIBLE)
        period = query.validated_data["period"]
        targets = list(
            Target.objects.for_subject(card["scope"], card["subject"]).filter(
                period_kind=period.kind, period_start=period.start
            )
        )
        states = targets_progress(
            targets, timezone.localdate(), snapshots=KpiSnapshot.objects.visible_to(request.user)
        )
        by_metric = {t.metric: (t, states[t.pk]) for t in targets}
        for row in card["metrics"]:
            if row["metric"] in by_metric:
                target, state = by_metric[row["metric"]]
                row.update(
                    target=target.value, attainment=state.attainment, pace=state.pace, status=state.status
                )
        return Response(kpis_api.ScorecardSerializer(card).data)
