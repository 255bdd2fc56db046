"""/api/v1/: one route per resource (each a viewset scoped by the visibility rule)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from kpis import api as kpis_api
from targets import api as targets_api
from teams import api as teams_api

app_name = "api"

router = DefaultRouter()
router.register("teams", teams_api.TeamViewSet, basename="team")
router.register("reps", teams_api.RepViewSet, basename="rep")
router.register("customers", kpis_api.CustomerViewSet, basename="customer")
router.register("leads", kpis_api.LeadViewSet, basename="lead")
router.register("opportunities", kpis_api.OpportunityViewSet, basename="opportunity")
router.register("activities", kpis_api.ActivityViewSet, basename="activity")
router.register("nps-responses", kpis_api.NpsResponseViewSet, basename="nps-response")
router.register("spend", kpis_api.SpendViewSet, basename="spend")
router.register("forecasts", targets_api.ForecastViewSet, basename="forecast")
router.register("stages", kpis_api.StageViewSet, basename="stage")
router.register("snapshots", kpis_api.SnapshotViewSet, basename="snapshot")
router.register("metrics", kpis_api.MetricViewSet, basename="metric")
router.register("targets", targets_api.TargetViewSet, basename="target")

urlpatterns = [
    path("scorecard/", targets_api.ScorecardView.as_view(), name="scorecard"),
    path("pipeline/waterfall/", kpis_api.PipelineWaterfallView.as_view(), name="pipeline_waterfall"),
    path("pipeline/funnel/", kpis_api.FunnelView.as_view(), name="pipeline_funnel"),
    path("forecast/", targets_api.ForecastRollupView.as_view(), name="forecast-rollup"),
    path("auth/token/", teams_api.TokenView.as_view(), name="token"),
    *router.urls,
]
