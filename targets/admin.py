from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kpis.admin import subject

from .models import Target


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    list_display = (subject, "metric", "period_kind", "period_start", "value", "created_by", "updated_at")
    list_filter = ("scope", "period_kind", "rep__team", "period_start")
    list_select_related = ("rep", "team", "created_by")
    search_fields = ("metric", "rep__full_name", "team__name")
    ordering = ("-period_start", "metric")
    date_hierarchy = "period_start"
    autocomplete_fields = ("rep", "team", "created_by")
    # The history page shows what each change set the value to, and who made it.
    history_list_display = ("value",)

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
