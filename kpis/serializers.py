"""API serializers for the facts, snapshots and the metric catalogue.

Every related id a write names must be one the writer may see (`VisibleRelatedField`: the
related model's `visible_to`), and every write is validated by the model's `full_clean`.
"""

from rest_framework import serializers

from teams import visibility
from teams.models import Rep, Team
from teams.serializers import ModelCleanSerializer, VisibleRelatedField

from .models import (
    AcquisitionSpend,
    Activity,
    Customer,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
    OpportunityState,
    Stage,
)
from .periods import Period


def rep_field(**kwargs):
    return VisibleRelatedField(Rep, **kwargs)


def customer_field():
    return VisibleRelatedField(Customer, required=False, allow_null=True)


def name_of(source):
    return serializers.CharField(source=source, read_only=True, allow_null=True)


class BlankIsNullMixin:
    """An empty external id is no external id (they are unique when given)."""

    def validate_external_id(self, value):
        return value or None


class CustomerSerializer(BlankIsNullMixin, ModelCleanSerializer):
    owner = rep_field(required=False, allow_null=True)
    owner_name = name_of("owner.full_name")

    class Meta:
        model = Customer
        fields = [
            "id",
            "external_id",
            "name",
            "owner",
            "owner_name",
            "sector",
            "country",
            "employees",
            "annual_revenue",
            "year_established",
            "subsidiary_of",
            "acquired_on",
            "churned_on",
        ]

    def validate(self, attrs):
        if self.current(attrs, "owner") is None and not visibility.is_admin(self.requesting_user()):
            raise serializers.ValidationError({"owner": ["Choose an owner among your reps."]})
        return super().validate(attrs)


class LeadSerializer(ModelCleanSerializer):
    rep = rep_field()
    rep_name = name_of("rep.full_name")
    customer = customer_field()

    class Meta:
        model = Lead
        fields = ["id", "name", "rep", "rep_name", "source", "created_on", "converted_on", "customer"]


class StageSerializer(ModelCleanSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "order", "probability", "outcome"]


def visible_rep_ids(serializer) -> set[int] | None:
    """The reps the reader may see (None: all), worked out once per response and shared by its
    rows and their nested rows."""
    context = serializer.context
    if "visible_rep_ids" not in context:
        user = context["request"].user
        if visibility.is_admin(user):
            context["visible_rep_ids"] = None
        else:
            context["visible_rep_ids"] = set(Rep.objects.visible_to(user).values_list("pk", flat=True))
    return context["visible_rep_ids"]


class OpportunityStateSerializer(serializers.ModelSerializer):
    stage_name = name_of("stage.name")
    rep_name = serializers.SerializerMethodField(
        help_text="The owner's name if you may see that rep (a former owner may be another team's); "
        "else null."
    )
    recorded_by = serializers.CharField(
        source="recorded_by.username", read_only=True, allow_null=True, help_text="Who made the change."
    )

    class Meta:
        model = OpportunityState
        fields = [
            "since",
            "until",
            "stage",
            "stage_name",
            "amount",
            "closed_on",
            "expected_close_on",
            "rep",
            "rep_name",
            "recorded_at",
            "recorded_by",
        ]
        read_only_fields = fields

    def get_rep_name(self, state) -> str | None:
        seen = visible_rep_ids(self)
        if state.rep is None or (seen is not None and state.rep_id not in seen):
            return None
        return state.rep.full_name


class OpportunitySerializer(BlankIsNullMixin, ModelCleanSerializer):
    rep = rep_field()
    rep_name = name_of("rep.full_name")
    customer = customer_field()
    customer_name = serializers.SerializerMethodField()
    stage_name = name_of("stage.name")
    outcome = serializers.ChoiceField(source="stage.outcome", choices=Stage.Outcome.choices, read_only=True)
    history = OpportunityStateSerializer(
        source="states",
        many=True,
        read_only=True,
        help_text="The deal as it stood, oldest first: each state from `since` (null: from the deal's "
        "opening) until `until` (null: still), who recorded it and when. Written by salesperf on every "
        "change of stage, amount, dates or owner, however the deal was written.",
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "external_id",
            "name",
            "rep",
            "rep_name",
            "customer",
            "customer_name",
            "product",
            "stage",
            "stage_name",
            "outcome",
            "amount",
            "created_on",
            "closed_on",
            "expected_close_on",
            "history",
        ]
        extra_kwargs = {
            "amount": {"min_value": 0},
            "expected_close_on": {"help_text": "The day the rep expects to close it (open deals)."},
        }

    def get_customer_name(self, obj) -> str | None:
        """The customer's name where the reader may see the customer: a deal of one of your reps
        may be with a customer another team owns, and then only its id is given."""
        if obj.customer is None:
            return None
        seen = visible_rep_ids(self)
        return obj.customer.name if seen is None or obj.customer.owner_id in seen else None


class ActivitySerializer(ModelCleanSerializer):
    rep = rep_field()
    rep_name = name_of("rep.full_name")
    customer = customer_field()
    opportunity = VisibleRelatedField(Opportunity, required=False, allow_null=True)

    class Meta:
        model = Activity
        fields = ["id", "rep", "rep_name", "kind", "occurred_at", "customer", "opportunity", "subject"]


class NpsResponseSerializer(ModelCleanSerializer):
    customer = VisibleRelatedField(Customer)
    customer_name = name_of("customer.name")

    class Meta:
        model = NpsResponse
        fields = ["id", "customer", "customer_name", "responded_on", "score", "comment"]


class SpendSerializer(ModelCleanSerializer):
    rep = rep_field(required=False, allow_null=True)
    team = VisibleRelatedField(Team, required=False, allow_null=True)

    class Meta:
        model = AcquisitionSpend
        fields = ["id", "rep", "team", "spent_on", "amount", "channel"]
        extra_kwargs = {"amount": {"min_value": 0}}

    def validate(self, attrs):
        rep, team = self.current(attrs, "rep"), self.current(attrs, "team")
        if rep is not None and team is not None:
            raise serializers.ValidationError({"team": ["Charge spend to a rep or to a team, not both."]})
        if rep is None and team is None and not visibility.can_see_company(self.requesting_user()):
            raise serializers.ValidationError({"team": ["Charge spend to a rep or a team you manage."]})
        return super().validate(attrs)


class SnapshotSerializer(serializers.ModelSerializer):
    period = serializers.SerializerMethodField()

    class Meta:
        model = KpiSnapshot
        fields = [
            "id",
            "scope",
            "subject_id",
            "metric",
            "period_kind",
            "period_start",
            "period",
            "numerator",
            "denominator",
            "value",
            "state",
            "computed_at",
        ]

    def get_period(self, obj) -> str:
        return Period.containing(obj.period_kind, obj.period_start).label


class MetricSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.ChoiceField(choices=["money", "count", "ratio", "days", "score"])
    higher_is_better = serializers.BooleanField()
    definition = serializers.CharField()
