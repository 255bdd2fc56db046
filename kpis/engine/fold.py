"""Step 2, fold: monthly rows into periods, and leaves up the team tree.

A flow's quarter or year is the sum of its months (the integer arithmetic of kpis.periods); a
stock is its level at a period boundary (kpis.engine.read.Stock); buyers were
already counted per period kind (kpis.engine.read.PerKind). Then every leaf is added into
its team, each team into its parent, and the top-level teams into the company: components are
summed, never metric values, so a team's ratio is Σ numerator / Σ denominator of its reps.
"""

from collections import defaultdict

from kpis.periods import LENGTH, Period, fiscal_shift
from teams.subjects import COMPANY, Scope, Subject
from teams.tree import TeamTree

from .read import TRAILING_MONTHS, ZERO, MonthlyFacts, Table, table

# Which boundary of a period each stock is read at: the pipeline open at its end, the customers
# active at its start (the level after the month before it).
STOCK_AT_END = {"pipeline": True, "weighted_pipeline": True, "active_at_start": False}


class Periods:
    """The components of every leaf per period of one kind, from what MonthlyFacts read."""

    def __init__(self, facts: MonthlyFacts):
        self.facts = facts

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
        for name, stock in self.facts.stocks.items():
            for leaf in stock.levels:
                for period in periods:
                    month = period.last_month if STOCK_AT_END[name] else period.first_month - 1
                    folded[leaf][period.index][name] = stock.at(leaf, month)
        for name, running in self.facts.trailing.items():
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


def forecasts_up_the_tree(own: dict, tree: TeamTree, rep_team: dict[int, int]) -> dict:
    """{(subject, kind, period index): forecast}: each subject's own commit, and for a team or
    the company that made none, the sum of its children's (theirs or, again, their children's);
    absent where nobody below committed either."""
    found = dict(own)
    children: dict[Subject, list[Subject]] = defaultdict(list)
    for rep, team in rep_team.items():
        children[Subject(Scope.TEAM, team)].append(Subject(Scope.REP, rep))
    for team, parent in tree.parent.items():
        above = Subject(Scope.TEAM, parent) if parent is not None else COMPANY
        children[above].append(Subject(Scope.TEAM, team))
    periods = {(kind, index) for _, kind, index in own}
    deepest_first = sorted(tree.parent, key=lambda t: -len(tree.ancestors(t)))
    for subject in [*(Subject(Scope.TEAM, t) for t in deepest_first), COMPANY]:
        for kind, index in periods:
            if (subject, kind, index) not in found:
                below = [found[c, kind, index] for c in children[subject] if (c, kind, index) in found]
                if below:
                    found[subject, kind, index] = sum(below, ZERO)
    return found
