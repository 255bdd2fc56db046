from django.urls import path

from .views import csv_files, dashboard, forecast, grid, home, notifications, scorecard, targets

app_name = "targets"
urlpatterns = [
    path("", home.home, name="home"),
    path("scorecard/", scorecard.scorecard, name="my_scorecard"),
    path("scorecard/<int:rep_id>/", scorecard.scorecard, name="scorecard"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("forecast/", forecast.forecast, name="forecast"),
    path("targets/", targets.target_list, name="list"),
    path("targets/new/", targets.target_new, name="new"),
    path("targets/<int:pk>/", targets.target_edit, name="edit"),
    path("targets/<int:pk>/delete/", targets.target_remove, name="delete"),
    path("targets/<int:pk>/spread/", targets.target_spread, name="spread"),
    path("targets/<int:pk>/plan/", targets.target_spread_plan, name="spread_plan"),
    path("targets/grid/", grid.target_grid, name="grid"),
    path("targets/export.csv", csv_files.target_export, name="export"),
    path("targets/import/", csv_files.target_import, name="import"),
    path("ops/import/", csv_files.data_import, name="data_import"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification_read"),
    path("notifications/read/", notifications.notification_read, name="notifications_read"),
    path("notifications/settings/", notifications.alert_settings, name="alert_settings"),
]
