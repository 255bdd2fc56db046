"""API serializers for targets, forecast submissions and the scorecard.

Writes are read into the arguments of targets.services, which validates them and decides who may
write what, as it does for the pages.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from kpis.fields import PeriodKind
from kpis.models import ForecastSubmission
from kpis.periods import Period
from salesperf.api import field_errors
from teams.filtersets import MAX_ID
from teams.models import Rep, Team
from teams.serializers import BlankIsNullMixin, VisibleRelatedField
from teams.subjects import Scope, subject_name

from .csv_io import COMPANY_NAME
from .models import Target
from .services import forecast_check, forecast_submit, target_save


class SubjectIdField(serializers.IntegerField):
    """A target's rep or team id, written and read back; null for the company."""

    def get_attribute(self, target):
        return target.subject.pk or None


class PeriodLabelField(serializers.CharField):
    """A target's period, or its baseline period, as a label."""

    def get_attribute(self, target):
        if self.field_name == "baseline":
            return (
                Period.from_start(target.period_kind, target.baseline_start)
                if target.baseline_start
                else None
            )
        return target.period

    def to_representation(self, period):
        return period.label


class TargetSerializer(serializers.ModelSerializer):
    # Written as fields and read back the same way (the model has no such attributes).
    subject = SubjectIdField(
        required=False,
        allow_null=True,
        # An id no database stores would reach the query as an integer SQLite cannot hold (a 500).
        min_value=1,
        max_value=MAX_ID,
        help_text="The rep's or team's id; empty (omitted or null) for the company.",
    )
    period = PeriodLabelField(max_length=20, help_text="A period label: 2017-03, 2017-Q1 or 2017.")
    baseline = PeriodLabelField(
        max_length=20,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Relative target: the baseline period's label (same kind as `period`); empty otherwise.",
    )
    last_status = serializers.ChoiceField(
        choices=Target.Status.choices,
        allow_blank=True,
        read_only=True,
        help_text="As of the last daily check (alerts); empty until the first.",
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
        read_only_fields = ["period_kind", "period_start", "updated_at"]
        extra_kwargs = {
            "value": {"required": False, "allow_null": True},
            "metric": {"help_text": "A metric key."},
        }

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
            message = "A target keeps its subject, metric and period: delete it and create another."
            raise serializers.ValidationError({name: [message] for name in moved})
        scope, subject = target.subject
        return self._save(
            scope=scope, subject=subject, metric=target.metric, period=target.period, replace=True
        )


class ForecastSerializer(BlankIsNullMixin, serializers.ModelSerializer):
    """A forecast submission; a write is read as the arguments of targets.services.forecast_submit,
    which decides who may submit what. `submitted_at` and `submitted_by` are the server's."""

    rep = VisibleRelatedField(Rep, required=False, allow_null=True)
    team = VisibleRelatedField(Team, required=False, allow_null=True)
    period = serializers.SerializerMethodField()

    class Meta:
        model = ForecastSubmission
        fields = [
            "id",
            "external_id",
            "scope",
            "rep",
            "team",
            "period_kind",
            "period_start",
            "period",
            "category",
            "amount",
            "rollup",
            "adjustment",
            "submitted_at",
            "submitted_by",
        ]
        read_only_fields = ["rollup", "submitted_at", "submitted_by"]
        extra_kwargs = {
            "amount": {"min_value": 0, "required": False},
            "adjustment": {
                "help_text": "Instead of an amount, for a team's or the company's commit: the roll-up "
                "of its children's latest submissions (their commit where none) plus this."
            },
        }

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
            amount=validated_data.get("amount"),
            adjustment=validated_data.get("adjustment"),
            category=validated_data.get("category", ForecastSubmission.Category.COMMIT),
            external_id=validated_data.get("external_id"),
        )


HISTORY = "A submission is history and never changes: send the correction under a new external_id."


class ForecastBulkSerializer(ForecastSerializer):
    """A row of `POST /api/v1/forecasts/bulk/` (kpis.bulk.bulk_upsert runs it once per row, its
    `instance` the stored submission of the row's external_id, if any).

    A submission is history (forecast_submit): the single write has no PUT, and a correction is
    a new submission. So a row whose external_id is stored must repeat that submission — a sync
    script sends it again — and is then left as it is; a row that differs is an error on the
    fields that differ, not an update. Any other row is submitted now, by the caller, under
    forecast_submit's rules (forecast_check); submitted_at and submitted_by are the server's."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        period = attrs.pop("period")
        if self.instance is not None:
            return self._repeated(attrs)
        subject = attrs.get("rep") or attrs.get("team")
        try:
            forecast = forecast_check(
                user=self.context["request"].user,
                scope=attrs["scope"],
                subject_id=subject.pk if subject else 0,
                period=period,
                amount=attrs.get("amount"),
                adjustment=attrs.get("adjustment"),
                category=attrs.get("category", ForecastSubmission.Category.COMMIT),
                external_id=attrs.get("external_id"),
                # One moment for the batch: its rows are one submission of the script's.
                now=self.context.setdefault("now", timezone.now()),
                # The rep or team field found it among those the user sees (VisibleRelatedField).
                subject_seen=True,
            )
            self.clean_instance(forecast)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(field_errors(exc)) from None
        # By id (rep_id, not rep): the rows are written with bulk_create, the related rows not read.
        return {
            f.attname: getattr(forecast, f.attname)
            for f in forecast._meta.concrete_fields
            if f.attname != "id"
        }

    def _repeated(self, attrs) -> dict:
        """Nothing to write when the row repeats the stored submission (`attrs` as given, its
        category commit unless named); else the differing fields' errors."""
        stored = self.instance
        given = {"category": ForecastSubmission.Category.COMMIT, **attrs}
        differ = [
            name
            for name, value in given.items()
            if getattr(stored, ForecastSubmission._meta.get_field(name).attname)
            != getattr(value, "pk", value)
        ]
        if differ:
            raise serializers.ValidationError({name: [HISTORY] for name in differ})
        return {}

    def clean_instance(self, instance):
        """The model's full_clean (a batch, kpis.bulk.BatchChecks, checks without a query a row)."""
        instance.full_clean()


def decimal(**kwargs):
    return serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True, **kwargs)


class ScorecardRowSerializer(serializers.Serializer):
    """A targets.selectors.ScoreRow."""

    metric = serializers.CharField(source="metric.key", help_text="The metric's key in the catalogue.")
    label = serializers.CharField(source="metric.label")
    unit = serializers.CharField(source="metric.unit")
    higher_is_better = serializers.BooleanField(source="metric.higher_is_better")
    value = decimal(help_text="Empty when undefined (a ratio over 0) or not computed.")
    numerator = decimal()
    denominator = decimal(help_text="Empty for plain figures.")
    computed_at = serializers.DateTimeField(allow_null=True)
    target = decimal(source="target_value")
    attainment = decimal()
    pace = decimal()
    status = serializers.CharField(allow_null=True)


class ScorecardSerializer(serializers.Serializer):
    """A targets.selectors.Scorecard, and the subject's `name`."""

    scope = serializers.ChoiceField(source="subject.scope", choices=Scope.choices)
    subject = serializers.IntegerField(source="subject.pk", help_text="Rep or team id; 0 for the company.")
    name = serializers.SerializerMethodField(help_text="The rep's full name, the team's name, or `all`.")
    period = serializers.CharField(source="period.label")
    period_kind = serializers.ChoiceField(source="period.kind", choices=PeriodKind.choices)
    period_start = serializers.DateField(source="period.start")
    period_end = serializers.DateField(source="period.end")
    metrics = ScorecardRowSerializer(source="rows", many=True)

    def get_name(self, card) -> str:
        # The API names the company `all`, as the CSV files do.
        return COMPANY_NAME if card.subject.scope == Scope.COMPANY else subject_name(card.subject)


class ForecastSubmissionBriefSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    rollup = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    adjustment = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    submitted_at = serializers.DateTimeField()
    submitted_by = serializers.CharField(source="submitted_by.get_username", allow_null=True, default=None)


class ForecastLineSerializer(serializers.Serializer):
    """A targets.forecast.Line: one level of the roll-up. Money is empty where undefined (no
    target, or closed revenue not computed yet), never 0."""

    scope = serializers.ChoiceField(source="subject.scope", choices=Scope.choices)
    subject = serializers.IntegerField(source="subject.pk", help_text="Rep or team id; 0 for the company.")
    name = serializers.CharField()
    quota = decimal(help_text="The revenue_won target: its own, or its months' or reps' sum.")
    closed = decimal(help_text="Revenue won in the period (the revenue_won snapshot).")
    commit = decimal(help_text="closed + open deals in commit expected to close in the period.")
    best_case = decimal(help_text="commit + best-case deals.")
    pipeline = decimal(help_text="best_case + pipeline deals; omitted deals never count.")
    gap = decimal(help_text="quota − commit.")
    coverage = decimal(help_text="(pipeline − closed) / (quota − closed); empty when that is not above 0.")
    no_close_date = serializers.IntegerField(help_text="Open deals without an expected close date.")
    submission = ForecastSubmissionBriefSerializer(allow_null=True, help_text="The latest commit.")
    change = decimal(help_text="The latest commit less the latest one as it stood 7 days ago.")
    rollup = decimal(help_text="Σ children's latest submissions (their commit where none).")


class ForecastRollupSerializer(serializers.Serializer):
    """A targets.forecast.Forecast: the children's lines, then the subject's own (`total`)."""

    scope = serializers.ChoiceField(source="subject.scope", choices=Scope.choices)
    subject = serializers.IntegerField(source="subject.pk")
    period = serializers.CharField(source="period.label")
    lines = ForecastLineSerializer(many=True, source="total.children")
    total = ForecastLineSerializer()
