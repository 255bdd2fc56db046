"""Celery tasks: thin, idempotent, ids and primitives only; the work lives in kpis.engine."""

import datetime as dt

from celery import shared_task

from teams.subjects import COMPANY, Subject
from teams.tree import TeamTree

from . import engine

RETRY = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "max_retries": 5,
}


@shared_task(name="kpis.fan_out_recompute", soft_time_limit=25 * 60, time_limit=30 * 60, **RETRY)
def fan_out_recompute():
    """Nightly (and after a bulk load): one task per top-level team, so that workers share the
    work; the company after each, from its reps' snapshots."""
    engine.delete_stale_snapshots()
    for root in TeamTree.load().roots():
        recompute_tree.delay(root)
    recompute_subject.delay(COMPANY.scope, COMPANY.pk)


@shared_task(name="kpis.recompute_tree", soft_time_limit=25 * 60, time_limit=30 * 60, **RETRY)
def recompute_tree(root_team_id: int):
    engine.recompute_tree(root_team_id=root_team_id)
    engine.recompute_subject(COMPANY)


# Usually a few hundred ms; the limits leave room for the rare case that rebuilds everything
# (a first fact in a new month).
@shared_task(name="kpis.recompute_subject", soft_time_limit=5 * 60, time_limit=6 * 60, **RETRY)
def recompute_subject(scope: str, subject_id: int, since: str | None = None):
    """After a change to the facts of one rep, team or the company, from `since` (ISO date) on."""
    day = dt.date.fromisoformat(since) if since else None
    engine.recompute_subject(Subject(scope, subject_id), since=day)


# No automatic retry: a job that failed says why on its page, and an admin starts it again. A
# worker lost mid-job redelivers it (acks_late), and the job runs again from the start.
@shared_task(name="kpis.run_job", acks_late=True, soft_time_limit=25 * 60, time_limit=30 * 60)
def run_job(job_id: int):
    """A background job started from a page (kpis.jobs)."""
    from .jobs import job_run  # imports import_crm, which imports the signals, which import us

    job_run(job_id)
