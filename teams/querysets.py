"""The queryset method every scoped model shares: `Model.objects.visible_to(user)`.

Like netbox's RestrictedQuerySet.restrict: who may see a row is decided once, on the queryset,
and every page, API view, export and import starts from it. The rule itself (which reps and teams
a user sees) is teams.visibility; a model only says how its rows reach a rep or a team.
"""

from django.db import models
from django.db.models import Q


class VisibleQuerySet(models.QuerySet):
    """Rows an admin sees all of, a signed-out or inactive user none of, anyone else through
    `rule(sight)`: by default, the rows whose rep (at `rep_lookup`) or team (at `team_lookup`)
    they see."""

    rep_lookup: str | None = None
    team_lookup: str | None = None

    def rule(self, sight) -> Q:
        q = Q(pk__in=[])
        if self.rep_lookup:
            q |= sight.reps(self.rep_lookup)
        if self.team_lookup:
            q |= sight.teams(self.team_lookup)
        return q

    def visible_to(self, user, tree=None):
        """The rows `user` may see; `tree` (a loaded TeamTree) spares a batch its reloads."""
        # Imported here: teams.visibility reads teams.models, which builds on this module.
        from .visibility import Sight, is_active, is_admin

        if is_admin(user):
            return self.all()
        if not is_active(user):
            return self.none()
        return self.filter(self.rule(Sight.of(user, tree)))
