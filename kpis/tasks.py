"""Celery tasks: thin, idempotent, ids and primitives only; the work lives in kpis.services."""

import datetime as dt

from celery import shared_task

from teams.tree import TeamTree

from . import services

RETRY = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "max_retries": 5,
}


def _date(since: str | None):
    return dt.date.fromisoformat(since) if since else None


@shared_task(name="kpis.recompute_all", soft_time_limit=25 * 60, time_limit=30 * 60, **RETRY)
def recompute_all():
    """Nightly: fan out one task per top-level team, so that workers share the work."""
    services.delete_stale_snapshots()
    for root in TeamTree.load().roots():
        recompute_tree.delay(root)
    recompute_company.delay()


@shared_task(name="kpis.recompute_tree", soft_time_limit=25 * 60, time_limit=30 * 60, **RETRY)
def recompute_tree(root_team_id: int):
    services.recompute_tree(root_team_id=root_team_id)
    services.recompute_company()


@shared_task(name="kpis.recompute_rep", soft_time_limit=60, time_limit=90, **RETRY)
def recompute_rep(rep_id: int, since: str | None = None):
    services.recompute_branch(scope="rep", subject_id=rep_id, since=_date(since))


@shared_task(name="kpis.recompute_team", soft_time_limit=60, time_limit=90, **RETRY)
def recompute_team(team_id: int, since: str | None = None):
    services.recompute_branch(scope="team", subject_id=team_id, since=_date(since))


@shared_task(name="kpis.recompute_company", soft_time_limit=5 * 60, time_limit=6 * 60, **RETRY)
def recompute_company(since: str | None = None):
    services.recompute_company(since=_date(since))
