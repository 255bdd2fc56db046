from django.urls import path

from . import views

app_name = "targets"
urlpatterns = [
    path("targets/", views.target_list, name="list"),
    path("targets/new/", views.target_new, name="new"),
    path("targets/<int:pk>/", views.target_edit, name="edit"),
    path("targets/<int:pk>/delete/", views.target_remove, name="delete"),
    path("targets/<int:pk>/spread/", views.target_spread, name="spread"),
    path("targets/grid/", views.target_grid, name="grid"),
    path("targets/export.csv", views.target_export, name="export"),
    path("targets/import/", views.target_import, name="import"),
    path("ops/import/", views.data_import, name="data_import"),
]
