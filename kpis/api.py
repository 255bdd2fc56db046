"""API endpoints for the facts, stages, snapshots, the metric catalogue and the pipeline waterfall.

Each viewset names its model's rows (narrowed by the model's visible_to(user), in
salesperf.api.ScopedViewSet), its filters (kpis.filtersets) and who may write it:
- activities, leads: anyone signed in, for the reps they may see — a rep for themself, a
  manager for their subtree, an admin for anyone;
- customers, opportunities, NPS responses, spend: managers (their subtree) and admins;
- stages: admins; snapshots are read-only (only kpis.engine writes them).
Forecast submissions are targets.api's (written by targets.services.forecast_submit).
Every fact's viewset also takes a batch at `bulk/` (bulk_upsert_action, over kpis.bulk), written
by whoever may write one row of it.
"""

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from salesperf.api import ScopedReadOnlyViewSet, ScopedViewSet, is_signed_in
from salesperf.parsers import JSONParser
from teams import visibility
from teams.subjects import Subject

from . import catalogue, waterfall
from .bulk import BULK_MAX_ROWS, BulkRejected, bulk_upsert
from .deal_history import recorded_by
from .filtersets import (
    ActivityFilterSet,
    CustomerFilterSet,
    LeadFilterSet,
    NpsResponseFilterSet,
    OpportunityFilterSet,
    SnapshotFilterSet,
    SpendFilterSet,
    StageFilterSet,
)
from .funnel import stage_funnel
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
from .pages import PER_PAGE, get_subject_for_user
from .periods import Period
from .serializers import (
    ActivitySerializer,
    BulkResultSerializer,
    CustomerSerializer,
    FunnelQuerySerializer,
    FunnelSerializer,
    LeadSerializer,
    MetricSerializer,
    NpsResponseSerializer,
    OpportunitySerializer,
    SnapshotSerializer,
    SpendSerializer,
    StageSerializer,
    SubjectPeriodQuerySerializer,
    WaterfallQuerySerializer,
    WaterfallSerializer,
)

# A refused batch: every error of every row. A body that is not JSON at all gets the API's usual
# {"detail": …} (salesperf.api.ERRORS).
BULK_ERRORS = {
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "index": {
                                "type": "integer",
                                "nullable": True,
                                "description": "The row's position, from 0; null: the batch as a whole.",
                            },
                            "external_id": {"type": "string", "nullable": True},
                            "field": {
                                "type": "string",
                                "description": "`non_field_errors`: the row as a whole.",
                            },
                            "message": {"type": "string"},
                        },
                        "required": ["index", "external_id", "field", "message"],
                    },
                }
            },
            "required": ["errors"],
        },
        {"$ref": "#/components/schemas/Error"},
    ]
}


UPSERT = "A row whose external_id is stored is updated (all its fields, as a PUT), any other created"


def bulk_upsert_action(serializer_class, example: dict, *, missing: str = "amount", matched: str = UPSERT):
    """`POST …/bulk/`: the rows of a sync script, upserted on external_id (kpis.bulk). The example
    row is shown twice, the second time refused for a `missing` field; `matched` says what
    becomes of a row whose external_id is stored."""
    second = {**example, "external_id": f"{example['external_id']}-2"}
    rows = serializer_class(many=True)
    # The examples are lists of rows already: drf-spectacular would wrap each in one more list.
    set_override(rows, "many", False)

    @extend_schema(
        summary="Create or update many rows, matched on external_id",
        description=(
            f"A JSON list of at most {BULK_MAX_ROWS:,} rows, each with the fields of a single "
            f"write and its `external_id` (required). {matched}; one you may not see is an error "
            "for that row. All or nothing: one bad row and the answer is a 400 listing every error "
            "by row index, and nothing is written. The KPIs are recomputed once for the batch."
        ),
        request=rows,
        responses={
            200: BulkResultSerializer,
            400: OpenApiResponse(BULK_ERRORS, description="Every error of every row; nothing was written."),
        },
        examples=[
            OpenApiExample("Two rows", value=[example, second], request_only=True),
            OpenApiExample(
                "Written", value={"created": 1, "updated": 1}, response_only=True, status_codes=["200"]
            ),
            OpenApiExample(
                "Refused",
                value={
                    "errors": [
                        {
                            "index": 1,
                            "external_id": second["external_id"],
                            "field": missing,
                            "message": "This field is required.",
                        }
                    ]
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @action(detail=False, methods=["post"], url_path="bulk", parser_classes=[JSONParser])
    def bulk(self, request, format=None):  # format: the router's suffix routes (bulk.json)
        try:
            result = bulk_upsert(serializer_class=serializer_class, rows=request.data, request=request)
        except BulkRejected as rejected:
            return Response(rejected.as_response(), status=status.HTTP_400_BAD_REQUEST)
        return Response(result)

    return bulk


class CustomerViewSet(ScopedViewSet):
    """Customers owned by the reps you may see (admins also see unowned ones)."""

    queryset = Customer.objects.select_related("owner")
    may_write = staticmethod(visibility.is_manager)
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    ordering_fields = ["name", "acquired_on", "churned_on", "id"]
    ordering = ["name"]
    bulk = bulk_upsert_action(
        CustomerSerializer, {"external_id": "C-17", "name": "Acme", "owner": 3, "acquired_on": "2026-03-01"}
    )


class LeadViewSet(ScopedViewSet):
    """Leads of the reps you may see."""

    queryset = Lead.objects.select_related("rep")
    may_write = staticmethod(is_signed_in)
    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    ordering_fields = ["created_on", "converted_on", "name", "id"]
    ordering = ["-created_on"]
    bulk = bulk_upsert_action(
        LeadSerializer,
        {
            "external_id": "L-501",
            "name": "Globex inbound",
            "rep": 3,
            "source": "web",
            "created_on": "2026-10-02",
            "converted_on": None,
            "customer": None,
        },
        missing="created_on",
    )


class OpportunityViewSet(ScopedViewSet):
    """Opportunities (deals) of the reps you may see, each with its history."""

    queryset = Opportunity.objects.select_related("rep", "customer", "stage").prefetch_related(
        Prefetch("states", queryset=OpportunityState.objects.select_related("stage", "rep", "recorded_by"))
    )
    may_write = staticmethod(visibility.is_manager)
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    ordering_fields = ["created_on", "closed_on", "expected_close_on", "amount", "name", "id"]
    ordering = ["-created_on"]
    bulk = bulk_upsert_action(
        OpportunitySerializer,
        {
            "external_id": "D-1001",
            "name": "Acme renewal",
            "rep": 3,
            "customer": 17,
            "stage": 2,
            "amount": "12000.00",
            "created_on": "2026-10-01",
            "closed_on": None,
            "expected_close_on": "2026-12-15",
        },
    )

    def save(self, serializer):
        # The deal's new state is recorded as the API user's: a token is only read by the view,
        # after the middleware that records a session's user (kpis.deal_history) has run.
        with recorded_by(self.request.user):
            super().save(serializer)


class ActivityViewSet(ScopedViewSet):
    """Calls, emails and meetings of the reps you may see."""

    queryset = Activity.objects.select_related("rep")
    may_write = staticmethod(is_signed_in)
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    ordering_fields = ["occurred_at", "kind", "id"]
    ordering = ["-occurred_at"]
    bulk = bulk_upsert_action(
        ActivitySerializer,
        {
            "external_id": "A-9001",
            "rep": 3,
            "kind": "call",
            "occurred_at": "2026-10-02T14:30:00Z",
            "customer": 17,
            "opportunity": None,
            "subject": "Renewal call",
        },
        missing="occurred_at",
    )


class NpsResponseViewSet(ScopedViewSet):
    """NPS responses of customers owned by the reps you may see."""

    queryset = NpsResponse.objects.select_related("customer")
    may_write = staticmethod(visibility.is_manager)
    serializer_class = NpsResponseSerializer
    filterset_class = NpsResponseFilterSet
    ordering_fields = ["responded_on", "score", "id"]
    ordering = ["-responded_on"]
    bulk = bulk_upsert_action(
        NpsResponseSerializer,
        {"external_id": "N-77", "customer": 17, "responded_on": "2026-10-05", "score": 9, "comment": ""},
        missing="score",
    )


class SpendViewSet(ScopedViewSet):
    """Acquisition spend charged to the reps or teams you may see (company-level: admins)."""

    queryset = AcquisitionSpend.objects.all()
    may_write = staticmethod(visibility.is_manager)
    serializer_class = SpendSerializer
    filterset_class = SpendFilterSet
    ordering_fields = ["spent_on", "amount", "id"]
    ordering = ["-spent_on"]
    bulk = bulk_upsert_action(
        SpendSerializer,
        {
            "external_id": "S-12",
            "rep": None,
            "team": 2,
            "spent_on": "2026-10-01",
            "amount": "2500.00",
            "channel": "ads",
        },
    )


class StageViewSet(ScopedViewSet):
    """Pipeline stages and their win probabilities: everyone reads, admins write."""

    queryset = Stage.objects.all()
    serializer_class = StageSerializer
    filterset_class = StageFilterSet
    ordering_fields = ["order", "name", "probability", "id"]
    ordering = ["order", "name"]


class SnapshotViewSet(ScopedReadOnlyViewSet):
    """KPI snapshots (one metric, one subject, one period) of the reps and teams you may see;
    the company's (scope `company`, subject 0) for admins."""

    queryset = KpiSnapshot.objects.all()
    serializer_class = SnapshotSerializer
    filterset_class = SnapshotFilterSet
    ordering_fields = ["period_start", "metric", "value", "scope", "subject_id", "id"]
    ordering = ["scope", "subject_id", "metric", "period_kind", "period_start"]


METRIC_KEY = OpenApiParameter(
    "key", str, OpenApiParameter.PATH, enum=catalogue.KEYS, description="A metric key."
)


class MetricViewSet(viewsets.ViewSet):
    """The metric catalogue: every KPI's key, label, unit, direction and definition."""

    serializer_class = MetricSerializer
    lookup_field = "key"
    lookup_value_regex = "[a-z_]+"

    # format: the router's suffix routes (/metrics.json) pass it.
    def list(self, request, format=None):
        return Response(MetricSerializer(catalogue.METRICS, many=True).data)

    @extend_schema(parameters=[METRIC_KEY])
    def retrieve(self, request, key, format=None):
        if key not in catalogue.BY_KEY:
            raise NotFound(f"No metric '{key}'.")
        return Response(MetricSerializer(catalogue.BY_KEY[key]).data)


# --- pipeline inspection: the waterfall and the stage funnel of one subject and period

NOT_VISIBLE = "No such subject among those you may see."


def subject_and_period(request) -> tuple[Subject, Period]:
    """The subject and period asked about (400 for bad input, 404 for a subject not visible)."""
    query = SubjectPeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    scope, pk, period = (query.validated_data[k] for k in ("scope", "subject", "period"))
    try:
        return get_subject_for_user(request.user, scope, pk), period
    except Http404:
        raise NotFound(NOT_VISIBLE) from None


class PipelineWaterfallView(APIView):
    """The pipeline waterfall of one subject and period (docs/metrics.md, "Pipeline waterfall"):
    the pipeline due by the period's end at its opening and closing, and the deals behind every
    movement, 50 a page (`show` and `page` page through one bar's). A subject you may not see is
    a 404, like one that does not exist; a period that has not begun is a 400."""

    @extend_schema(
        parameters=[WaterfallQuerySerializer],
        responses={
            200: WaterfallSerializer,
            400: OpenApiResponse(description="A bad scope, subject or period, or a period not begun."),
            404: OpenApiResponse(description=NOT_VISIBLE),
        },
    )
    def get(self, request):
        subject, period = subject_and_period(request)
        query = WaterfallQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            fall = waterfall.pipeline_waterfall(
                subject=subject,
                period=period,
                today=timezone.localdate(),
                per_page=PER_PAGE,
                show=query.validated_data.get("show"),
                page=query.validated_data["page"],
            )
        except waterfall.NotBegun as e:
            raise ValidationError({"period": [str(e)]}) from None
        return Response(WaterfallSerializer(fall).data)


class FunnelView(APIView):
    """The stage funnel of one subject's deals opened in one period (kpis.funnel): each stage
    reached, conversion from step to step, median days in stage, and the deals whose expected
    close date slipped; with the subject's stored win rate, average deal value and sales cycle.
    A subject you may not see is a 404, like one that does not exist."""

    @extend_schema(
        parameters=[FunnelQuerySerializer],
        responses={
            200: FunnelSerializer,
            400: OpenApiResponse(description="A scope, subject or period that is not one."),
            404: OpenApiResponse(description=NOT_VISIBLE),
        },
    )
    def get(self, request):
        subject, period = subject_and_period(request)
        query = FunnelQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        funnel = stage_funnel(
            subject=subject,
            period=period,
            today=timezone.localdate(),
            snapshots=KpiSnapshot.objects.visible_to(request.user),
            per_page=PER_PAGE,
            page=query.validated_data["page"],
        )
        return Response(FunnelSerializer(funnel).data)
