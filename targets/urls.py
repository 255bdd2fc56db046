from django.urls import path

from .views import dashboard, home, planner, scorecard

app_name = "targets"
urlpatterns = [
    path("", home.home, name="home"),
    path("scorecard/", scorecard.scorecard, name="my_scorecard"),
    path("scorecard/<int:rep_id>/", scorecard.scorecard, name="scorecard"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("targets/", planner.target_list, name="list"),
    path("targets/new/", planner.target_new, name="new"),
    path("targets/<int:pk>/", planner.target_edit, name="edit"),
    path("targets/<int:pk>/delete/", planner.target_remove, name="delete"),
    path("targets/<int:pk>/spread/", planner.target_spread, name="spread"),
    path("targets/grid/", planner.target_grid, name="grid"),
    path("targets/export.csv", planner.target_export, name="export"),
    path("targets/import/", planner.target_import, name="import"),
    path("ops/import/", planner.data_import, name="data_import"),
]
