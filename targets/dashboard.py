"""The dashboard's read model: a team's or the company's KPIs against targets, for one period.

One function, `dashboard`, reads everything the page shows in a constant number of queries
(snapshots through KpiSnapshot.objects.visible_to, never computing a KPI) and formats each
figure once; targets.views.dashboard only validates the request, calls it and renders.
"""

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from kpis import catalogue, charts
from kpis.catalogue import ZERO
from kpis.fields import FigureState
from kpis.models import KpiSnapshot
from kpis.periods import Period
from kpis.selectors import NO_FIGURE, Figure, data_as_of
from kpis.templatetags.kpis_tags import drill_href, drill_hrefs, figure, format_value, percent
from teams import visibility
from teams.history import Org
from teams.models import Rep, Team
from teams.subjects import COMPANY, Scope, Subject, subject_name
from teams.tree import TeamTree

from .compare import comparisons
from .models import Target
from .plan import FLOWS, OWN, STOCKS, PlanValue
from .progress import AT_RISK, BEHIND, MISSED, Progress
from .selectors import load_plan, plan_gaps, plan_progress

# The metrics whose targets add up (over months, over reps): checked for gaps.
PLANNED = FLOWS | STOCKS
NEEDS_ATTENTION = {AT_RISK, BEHIND, MISSED}

# The columns of the dashboard's reps table, in order.
# Customer metrics follow the customer's owner: a customer of no one counts for the company only.
CUSTOMER_METRICS = ["nps", "new_customers"]
KEY_METRICS = ["revenue_won", "deals_won", "win_rate", "avg_deal_value", "pipeline_value", "calls_made"]


class Cell(NamedTuple):
    """One figure of a table, formatted in the view: on a 125-rep team, a filter and a tag per
    cell (and a failed lookup per rep without a target) cost more than all the queries."""

    text: str  # as shown
    sort: str  # the plain number the table sorts by; "" when undefined
    href: str = ""  # its drill-down, if any


@dataclass(frozen=True)
class Stay:
    """A rep's time in a team (or a team under it, as the tree stood each day) around a period."""

    team_id: int  # the rep's team on their last day in it within the period
    joined: dt.date | None  # when they joined, if during the period
    left: dt.date | None  # the first day they were no longer in it, if they have left since
    moved_to: int | None  # their team from `left` on
    partial: bool  # in it on some days of the period only: its figures count only those


@dataclass
class RepLine:
    rep: Rep
    values: dict  # metric → value this period
    target: PlanValue | None  # own, or the sum of the rep's month targets
    progress: Progress | None
    href: str  # the rep's scorecard for the period; "" for a rep the viewer may no longer see
    target_cell: Cell
    attainment_cell: Cell
    cells: list[Cell]  # values, in KEY_METRICS order
    team_name: str = ""  # the team the rep was in (in the period, on a team's dashboard)
    stay: Stay | None = None  # on a team's dashboard
    moved_to: str = ""  # the name of the team they left for, if the viewer may see it

    @property
    def status(self) -> str:
        return self.progress.status if self.progress else ""


def dashboard(
    *,
    user,
    team: Team | None,
    period: Period,
    tree: TeamTree,
    today: dt.date,
    trend_length: int,
    leader: str = "revenue_won",
):
    """What the dashboard of `team` (None: the company) shows for `period`, as the template's
    context; the leaderboard ranks reps by `leader` (one of KEY_METRICS; best first). `team`
    is one `user` may see (kpis.pages.get_team_for_user); `tree` is loaded.
    A constant number of queries, whatever the size of the team (tests/web/test_queries.py)."""
    trend = [period.shifted(i - trend_length + 1) for i in range(trend_length)]
    previous = period.shifted(-1)
    subject = COMPANY if team is None else Subject.team(team.pk)
    team_ids = set(tree.parent) if team is None else tree.subtree_ids([team.pk])
    snapshots = KpiSnapshot.objects.visible_to(user, tree)
    targets = Target.objects.visible_to(user, tree)
    metrics = [catalogue.get(k) for k in KEY_METRICS]

    org = None if team is None else Org.load()  # the period's members and the comparisons' leaves
    if team is None:
        reps = list(Rep.objects.visible_to(user, tree).select_related("team").order_by("full_name"))
        rep_snapshots, rep_team, stays, seen = snapshots, {r.pk: r.team_id for r in reps}, {}, None
    else:
        stays = period_members(org, team.pk, period)
        # Its current members too: their targets add up to the team's (targets.plan), whatever the period.
        found = Rep.objects.filter(Q(pk__in=list(stays)) | Q(team_id__in=team_ids)).select_related("team")
        found = list(found.order_by("full_name"))
        reps = [r for r in found if r.pk in stays]
        rep_team = {r.pk: r.team_id for r in found if r.team_id in team_ids}
        seen = set(Rep.objects.visible_to(user, tree).filter(pk__in=list(stays)).values_list("pk", flat=True))
        # The viewer sees the team, so its figures of the period and the records behind them,
        # former members' included (DESIGN.md, "Who gets the credit"): the figures of the reps it
        # was credited with, for this period only. Everything else of a rep they may no longer see
        # (scorecard, drill-downs, targets) stays behind Rep/KpiSnapshot/Target.visible_to.
        rep_snapshots = KpiSnapshot.objects.filter(scope=Scope.REP, subject_id__in=list(stays))
    planned = [subject] + [Subject.team(pk) for pk in sorted(team_ids)] + [Subject.rep(r.pk) for r in reps]
    # One plan for the period's targets and the revenue trend's marks.
    plan = load_plan(
        targets,
        periods={**{m: [period] for m in PLANNED}, "revenue_won": trend},
        tree=tree,
        rep_team=rep_team,
        subjects=planned,
    )
    # The revenue target and progress of the subject and of each rep, in one query.
    wanted = [(s, "revenue_won", period) for s in [subject, *(Subject.rep(r.pk) for r in reps)]]
    revenue = plan_progress(plan, wanted, today, snapshots=snapshots)
    lines = _rep_lines(reps, metrics, period, rep_snapshots, revenue, seen)
    if team is not None:
        _mark_stays(lines, stays, visibility.visible_team_ids(user, tree))
    board = catalogue.get(leader if leader in KEY_METRICS else "revenue_won")
    sign = -1 if board.higher_is_better else 1
    leaders = sorted(
        (ln for ln in lines if ln.values[board.key] is not None),
        key=lambda ln: (sign * ln.values[board.key], ln.rep.full_name),
    )[:10]
    top = max((abs(ln.values[board.key]) for ln in leaders), default=0)

    # The subject's own trend and its revenue targets over it.
    own = _figures(
        snapshots.filter(
            scope=subject.scope,
            subject_id=subject.pk,
            metric__in=KEY_METRICS,
            period_kind=period.kind,
            period_start__in=[p.start for p in trend],
        ),
        "metric",
        "period_start",
    )
    # The trend's target marks: its own target, or the sum of its months' or reps' (a team's
    # month is usually only its reps' month targets).
    trend_targets = [plan.value(subject, "revenue_won", p) for p in trend]
    child_ids = [pk for pk, parent in tree.parent.items() if parent == (team.pk if team else None)]
    name = subject_name(subject)
    customer = [catalogue.get(k) for k in CUSTOMER_METRICS]
    return {
        "subject": subject,
        "name": name,
        "team": team,
        "period": period,
        "previous": previous,
        "next": period.shifted(1),
        "metrics": metrics,
        "lines": lines,
        "leader": board,
        "leaders": [
            (ln, format_value(v, board.unit), (abs(v) / top * 100) if top else 0)
            for ln in leaders
            if (v := ln.values[board.key]) is not None
        ],
        "behind": sorted(
            (ln for ln in lines if ln.progress and ln.progress.status in NEEDS_ATTENTION),
            key=lambda ln: (ln.progress.pace is None, ln.progress.pace or ln.progress.attainment or 0),
        ),
        "own_target": revenue.get((subject, "revenue_won", period)),
        "gaps": plan_gaps(plan, [(s, m, period) for m in sorted(PLANNED) for s in planned], named=targets),
        "children": _child_rows(child_ids, metrics, period, snapshots),
        "revenue_chart": charts.bar_chart(
            _bars(subject, "revenue_won", trend, own),
            label=f"Revenue won by {name}, last {trend_length} {period.kind}s",
            fmt=lambda v: format_value(v, "money"),
            unit=settings.CURRENCY,
            targets=trend_targets,
        ),
        "deals_chart": charts.bar_chart(
            _bars(subject, "deals_won", trend, own),
            label=f"Deals won by {name}, last {trend_length} {period.kind}s",
            fmt=lambda v: format_value(v, "count"),
            whole=True,
            height=140,
        ),
        "comparison": comparisons(
            snapshots=snapshots, subject=subject, period=period, today=today, metrics=metrics, org=org
        ),
        "unassigned": _unassigned(snapshots, child_ids, metrics, customer, period) if team is None else None,
        "data_as_of": data_as_of(snapshots.filter(period_kind=period.kind, period_start=period.start)),
    }


def _figures(rows, *key) -> dict:
    """{(the `key` fields): Figure} of a filtered snapshot queryset."""
    found = rows.order_by().values_list(*key, "value", "state", "numerator")
    return {tuple(k): Figure(value, state, n) for *k, value, state, n in found}


def _rep_lines(reps, metrics, period, rep_snapshots, revenue, seen) -> list[RepLine]:
    """Every rep's key figures this period (from `rep_snapshots`) and their revenue target and
    progress (`revenue`, plan_progress's): their own target, or the sum of their month targets.
    `seen`: the reps the viewer may see now (None: all), the only ones linked to their scorecard
    and drill-downs."""
    values = _figures(
        rep_snapshots.filter(
            scope=Scope.REP, metric__in=KEY_METRICS, period_kind=period.kind, period_start=period.start
        ),
        "subject_id",
        "metric",
    )
    rep_ids = [r.pk for r in reps]
    linked = set(rep_ids) if seen is None else seen
    hrefs = drill_hrefs(Scope.REP, [pk for pk in rep_ids if pk in linked], KEY_METRICS, period)
    lines = []
    for r in reps:
        target, state = revenue.get((Subject.rep(r.pk), "revenue_won", period), (None, None))
        target_value = target.value if target else None
        attainment = state.attainment if state else None
        target_text = format_value(target_value, "money")
        if target is not None and target.source != OWN:
            target_text += f" (Σ {target.source})"
        lines.append(
            RepLine(
                rep=r,
                values={m: values.get((r.pk, m), NO_FIGURE).value for m in KEY_METRICS},
                target=target,
                progress=state,
                href=f"{reverse('targets:scorecard', args=[r.pk])}?period={period}" if r.pk in linked else "",
                target_cell=_cell(target_value, target_text),
                attainment_cell=_cell(attainment, percent(attainment)),
                cells=_metric_cells(metrics, values, hrefs, r.pk, period),
                team_name=r.team.name,
            )
        )
    return lines


def period_members(org: Org, team: int, period: Period) -> dict[int, Stay]:
    """The reps credited to `team` on some day of `period` (in it, or in a team under it as the
    tree stood that day), and their stay in it: {rep id: Stay}. No query: `org` is loaded."""
    subject = Subject.team(team)
    # The teams ever under it: only their members' stints need reading.
    under = {team} | {
        t for t in org.placements if any(subject in s.credits for s in org.stints(Subject.team(t)))
    }
    first, last = period.start, period.end
    found = {}
    for rep, (_, _, teams) in org.memberships.items():
        if under.isdisjoint(teams):
            continue
        spans = org.credited_spans(Subject.rep(rep), subject)
        within = [(s, u) for s, u in spans if (s is None or s <= last) and (u is None or u > first)]
        if not within:
            continue
        since, until = within[0][0], within[-1][1]
        joined = since if since is not None and since > first else None
        left = spans[-1][1]  # None while they are still in it
        last_day = last if until is None or until > last else until - dt.timedelta(days=1)
        found[rep] = Stay(
            team_id=org.team_of(rep, last_day),
            joined=joined,
            left=left,
            moved_to=None if left is None else org.team_of(rep, left),
            partial=bool(joined) or (until is not None and until <= last) or len(within) > 1,
        )
    return found


def _mark_stays(lines: list[RepLine], stays: dict[int, Stay], visible_team_ids: set[int]) -> None:
    """Name each line's team as it was in the period, and the team a rep left for, if the viewer
    may see it."""
    wanted = {s.team_id for s in stays.values()} | {
        s.moved_to for s in stays.values() if s.moved_to in visible_team_ids
    }
    names = dict(Team.objects.filter(pk__in=wanted).values_list("pk", "name"))
    for line in lines:
        stay = stays[line.rep.pk]
        line.stay = stay
        line.team_name = names.get(stay.team_id, "")
        line.moved_to = names.get(stay.moved_to, "") if stay.moved_to in visible_team_ids else ""


def _child_rows(child_ids, metrics, period, snapshots) -> list[tuple[Team, list[Cell]]]:
    """The sub-teams (the top-level teams, for the company) and their key figures."""
    children = Team.objects.filter(pk__in=child_ids).order_by("name")
    values = _figures(
        snapshots.filter(
            scope=Scope.TEAM,
            subject_id__in=child_ids,
            metric__in=KEY_METRICS,
            period_kind=period.kind,
            period_start=period.start,
        ),
        "subject_id",
        "metric",
    )
    hrefs = drill_hrefs(Scope.TEAM, child_ids, KEY_METRICS, period)
    return [(c, _metric_cells(metrics, values, hrefs, c.pk, period)) for c in children]


def _bars(subject: Subject, metric: str, trend: list[Period], own: dict) -> list[tuple]:
    """A bar chart's bars: (label, value, drill-down) of the subject's `metric` per period."""
    return [
        (
            p.label,
            own.get((metric, p.start), NO_FIGURE).value,
            drill_href(subject.scope, subject.pk, metric, p),
        )
        for p in trend
    ]


def _cell(value, text: str, href: str = "") -> Cell:
    return Cell(text, "" if value is None else f"{value:f}", href)


def _metric_cells(metrics, values: dict, hrefs: dict, pk: int, period: Period) -> list[Cell]:
    """One subject's figures, from {(subject_id, metric): Figure}, in the order of `metrics`,
    each with its state (kpis_tags.figure): never a bare blank for an undefined one."""
    cells = []
    for m in metrics:
        f = values.get((pk, m.key), NO_FIGURE)
        href = hrefs.get((pk, m.key), "")
        cells.append(_cell(f.value, figure(f.value, f.state, m.key, f.numerator, period), href))
    return cells


def _unassigned(snapshots, top_ids, metrics, customer, period) -> dict:
    """What the company counts beyond its top-level teams: facts of no one (a deal without a rep,
    a customer without an owner — its NPS, say), so that the teams plus this line add up to the
    company. Company − Σ top-level teams, numerators and denominators apart, from the snapshots:
    {"cells": the table's `metrics`, "customer": [(metric, Cell)] of the `customer` metrics}."""
    rows = snapshots.filter(
        Q(scope=Scope.COMPANY) | Q(scope=Scope.TEAM, subject_id__in=top_ids),
        metric__in=[m.key for m in metrics + customer],
        period_kind=period.kind,
        period_start=period.start,
    ).values_list("scope", "metric", "numerator", "denominator", "state")
    sums, company = {}, {}
    for scope, metric, num, den, state in rows:
        if scope == Scope.COMPANY:
            company[metric] = (num, den, state)
        else:
            n, d = sums.get(metric, (ZERO, ZERO))
            sums[metric] = (n + num, d + (den or ZERO))

    def gap(m) -> Cell:
        if m.key not in company or m.own_only:
            return _cell(None, figure(None, None, m.key))
        num, den, state = company[m.key]
        n, d = sums.get(m.key, (ZERO, ZERO))
        value = catalogue.value_of(num - n, None if den is None else den - d)
        if value is None:
            state = FigureState.UNDEFINED
        elif state != FigureState.PROVISIONAL:
            state = FigureState.FINAL
        return _cell(value, figure(value, state, m.key, num - n, period))

    return {"cells": [gap(m) for m in metrics], "customer": [(m, gap(m)) for m in customer]}
