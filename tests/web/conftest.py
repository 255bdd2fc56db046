"""Web fixtures: the `org` of tests/conftest.py with a few months of sales, computed.

Alice (east) wins 3000, 3500, 3500 in 2016-Q4 (10,000) and 2500, 2750, 3000 in 2017-Q1 (8,250);
Bob (east) 1000 a month; Carol (west) 2000 a month, from 2016-10 to 2017-03.
"""

import datetime as dt
from decimal import Decimal

import pytest

from kpis import engine, signals
from kpis.models import Activity, Opportunity, Stage
from tests.factories import CustomerFactory, StageFactory, lost_stage, won_stage

MONTHS = ["2016-10", "2016-11", "2016-12", "2017-01", "2017-02", "2017-03"]
ALICE = ["3000", "3500", "3500", "2500", "2750", "3000"]


def day(month: str, d: int = 15) -> dt.date:
    return dt.date.fromisoformat(f"{month}-{d:02d}")


@pytest.fixture
def sales(org):
    with signals.bulk_changes(recompute=False):
        _make_sales(org)
    engine.recompute_all()
    return org


def _make_sales(org):
    won, lost = won_stage(), lost_stage()
    open_stage = StageFactory(name="Engaging", probability=Decimal("0.4"), outcome=Stage.Outcome.OPEN)
    customer = CustomerFactory(name="Acme", owner=org.alice, acquired_on=dt.date(2016, 10, 15))
    deals = []
    for month, alice in zip(MONTHS, ALICE, strict=True):
        for rep, amount in [(org.alice, alice), (org.bob, "1000"), (org.carol, "2000")]:
            deals.append(
                Opportunity(
                    name=f"{rep.full_name} {month}",
                    rep=rep,
                    customer=customer if rep == org.alice else None,
                    stage=won,
                    amount=Decimal(amount),
                    created_on=day(month, 1),
                    closed_on=day(month),
                )
            )
    deals.append(
        Opportunity(
            name="Alice lost",
            rep=org.alice,
            stage=lost,
            amount=Decimal(500),
            created_on=day("2017-03", 1),
            closed_on=day("2017-03", 20),
        )
    )
    deals.append(
        Opportunity(
            name="Alice open",
            rep=org.alice,
            stage=open_stage,
            amount=Decimal(4000),
            created_on=day("2017-03", 2),
        )
    )
    Opportunity.objects.bulk_create(deals)
    Activity.objects.bulk_create(
        Activity(
            rep=org.alice,
            kind="call",
            occurred_at=dt.datetime(2017, 3, d, 10, tzinfo=dt.UTC),
            subject=f"Call {d}",
        )
        for d in range(1, 8)
    )
