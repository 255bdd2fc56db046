"""Reads of snapshots, always through the one visibility rule (teams.visibility)."""

from django.db.models import Q

from teams import visibility

from .models import KpiSnapshot


def snapshots_visible_to(user):
    """The snapshots of the reps and teams `user` may see, and the company's for admins."""
    if visibility.is_admin(user):
        return KpiSnapshot.objects.all()
    return KpiSnapshot.objects.filter(
        Q(scope="rep", subject_id__in=visibility.visible_reps(user).values("pk"))
        | Q(scope="team", subject_id__in=visibility.visible_team_ids(user))
    )
