"""Step 2, fold: monthly rows into periods, and stints up the team tree as it stood.

A flow's quarter or year is the sum of its months (the integer arithmetic of kpis.periods); a
stock is its level at a period boundary (kpis.engine.read.Stock), credited to the stint of that
day; buyers were already counted per period kind (kpis.engine.read.PerKind). Then each stint is
added into everyone it credited (kpis.engine.attribution.Credit): components are summed, never
metric values, so a team's ratio is Σ numerator / Σ denominator of what its reps were credited.
"""

from collections import defaultdict

from django.conf import settings

from kpis.periods import LENGTH, Period, fiscal_shift
from teams.history import Org
from teams.subjects import COMPANY, Scope, Subject

from .attribution import Credit
from .read import TRAILING_MONTHS, ZERO, MonthlyFacts, Table, table

# Which boundary of a period each stock is read at: the pipeline open at its end; the customers
# active, and the deals open (sales velocity), at its start (the level after the month before).
STOCK_AT_END = {"pipeline": True, "weighted_pipeline": True, "active_at_start": False, "open_at_start": False}


class Periods:
    """The components of every stint per period of one kind, from what MonthlyFacts read."""

    def __init__(self, facts: MonthlyFacts):
        self.facts = facts

    def fold(self, kind: str, periods: list[Period]) -> Table:
        folded = table()
        wanted = {p.index for p in periods}
        shift, length = fiscal_shift(kind), LENGTH[kind]
        for key, by_month in self.facts.flows.items():
            for month, comps in by_month.items():
                p = (month - shift) // length
                if p in wanted:
                    _add(folded[key].setdefault(p, {}), comps)
        for (key, p), comps in self.facts.per_kind.sums[kind].items():
            if p in wanted:
                _add(folded[key].setdefault(p, {}), comps)
        credit = self.facts.credit
        for name, stock in self.facts.stocks.items():
            at_end = STOCK_AT_END[name]
            for leaf in stock.levels:
                for period in periods:
                    month = period.last_month if at_end else period.first_month - 1
                    key = credit.key(leaf, period.end if at_end else period.start)
                    folded[key][period.index][name] = stock.at(leaf, month)
        for name, running in self.facts.trailing.items():
            for key in running.levels:
                for period in periods:
                    last = period.last_month
                    folded[key][period.index][name] = running.at(key, last) - running.at(
                        key, last - TRAILING_MONTHS
                    )
        return folded


def up_the_tree(folded: Table, credit: Credit) -> dict[Subject, dict[int, dict]]:
    """{subject: {period index: components}}: what each stint of a leaf was credited, added into
    everyone it credits then — the rep, its team and each team above it then, the company — so
    a team's figure is the sum of what its members were credited while they were its members.

    Stints that credit the same teams are summed first, then added into each of them once. A rep
    with one stint shares its dict with the table (it is added into others, never into)."""
    sums: dict = defaultdict(dict)
    by_chain: dict = defaultdict(dict)  # the subjects above a leaf → what they are credited
    for key, by_period in folded.items():
        leaf, above = key[0], credit.credits(key)
        if leaf.scope == Scope.REP:
            if credit.single(leaf):
                sums[leaf] = by_period
            else:
                _add_periods(sums[leaf], by_period)
            above = above[1:]
        _add_periods(by_chain[above], by_period)
    for above, by_period in by_chain.items():
        for subject in above:
            _add_periods(sums[subject], by_period)
    return sums


def _add(into: dict, comps: dict) -> None:
    for name, value in comps.items():
        into[name] = into.get(name, ZERO) + value


def _add_periods(into: dict, by_period: dict) -> None:
    for p, comps in by_period.items():
        _add(into.setdefault(p, {}), comps)


def forecasts_up_the_tree(own: dict, org: Org) -> dict:
    """{(subject, kind, period index): forecast}: each subject's own commit, and for a team or
    the company that made none, the sum of its children's (theirs or, again, their children's) —
    the children it had on the period's first day; absent where nobody below committed either."""
    found, shapes = dict(own), {}
    for kind, index in sorted({(kind, index) for _, kind, index in own}):
        start = Period(kind, index, settings.FISCAL_YEAR_START_MONTH).start
        if start not in shapes:  # a month, its quarter and its year may start on the same day
            shapes[start] = _children_on(org, start)
        children, order = shapes[start]
        for subject in order:
            if (subject, kind, index) not in found:
                below = [found[c, kind, index] for c in children[subject] if (c, kind, index) in found]
                if below:
                    found[subject, kind, index] = sum(below, ZERO)
    return found


def _children_on(org: Org, day) -> tuple[dict, list]:
    """Each team's and the company's children on `day`, and the teams deepest first, then the
    company: the order a roll-up adds them in."""
    tree, rep_team = org.tree_at(day)
    children: dict[Subject, list[Subject]] = defaultdict(list)
    for rep, team in rep_team.items():
        children[Subject(Scope.TEAM, team)].append(Subject(Scope.REP, rep))
    for team, parent in tree.parent.items():
        above = Subject(Scope.TEAM, parent) if parent is not None else COMPANY
        children[above].append(Subject(Scope.TEAM, team))
    deepest_first = sorted(tree.parent, key=lambda t: -len(tree.ancestors(t)))
    return children, [*(Subject(Scope.TEAM, t) for t in deepest_first), COMPANY]
