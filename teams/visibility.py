"""The one visibility rule: who may see which reps and teams.

A rep sees only themself; a manager sees every team and rep in the subtrees they manage; an
admin (is_staff) sees everything, the company figures included. Pages, API, exports and
drill-downs all ask here, never decide for themselves.
"""

from django.db.models import Q

from .models import Rep, Team
from .tree import TeamTree


def is_admin(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def visible_team_ids(user, tree: TeamTree | None = None) -> set[int]:
    if not (user.is_authenticated and user.is_active):
        return set()
    tree = tree or TeamTree.load()
    if user.is_staff:
        return set(tree.parent)
    managed = [pk for pk, manager_id in tree.manager.items() if manager_id == user.pk]
    return tree.subtree_ids(managed)


def visible_teams(user):
    return Team.objects.filter(pk__in=visible_team_ids(user))


def visible_reps(user):
    """The reps `user` may see: themself, and every rep of the teams they may see."""
    if not (user.is_authenticated and user.is_active):
        return Rep.objects.none()
    if user.is_staff:
        return Rep.objects.all()
    return Rep.objects.filter(Q(team_id__in=visible_team_ids(user)) | Q(user_id=user.pk))


def can_see_company(user) -> bool:
    return is_admin(user)
