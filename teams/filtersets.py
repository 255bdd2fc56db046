"""FilterSets for teams and reps, and the filters every API FilterSet shares.

They narrow a queryset that the viewset has already scoped to what the user may see, so a
filter on an id the user may not see simply matches nothing.
"""

import django_filters
from django import forms
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from .models import Rep, Team
from .tree import TeamTree

MAX_ID = 2**63 - 1  # the largest id any supported database stores


class IdFilter(django_filters.NumberFilter):
    """An integer id; NumberFilter alone would accept 1.5 and ids no database can hold."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
        # For the schema: an integer in that range (NumberFilter would say "number"), described.
        schema = {"type": "integer", "minimum": kwargs["min_value"], "maximum": kwargs["max_value"]}
        extend_schema_field({**schema, "description": kwargs.get("help_text", "")})(self)


class TeamSubtreeFilter(IdFilter):
    """Rows whose team (at `field_name`, or at any of `also`) is the given team or one below it."""

    def __init__(self, *args, also: tuple[str, ...] = (), **kwargs):
        self.also = also
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        subtree = TeamTree.load().subtree_ids([value])
        match = Q()
        for path in (self.field_name, *self.also):
            match |= Q(**{f"{path}__in": subtree})
        return qs.filter(match)


def search_filter(*fields: str) -> django_filters.CharFilter:
    """`q`: rows where any of `fields` contains the text, ignoring case."""

    def search(queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": value})
        return queryset.filter(match)

    names = ", ".join(field.replace("_", " ").replace("  ", " ") for field in fields)
    return django_filters.CharFilter(
        method=search, max_length=100, help_text=f"Search {names} (any part, ignoring case)."
    )


class TeamFilterSet(django_filters.FilterSet):
    q = search_filter("name")
    team_id = TeamSubtreeFilter(field_name="pk", help_text="This team and every team below it.")
    parent_id = IdFilter(field_name="parent_id", help_text="Teams directly below this team.")
    manager_id = IdFilter(field_name="manager_id", help_text="Teams managed by this user.")

    class Meta:
        model = Team
        fields = []


class RepFilterSet(django_filters.FilterSet):
    q = search_filter("full_name")
    team_id = TeamSubtreeFilter(field_name="team_id", help_text="Reps of this team or any team below it.")
    user_id = IdFilter(field_name="user_id", help_text="The rep of this user.")

    class Meta:
        model = Rep
        fields = []
