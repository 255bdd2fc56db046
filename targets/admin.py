from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kpis import catalogue
from kpis.admin import subject
from kpis.periods import Period
from kpis.templatetags.kpis_tags import kpi

from .models import AlertSettings, Notification, Target


class TargetForm(forms.ModelForm):
    """Admins edit targets directly (not through targets.services): keep at least the metric and
    the period well-formed, since every page that shows a target names both."""

    metric = forms.ChoiceField(choices=[(m.key, f"{m.key} ({m.label})") for m in catalogue.METRICS])

    class Meta:
        model = Target
        fields = (
            "scope",
            "rep",
            "team",
            "metric",
            "period_kind",
            "period_start",
            "value",
            "baseline_start",
            "uplift_pct",
            "created_by",
        )

    def clean(self):
        data = super().clean()
        kind, start = data.get("period_kind"), data.get("period_start")
        for field, day in (("period_start", start), ("baseline_start", data.get("baseline_start"))):
            if kind and day:
                try:
                    Period.from_start(kind, day)
                except ValueError as e:
                    self.add_error(field, str(e))
        return data


class StaleFilter(admin.SimpleListFilter):
    """Targets of periods an earlier FISCAL_YEAR_START_MONTH made: untracked until re-set."""

    title = "period under the fiscal year setting"
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("yes", "not a period now"), ("no", "a period now")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.stale()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.stale().values("pk"))
        return queryset


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    form = TargetForm
    list_display = (
        subject,
        "metric",
        "period_kind",
        "period_start",
        "shown_value",
        "baseline_start",
        "uplift_pct",
        "last_status",
        "created_by",
        "updated_at",
    )
    list_filter = ("scope", "period_kind", StaleFilter, "last_status", "rep__team", "period_start")
    list_select_related = ("rep", "team", "created_by")
    search_fields = ("metric", "rep__full_name", "team__name")
    ordering = ("-period_start", "metric")
    date_hierarchy = "period_start"
    autocomplete_fields = ("rep", "team", "created_by")
    # Written by the daily alert check: editing it by hand would silence or repeat an alert.
    readonly_fields = ("last_status",)
    # The history page shows what each change set the target to, and who made it.
    history_list_display = ("value", "baseline_start", "uplift_pct")

    @admin.display(description="value", ordering="value")
    def shown_value(self, obj):
        """As the pages show it (USD 20,000, 30.0%), not the column's 20000.000000."""
        return kpi(obj.value, obj.metric) if obj.metric in catalogue.BY_KEY else obj.value

    def get_queryset(self, request):
        return Target.every.get_queryset()  # the stale ones too: an admin re-sets or deletes them

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "message", "created_at", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("user",)
    search_fields = ("message", "user__username")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    raw_id_fields = ("target",)


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "behind", "hit", "email", "weekly_digest", "digest_sent_on")
    list_filter = ("behind", "hit", "email", "weekly_digest")
    list_select_related = ("user",)
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)
    readonly_fields = ("digest_sent_on",)
