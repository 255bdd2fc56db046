import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from kpis import engine
from kpis.models import KpiSnapshot
from kpis.periods import Period
from tests.factories import CustomerFactory, OpportunityFactory, StageFactory, lost_stage, won_stage

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "crm-sales-opportunities"


@pytest.fixture
def stages(db):
    return {
        "won": won_stage(),
        "lost": lost_stage(),
        "open": StageFactory(name="Engaging", probability=Decimal("0.4")),
    }


@pytest.fixture
def deal(stages):
    """deal(rep, "won", amount, created, closed) — dates as 'YYYY-MM-DD' or None."""

    def make(rep, outcome, amount, created, closed=None, **kwargs):
        return OpportunityFactory(
            rep=rep,
            stage=stages[outcome],
            amount=Decimal(amount),
            created_on=dt.date.fromisoformat(created) if created else None,
            closed_on=dt.date.fromisoformat(closed) if closed else None,
            **kwargs,
        )

    return make


@pytest.fixture
def snapshot(db):
    """snapshot(subject, metric, label) → the stored value (None when undefined).

    subject is a Rep, a Team or "company"; label like '2017-01', '2017-Q1', '2017'."""

    def read(subject, metric, label):
        period = Period.parse(label)
        scope = "company" if subject == "company" else subject._meta.model_name
        pk = 0 if subject == "company" else subject.pk
        row = KpiSnapshot.objects.get(
            scope=scope, subject_id=pk, metric=metric, period_kind=period.kind, period_start=period.start
        )
        return row.value

    return read


@pytest.fixture
def recompute(db):
    return lambda: engine.recompute_all()


@pytest.fixture
def customer(db):
    """customer(owner, acquired, churned=None) — owner a Rep or None; dates as 'YYYY-MM-DD' or None."""

    def make(owner, acquired, churned=None, **kwargs):
        return CustomerFactory(
            owner=owner,
            acquired_on=dt.date.fromisoformat(acquired) if acquired else None,
            churned_on=dt.date.fromisoformat(churned) if churned else None,
            **kwargs,
        )

    return make


@pytest.fixture
def snapshot_rows(db):
    """snapshot_rows() → every snapshot as a comparable tuple (without computed_at)."""

    def rows():
        return set(
            KpiSnapshot.objects.values_list(
                "scope",
                "subject_id",
                "metric",
                "period_kind",
                "period_start",
                "numerator",
                "denominator",
                "value",
            )
        )

    return rows


@pytest.fixture
def data_dir():
    if not DATA.is_dir():
        if os.environ.get("CI") or os.environ.get("SALESPERF_REQUIRE_SERVICES"):
            pytest.fail(f"The shared data set is missing at {DATA}.")
        pytest.skip("../shared is not beside this checkout")
    return DATA
