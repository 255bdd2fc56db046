"""Step 2, fold: monthly rows into periods, and leaves up the team tree.

A flow's quarter or year is the sum of its months (the integer arithmetic of kpis.periods); a
stock is its level at a period boundary, from the cumulative monthly ins and outs; buyers were
already counted per period kind (kpis.engine.read.CustomerWins). Then every leaf is added into
its team, each team into its parent, and the top-level teams into the company: components are
summed, never metric values, so a team's ratio is Σ numerator / Σ denominator of its reps.
"""

import bisect
from decimal import Decimal

from kpis.periods import LENGTH, Period, fiscal_shift
from teams.subjects import COMPANY, Scope, Subject
from teams.tree import TeamTree

from .read import TRAILING_MONTHS, ZERO, MonthlyFacts, Table, table

# Which boundary of a period each stock is read at: the pipeline open at its end, the customers
# active at its start (the level after the month before it).
STOCK_AT_END = {"pipeline": True, "weighted_pipeline": True, "active_at_start": False}


class Stock:
    """A stock's level per leaf after each month, from its monthly deltas (kpis.engine.read);
    `at(leaf, m)` is the level after month m."""

    def __init__(self, deltas: dict[Subject, dict[int, Decimal]]):
        self.months: dict[Subject, list[int]] = {}
        self.levels: dict[Subject, list[Decimal]] = {}
        for leaf, by_month in deltas.items():
            months = sorted(by_month)
            level, levels = ZERO, []
            for m in months:
                level += by_month[m]
                levels.append(level)
            self.months[leaf], self.levels[leaf] = months, levels

    def at(self, leaf: Subject, month: int) -> Decimal:
        i = bisect.bisect_right(self.months.get(leaf, []), month)
        return self.levels[leaf][i - 1] if i else ZERO


class Periods:
    """The components of every leaf per period of one kind, from what MonthlyFacts read."""

    def __init__(self, facts: MonthlyFacts):
        self.facts = facts
        self.stocks = {name: Stock(deltas) for name, deltas in facts.stocks.items()}
        self.trailing = {name: Stock(deltas) for name, deltas in facts.trailing.items()}

    def fold(self, kind: str, periods: list[Period]) -> Table:
        folded = table()
        wanted = {p.index for p in periods}
        shift, length = fiscal_shift(kind), LENGTH[kind]
        for leaf, by_month in self.facts.flows.items():
            for month, comps in by_month.items():
                p = (month - shift) // length
                if p in wanted:
                    _add(folded[leaf].setdefault(p, {}), comps)
        for (leaf, p), comps in self.facts.per_kind.sums[kind].items():
            if p in wanted:
                _add(folded[leaf].setdefault(p, {}), comps)
        for name, stock in self.stocks.items():
            for leaf in stock.levels:
                for period in periods:
                    month = period.last_month if STOCK_AT_END[name] else period.first_month - 1
                    folded[leaf][period.index][name] = stock.at(leaf, month)
        for name, running in self.trailing.items():
            for leaf in running.levels:
                for period in periods:
                    last = period.last_month
                    folded[leaf][period.index][name] = running.at(leaf, last) - running.at(
                        leaf, last - TRAILING_MONTHS
                    )
        return folded


def up_the_tree(folded: Table, tree: TeamTree, rep_team: dict[int, int], *, company: bool) -> Table:
    """{subject: {period index: components}}: each rep and team summed with everything below it,
    level by level — reps into their team, then each team (deepest first) into its parent, and
    the top-level teams into the company when `company`. Reuses the table's dicts."""
    sums = table()
    sums.update(folded)
    for rep, team in rep_team.items():
        _add_periods(sums[Subject(Scope.TEAM, team)], sums.get(Subject(Scope.REP, rep), {}))
    below = {leaf.pk for leaf in folded if leaf.scope == Scope.TEAM} | set(rep_team.values())
    teams = {above for team in below for above in tree.ancestors(team)}
    for team in sorted(teams, key=lambda t: -len(tree.ancestors(t))):  # deepest first
        parent = tree.parent.get(team)
        if parent is not None:
            _add_periods(sums[Subject(Scope.TEAM, parent)], sums.get(Subject(Scope.TEAM, team), {}))
        elif company:
            _add_periods(sums[COMPANY], sums.get(Subject(Scope.TEAM, team), {}))
    return sums


def _add(into: dict, comps: dict) -> None:
    for name, value in comps.items():
        into[name] = into.get(name, ZERO) + value


def _add_periods(into: dict, by_period: dict) -> None:
    for p, comps in by_period.items():
        _add(into.setdefault(p, {}), comps)
