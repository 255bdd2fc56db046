from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count

from .models import Rep, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "rep", "is_staff", "is_active")
    list_filter = (*BaseUserAdmin.list_filter, "rep__team")
    list_select_related = ("rep",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
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
class RepAdmin(admin.ModelAdmin):
    list_display = ("full_name", "user", "user__email", "team", "team__parent", "user__is_active")
    list_filter = ("team", "user__is_active")
    list_select_related = ("user", "team__parent")
    search_fields = ("full_name", "user__username", "user__email", "team__name")
    ordering = ("full_name",)
    autocomplete_fields = ("user", "team")
