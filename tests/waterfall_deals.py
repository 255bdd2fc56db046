"""Deals with a dated past, for the pipeline waterfall's tests (kpis/waterfall.py).

`walk(rep, name, created, *steps)` writes a deal as it stands after its last step, then replaces
the history the trigger wrote with one state per step (kpis.deal_history.states_load): a step is
(day, stage, amount, expected close), the first one's day being the deal's created date; a won
or lost step closes the deal on its day.

`quarter_deals(org)` is the hand-worked case of docs/metrics.md's example, 2025-Q4 (opening: the
end of 2025-09-30; closing: the end of 2025-12-31; due by 2025-12-31):

| deal | rep | what happened | opening | movement | closing |
| --- | --- | --- | --- | --- | --- |
| New-won | alice | created 10-06 at 1,000, due 11-30; won 11-20 at 1,200 | – | created 1,000, won 1,000 | – |
| Pushed | alice | 2,000 due 12-15; on 11-03 due 2026-02-15 | 2,000 | pushed out 2,000 | – |
| Reopened | alice | 1,500, lost 09-10; reopened 11-05, due 12-10 | – | pulled in 1,500 | 1,500 |
| Steady | alice | 10,000 due 12-01 | 10,000 | – | 10,000 |
| Later | alice | 9,999 due 2026-06-30 | – | (never due by the end) | – |
| Pulled | bob | 3,000 due 2026-03-31; on 10-20 due 12-20 | – | pulled in 3,000 | 3,000 |
| Grown-lost | bob | 4,000 due 12-31; 10-10 5,000; lost 12-01 | 4,000 | increased 1,000, lost 5,000 | – |
| Trimmed | bob | 6,000 due 11-30; 11-10 5,500 | 6,000 | decreased 500 | 5,500 |
| Undated | carol | created 11-11 at 700, no expected close | – | created 700 | 700 |
"""

import datetime as dt
from decimal import Decimal

from kpis.deal_history import day_start, states_load
from kpis.models import Opportunity, OpportunityState
from tests.factories import StageFactory, lost_stage, won_stage


def stages() -> dict:
    return {"open": StageFactory(name="Engaging"), "won": won_stage(), "lost": lost_stage()}


def walk(rep, name: str, created: str, *steps) -> Opportunity:
    """steps: (day 'YYYY-MM-DD' or None for the first, stage "open"/"won"/"lost", amount,
    expected close 'YYYY-MM-DD' or None)."""
    by_name = stages()
    days = [dt.date.fromisoformat(created)] + [dt.date.fromisoformat(step[0]) for step in steps[1:]]
    rows = []
    for day, (_, stage, amount, expected) in zip(days, steps, strict=True):
        closed = day if stage != "open" else None
        expected_on = dt.date.fromisoformat(expected) if expected else None
        rows.append((by_name[stage], Decimal(amount), closed, expected_on))
    stage, amount, closed, expected_on = rows[-1]
    deal = Opportunity.objects.create(
        name=name,
        rep=rep,
        stage=stage,
        amount=amount,
        created_on=days[0],
        closed_on=closed,
        expected_close_on=expected_on,
    )
    starts = [None] + [day_start(day) for day in days[1:]]
    states_load(
        [
            OpportunityState(
                opportunity=deal,
                since=since,
                until=until,
                stage=stage,
                amount=amount,
                closed_on=closed,
                expected_close_on=expected_on,
                rep=rep,
                recorded_at=since or day_start(days[0]),
            )
            for since, until, (stage, amount, closed, expected_on) in zip(
                starts, [*starts[1:], None], rows, strict=True
            )
        ]
    )
    return deal


def quarter_deals(org) -> dict[str, Opportunity]:
    a, b, c = org.alice, org.bob, org.carol
    deals = [
        walk(
            a, "New-won", "2025-10-06", (None, "open", 1000, "2025-11-30"), ("2025-11-20", "won", 1200, None)
        ),
        walk(
            a,
            "Pushed",
            "2025-08-01",
            (None, "open", 2000, "2025-12-15"),
            ("2025-11-03", "open", 2000, "2026-02-15"),
        ),
        walk(
            a,
            "Reopened",
            "2025-06-01",
            (None, "open", 1500, "2025-09-15"),
            ("2025-09-10", "lost", 1500, None),
            ("2025-11-05", "open", 1500, "2025-12-10"),
        ),
        walk(a, "Steady", "2025-05-01", (None, "open", 10000, "2025-12-01")),
        walk(a, "Later", "2025-08-01", (None, "open", 9999, "2026-06-30")),
        walk(
            b,
            "Pulled",
            "2025-07-01",
            (None, "open", 3000, "2026-03-31"),
            ("2025-10-20", "open", 3000, "2025-12-20"),
        ),
        walk(
            b,
            "Grown-lost",
            "2025-09-01",
            (None, "open", 4000, "2025-12-31"),
            ("2025-10-10", "open", 5000, "2025-12-31"),
            ("2025-12-01", "lost", 5000, None),
        ),
        walk(
            b,
            "Trimmed",
            "2025-09-15",
            (None, "open", 6000, "2025-11-30"),
            ("2025-11-10", "open", 5500, "2025-11-30"),
        ),
        walk(c, "Undated", "2025-11-11", (None, "open", 700, None)),
    ]
    return {deal.name: deal for deal in deals}
