"""The pipeline waterfall: how a subject's pipeline due by a period's end went from what it was
when the period began to what it is at its end, deal by deal (docs/metrics.md, "Pipeline
waterfall").

The pipeline *due by the period's end*, at the end of a day, is the deals open then by the
engine's rule (kpis.engine.attribution: each state counts from the day it entered to the day it
left) whose expected close date, as it stood then, is on or before the period's last day or not
set. Each deal's movement is worked out from its own states, so every deal balances and the bars
add up to the cent: opening + created + pulled in + increased − decreased − pushed out − won −
lost = closing.

Deals are credited to their current owner, and a team's reps are those it covers on the closing
day (kpis.drill.covered), like the pipeline figure at that day.

The database works out every deal's movements and adds up the bars (one statement): a company's
year moves a million deals, which Python would hold for tens of seconds and gigabytes. Only the
deals a page lists are read, largest first.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, F, Q, Value, When

from teams.models import Rep
from teams.subjects import Subject

from .deal_history import day_start
from .drill import covered
from .engine.attribution import PIPELINE_ENTRIES
from .models import Opportunity, OpportunityState
from .periods import Period

ONE = dt.timedelta(days=1)
# (key, label, +1 adds to the pipeline / −1 takes from it), in the order the bars stand.
MOVEMENTS = (
    ("created", "Created", 1),
    ("pulled_in", "Pulled in", 1),
    ("increased", "Increased", 1),
    ("decreased", "Decreased", -1),
    ("pushed_out", "Pushed out", -1),
    ("won", "Won", -1),
    ("lost", "Lost", -1),
)
KEYS = ("opening", *(key for key, _, _ in MOVEMENTS), "closing")
# What each bar holds, as its deal table says.
MEANING = {
    "opening": "Deals in the pipeline due by the period's end when it began.",
    "created": "Deals created in the period, at the amount they entered with.",
    "pulled_in": "Deals created before the period whose expected close moved into it, or that were "
    "reopened, at the amount they entered with.",
    "increased": "Deals whose amount grew while in the pipeline: by how much.",
    "decreased": "Deals whose amount shrank while in the pipeline: by how much.",
    "pushed_out": "Deals whose expected close moved past the period's end, at the amount they left with.",
    "won": "Deals won, at the amount they had in the pipeline (the amount won may differ).",
    "lost": "Deals lost, at the amount they had in the pipeline.",
    "closing": "Deals in the pipeline due by the period's end at its close.",
}


class NotBegun(ValueError):
    """A period that starts after today has no waterfall yet."""


@dataclass(frozen=True)
class Deal:
    id: int
    name: str
    rep_id: int
    rep: str
    amount: Decimal  # what it added or took, always ≥ 0 (the bar's sign says which)


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    sign: int  # 1 or −1 for a movement, 0 for the opening and closing totals
    amount: Decimal
    count: int  # its deals
    deals: list[Deal]  # those asked for, largest first: all of them, or one page


@dataclass(frozen=True)
class Waterfall:
    subject: Subject
    period: Period
    opening_day: dt.date  # the pipeline at the end of this day (the one before the period)
    closing_day: dt.date  # … and at the end of this one: the period's last day, or today
    opening: Bar
    movements: list[Bar]
    closing: Bar

    @property
    def bars(self) -> list[Bar]:
        return [self.opening, *self.movements, self.closing]

    def bar(self, key: str) -> Bar:
        return next(bar for bar in self.bars if bar.key == key)


def pipeline_waterfall(
    *,
    subject: Subject,
    period: Period,
    today: dt.date,
    per_page: int | None = None,
    show: str | None = None,
    page: int = 1,
) -> Waterfall:
    """The waterfall of `subject`'s pipeline due by the end of `period` (running: up to today).
    Each bar lists all its deals, or with `per_page` its page `page` (with `show`: that bar only,
    the others their first); largest first, then by deal id."""
    if period.start > today:
        raise NotBegun(f"{period} has not begun: its waterfall starts on {period.start:%Y-%m-%d}.")
    opening_day = period.start - ONE
    closing_day = min(period.end, today)
    states = _states(subject, opening_day, closing_day)
    days = (period.end, opening_day, closing_day, period.start)
    totals, listed = _read(states, days, per_page, show, page)

    def bar(key, label, sign):
        cents, count = totals.get(key, (0, 0))
        return Bar(key, label, sign, _money(cents), count, listed.get(key, []))

    return Waterfall(
        subject,
        period,
        opening_day,
        closing_day,
        bar("opening", "Opening", 0),
        [bar(*movement) for movement in MOVEMENTS],
        bar("closing", "Closing", 0),
    )


def _states(subject: Subject, opening_day: dt.date, closing_day: dt.date):
    """The states of the subject's deals that may count in the pipeline on some day from the
    opening day to the closing day, or be a deal's state at the closing day's end (`at_end`),
    each with the days it counts (attribution.state_spans)."""
    leaves = covered(subject).on(closing_day)
    end = day_start(closing_day + ONE)
    at_end = (Q(since__isnull=True) | Q(since__lt=end)) & (Q(until__isnull=True) | Q(until__gte=end))
    # A condition on the states' own columns, which spares most of a long history the days'
    # arithmetic: a state that counts on one of the days left after the opening day or not yet
    # (a current one: open, or closed after the opening day); a deal's state at `end`, if it
    # does not count itself, followed one that did, so it began after the opening day.
    after = day_start(opening_day + ONE)
    alive = Q(until__gte=after) | Q(
        Q(closed_on__isnull=True) | Q(closed_on__gt=opening_day) | Q(since__gte=after), until__isnull=True
    )
    return (
        OpportunityState.objects.annotate(**PIPELINE_ENTRIES.annotate())
        .filter(PIPELINE_ENTRIES.credited(leaves), alive)
        .annotate(
            opened_on=F("opportunity__opened_on"),
            outcome=F("stage__outcome"),
            at_end=Case(When(at_end, then=Value(1)), default=Value(0)),
        )
        .order_by()
        .values(
            "id",
            "opportunity_id",
            "entered_on",
            "left_on",
            "amount",
            "expected_close_on",
            "opened_on",
            "outcome",
            "at_end",
        )
    )


# The states read once (PostgreSQL would otherwise work out each state's days again wherever
# they are named); which count on some day (`seen`: spanning a day, due by the period's end, in
# the pipeline between the opening and the closing day); then per deal, amounts in cents (so both
# databases add them exactly): in the opening or not and at what amount, the same at the
# closing, the amount of the first and of the last state seen, and why it left. Then each deal's
# movements, as the module's docstring says: it entered if it was not in the opening — created if
# it opened in the period, else pulled in — and left if it is not in the closing; what else
# changed its amount balances the rest.
MOVES = """
WITH states AS {materialized} ({states}),
days AS (SELECT %s AS due_by, %s AS opening_day, %s AS closing_day, %s AS period_start),
flagged AS (
    SELECT states.*, days.*, CAST(ROUND(amount * 100) AS BIGINT) AS cents,
        CASE WHEN (left_on IS NULL OR left_on > entered_on)
            AND (expected_close_on IS NULL OR expected_close_on <= due_by)
            AND entered_on <= closing_day AND (left_on IS NULL OR left_on > opening_day)
        THEN 1 ELSE 0 END AS seen
    FROM states CROSS JOIN days
),
dated AS (
    SELECT flagged.*,
        CASE WHEN seen = 1 AND entered_on <= opening_day AND (left_on IS NULL OR left_on > opening_day)
        THEN 1 ELSE 0 END AS in_opening,
        CASE WHEN seen = 1 AND (left_on IS NULL OR left_on > closing_day) THEN 1 ELSE 0 END AS in_closing,
        MIN(CASE WHEN seen = 1 THEN entered_on END) OVER deal AS first_day,
        MAX(CASE WHEN seen = 1 THEN entered_on END) OVER deal AS last_day
    FROM flagged
    WHERE seen = 1 OR at_end = 1
    WINDOW deal AS (PARTITION BY opportunity_id)
),
deals AS (
    SELECT opportunity_id,
        MAX(CASE WHEN opened_on >= period_start THEN 1 ELSE 0 END) AS created,
        MAX(in_opening) AS in_opening,
        MAX(in_closing) AS in_closing,
        COALESCE(MAX(CASE WHEN in_opening = 1 THEN cents END), 0) AS opening,
        COALESCE(MAX(CASE WHEN in_closing = 1 THEN cents END), 0) AS closing,
        MAX(CASE WHEN seen = 1 AND entered_on = first_day THEN cents END) AS entered,
        MAX(CASE WHEN seen = 1 AND entered_on = last_day THEN cents END) AS left_with,
        -- a closed deal's outcome (Stage.Outcome) is its bar's key
        COALESCE(MAX(CASE WHEN at_end = 1 AND outcome IN ('won', 'lost') THEN outcome END), 'pushed_out')
            AS left_as
    FROM dated
    GROUP BY opportunity_id
    HAVING MAX(seen) = 1
),
moves AS (
    SELECT opportunity_id, 'opening' AS bar, opening AS cents FROM deals WHERE in_opening = 1
    UNION ALL
    SELECT opportunity_id, CASE WHEN created = 1 THEN 'created' ELSE 'pulled_in' END, entered
    FROM deals WHERE in_opening = 0
    UNION ALL
    SELECT opportunity_id, left_as, left_with FROM deals WHERE in_closing = 0
    UNION ALL
    SELECT opportunity_id, CASE WHEN change > 0 THEN 'increased' ELSE 'decreased' END, ABS(change)
    FROM (
        SELECT opportunity_id,
            closing - opening
            - CASE WHEN in_opening = 1 THEN 0 ELSE entered END
            + CASE WHEN in_closing = 1 THEN 0 ELSE left_with END AS change
        FROM deals
    ) changed
    WHERE change <> 0
    UNION ALL
    SELECT opportunity_id, 'closing', closing FROM deals WHERE in_closing = 1
)
SELECT bar, SUM(cents), COUNT(*), NULL, NULL, NULL, NULL, NULL FROM moves GROUP BY bar
UNION ALL
SELECT listed.bar, listed.cents, 1, deal.id, deal.name, deal.external_id, deal.rep_id, rep.full_name
FROM ({listed}) listed
JOIN {opportunity} deal ON deal.id = listed.opportunity_id
JOIN {rep} rep ON rep.id = deal.rep_id
"""
# One bar's page of deals: the database keeps the largest as it reads, without sorting them all.
PAGE = """SELECT * FROM (
    SELECT bar, cents, opportunity_id FROM moves WHERE bar = %s
    ORDER BY cents DESC, opportunity_id LIMIT %s OFFSET %s
) page_{n}"""


def _read(states, days, per_page: int | None, show: str | None, page: int) -> tuple[dict, dict]:
    """({bar: (cents, deals)}, {bar: [Deal, …] as asked, largest first}) in one statement."""
    if per_page is None:
        listed, listed_params = "SELECT bar, cents, opportunity_id FROM moves", []
    else:
        listed = " UNION ALL ".join(PAGE.format(n=n) for n in range(len(KEYS)))
        skip = {key: (page - 1) * per_page if show in (None, key) else 0 for key in KEYS}
        listed_params = [value for key in KEYS for value in (key, per_page, skip[key])]
    try:
        states_sql, states_params = states.query.sql_with_params()
    except EmptyResultSet:  # a subject that covers no one
        return {}, {}
    sql = MOVES.format(
        # SQLite before 3.35 has no MATERIALIZED, and needs none: it does not inline a CTE
        materialized="MATERIALIZED" if connection.vendor == "postgresql" else "",
        states=states_sql,
        opportunity=connection.ops.quote_name(Opportunity._meta.db_table),
        rep=connection.ops.quote_name(Rep._meta.db_table),
        listed=listed,
    )
    totals, deals = {}, {}
    with connection.cursor() as cursor:
        days = [connection.ops.adapt_datefield_value(day) for day in days]
        cursor.execute(sql, [*states_params, *days, *listed_params])
        for bar, cents, count, pk, name, external_id, rep_id, rep in cursor.fetchall():
            if pk is None:
                totals[bar] = (cents, count)
                continue
            label = Opportunity.label(pk, name, external_id)
            deals.setdefault(bar, []).append(Deal(pk, label, rep_id, rep, _money(cents)))
    for listed_deals in deals.values():
        listed_deals.sort(key=lambda d: (-d.amount, d.id))
    return totals, deals


def _money(cents) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)
