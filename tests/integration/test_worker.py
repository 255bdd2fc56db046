"""A KPI recompute sent through the broker runs on a real worker and lands in the database."""

import datetime as dt
from decimal import Decimal

import pytest
from celery.result import AsyncResult, EagerResult

from kpis.models import KpiSnapshot
from kpis.tasks import recompute_rep
from tests.factories import OpportunityFactory, RepFactory, won_stage
from tests.services import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_recompute_rep_runs_on_the_worker(celery_worker):
    rep = RepFactory()
    amount = Decimal("1234.50")
    OpportunityFactory(
        rep=rep,
        stage=won_stage(),
        amount=amount,
        created_on=dt.date(2017, 1, 10),
        closed_on=dt.date(2017, 2, 3),
    )

    result = recompute_rep.delay(rep.pk)

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
