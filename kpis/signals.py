"""Incremental recompute: a saved or deleted fact enqueues, on commit, a recompute of the branch
it touches — its rep (or team, or the company), the teams above, the company — from the earliest
date it changed. Bulk loads (seed_demo, import_crm) bypass signals and recompute in one go.
"""

import datetime as dt

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from teams.models import Rep, Team

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

Touch = tuple[str, int, dt.date | None]  # (scope, subject id, earliest period end affected)
ALL = None


def _earliest(*dates):
    return ALL if any(d is None for d in dates) else min(dates)


def _owner(customer_id):
    owner = Customer.objects.filter(pk=customer_id).values_list("owner_id", flat=True).first()
    return ("rep", owner) if owner else ("company", 0)


def touched(obj) -> list[Touch]:
    """The branches whose snapshots `obj`, as it stands, contributes to."""
    match obj:
        case Opportunity():
            since = _earliest(obj.created_on, *([obj.closed_on] if obj.closed_on else []))
            out = [("rep", obj.rep_id, since)]
            if obj.customer_id:  # existing-customer revenue and repeat buyers follow the owner
                out.append((*_owner(obj.customer_id), since))
            return out
        case Activity():
            return [("rep", obj.rep_id, timezone.localdate(obj.occurred_at))]
        case Lead():
            return [("rep", obj.rep_id, obj.created_on)]
        case Customer():
            return [(*(("rep", obj.owner_id) if obj.owner_id else ("company", 0)), ALL)]
        case NpsResponse():
            return [(*_owner(obj.customer_id), obj.responded_on)]
        case AcquisitionSpend():
            leaf = (
                ("rep", obj.rep_id)
                if obj.rep_id
                else ("team", obj.team_id)
                if obj.team_id
                else ("company", 0)
            )
            return [(*leaf, obj.spent_on)]
        case ForecastSubmission():
            return [(obj.scope, obj.rep_id or obj.team_id or 0, obj.period_start)]
        case Rep():  # its old and its new team both change
            return [("rep", obj.pk, ALL), ("team", obj.team_id, ALL)]
        case Team():
            return [
                ("team", obj.pk, ALL),
                ("team", obj.parent_id, ALL) if obj.parent_id else ("company", 0, ALL),
            ]
    return []


def enqueue(touches: list[Touch]) -> None:
    merged: dict[tuple[str, int], dt.date | None] = {}
    for scope, pk, since in touches:
        key = (scope, pk)
        merged[key] = since if key not in merged else _earliest(merged[key], since)
    for (scope, pk), since in merged.items():
        arg = since.isoformat() if since else None
        if scope == "rep":
            transaction.on_commit(lambda pk=pk, arg=arg: tasks.recompute_rep.delay(pk, arg))
        elif scope == "team":
            transaction.on_commit(lambda pk=pk, arg=arg: tasks.recompute_team.delay(pk, arg))
        else:
            transaction.on_commit(lambda arg=arg: tasks.recompute_company.delay(arg))


TRACKED = (
    Opportunity,
    Activity,
    Lead,
    Customer,
    NpsResponse,
    AcquisitionSpend,
    ForecastSubmission,
    Rep,
    Team,
)


@receiver(pre_save)
def remember_old_state(sender, instance, raw=False, **kwargs):
    if sender in TRACKED and not raw and instance.pk:
        instance._touched_before = [t for old in sender.objects.filter(pk=instance.pk) for t in touched(old)]


@receiver(post_save)
def fact_saved(sender, instance, raw=False, **kwargs):
    if sender in TRACKED and not raw:
        enqueue(getattr(instance, "_touched_before", []) + touched(instance))


@receiver(post_delete)
def fact_deleted(sender, instance, **kwargs):
    if sender in TRACKED:
        enqueue(touched(instance))


@receiver([post_save, post_delete], sender=Stage)
def stage_changed(sender, raw=False, **kwargs):
    """A stage's probability reaches every weighted pipeline: recompute everything."""
    if not raw:
        transaction.on_commit(tasks.recompute_all.delay)
