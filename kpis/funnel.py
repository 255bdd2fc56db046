"""The stage funnel of a subject and period: of the deals opened in the period, how many reached
each stage (in Stage order: data, like the probabilities), the conversion from step to step, the
median days spent in each stage, and the deals whose expected close date slipped.

Everything is read from the deals' history (OpportunityState, kpis.deal_history) as of now, in a
constant number of set-based queries: the stages, the team tree (kpis.drill.covered), the cohort's
size, its states grouped by (deal, stage), its slips, and the subject's stored snapshots. The
caller has checked that its user may see the subject. Definitions: docs/metrics.md, "Stage funnel".
"""

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, DateField, DurationField, Exists, F, OuterRef, Q, Sum, Value, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import Coalesce, FirstValue, Lag, LastValue

from teams.subjects import Subject

from .drill import covered
from .engine import attribution as credit
from .models import Opportunity, OpportunityState, Stage
from .periods import Period
from .selectors import NO_FIGURE, Figure, snapshot_figures

# The stored KPIs a funnel is read beside (never computed here: a page reads snapshots).
BESIDE = ("win_rate", "avg_deal_value", "sales_cycle_days")
SIX_PLACES = Decimal("0.000001")
EVER = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)  # a deal's first state (since None): its opening
DEAL_NAME = ("opportunity__name", "opportunity__external_id")


@dataclass(frozen=True)
class Step:
    """A step of the funnel: an open stage, or the last one, won."""

    name: str
    stage_id: int | None  # None: the won step (any stage whose outcome is won)
    reached: int
    # reached / the previous step's reached; None for the first step and where that was 0.
    conversion: Decimal | None


@dataclass(frozen=True)
class StageTime:
    """The median days the cohort's deals that left an open stage spent in it."""

    name: str
    stage_id: int
    median_days: Decimal | None  # None: no deal of the cohort has left the stage
    deals: int  # how many deals the median is over


@dataclass(frozen=True)
class Slip:
    """A deal of the cohort whose expected close date moved later `times` times."""

    opportunity_id: int
    deal: str
    rep: str
    times: int
    first: dt.date  # the first expected close date its history records
    latest: dt.date  # the latest (current) one


@dataclass(frozen=True)
class Funnel:
    subject: Subject
    period: Period
    opened: int  # the cohort: deals credited to the subject opened in the period
    steps: list[Step]
    days_in_stage: list[StageTime]
    slipped_deals: int  # the cohort's deals whose expected close date moved later
    slips: int  # every time one did
    slipped: list[Slip]  # those asked for, the most slipped first: all, or one page
    figures: dict[str, Figure]  # BESIDE's stored snapshots of the subject and period


def stage_funnel(
    *, subject: Subject, period: Period, today: dt.date, snapshots, per_page: int | None = None, page: int = 1
) -> Funnel:
    """The funnel of `subject`'s deals opened in `period`; `snapshots` is the viewer's
    `KpiSnapshot.objects.visible_to(user)`. A team's deals are its members' as of the period's
    end, credited (like the pipeline) to each deal's current owner. The slipped deals: all, or
    with `per_page` its page `page`."""
    stages = list(Stage.objects.order_by("order", "name"))
    open_stages = [s for s in stages if s.outcome == Stage.Outcome.OPEN]
    won_ids = {s.pk for s in stages if s.outcome == Stage.Outcome.WON}
    rank = {s.pk: i for i, s in enumerate(open_stages)}

    cohort = credit.DEALS_OPENED.of(covered(subject).on(period.end), period=period)
    states = OpportunityState.objects.filter(opportunity__in=cohort.values("pk"))
    # One row per (deal, stage): the days spent in it (a state still current counts to today),
    # and whether the deal left it — was in another stage after it first entered this one.
    spans = credit.state_spans()
    later_elsewhere = Exists(
        OpportunityState.objects.filter(
            opportunity=OuterRef("opportunity"), since__gt=Coalesce(OuterRef("since"), Value(EVER))
        ).exclude(stage=OuterRef("stage"))
    )
    rows = (
        states.annotate(entered_on=spans["entered_on"], left_on=spans["left_on"])
        .values_list("opportunity_id", "stage_id")
        .annotate(
            spent=Sum(Coalesce("left_on", Value(today)) - F("entered_on"), output_field=DurationField()),
            left=Count("pk", filter=Q(later_elsewhere)),
        )
        .order_by()
    )
    furthest, won, spent = {}, set(), defaultdict(list)
    for deal, stage, days, left in rows.iterator(chunk_size=20_000):  # a company: 1.5M rows
        if stage in won_ids:
            won.add(deal)
        if stage in rank:
            furthest[deal] = max(furthest.get(deal, -1), rank[stage])
            if left:
                spent[stage].append(max(days.days, 0))

    # A won deal passed every open stage; a lost one counts up to the furthest it reached.
    reached = [len(won | {d for d, r in furthest.items() if r >= i}) for i in range(len(open_stages))]
    reached += [len(won)]
    names = [s.name for s in open_stages] + ["Won"]
    ids = [s.pk for s in open_stages] + [None]
    steps = [
        Step(name, pk, n, _ratio(n, reached[i - 1]) if i else None)
        for i, (name, pk, n) in enumerate(zip(names, ids, reached, strict=True))
    ]
    days = [
        StageTime(
            s.name,
            s.pk,
            Decimal(statistics.median(spent[s.pk])) if spent[s.pk] else None,
            len(spent[s.pk]),
        )
        for s in open_stages
    ]
    keys = [(subject.scope, subject.pk, key, period) for key in BESIDE]
    stored = snapshot_figures(snapshots, keys)
    slipped_deals, slips, slipped = _slipped(states, per_page, page)
    return Funnel(
        subject=subject,
        period=period,
        opened=cohort.count(),
        steps=steps,
        days_in_stage=days,
        slipped_deals=slipped_deals,
        slips=slips,
        slipped=slipped,
        figures={key: stored.get((subject.scope, subject.pk, key, period), NO_FIGURE) for key in BESIDE},
    )


def _ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(SIX_PLACES, rounding=ROUND_HALF_UP)


def _slipped(states, per_page: int | None, page: int) -> tuple[int, int, list[Slip]]:
    """(deals, slips, the deals asked for): the deals whose expected close date moved later,
    from their states that name one (a date cleared and set again is compared with the last one
    before). The database counts them; only the deals listed are read."""
    deal = {"partition_by": F("opportunity_id")}
    in_order = [F("since").asc(nulls_first=True), F("recorded_at").asc(), F("pk").asc()]
    whole = RowRange(start=None, end=None)
    rows = (
        states.filter(expected_close_on__isnull=False)
        .annotate(
            before=Window(Lag("expected_close_on"), **deal, order_by=in_order),
            first=Window(FirstValue("expected_close_on"), **deal, order_by=in_order, frame=whole),
            latest=Window(LastValue("expected_close_on"), **deal, order_by=in_order, frame=whole),
            owner=F("opportunity__rep__full_name"),
        )
        .filter(expected_close_on__gt=F("before"))
        .values("opportunity_id", *DEAL_NAME, "owner", "first", "latest")
        .order_by()
    )
    try:
        rows_sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # a subject that covers no one
        return 0, 0, []
    window, window_params = "", []
    if per_page:
        window, window_params = "LIMIT %s OFFSET %s", [per_page, (page - 1) * per_page]
    with connection.cursor() as cursor:
        cursor.execute(SLIPS.format(rows=rows_sql, window=window), [*params, *window_params])
        found = cursor.fetchall()
    totals = {name: count for pk, name, _, _, count, _, _ in found if pk is None}
    day = DateField().to_python  # SQLite returns a date as text
    listed = [
        Slip(pk, Opportunity.label(pk, name, external_id), rep, times, day(first), day(latest))
        for pk, name, external_id, rep, times, first, latest in found
        if pk is not None
    ]
    listed.sort(key=lambda s: (-s.times, s.opportunity_id))
    return int(totals["deals"]), int(totals["slips"]), listed


# Per deal: how many times it slipped, its first and latest expected close date. The deals
# listed (the most slipped first, then the oldest), then the number of deals and of slips (rows
# without a deal), in one statement.
SLIPS = """
WITH slips AS ({rows}),
deals AS (
    SELECT opportunity_id, MAX("opportunity__name") AS name,
        MAX("opportunity__external_id") AS external_id, MAX(owner) AS rep, COUNT(*) AS times,
        MAX("first") AS first_close, MAX(latest) AS latest_close
    FROM slips GROUP BY opportunity_id
)
SELECT * FROM (
    SELECT opportunity_id, name, external_id, rep, times, first_close, latest_close FROM deals
    ORDER BY times DESC, opportunity_id {window}
) listed
UNION ALL
SELECT NULL, 'deals', NULL, NULL, COUNT(*), NULL, NULL FROM deals
UNION ALL
SELECT NULL, 'slips', NULL, NULL, COALESCE(SUM(times), 0), NULL, NULL FROM deals
"""
