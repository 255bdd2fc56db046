"""API endpoints for the facts, stages, snapshots and the metric catalogue.

Each viewset names its model's rows (narrowed by the model's visible_to(user), in
salesperf.api.ScopedViewSet), its filters (kpis.filtersets) and who may write it:
- activities, leads: anyone signed in, for the reps they may see — a rep for themself, a
  manager for their subtree, an admin for anyone;
- customers, opportunities, NPS responses, spend: managers (their subtree) and admins;
- stages: admins; snapshots are read-only (only kpis.engine writes them).
Forecast submissions are targets.api's (written by targets.services.forecast_submit).
"""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from salesperf.api import ScopedReadOnlyViewSet, ScopedViewSet, is_signed_in
from teams import visibility

from . import catalogue
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
from .serializers import (
    ActivitySerializer,
    CustomerSerializer,
    LeadSerializer,
    MetricSerializer,
    NpsResponseSerializer,
    OpportunitySerializer,
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
    """Opportunities (deals) of the reps you may see, each with its history."""

    queryset = Opportunity.objects.select_related("rep", "customer", "stage").prefetch_related(
        Prefetch("states", queryset=OpportunityState.objects.select_related("stage", "rep", "recorded_by"))
    )
    may_write = staticmethod(visibility.is_manager)
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    ordering_fields = ["created_on", "closed_on", "expected_close_on", "amount", "name", "id"]
    ordering = ["-created_on"]

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
