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
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from django.db.models import Case, F, Max, Q, When, Window

from teams.subjects import Subject

from .deal_history import day_start
from .drill import covered
from .engine.attribution import PIPELINE_ENTRIES
from .models import OpportunityState, Stage
from .periods import Period

ZERO = Decimal("0.00")
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
CLOSED = {Stage.Outcome.WON: "won", Stage.Outcome.LOST: "lost"}


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
    deals: list[Deal]


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


def pipeline_waterfall(*, subject: Subject, period: Period, today: dt.date) -> Waterfall:
    """The waterfall of `subject`'s pipeline due by the end of `period` (running: up to today)."""
    if period.start > today:
        raise NotBegun(f"{period} has not begun: its waterfall starts on {period.start:%Y-%m-%d}.")
    opening_day = period.start - ONE
    closing_day = min(period.end, today)
    end = day_start(closing_day + ONE)
    moved: dict[str, list[Deal]] = {key: [] for key in KEYS}
    for states in _states_by_deal(subject, opening_day, closing_day, end).values():
        for key, amount in _movements(states, period, opening_day, closing_day):
            first = states[0]
            moved[key].append(
                Deal(
                    first["opportunity_id"],
                    # named as Opportunity.__str__ names it
                    first["opportunity__name"]
                    or first["opportunity__external_id"]
                    or f"Opportunity {first['opportunity_id']}",
                    first["opportunity__rep_id"],
                    first["opportunity__rep__full_name"],
                    amount,
                )
            )

    def bar(key, label, sign):
        # Largest first; a stable sort keeps equal amounts in the query's order (by deal id).
        deals = sorted(moved[key], key=attrgetter("amount"), reverse=True)
        return Bar(key, label, sign, sum((d.amount for d in deals), ZERO), deals)

    return Waterfall(
        subject,
        period,
        opening_day,
        closing_day,
        bar("opening", "Opening", 0),
        [bar(*movement) for movement in MOVEMENTS],
        bar("closing", "Closing", 0),
    )


def _states_by_deal(subject: Subject, opening_day: dt.date, closing_day: dt.date, end: dt.datetime) -> dict:
    """The states of the subject's deals that count in the pipeline on some day from the opening
    day to the closing day, and of those deals the state they were in at its `end` (won or lost:
    a closed state counts on no day), by deal. One query, whatever the number of deals."""
    leaves = covered(subject).on(closing_day)
    counted = (
        PIPELINE_ENTRIES.where
        & Q(entered_on__lte=closing_day)
        & (Q(left_on__isnull=True) | Q(left_on__gt=opening_day))
    )
    # The state a deal was in at `end`: the database compares the instants (parsing two
    # timestamps a row in Python cost more than the query).
    at_end = (Q(since__isnull=True) | Q(since__lt=end)) & (Q(until__isnull=True) | Q(until__gte=end))
    # A condition on the states' own columns first, which spares most of a long history the
    # arithmetic above: a state that counts on one of the days left after the opening day or
    # not yet (a current one: open, or closed after the opening day); a deal's state at `end`,
    # if it does not count itself, followed one that did, so it began after the opening day.
    after = day_start(opening_day + ONE)
    alive = Q(until__gte=after) | Q(
        Q(closed_on__isnull=True) | Q(closed_on__gt=opening_day) | Q(since__gte=after), until__isnull=True
    )
    rows = (
        OpportunityState.objects.annotate(**PIPELINE_ENTRIES.annotate())
        .filter(PIPELINE_ENTRIES.credited(leaves), alive)
        .annotate(
            counts=Case(When(counted, then=1), default=0),
            at_end=Case(When(at_end, then=True), default=False),
            seen=Window(Max("counts"), partition_by=F("opportunity_id")),
        )
        .filter(Q(seen=1) & (Q(counts=1) | Q(at_end=True)))
        .order_by("opportunity_id", "entered_on", "pk")
        .values(
            "opportunity_id",
            "opportunity__name",
            "opportunity__external_id",
            "opportunity__rep_id",
            "opportunity__rep__full_name",
            "opportunity__opened_on",
            "at_end",
            "entered_on",
            "left_on",
            "amount",
            "expected_close_on",
            "stage__outcome",
        )
    )
    by_deal = defaultdict(list)
    for row in rows:
        by_deal[row["opportunity_id"]].append(row)
    return by_deal


def _movements(states: list[dict], period: Period, opening_day: dt.date, closing_day: dt.date):
    """(bar key, amount) for one deal: its opening and closing amounts and what moved between.

    It entered if it was out at the opening and in on some later day — created if it opened in
    the period, else pulled in — at the amount it entered with; it left if it was in on some day
    and is out at the closing — won or lost if it was so at the closing day's end, else pushed
    out — at the amount it left with. What else changed its amount balances the rest."""
    due = [s for s in states if _counts(s) and _due(s, period)]
    seen = [s for s in due if _between(s, opening_day, closing_day)]
    if not seen:
        return []
    at_opening = next((s for s in seen if _on(s, opening_day)), None)
    at_closing = next((s for s in seen if _on(s, closing_day)), None)
    a0 = at_opening["amount"] if at_opening else ZERO
    a1 = at_closing["amount"] if at_closing else ZERO
    out = [("opening", a0)] if at_opening else []
    entered = left = ZERO
    if not at_opening:
        entered = seen[0]["amount"]
        opened = seen[0]["opportunity__opened_on"]
        out.append(("created" if opened >= period.start else "pulled_in", entered))
    if not at_closing:
        left = seen[-1]["amount"]
        out.append((_why_left(states), left))
    change = a1 - a0 - entered + left
    if change:
        out.append(("increased" if change > 0 else "decreased", abs(change)))
    if at_closing:
        out.append(("closing", a1))
    return out


def _counts(state) -> bool:
    """It spans a day (two changes on one day leave a state that counts nowhere)."""
    return state["left_on"] is None or state["left_on"] > state["entered_on"]


def _due(state, period: Period) -> bool:
    return state["expected_close_on"] is None or state["expected_close_on"] <= period.end


def _on(state, day: dt.date) -> bool:
    """In the pipeline at the end of `day` (attribution.open_states' rule)."""
    return state["entered_on"] <= day and (state["left_on"] is None or day < state["left_on"])


def _between(state, first: dt.date, last: dt.date) -> bool:
    """In the pipeline at the end of some day from `first` to `last`."""
    return state["entered_on"] <= last and (state["left_on"] is None or state["left_on"] > first)


def _why_left(states: list[dict]) -> str:
    last = next((s for s in states if s["at_end"]), None)
    return CLOSED.get(last["stage__outcome"], "pushed_out") if last else "pushed_out"
