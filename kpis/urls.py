from django.urls import path

from . import views

app_name = "kpis"
urlpatterns = [
    path("", views.home, name="home"),
    path("scorecard/", views.scorecard, name="my_scorecard"),
    path("scorecard/<int:rep_id>/", views.scorecard, name="scorecard"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("drill/", views.drill, name="drill"),
    path("ops/recompute/", views.recompute, name="recompute"),
    path("ops/recompute/status/", views.recompute_status, name="recompute_status"),
]
