"""The one visibility rule: who may see which reps and teams.

A rep sees only themself; a manager sees every team and rep in the subtrees they manage; an
admin (is_staff) sees everything, the company figures included. Rows of every other model are
seen through their rep or team: `Model.objects.visible_to(user)` (teams.querysets) asks here.
Pages, API, exports and imports use that method or these helpers, never deciding for themselves.
"""

from dataclasses import dataclass

from django.db.models import Q

from .models import Rep
from .tree import TeamTree


def is_active(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def is_admin(user) -> bool:
    return is_active(user) and bool(user.is_staff)


def can_see_company(user) -> bool:
    return is_admin(user)


def visible_team_ids(user, tree: TeamTree | None = None) -> set[int]:
    if not is_active(user):
        return set()
    tree = tree or TeamTree.load()
    if user.is_staff:
        return set(tree.parent)
    managed = [pk for pk, manager_id in tree.manager.items() if manager_id == user.pk]
    return tree.subtree_ids(managed)


def is_manager(user, tree: TeamTree | None = None) -> bool:
    """Manages at least one team, or is an admin (who manages them all): sets targets, sees
    dashboards."""
    return is_admin(user) or bool(visible_team_ids(user, tree))


def top_team_ids(user, tree: TeamTree) -> list[int]:
    """The roots of what `user` sees: the teams they see whose parent they do not, by id."""
    visible = visible_team_ids(user, tree)
    return sorted(pk for pk in visible if tree.parent[pk] not in visible)


@dataclass(frozen=True)
class Sight:
    """What a signed-in user who is not an admin sees, worked out once per query."""

    user_id: int
    team_ids: frozenset[int]

    @classmethod
    def of(cls, user, tree: TeamTree | None = None) -> "Sight":
        return cls(user.pk, frozenset(visible_team_ids(user, tree)))

    def own_reps(self) -> Q:
        """On Rep: themself, and every rep of the teams they see."""
        return Q(team_id__in=self.team_ids) | Q(user_id=self.user_id)

    def rep_ids(self):
        """The visible reps' ids, as a subquery."""
        return Rep.objects.filter(self.own_reps()).values("pk")

    def reps(self, lookup: str) -> Q:
        """Rows whose rep (its id at `lookup`) is visible; a row without one is not."""
        return Q(**{f"{lookup}__in": self.rep_ids()})

    def teams(self, lookup: str) -> Q:
        return Q(**{f"{lookup}__in": self.team_ids})
