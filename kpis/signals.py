"""Incremental recompute: a saved or deleted fact enqueues, on commit, a recompute of the branch
it touches — its rep (or team, or the company), the teams above, the company — from the earliest
date it changed. Bulk loads (seed_demo, import_crm) bypass signals and recompute in one go.

The change is committed before anything is sent: a broker that cannot be reached then does not
fail the request (or command) that made it; a warning is logged and the snapshots catch up at
the nightly full recompute (`_publish`, docs/reliability.md).
"""

import datetime as dt
import logging
import threading
from contextlib import contextmanager

import kombu.exceptions
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from teams.models import Membership, Placement
from teams.subjects import COMPANY, Scope, Subject

from . import tasks
from .models import (
    AcquisitionSpend,
    Activity,
    Customer,
    ForecastSubmission,
    Lead,
    NpsResponse,
    Opportunity,
    Stage,
)

log = logging.getLogger(__name__)

_state = threading.local()
Touch = tuple[Subject, dt.date | None]  # (subject, earliest date affected; None: any)
ALL = None
# A team's own facts or a move recompute every subject from the facts (kpis.engine.recompute),
# whichever the team: a transaction's team changes are sent as one, from the earliest date.
ANY_TEAM = Subject(Scope.TEAM, 0)


@contextmanager
def bulk_changes(*, recompute=True):
    """For loaders that write many facts: no per-row recompute; one full recompute on commit.
    Inside another (a loader made of loaders), it leaves the commit's work to the outermost.

    On PostgreSQL the fact tables' planner statistics are refreshed on commit too: until
    autovacuum gets to it, a freshly loaded table looks empty to the planner, which then picks
    nested loops over a million rows (seen: 1.4 s instead of 2 ms for one rep's query)."""
    if not _live():  # inside another loader's (the CRM import's mapped files): its commit does it
        yield
        return
    _state.paused = True
    try:
        yield
    finally:
        _state.paused = False
    if connection.vendor == "postgresql":
        # Only the planner's statistics: if it fails, the load stands and autovacuum refreshes
        # them later, so a failure is logged (by Django) and the recompute below still runs.
        transaction.on_commit(_analyze_facts, robust=True)
    if recompute:
        transaction.on_commit(lambda: _publish(tasks.fan_out_recompute))


def _analyze_facts() -> None:
    tables = ", ".join(model._meta.db_table for model in (*TRACKED, Stage))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _live() -> bool:
    return not getattr(_state, "paused", False)


def _earliest(*dates):
    # A date assigned as an ISO string stays a string on the instance until it is reloaded.
    dates = [dt.date.fromisoformat(d) if isinstance(d, str) else d for d in dates]
    return ALL if any(d is None for d in dates) else min(dates)


def _owner(customer_id) -> Subject:
    owner = Customer.objects.filter(pk=customer_id).values_list("owner_id", flat=True).first()
    return Subject.rep(owner) if owner else COMPANY


def _leaf(rep_id=None, team_id=None) -> Subject:
    """Whom a fact is credited to (kpis.engine.attribution): its rep, else its team, else no one."""
    if rep_id:
        return Subject.rep(rep_id)
    return Subject.team(team_id) if team_id else COMPANY


def touched(obj) -> list[Touch]:
    """The subjects whose own facts `obj`, as it stands, is one of, and from which date."""
    match obj:
        case Opportunity():
            since = _earliest(obj.created_on, *([obj.closed_on] if obj.closed_on else []))
            out = [(Subject.rep(obj.rep_id), since)]
            if obj.customer_id:  # existing-customer revenue and repeat buyers follow the owner
                out.append((_owner(obj.customer_id), since))
            return out
        case Activity():
            return [
                (
                    Subject.rep(obj.rep_id),
                    timezone.localdate(obj.occurred_at, timezone.get_default_timezone()),
                )
            ]
        case Lead():
            return [(Subject.rep(obj.rep_id), _earliest(obj.created_on))]
        case Customer():
            return [(_leaf(obj.owner_id), ALL)]
        case NpsResponse():
            return [(_owner(obj.customer_id), _earliest(obj.responded_on))]
        case AcquisitionSpend():
            out = [(_leaf(obj.rep_id, obj.team_id), _earliest(obj.spent_on))]
            # Whether any rep has spend decides if CAC applies to every rep (kpis.engine.evaluate):
            # the first rep-level row, or the last one gone, changes every rep's CAC, in every period.
            if obj.rep_id and AcquisitionSpend.objects.filter(rep__isnull=False)[:2].count() < 2:
                out.append((ANY_TEAM, ALL))
            return out
        case ForecastSubmission():
            return [(Subject(obj.scope, obj.rep_id or obj.team_id or 0), _earliest(obj.period_start))]
        case Membership() | Placement():  # a dated move: what the team is credited, from that day on
            return [(Subject.team(obj.team_id), obj.until or obj.since)]
    return []


def enqueue(touches: list[Touch]) -> None:
    """Send the recomputes when the transaction commits, each branch once per transaction.

    Every save registers its own hook (so a rolled-back save sends nothing); the hooks of one
    transaction share its hook list, by which `_send` skips a branch already sent from an
    earlier or equal date — deleting 1,000 deals of one rep sends a handful of tasks, not 1,000.
    """
    batch = connection.run_on_commit if connection.in_atomic_block else None
    transaction.on_commit(lambda: _send(touches, batch))


def _send(touches: list[Touch], batch) -> None:
    if batch is None or getattr(_state, "batch", None) is not batch:
        _state.batch, _state.sent, _state.unreachable = batch, {}, False
    if _state.unreachable:
        return  # the broker refused this transaction's first send: don't wait on it for every row
    for key, since in touches:
        if key.scope == Scope.TEAM:  # any team's change recomputes all from its date: send it once
            key = ANY_TEAM
        if key in _state.sent and _earliest(_state.sent[key], since) == _state.sent[key]:
            continue  # already sent from this date or earlier
        _state.sent[key] = since if key not in _state.sent else _earliest(_state.sent[key], since)
        if not _publish(
            tasks.recompute_subject, str(key.scope), key.pk, since.isoformat() if since else None
        ):
            _state.unreachable = True
            return


def _publish(task, *args) -> bool:
    """Send `task` from an on-commit hook; False if the broker cannot be reached.

    The change that asked for it is committed by now: failing here would answer an error (a 503)
    for data that was saved, and a client retrying would write it twice. So the broker's error is
    logged and swallowed: the nightly `kpis.fan_out_recompute` (Celery beat) recomputes everything
    from the facts, so the snapshots catch up then.

    Fire and forget (`ignore_result`): nothing reads these tasks' results, and asking for one
    makes Celery subscribe to it in the result backend first — with Redis down, that alone
    retries for about 20 s and then raises a RuntimeError, not the broker's error.
    """
    try:
        task.apply_async(args, ignore_result=True)
    except kombu.exceptions.OperationalError as exc:  # what Celery raises for an unreachable broker
        log.warning(
            "Could not enqueue %s%r, the broker is unreachable (%s): the saved change stands, and "
            "the snapshots will catch up at the nightly recompute.",
            task.name,
            args,
            exc,
        )
        return False
    return True


TRACKED = (
    Opportunity,
    Activity,
    Lead,
    Customer,
    NpsResponse,
    AcquisitionSpend,
    ForecastSubmission,
)
# Rows of history are written one by one (teams.history): each saved or deleted row says whose
# figures change from which day — its team's, from the day it ends, else the day it begins.
MOVES = (Membership, Placement)


def remember_old_state(sender, instance, raw=False, **kwargs):
    if not raw and instance.pk and _live():
        instance._touched_before = [t for old in sender.objects.filter(pk=instance.pk) for t in touched(old)]


def fact_saved(sender, instance, raw=False, **kwargs):
    if not raw and _live():
        enqueue(getattr(instance, "_touched_before", []) + touched(instance))


def fact_deleted(sender, instance, **kwargs):
    if _live():
        enqueue(touched(instance))


for model in TRACKED:
    pre_save.connect(remember_old_state, sender=model, dispatch_uid=f"kpis-pre-{model.__name__}")
for model in TRACKED + MOVES:
    post_save.connect(fact_saved, sender=model, dispatch_uid=f"kpis-save-{model.__name__}")
    post_delete.connect(fact_deleted, sender=model, dispatch_uid=f"kpis-delete-{model.__name__}")


@receiver([post_save, post_delete], sender=Stage)
def stage_changed(sender, raw=False, **kwargs):
    """A stage's probability reaches every weighted pipeline: recompute everything."""
    if not raw and _live():
        transaction.on_commit(lambda: _publish(tasks.fan_out_recompute))
