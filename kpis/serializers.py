"""API serializers for the facts, snapshots and the metric catalogue.

Every related id a write names must be one the writer may see (`VisibleRelatedField`: the
related model's `visible_to`), and every write is validated by the model's `full_clean`.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from teams import visibility
from teams.filtersets import MAX_ID
from teams.models import Rep, Team
from teams.serializers import BlankIsNullMixin, ModelCleanSerializer, VisibleRelatedField
from teams.subjects import Scope, subject_name

from . import waterfall
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
from .pages import PER_PAGE
from .periods import Period


def rep_field(**kwargs):
    return VisibleRelatedField(Rep, **kwargs)


def customer_field():
    return VisibleRelatedField(Customer, required=False, allow_null=True)


def name_of(source):
    return serializers.CharField(source=source, read_only=True, allow_null=True)


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


class LeadSerializer(BlankIsNullMixin, ModelCleanSerializer):
    rep = rep_field()
    rep_name = name_of("rep.full_name")
    customer = customer_field()

    class Meta:
        model = Lead
        fields = [
            "id",
            "external_id",
            "name",
            "rep",
            "rep_name",
            "source",
            "created_on",
            "converted_on",
            "customer",
        ]


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
            "forecast_category",
            "history",
        ]
        extra_kwargs = {
            "amount": {"min_value": 0},
            "expected_close_on": {"help_text": "The day the rep expects to close it (open deals)."},
        }

    def validate(self, attrs):
        # Only an open deal is forecast (targets.forecast); saving a closed one clears it anyway.
        stage = attrs.get("stage") or getattr(self.instance, "stage", None)
        if attrs.get("forecast_category") and stage and stage.outcome != Stage.Outcome.OPEN:
            raise serializers.ValidationError({"forecast_category": "Only an open deal has a category."})
        return super().validate(attrs)

    def get_customer_name(self, obj) -> str | None:
        """The customer's name where the reader may see the customer: a deal of one of your reps
        may be with a customer another team owns, and then only its id is given."""
        if obj.customer is None:
            return None
        seen = visible_rep_ids(self)
        return obj.customer.name if seen is None or obj.customer.owner_id in seen else None


class ActivitySerializer(BlankIsNullMixin, ModelCleanSerializer):
    rep = rep_field()
    rep_name = name_of("rep.full_name")
    customer = customer_field()
    opportunity = VisibleRelatedField(Opportunity, required=False, allow_null=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "external_id",
            "rep",
            "rep_name",
            "kind",
            "occurred_at",
            "customer",
            "opportunity",
            "subject",
        ]


class NpsResponseSerializer(BlankIsNullMixin, ModelCleanSerializer):
    customer = VisibleRelatedField(Customer)
    customer_name = name_of("customer.name")

    class Meta:
        model = NpsResponse
        fields = ["id", "external_id", "customer", "customer_name", "responded_on", "score", "comment"]


class SpendSerializer(BlankIsNullMixin, ModelCleanSerializer):
    rep = rep_field(required=False, allow_null=True)
    team = VisibleRelatedField(Team, required=False, allow_null=True)

    class Meta:
        model = AcquisitionSpend
        fields = ["id", "external_id", "rep", "team", "spent_on", "amount", "channel"]
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


# --- pipeline inspection: the waterfall (kpis.waterfall) and the stage funnel (kpis.funnel)


class SubjectPeriodQuerySerializer(serializers.Serializer):
    """`scope`, `subject` and `period`: what the pipeline endpoints ask about."""

    scope = serializers.ChoiceField(choices=Scope.choices, help_text="rep, team or company.")
    subject = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="The rep's or team's id; not for the company.",
    )
    period = serializers.CharField(max_length=20, help_text="A period label: 2017-03, 2017-Q1 or 2017.")

    def validate_period(self, value) -> Period:
        try:
            return Period.parse(value)
        except ValueError as e:  # not a period, or out of range
            raise serializers.ValidationError(str(e)) from None

    def validate(self, attrs):
        if attrs["scope"] == Scope.COMPANY:
            attrs["subject"] = 0
        elif attrs.get("subject") is None:
            raise serializers.ValidationError({"subject": [f"Name the {attrs['scope']} by its id."]})
        return attrs


def page_field(help_text: str):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, default=1, help_text=help_text)


class WaterfallQuerySerializer(SubjectPeriodQuerySerializer):
    """The waterfall's query: each bar lists its largest deals, one page of them."""

    show = serializers.ChoiceField(
        choices=waterfall.KEYS,
        required=False,
        help_text="The bar `page` pages through (the others: their first).",
    )
    page = page_field(f"The page of each bar's deals, or of the bar `show`'s ({PER_PAGE} a page).")


class FunnelQuerySerializer(SubjectPeriodQuerySerializer):
    page = page_field(f"The page of slipped deals ({PER_PAGE} a page).")


def money(**kwargs):
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


class WaterfallDealSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The opportunity's id.")
    name = serializers.CharField()
    rep_id = serializers.IntegerField(help_text="Its current owner's id.")
    rep = serializers.CharField(help_text="Its current owner's full name.")
    amount = money(help_text="What it added to or took from the bar (never negative).")


class WaterfallBarSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=waterfall.KEYS)
    label = serializers.CharField()
    sign = serializers.IntegerField(help_text="1: adds to the pipeline, -1: takes from it, 0: a total.")
    amount = money(help_text="Σ of its deals' amounts (never negative: `sign` says which way).")
    count = serializers.IntegerField(help_text="Its deals.")
    deals = WaterfallDealSerializer(
        many=True,
        help_text=f"Its deals, {PER_PAGE} a page, largest first: page `page` (the first for a bar other "
        "than `show`).",
    )


class WaterfallSerializer(serializers.Serializer):
    """A kpis.waterfall.Waterfall: opening + Σ sign × movement = closing, to the cent."""

    scope = serializers.ChoiceField(source="subject.scope", choices=Scope.choices)
    subject = serializers.IntegerField(source="subject.pk", help_text="Rep or team id; 0 for the company.")
    name = serializers.SerializerMethodField(help_text="The rep's full name, the team's name, or `all`.")
    period = serializers.CharField(source="period.label")
    due_by = serializers.DateField(source="period.end", help_text="The pipeline counted is due by this day.")
    opening_day = serializers.DateField(help_text="The opening is the pipeline at the end of this day.")
    closing_day = serializers.DateField(help_text="The period's last day, or today while it runs.")
    opening = WaterfallBarSerializer()
    movements = WaterfallBarSerializer(
        many=True, help_text="created, pulled_in, increased, decreased, pushed_out, won, lost: in this order."
    )
    closing = WaterfallBarSerializer()

    def get_name(self, fall) -> str:
        return "all" if fall.subject.scope == Scope.COMPANY else subject_name(fall.subject)


def six_places(**kwargs):
    return serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True, **kwargs)


class FunnelStepSerializer(serializers.Serializer):
    name = serializers.CharField()
    stage_id = serializers.IntegerField(allow_null=True, help_text="Empty for the last step, won.")
    reached = serializers.IntegerField(help_text="Deals that reached this stage or a later one.")
    conversion = six_places(
        help_text="reached / the step before's, as a fraction; empty for the first step and over 0."
    )


class StageTimeSerializer(serializers.Serializer):
    name = serializers.CharField()
    stage_id = serializers.IntegerField()
    median_days = six_places(help_text="Empty when no deal has left the stage.")
    deals = serializers.IntegerField(help_text="The deals that left the stage: what the median is over.")


class SlipSerializer(serializers.Serializer):
    opportunity_id = serializers.IntegerField()
    deal = serializers.CharField()
    rep = serializers.CharField(allow_null=True)
    times = serializers.IntegerField(help_text="How many times its expected close date moved later.")
    first_expected_close = serializers.DateField(source="first")
    latest_expected_close = serializers.DateField(source="latest")


class StoredFigureSerializer(serializers.Serializer):
    metric = serializers.CharField()
    value = six_places(help_text="Empty unless final or provisional.")
    state = serializers.CharField(allow_null=True, help_text="Empty: no snapshot computed yet.")


class FunnelSerializer(serializers.Serializer):
    """A kpis.funnel.Funnel."""

    scope = serializers.CharField(source="subject.scope")
    subject = serializers.IntegerField(source="subject.pk")
    name = serializers.SerializerMethodField()
    period = serializers.CharField(source="period.label")
    period_start = serializers.DateField(source="period.start")
    period_end = serializers.DateField(source="period.end")
    opened = serializers.IntegerField(help_text="The cohort: deals of the subject opened in the period.")
    steps = FunnelStepSerializer(many=True)
    days_in_stage = StageTimeSerializer(many=True)
    slipped_deals = serializers.IntegerField(help_text="Its deals whose expected close date moved later.")
    slips = serializers.IntegerField(help_text="Every move of the cohort's expected close dates later.")
    slipped = SlipSerializer(
        many=True, help_text=f"The slipped deals, {PER_PAGE} a page (`page`), the most slipped first."
    )
    figures = serializers.SerializerMethodField(help_text="The stored snapshots of a few KPIs, beside.")

    def get_name(self, funnel) -> str:
        return subject_name(funnel.subject)

    @extend_schema_field(StoredFigureSerializer(many=True))
    def get_figures(self, funnel):
        rows = [{"metric": key, "value": f.value, "state": f.state} for key, f in funnel.figures.items()]
        return StoredFigureSerializer(rows, many=True).data


# --- bulk upsert (kpis.bulk)


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Rows whose external_id was new.")
    updated = serializers.IntegerField(help_text="Rows matched on external_id (changed or not).")
