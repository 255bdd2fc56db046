"""Targets as a plan that adds up: how each metric splits, splitting into parts that add up
exactly, and the target a subject has in a period when it has none of its own (the sum of its
month targets, or of its members').

Plain Python over Target rows the caller has read (one query): no database here.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from kpis import catalogue
from kpis.periods import Period
from teams.subjects import COMPANY, Scope, Subject
from teams.tree import TeamTree

# Flows are counted by a date in the period: a quarter is the sum of its months and a team the
# sum of its reps. pipeline_created is one, though the catalogue does not pace it.
FLOWS = catalogue.SUMMABLE | {"pipeline_created"}
# Stocks are what stands at a moment: a team's open pipeline is the sum of its reps', but a
# quarter's is the end of its last month, not the sum of three months.
STOCKS = {"pipeline_value", "weighted_pipeline_value"}

OWN, MONTHS, MEMBERS = "own", "months", "members"
SIX = Decimal("0.000001")


def over_months(metric: str) -> bool:
    """Whether a quarter's or year's target of `metric` is divided among its months."""
    return metric in FLOWS


def over_reps(metric: str) -> bool:
    """Whether a team's target of `metric` is divided among its reps."""
    return metric in FLOWS or metric in STOCKS


def how_it_splits(metric: str) -> str:
    if over_months(metric):
        return "divided over reps and months"
    if over_reps(metric):
        return "divided over reps; each month keeps the whole"
    return "not divided: every rep and month gets the same target"


def quantum(metric: str) -> Decimal:
    """The smallest part a target of `metric` splits into: whole deals, cents of money."""
    unit = catalogue.get(metric).unit
    return {"count": Decimal(1), "money": Decimal("0.01")}.get(unit, SIX)


def split(total: Decimal, weights: list[Decimal], step: Decimal) -> list[Decimal]:
    """`total` in parts proportional to `weights`, each a multiple of `step`, adding up exactly.

    Largest remainder: every part is rounded down, then the steps left over go one each to the
    parts that lost the most, earlier parts first on a tie. 10 deals over 3 months: 4, 3, 3.
    """
    whole = sum(weights)
    if not whole:
        raise ValueError("Nothing to split by: every weight is 0.")
    exact = [total * w / whole for w in weights]
    parts = [(x / step).to_integral_value(ROUND_FLOOR) * step for x in exact]
    left = int(((total - sum(parts)) / step).to_integral_value())
    by_remainder = sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[:left]:
        parts[i] += step
    rest = total - sum(parts)  # a total that is not a multiple of step: its odd end goes last
    parts[-1] += rest
    return parts


@dataclass(frozen=True)
class Part:
    """The sum of a target's parts (its months, or its members): of those that have one."""

    total: Decimal
    planned: int  # how many parts have a target
    of: int  # how many parts there are

    @property
    def complete(self) -> bool:
        return self.planned == self.of


@dataclass(frozen=True)
class PlanValue:
    """The target a subject has for a metric and period, and where it comes from.

    `value` is the one shown: its own when set, else the sum of its month targets, else the sum
    of its members' — a sum only when every part has a target (a sum of part of the plan is no
    target). The sums are kept to show where they disagree with its own target.
    """

    value: Decimal
    source: str  # own | months | members
    own: Decimal | None
    months: Part | None  # its month targets (a quarter or year of a flow)
    members: Part | None  # its reps' targets (a team or the company, a flow or a stock)
    target: object = None  # its own target, if any (selectors.PlannedTarget, or a Target row)
    provisional: bool = False  # a relative target whose baseline is still running

    @property
    def gaps(self) -> list[tuple[str, Part, Decimal]]:
        """(months | members, their sum, own − their sum) for each sum, of at least one part,
        that disagrees with its own target."""
        if self.own is None:
            return []
        return [
            (what, part, self.own - part.total)
            for what, part in ((MONTHS, self.months), (MEMBERS, self.members))
            if part is not None and part.planned and (part.total != self.own or not part.complete)
        ]


class Plan:
    """Every target the caller read, indexed, with the sums they imply.

    `rep_team` maps the reps to consider to their (current) team; a team's members are the reps
    of its subtree, the company's every rep in `rep_team`.
    """

    def __init__(self, targets, tree: TeamTree, rep_team: dict[int, int]):
        self.tree = tree
        self.own = {(t.subject, t.metric, t.period): t for t in targets}
        self.reps_of = defaultdict(list)
        for rep, team in rep_team.items():
            for ancestor in tree.ancestors(team):
                self.reps_of[ancestor].append(rep)
        self.all_reps = list(rep_team)
        self._memo = {}

    def members(self, subject: Subject) -> list[Subject]:
        if subject.scope == Scope.REP:
            return []
        reps = self.all_reps if subject == COMPANY else self.reps_of.get(subject.pk, [])
        return [Subject.rep(r) for r in sorted(reps)]

    def of(self, subject: Subject, metric: str, period: Period) -> PlanValue | None:
        key = (subject, metric, period)
        if key not in self._memo:
            self._memo[key] = self._of(subject, metric, period)
        return self._memo[key]

    def value(self, subject: Subject, metric: str, period: Period) -> Decimal | None:
        """The target `of` shows (its value), without adding up the parts behind an own target:
        a chart's marks need no gaps (a 125-rep team's trend: 125 reps a quarter)."""
        target = self.own.get((subject, metric, period))
        if target is not None:
            return target.value
        return _value(self.of(subject, metric, period))

    def _of(self, subject, metric, period) -> PlanValue | None:
        target = self.own.get((subject, metric, period))
        months = members = None
        if over_months(metric) and period.kind != "month":
            months = _part(self._own_value(subject, metric, m) for m in period.months())
        reps = self.members(subject)
        if over_reps(metric) and reps:
            members = _part(_value(self.of(r, metric, period)) for r in reps)
        if target is not None:
            value, source = target.value, OWN
        elif months is not None and months.complete:
            value, source = months.total, MONTHS
        elif members is not None and members.complete:
            value, source = members.total, MEMBERS
        else:
            return None
        return PlanValue(
            value=value,
            source=source,
            own=target.value if target is not None else None,
            months=months,
            members=members,
            target=target,
            provisional=bool(target is not None and target.provisional),
        )

    def _own_value(self, subject, metric, month):
        target = self.own.get((subject, metric, month))
        return target.value if target is not None else None

    def month_weights(self, subject: Subject, metric: str, period: Period) -> dict[Period, Decimal]:
        """The month targets inside a quarter or year, own or summed from the members; empty
        unless every month has one (a partial plan cannot say how the period should go)."""
        if period.kind == "month" or not over_months(metric):
            return {}
        weights = {m: _value(self.of(subject, metric, m)) for m in period.months()}
        return {} if None in weights.values() else weights

    def gaps(self, subjects, metric: str, period: Period) -> list[tuple[Subject, PlanValue]]:
        """The subjects whose own target disagrees with its months' or members' targets."""
        found = []
        for subject in subjects:
            value = self.of(subject, metric, period)
            if value is not None and value.gaps:
                found.append((subject, value))
        return found


def _value(plan_value: PlanValue | None):
    return None if plan_value is None else plan_value.value


def _part(values) -> Part:
    values = list(values)
    known = [v for v in values if v is not None]
    return Part(total=sum(known, Decimal(0)), planned=len(known), of=len(values))


# --- the grid's totals: reps × months checked against the team's own targets


@dataclass(frozen=True)
class Total:
    """A sum of grid cells and, where the team has a target of its own for it, that target."""

    value: Decimal | None  # None: nothing to add up (no cell filled)
    target: Decimal | None = None

    @property
    def gap(self) -> Decimal | None:
        """How far the sum is from the team's target (sum − target); None without both."""
        if self.value is None or self.target is None:
            return None
        return self.value - self.target

    @property
    def gap_size(self) -> Decimal | None:
        return None if self.gap is None else abs(self.gap)


@dataclass(frozen=True)
class GridTotals:
    rows: list[Total] | None  # per rep, Σ months; None when the metric does not add over months
    columns: list[Total] | None  # per month, Σ reps, against the team's month target
    grand: Total | None  # Σ everything, against the team's year target


def grid_totals(
    metric: str, values: list[list[Decimal | None]], month_targets: list, year_target
) -> GridTotals:
    """Row and column totals of a reps × months grid of `metric` (`values[rep][month]`, None for
    an empty or unreadable cell), checked against the team's own month and year targets: a flow
    adds up both ways; a stock (pipeline) over reps only, each month on its own; a ratio neither."""

    def total(cells, target=None) -> Total:
        known = [v for v in cells if v is not None]
        return Total(sum(known, Decimal(0)) if known else None, target)

    if not over_reps(metric):
        return GridTotals(None, None, None)
    months = len(month_targets)
    columns = [total([row[m] for row in values], month_targets[m]) for m in range(months)]
    if not over_months(metric):
        return GridTotals(None, columns, None)
    rows = [total(row) for row in values]
    return GridTotals(rows, columns, total([v for row in values for v in row], year_target))
