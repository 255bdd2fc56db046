from django.urls import path

from . import views

app_name = "kpis"
urlpatterns = [
    path("drill/", views.drill, name="drill"),
    path("pipeline/waterfall/", views.waterfall, name="waterfall"),
    path("ops/recompute/", views.recompute, name="recompute"),
    path("ops/recompute/status/", views.recompute_status, name="recompute_status"),
    path("ops/import/crm/", views.crm_import, name="crm_import"),
    path("ops/jobs/<int:pk>/", views.job, name="job"),
    path("ops/jobs/<int:pk>/status/", views.job_status, name="job_status"),
    path("ops/jobs/<int:pk>/import/", views.job_import, name="job_import"),
]
