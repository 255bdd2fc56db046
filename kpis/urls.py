from django.urls import path

from . import views

app_name = "kpis"
urlpatterns = [
    path("drill/", views.drill, name="drill"),
    path("ops/recompute/", views.recompute, name="recompute"),
    path("ops/recompute/status/", views.recompute_status, name="recompute_status"),
    path("ops/import/crm/", views.crm_import, name="crm_import"),
    path("pipeline/funnel/", views.funnel, name="funnel"),
]
