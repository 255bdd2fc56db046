"""A KPI recompute sent through the broker runs on a real worker and lands in the database."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from celery.result import AsyncResult, EagerResult

from kpis.models import KpiSnapshot
from kpis.tasks import recompute_subject
from tests.factories import OpportunityFactory, RepFactory, won_stage
from tests.services import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_recompute_subject_runs_on_the_worker(celery_worker):
    rep = RepFactory()
    amount = Decimal("1234.50")
    OpportunityFactory(
        rep=rep,
        stage=won_stage(),
        amount=amount,
        created_on=dt.date(2017, 1, 10),
        closed_on=dt.date(2017, 2, 3),
    )

    result = recompute_subject.delay("rep", rep.pk)

    wait_for(
        lambda: KpiSnapshot.objects.filter(
            scope="rep", subject_id=rep.pk, metric="revenue_won", value=amount
        ).exists(),
        timeout=20,
        message=f"a revenue_won snapshot of {amount} for rep {rep.pk}",
    )
    # It went through the broker to the worker, not eagerly in-process.
    assert celery_worker.app.conf.task_always_eager is False
    assert not isinstance(result, EagerResult)
    result.get(timeout=20)  # re-raises the task's error, if any
    assert AsyncResult(result.id, app=celery_worker.app).state == "SUCCESS"
    assert result.id in celery_worker.task_ids


def test_a_saved_deal_reaches_its_rep_team_and_company_through_the_worker(celery_worker):
    rep = RepFactory()
    deal = OpportunityFactory(
        rep=rep,
        stage=won_stage(),
        amount=Decimal("1000"),
        created_on=dt.date(2017, 1, 10),
        closed_on=dt.date(2017, 2, 3),
    )
    quarter = {"metric": "revenue_won", "period_kind": "quarter", "period_start": dt.date(2017, 1, 1)}

    def shows(amount):
        return lambda: all(
            KpiSnapshot.objects.filter(scope=scope, subject_id=pk, value=amount, **quarter).exists()
            for scope, pk in [("rep", rep.pk), ("team", rep.team_id), ("company", 0)]
        )

    wait_for(shows(Decimal("1000")), timeout=20, message="the first figures")
    started = time.monotonic()
    deal.amount = Decimal("2500")
    deal.save()  # as the admin does: the signal enqueues on commit, the worker recomputes
    wait_for(shows(Decimal("2500")), timeout=20, message="the changed amount in rep, team and company")
    latency = time.monotonic() - started
    print(f"deal saved → rep, team and company snapshots updated in {latency:.2f}s")
    assert latency < 5
