"""Admin for the facts and the snapshots.

Fact tables grow to millions of rows, so their admins never list a big table in a filter or a
select box (Customer and Opportunity are raw ids, Rep/Team/Stage autocompletes) and skip the
second COUNT(*) of the whole table (show_full_result_count). Leads, opportunities and activities
search only their own columns: a join in the search is repeated by the count, the page and the
date drill-down, and made a search of 1M opportunities three times slower.
"""

from django.contrib import admin
from django.db.models import Case, CharField, OuterRef, Q, Subquery, Value, When
from django.utils import formats, timezone

from teams.models import Rep, Team
from teams.subjects import Scope

from . import catalogue
from .models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    ImportMapping,
    Job,
    KpiSnapshot,
    Lead,
    NpsResponse,
    Opportunity,
    OpportunityState,
    Stage,
)
from .templatetags.kpis_tags import figure, format_money, plain_number


def money(field_name):
    """A list_display column showing a money field with the installation's currency."""

    @admin.display(description=field_name.replace("_", " "), ordering=field_name)
    def column(obj):
        amount = getattr(obj, field_name)
        return None if amount is None else format_money(amount, cents=True)

    return column


@admin.display(description="subject")
def subject(obj):
    """The rep or team a forecast or target is for; neither means the company."""
    return obj.rep or obj.team or "company"


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "sector", "country", "acquired_on", "churned_on")
    list_filter = ("owner__team", "acquired_on", "churned_on")
    list_select_related = ("owner",)
    search_fields = ("name", "=external_id", "sector", "country")
    ordering = ("name",)
    date_hierarchy = "acquired_on"
    autocomplete_fields = ("owner",)
    show_full_result_count = False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("name", "rep", "source", "created_on", "converted_on", "customer")
    list_filter = ("rep__team", "created_on", "converted_on")
    list_select_related = ("rep", "customer")
    search_fields = ("name", "source")
    ordering = ("-created_on",)
    date_hierarchy = "created_on"
    autocomplete_fields = ("rep",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ("name", "order", "probability", "outcome", "forecast_category")
    list_editable = ("order", "probability", "forecast_category")
    list_filter = ("outcome",)
    search_fields = ("name",)
    ordering = ("order", "name")


class OpportunityStateInline(admin.TabularInline):
    """The deal's history, read-only: the database writes it (kpis.deal_history) whenever the
    deal changes, here or anywhere else."""

    model = OpportunityState
    verbose_name, verbose_name_plural = "state", "history"
    fields = readonly_fields = (
        "from_",
        "stage",
        money("amount"),
        "closed_on",
        "expected_close_on",
        "rep",
        "recorded_by",
        "recorded_at",
    )
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stage", "rep", "recorded_by")

    @admin.display(description="from")
    def from_(self, state):
        if state.since is None:
            return "its opening"
        return formats.localize(timezone.localtime(state.since))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "rep",
        "customer",
        "stage",
        money("amount"),
        "created_on",
        "expected_close_on",
        "closed_on",
    )
    list_filter = ("stage", "stage__outcome", "rep__team", "created_on", "closed_on")
    list_select_related = ("rep", "customer", "stage")
    # An imported deal is named "<product> – <account>", so its name finds both.
    search_fields = ("=external_id", "name")
    ordering = ("-created_on", "-id")  # served by the opportunity_newest_first index
    date_hierarchy = "created_on"
    autocomplete_fields = ("rep", "stage")
    raw_id_fields = ("customer",)
    show_full_result_count = False
    inlines = [OpportunityStateInline]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "kind", "rep", "subject", "customer", "opportunity")
    list_filter = ("kind", "rep__team", "occurred_at")
    list_select_related = ("rep", "customer", "opportunity")
    search_fields = ("subject",)
    ordering = ("-occurred_at",)
    date_hierarchy = "occurred_at"
    autocomplete_fields = ("rep",)
    raw_id_fields = ("customer", "opportunity")
    show_full_result_count = False


class NpsCategoryFilter(admin.SimpleListFilter):
    """Promoters, passives and detractors, as the nps metric counts them."""

    title = "category"
    parameter_name = "category"
    ranges = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}

    def lookups(self, request, model_admin):
        return [(key, f"{key}s ({low}–{high})") for key, (low, high) in self.ranges.items()]

    def queryset(self, request, queryset):
        if self.value() in self.ranges:
            return queryset.filter(score__range=self.ranges[self.value()])
        return queryset


@admin.register(NpsResponse)
class NpsResponseAdmin(admin.ModelAdmin):
    list_display = ("responded_on", "score", "customer", "comment")
    list_filter = (NpsCategoryFilter, "customer__owner__team", "responded_on")
    list_select_related = ("customer",)
    search_fields = ("customer__name", "comment")
    ordering = ("-responded_on",)
    date_hierarchy = "responded_on"
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(AcquisitionSpend)
class AcquisitionSpendAdmin(admin.ModelAdmin):
    list_display = ("spent_on", money("amount"), "channel", "rep", "team")
    list_filter = ("channel", "team", "spent_on")
    list_select_related = ("rep", "team")
    search_fields = ("channel", "rep__full_name", "team__name")
    ordering = ("-spent_on",)
    date_hierarchy = "spent_on"
    autocomplete_fields = ("rep", "team")


@admin.register(ForecastSubmission)
class ForecastSubmissionAdmin(admin.ModelAdmin):
    """Read-only: submissions are history (a correction is a new submission, on the scorecard or
    the API), and a commit backdated by hand would change forecast_accuracy. A superuser may
    still delete one: a rep's erasure, or a rep or team deleted with its forecasts."""

    list_display = (
        subject,
        "period_kind",
        "period_start",
        "category",
        money("amount"),
        "submitted_at",
        "submitted_by",
    )
    list_filter = ("scope", "period_kind", "category", "rep__team", "period_start")
    list_select_related = ("rep", "team", "submitted_by")
    search_fields = ("rep__full_name", "team__name")
    ordering = ("-submitted_at",)
    date_hierarchy = "period_start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(admin.ModelAdmin):
    """Read-only: snapshots are computed, so a hand edit would be overwritten by the next run."""

    list_display = (
        "subject_name",
        "metric",
        "period_kind",
        "period_start",
        "shown_numerator",
        "shown_denominator",
        "figure",
        "state",
        "computed_at",
    )
    list_filter = ("scope", "period_kind", "period_start", "state")
    search_fields = ("=metric",)
    date_hierarchy = "period_start"
    show_full_result_count = False

    def get_queryset(self, request):
        # subject_id is not a foreign key, so the name is fetched in the same query, not per row.
        def name_of(model, field):
            return Subquery(model.objects.filter(pk=OuterRef("subject_id")).values(field))

        return (
            super()
            .get_queryset(request)
            .annotate(
                subject_name=Case(
                    When(scope=Scope.REP, then=name_of(Rep, "full_name")),
                    When(scope=Scope.TEAM, then=name_of(Team, "name")),
                    default=Value("Company"),  # as teams.subjects.subject_name names it
                    output_field=CharField(),
                )
            )
        )

    def get_search_results(self, request, queryset, search_term):
        # A metric key, or the name of the rep or team the snapshot is about.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            reps = Rep.objects.filter(full_name__icontains=search_term).values("pk")
            teams = Team.objects.filter(name__icontains=search_term).values("pk")
            results |= queryset.filter(
                Q(scope=Scope.REP, subject_id__in=reps) | Q(scope=Scope.TEAM, subject_id__in=teams)
            )
        return results, may_have_duplicates

    @admin.display(description="subject")
    def subject_name(self, obj):
        return obj.subject_name

    @admin.display(description="numerator", ordering="numerator")
    def shown_numerator(self, obj):
        return plain_number(obj.numerator)

    @admin.display(description="denominator", ordering="denominator")
    def shown_denominator(self, obj):
        return plain_number(obj.denominator)

    @admin.display(description="value", ordering="value")
    def figure(self, obj):
        """As the pages show it (kpis_tags.figure): USD 19,608, 63.2%, 41.5 d; muted — or n/a."""
        if obj.metric not in catalogue.BY_KEY:
            return obj.value
        return figure(obj.value, obj.state, obj.metric, obj.numerator)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Background jobs (kpis.jobs): the record of every import started from a page, kept."""

    list_display = (
        "__str__",
        "kind",
        "state",
        "created_by",
        "created_at",
        "finished_at",
        "file_names",
        "refused",
    )
    list_filter = ("kind", "state")
    search_fields = ("created_by__username", "files__name")
    list_select_related = ("created_by",)
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "kind",
        "options",
        "state",
        "created_by",
        "started_at",
        "finished_at",
        "result",
        "errors",
    )

    @admin.display(description="rows refused")
    def refused(self, obj):
        return len(obj.errors)

    @admin.display(description="files")
    def file_names(self, obj):
        return obj.file_names

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("files")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    """Saved mappings of the mapped CSV import (kpis.imports, docs/imports.md): `columns` is
    {field: column header}, `values` {field: {value in the file: salesperf's value}}."""

    list_display = ("name", "kind", "date_format", "decimal_comma", "created_by", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    list_select_related = ("created_by",)
    ordering = ("name",)
    readonly_fields = ("created_by", "updated_at")

    def save_model(self, request, obj, form, change):
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
