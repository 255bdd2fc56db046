"""The deals, targets and snapshots behind the forecast tests (roll-up, page, API, browser).

The quarter is the one running today, so that forecasts for it may be submitted. Stages and their
categories by probability (kpis.models.ForecastCategory.of_stage): Prospecting 0.1 pipeline,
Engaging 0.4 best case, Negotiation 0.8 commit.

alice: won 1,000 this quarter; open, expected this quarter: Negotiation 2,000 (commit), Engaging
       3,000 (best case), Prospecting 4,000 (pipeline), Prospecting 500 she set to omitted;
       Engaging 700 without an expected close date; Negotiation 9,000 expected next quarter.
bob:   won 500 this quarter; open, expected this quarter: Engaging 1,500 he set to commit,
       Prospecting 2,500 (pipeline).
carol (west): open Negotiation 800 expected this quarter (commit) — not east's.
Targets (revenue_won, month by month, none for the quarter): alice 2,000 a month, bob 1,000.

By hand, this quarter:
  alice  quota 6,000  closed 1,000  commit 3,000  best case 6,000  pipeline 10,000  gap 3,000
         coverage (10,000 − 1,000) / (6,000 − 1,000) = 1.8; one deal without a close date
  bob    quota 3,000  closed 500    commit 2,000  best case 2,000  pipeline 4,500   gap 1,000
         coverage (4,500 − 500) / (3,000 − 500) = 1.6
  east   quota 9,000  closed 1,500  commit 5,000  best case 8,000  pipeline 14,500  gap 4,000
         coverage 13,000 / 7,500 = 1.7333…; one deal without a close date
"""

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

from django.utils import timezone

from kpis import engine
from kpis.models import Stage
from kpis.periods import Period
from tests.factories import OpportunityFactory, StageFactory, TargetFactory


def quarter_now() -> Period:
    return Period.containing("quarter", timezone.localdate())


def make_book(org) -> SimpleNamespace:
    quarter = quarter_now()
    start, end, later = quarter.start, quarter.end, quarter.shifted(1).end
    prospecting = StageFactory(name="Prospecting", order=1, probability=D("0.1"))
    engaging = StageFactory(name="Engaging", order=2, probability=D("0.4"))
    negotiation = StageFactory(name="Negotiation", order=3, probability=D("0.8"))
    won = StageFactory(name="Won", order=9, probability=D(1), outcome=Stage.Outcome.WON)

    def deal(rep, stage, amount, expected=None, **kwargs):
        return OpportunityFactory(
            rep=rep, stage=stage, amount=D(amount), created_on=start, expected_close_on=expected, **kwargs
        )

    deal(org.alice, won, "1000", closed_on=start)
    deal(org.alice, negotiation, "2000", end)
    deal(org.alice, engaging, "3000", end)
    deal(org.alice, prospecting, "4000", start)
    deal(org.alice, prospecting, "500", end, forecast_category="omitted")
    deal(org.alice, engaging, "700")
    deal(org.alice, negotiation, "9000", later)
    deal(org.bob, won, "500", closed_on=start)
    deal(org.bob, engaging, "1500", end, forecast_category="commit")
    deal(org.bob, prospecting, "2500", end)
    deal(org.carol, negotiation, "800", end)
    for month in quarter.months():
        for rep, value in ((org.alice, "2000"), (org.bob, "1000")):
            TargetFactory(rep=rep, period_start=month.start, value=D(value))
    engine.recompute_all()
    return SimpleNamespace(quarter=quarter, stages=(prospecting, engaging, negotiation, won))


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
