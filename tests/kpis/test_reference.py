"""A seeded random dataset, recomputed by the engine and checked against plain Python loops.

The reference below is written from DESIGN.md's definitions over the same rows kept in Python
lists; it uses no app code except kpis.periods (for period boundaries). Every rep, team and the
company, every month, quarter and year with data, for the metrics in METRICS.
"""

import datetime as dt
import random
from decimal import Decimal as D
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from kpis.models import KpiSnapshot
from kpis.periods import month_index, month_start, periods_between
from tests.factories import ActivityFactory, LeadFactory, NpsResponseFactory

SIX = D("0.000001")
FIRST, LAST = dt.date(2017, 1, 1), dt.date(2017, 8, 31)  # eight months of deals
METRICS = [
    "revenue_won",
    "win_rate",
    "avg_deal_value",
    "sales_cycle_days",
    "pipeline_value",
    "lead_conversion_rate",
    "churn_rate",
    "cltv",
    "nps",
    "repeat_purchase_rate",
    "calls_made",
]
TIME_ZONE = "America/New_York"


def some_day(rng, first, last):
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


@pytest.fixture
def dataset(org, deal, customer, settings):
    """Build the rows in the database and keep the same facts as plain records."""
    settings.TIME_ZONE = TIME_ZONE
    rng = random.Random(7)
    reps = [org.alice, org.bob, org.carol]
    data = SimpleNamespace(customers=[], opportunities=[], leads=[], activities=[], responses=[])

    for _ in range(10):
        owner = rng.choice([*reps, None])
        acquired = some_day(rng, dt.date(2016, 10, 1), dt.date(2017, 6, 30))
        churned = some_day(rng, acquired, LAST) if rng.random() < 0.4 else None
        row = customer(owner, acquired.isoformat(), churned and churned.isoformat())
        data.customers.append(
            SimpleNamespace(obj=row, owner=owner and owner.pk, acquired=acquired, churned=churned)
        )

    for _ in range(60):
        rep = rng.choice(reps)
        outcome = rng.choices(["won", "lost", "open"], weights=[4, 3, 3])[0]
        created = None if rng.random() < 0.07 else some_day(rng, FIRST, LAST)
        closed = None
        if outcome != "open":
            closed = some_day(rng, created or FIRST, min(LAST, (created or FIRST) + dt.timedelta(days=75)))
        amount = D(rng.randint(100, 900_000)) / 100
        buyer = rng.choice([*data.customers, None, None, None])
        deal(
            rep,
            outcome,
            str(amount),
            created and created.isoformat(),
            closed and closed.isoformat(),
            customer=buyer and buyer.obj,
        )
        data.opportunities.append(
            SimpleNamespace(
                rep=rep.pk, outcome=outcome, created=created, closed=closed, amount=amount, buyer=buyer
            )
        )

    for _ in range(30):
        rep = rng.choice(reps)
        created = some_day(rng, FIRST, LAST)
        converted = created + dt.timedelta(days=rng.randint(0, 30)) if rng.random() < 0.4 else None
        LeadFactory(rep=rep, created_on=created, converted_on=converted)
        data.leads.append(SimpleNamespace(rep=rep.pk, created=created, converted=converted))

    first_moment = dt.datetime(2017, 1, 1, tzinfo=dt.UTC)
    for _ in range(40):
        rep = rng.choice(reps)
        kind = rng.choice(["call", "email", "meeting"])
        at = first_moment + dt.timedelta(minutes=rng.randint(0, 242 * 24 * 60))
        ActivityFactory(rep=rep, kind=kind, occurred_at=at)
        data.activities.append(SimpleNamespace(rep=rep.pk, kind=kind, at=at))

    for _ in range(20):
        buyer = rng.choice(data.customers)
        responded = some_day(rng, max(buyer.acquired, FIRST), LAST)
        score = rng.randint(0, 10)
        NpsResponseFactory(customer=buyer.obj, responded_on=responded, score=score)
        data.responses.append(SimpleNamespace(buyer=buyer, on=responded, score=score))
    return data


# --- the reference: straight from the definitions --------------------------------------------


def ratio(numerator, denominator):
    return None if denominator == 0 else (D(numerator) / D(denominator)).quantize(SIX)


def amount(value):
    return D(value).quantize(SIX)


def local_date(moment):
    return moment.astimezone(ZoneInfo(TIME_ZONE)).date()


def opened(o):
    """Opportunity.opened_on: created, else the day recorded (today, in this test), or the close
    date if that came first."""
    today = timezone.localdate()
    return o.created or (min(today, o.closed) if o.closed else today)


def reference(data, metric, reps, owners, start, end):
    """The metric for the reps `reps` (deals, leads, activities) and customer owners `owners`."""

    def within(day):
        return day is not None and start <= day <= end

    won = [o for o in data.opportunities if o.rep in reps and o.outcome == "won" and within(o.closed)]
    lost = [o for o in data.opportunities if o.rep in reps and o.outcome == "lost" and within(o.closed)]
    if metric == "revenue_won":
        return amount(sum(o.amount for o in won))
    if metric == "win_rate":
        return ratio(len(won), len(won) + len(lost))
    if metric == "avg_deal_value":
        return ratio(sum(o.amount for o in won), len(won))
    if metric == "sales_cycle_days":
        dated = [o for o in won if o.created is not None]
        return ratio(sum((o.closed - o.created).days for o in dated), len(dated))
    if metric == "pipeline_value":
        open_at_end = [
            o
            for o in data.opportunities
            if o.rep in reps and opened(o) <= end and (o.closed is None or o.closed > end)
        ]
        return amount(sum(o.amount for o in open_at_end))
    if metric == "lead_conversion_rate":
        leads = [lead for lead in data.leads if lead.rep in reps and within(lead.created)]
        return ratio(sum(1 for lead in leads if lead.converted is not None), len(leads))
    if metric == "calls_made":
        calls = [
            a for a in data.activities if a.rep in reps and a.kind == "call" and within(local_date(a.at))
        ]
        return amount(len(calls))
    mine = [c for c in data.customers if c.owner in owners]
    if metric == "churn_rate":
        active = [c for c in mine if c.acquired < start and (c.churned is None or c.churned >= start)]
        return ratio(sum(1 for c in active if within(c.churned)), len(active))
    if metric == "cltv":  # the 12 months ending with the period
        first = month_start(month_index(end) - 11)
        in_window = lambda day: day is not None and first <= day <= end  # noqa: E731
        revenue = sum(
            o.amount
            for o in data.opportunities
            if o.outcome == "won" and in_window(o.closed) and o.buyer is not None and o.buyer.owner in owners
        )
        return ratio(revenue * settings.GROSS_MARGIN, sum(1 for c in mine if in_window(c.churned)))
    if metric == "nps":
        responses = [r for r in data.responses if r.buyer.owner in owners and within(r.on)]
        promoters = sum(1 for r in responses if r.score >= 9)
        detractors = sum(1 for r in responses if r.score <= 6)
        return ratio((promoters - detractors) * 100, len(responses))
    if metric == "repeat_purchase_rate":
        buyers = {}
        for o in data.opportunities:
            if o.outcome == "won" and within(o.closed) and o.buyer is not None and o.buyer.owner in owners:
                buyers[id(o.buyer)] = o.buyer
        repeat = 0
        for buyer in buyers.values():  # two won deals by the period's end, earlier or in it
            wins = [o for o in data.opportunities if o.buyer is buyer and o.outcome == "won"]
            repeat += sum(1 for o in wins if o.closed <= end) >= 2
        return ratio(repeat, len(buyers))
    raise AssertionError(metric)


def data_span(data):
    days = [d for o in data.opportunities for d in (opened(o), o.closed) if d]
    days += [d for c in data.customers for d in (c.acquired, c.churned) if d]
    days += [lead.created for lead in data.leads]
    days += [local_date(a.at) for a in data.activities]
    days += [r.on for r in data.responses]
    return min(days), max(days)


@pytest.mark.parametrize("fiscal_start", [1, 4])
def test_every_snapshot_matches_plain_python_loops(org, dataset, settings, recompute, fiscal_start):
    settings.FISCAL_YEAR_START_MONTH = fiscal_start
    recompute()
    a, b, c = org.alice.pk, org.bob.pk, org.carol.pk
    subjects = {
        ("rep", a): {a},
        ("rep", b): {b},
        ("rep", c): {c},
        ("team", org.east.pk): {a, b},
        ("team", org.west.pk): {c},
        ("team", org.region.pk): {a, b, c},
        ("company", 0): {a, b, c},
    }
    first, last = data_span(dataset)
    expected = {}
    for (scope, pk), reps in subjects.items():
        owners = reps | {None} if scope == "company" else reps
        for kind in ("month", "quarter", "year"):
            for period in periods_between(kind, first, last, fiscal_start):
                for metric in METRICS:
                    value = reference(dataset, metric, reps, owners, period.start, period.end)
                    expected[scope, pk, metric, kind, period.start] = value
    actual = {
        (scope, pk, metric, kind, start): value
        for scope, pk, metric, kind, start, value in KpiSnapshot.objects.filter(
            metric__in=METRICS
        ).values_list("scope", "subject_id", "metric", "period_kind", "period_start", "value")
    }
    assert actual.keys() == expected.keys()
    wrong = sorted((*key, actual[key], value) for key, value in expected.items() if actual[key] != value)
    assert wrong == []
    # The dataset is not degenerate: each compared metric has defined, non-zero values.
    for metric in METRICS:
        assert any(v for k, v in expected.items() if k[2] == metric), metric
