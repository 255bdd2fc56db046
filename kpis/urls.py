from django.urls import path

from .views import drill, imports, ops, pipeline

app_name = "kpis"
urlpatterns = [
    path("drill/", drill.drill, name="drill"),
    path("pipeline/waterfall/", pipeline.waterfall, name="waterfall"),
    path("pipeline/funnel/", pipeline.funnel, name="funnel"),
    path("ops/recompute/", ops.recompute, name="recompute"),
    path("ops/recompute/status/", ops.recompute_status, name="recompute_status"),
    path("ops/import/crm/", ops.crm_import, name="crm_import"),
    path("ops/import/facts/", imports.upload, name="facts_import"),
    path("ops/import/facts/<int:pk>/", imports.mapping, name="facts_import_map"),
    path("ops/jobs/<int:pk>/", ops.job, name="job"),
    path("ops/jobs/<int:pk>/status/", ops.job_status, name="job_status"),
    path("ops/jobs/<int:pk>/import/", ops.job_import, name="job_import"),
    path("ops/jobs/<int:pk>/errors.csv", imports.error_csv, name="job_error_csv"),
]
