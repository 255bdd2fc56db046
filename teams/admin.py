"""Admin for users, teams and reps, and their history read-only.

A rep's team and a team's parent change as dated moves (teams.history): their forms ask from
when (`effective`), check it with the history's own rules before anything is written, and save
through the model, which records the move. Memberships and placements are never edited here.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, F
from django.utils import timezone

from .history import EARLIEST, membership_errors, placement_errors
from .models import Membership, Placement, Rep, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "rep", "is_staff", "is_active")
    list_filter = (*BaseUserAdmin.list_filter, "rep__team")
    list_select_related = ("rep",)


class DatedMoveForm(forms.ModelForm):
    """A change of `moved` takes effect from `effective`; errors_for_move asks teams.history
    what is wrong with it, and each error shows on its field before anything is written."""

    moved: str

    def errors_for_move(self, new, effective) -> dict:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None or self.moved not in self.changed_data or self.moved not in cleaned:
            return cleaned
        for field, message in self.errors_for_move(cleaned[self.moved], cleaned.get("effective")).items():
            self.add_error(field, message)
        return cleaned


class RepForm(DatedMoveForm):
    moved = "team"
    effective = forms.DateField(
        required=False,
        initial=timezone.localdate,
        help_text=(
            "When the change of team takes effect (default: today). Today at the latest, not before "
            f"{EARLIEST}, nor before the current team's start; on that very day it corrects it."
        ),
    )

    def errors_for_move(self, new, effective):
        return membership_errors(self.instance, effective)


class TeamForm(DatedMoveForm):
    moved = "parent"
    effective = forms.DateField(
        required=False,
        initial=lambda: timezone.localdate().replace(day=1),
        help_text=(
            "When the change of parent takes effect: the first day of a month (default: this month's). "
            f"This month at the latest, not before {EARLIEST}, nor before the current placement's start; "
            "on that very day it corrects it."
        ),
    )

    def errors_for_move(self, new, effective):
        return placement_errors(self.instance, new.pk if new else None, effective)


class DatedMoveAdmin(admin.ModelAdmin):
    def get_fields(self, request, obj=None):
        # A new rep or team has nothing to move from.
        fields = super().get_fields(request, obj)
        return fields if obj is not None else [f for f in fields if f != "effective"]

    def save_model(self, request, obj, form, change):
        obj.save(effective=form.cleaned_data.get("effective"), by=request.user)


class HistoryInline(admin.TabularInline):
    """History rows, shown oldest first and never edited here."""

    extra = 0
    ordering = (F("since").asc(nulls_first=True),)
    readonly_fields = ("since", "until", "recorded_at", "recorded_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RepMembershipInline(HistoryInline):
    model = Membership
    verbose_name_plural = "teams over time"
    fields = ("team", "since", "until", "recorded_at", "recorded_by")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team", "recorded_by")


class TeamMembershipInline(HistoryInline):
    model = Membership
    verbose_name_plural = "members over time"
    fields = ("rep", "since", "until", "recorded_at", "recorded_by")
    ordering = (*HistoryInline.ordering, "rep__full_name")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("rep", "recorded_by")


class PlacementInline(HistoryInline):
    model = Placement
    fk_name = "team"
    verbose_name_plural = "placed under, over time"
    fields = ("parent", "since", "until", "recorded_at", "recorded_by")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent", "recorded_by")


@admin.register(Team)
class TeamAdmin(DatedMoveAdmin):
    form = TeamForm
    inlines = (PlacementInline, TeamMembershipInline)
    list_display = ("name", "parent", "manager", "rep_count")
    list_filter = (("parent", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("parent", "manager")
    search_fields = ("name", "manager__username", "manager__first_name", "manager__last_name")
    ordering = ("name",)
    autocomplete_fields = ("parent", "manager")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rep_count=Count("reps"))

    @admin.display(description="reps", ordering="rep_count")
    def rep_count(self, obj):
        return obj.rep_count


@admin.register(Rep)
class RepAdmin(DatedMoveAdmin):
    form = RepForm
    inlines = (RepMembershipInline,)
    list_display = ("full_name", "user", "user__email", "team", "team__parent", "user__is_active")
    list_filter = ("team", "user__is_active")
    list_select_related = ("user", "team__parent")
    search_fields = ("full_name", "user__username", "user__email", "team__name")
    ordering = ("full_name",)
    autocomplete_fields = ("user", "team")


class HistoryAdmin(admin.ModelAdmin):
    """Read-only: history is written by saving a rep or a team (their forms ask from when)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(HistoryAdmin):
    list_display = ("rep", "team", "since", "until", "recorded_at", "recorded_by")
    list_filter = (("team", admin.RelatedOnlyFieldListFilter), ("rep", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("rep", "team", "recorded_by")
    search_fields = ("rep__full_name", "team__name")


@admin.register(Placement)
class PlacementAdmin(HistoryAdmin):
    list_display = ("team", "parent", "since", "until", "recorded_at", "recorded_by")
    list_filter = (("team", admin.RelatedOnlyFieldListFilter), ("parent", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("team", "parent", "recorded_by")
    search_fields = ("team__name", "parent__name")
