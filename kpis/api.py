"""API endpoints for the facts, stages, snapshots, the metric catalogue and the scorecard.

Each viewset names its scoping function (kpis.filtersets) and who may write it:
- activities, leads: anyone signed in, for the reps (and teams) they may see — a rep
  for themself, a manager for their subtree, an admin for anyone;
- customers, opportunities, NPS responses, spend: managers (their subtree) and admins;
- stages: admins; snapshots are read-only (only the engine writes them).
Forecast submissions are targets.api's (written by targets.services.forecast_submit).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from teams import visibility
from teams.api import ScopedReadOnlyViewSet, ScopedViewSet, is_signed_in
from teams.models import Rep, Team
from teams.subjects import Scope

from . import catalogue
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
from .models import (
    AcquisitionSpend,
    Activity,
    Customer,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
    Stage,
)
from .periods import Period
from .serializers import (
    ActivitySerializer,
    CustomerSerializer,
    LeadSerializer,
    MetricSerializer,
    NpsResponseSerializer,
    OpportunitySerializer,
    ScorecardQuerySerializer,
    ScorecardSerializer,
    SnapshotSerializer,
    SpendSerializer,
    StageSerializer,
)


class CustomerViewSet(ScopedViewSet):
    """Customers owned by the reps you may see (admins also see unowned ones)."""

    queryset = Customer.objects.select_related("owner")
    may_write = staticmethod(visibility.is_manager)
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    ordering_fields = ["name", "acquired_on", "churned_on", "id"]
    ordering = ["name"]


class LeadViewSet(ScopedViewSet):
    """Leads of the reps you may see."""

    queryset = Lead.objects.select_related("rep")
    may_write = staticmethod(is_signed_in)
    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    ordering_fields = ["created_on", "converted_on", "name", "id"]
    ordering = ["-created_on"]


class OpportunityViewSet(ScopedViewSet):
    """Opportunities (deals) of the reps you may see."""

    queryset = Opportunity.objects.select_related("rep", "customer", "stage")
    may_write = staticmethod(visibility.is_manager)
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    ordering_fields = ["created_on", "closed_on", "amount", "name", "id"]
    ordering = ["-created_on"]


class ActivityViewSet(ScopedViewSet):
    """Calls, emails and meetings of the reps you may see."""

    queryset = Activity.objects.select_related("rep")
    may_write = staticmethod(is_signed_in)
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    ordering_fields = ["occurred_at", "kind", "id"]
    ordering = ["-occurred_at"]


class NpsResponseViewSet(ScopedViewSet):
    """NPS responses of customers owned by the reps you may see."""

    queryset = NpsResponse.objects.select_related("customer")
    may_write = staticmethod(visibility.is_manager)
    serializer_class = NpsResponseSerializer
    filterset_class = NpsResponseFilterSet
    ordering_fields = ["responded_on", "score", "id"]
    ordering = ["-responded_on"]


class SpendViewSet(ScopedViewSet):
    """Acquisition spend charged to the reps or teams you may see (company-level: admins)."""

    queryset = AcquisitionSpend.objects.all()
    may_write = staticmethod(visibility.is_manager)
    serializer_class = SpendSerializer
    filterset_class = SpendFilterSet
    ordering_fields = ["spent_on", "amount", "id"]
    ordering = ["-spent_on"]


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


def subject_name(user, scope: str, subject_id: int) -> str | None:
    """The subject's name, or None when `user` may not see it (or it does not exist)."""
    if scope == Scope.COMPANY:
        return "all" if visibility.can_see_company(user) else None
    if scope == Scope.REP:
        rows = Rep.objects.visible_to(user).filter(pk=subject_id).values_list("full_name", flat=True)
    else:
        rows = Team.objects.visible_to(user).filter(pk=subject_id).values_list("name", flat=True)
    return rows.first()


def scorecard(*, user, scope: str, subject: int, period: Period) -> dict | None:
    """Every metric of one subject in one period, from its snapshots; None if not visible.

    `target`, `attainment`, `pace` and `status` stay empty until targets fill them."""
    name = subject_name(user, scope, subject)
    if name is None:
        return None
    snapshots = {
        row.metric: row
        for row in KpiSnapshot.objects.visible_to(user).filter(
            scope=scope, subject_id=subject, period_kind=period.kind, period_start=period.start
        )
    }
    rows = []
    for metric in catalogue.METRICS:
        row = snapshots.get(metric.key)
        rows.append(
            {
                "metric": metric.key,
                "label": metric.label,
                "unit": metric.unit,
                "higher_is_better": metric.higher_is_better,
                "value": getattr(row, "value", None),
                "numerator": getattr(row, "numerator", None),
                "denominator": getattr(row, "denominator", None),
                "computed_at": getattr(row, "computed_at", None),
                "target": None,
                "attainment": None,
                "pace": None,
                "status": None,
            }
        )
    return {
        "scope": scope,
        "subject": subject,
        "name": name,
        "period": period.label,
        "period_kind": period.kind,
        "period_start": period.start,
        "period_end": period.end,
        "metrics": rows,
    }


NOT_VISIBLE = "No such subject among those you may see."


class ScorecardView(APIView):
    """One subject's scorecard for one period: every metric in the catalogue, from snapshots.

    A subject you may not see is a 404, like one that does not exist."""

    @extend_schema(
        parameters=[ScorecardQuerySerializer],
        responses={200: ScorecardSerializer, 404: OpenApiResponse(description=NOT_VISIBLE)},
    )
    def get(self, request):
        query = ScorecardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        card = scorecard(user=request.user, **query.validated_data)
        if card is None:
            raise NotFound(NOT_VISIBLE)
        return Response(ScorecardSerializer(card).data)
