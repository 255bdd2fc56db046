"""A manager's (or admin's) dashboard: a team's or the company's KPIs against targets.

Reads KpiSnapshot only (never computing a KPI). Who may see which team is
kpis.pages.get_team_for_user.
"""

from dataclasses import dataclass
from typing import NamedTuple

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from kpis import catalogue, charts
from kpis.models import KpiSnapshot
from kpis.pages import (
    TREND_LENGTH,
    get_team_for_user,
    int_or_none,
    login_required,
    period_from,
    period_switch,
)
from kpis.templatetags.kpis_tags import drill_href, drill_hrefs, format_value, percent
from teams import visibility
from teams.models import Rep, Team
from teams.subjects import COMPANY, Subject, subject_name
from teams.tree import TeamTree

from ..models import Target
from ..progress import Progress
from ..selectors import reconciliation_gaps, targets_progress

# The columns of the dashboard's reps table, in order.
KEY_METRICS = ["revenue_won", "deals_won", "win_rate", "avg_deal_value", "pipeline_value", "calls_made"]


class Cell(NamedTuple):
    """One figure of a table, formatted in the view: on a 125-rep team, a filter and a tag per
    cell (and a failed lookup per rep without a target) cost more than all the queries."""

    text: str  # as shown
    sort: str  # the plain number the table sorts by; "" when undefined
    href: str = ""  # its drill-down, if any


@dataclass
class RepLine:
    rep: Rep
    values: dict  # metric → value this period
    target: Target | None
    progress: Progress | None
    href: str  # the rep's scorecard for the period
    target_cell: Cell
    attainment_cell: Cell
    cells: list[Cell]  # values, in KEY_METRICS order

    @property
    def status(self) -> str:
        return self.progress.status if self.progress else ""


@login_required
def dashboard(request):
    tree = TeamTree.load()
    team = get_team_for_user(request.user, int_or_none(request.GET.get("team")), tree)
    period = period_from(request)
    previous = period.shifted(-1)
    trend = [period.shifted(i - TREND_LENGTH + 1) for i in range(TREND_LENGTH)]
    if team is None:
        subject = COMPANY
        team_ids = set(tree.parent)
        reps = Rep.objects.all()
    else:
        team_ids = tree.subtree_ids([team.pk])
        subject = Subject.team(team.pk)
        reps = Rep.objects.filter(team_id__in=team_ids)
    name = subject_name(subject)
    snapshots = KpiSnapshot.objects.visible_to(request.user, tree)
    reps = list(reps.select_related("team").order_by("full_name"))
    rep_ids = [r.pk for r in reps]

    # This period, for every rep on the key metrics: one query.
    rows = snapshots.filter(
        scope="rep", metric__in=KEY_METRICS, period_kind=period.kind, period_start=period.start
    ).order_by()
    if team is not None:
        rows = rows.filter(subject_id__in=rep_ids)
    rows = rows.values_list("subject_id", "metric", "value")
    rep_values = {(pk, metric): value for pk, metric, value in rows}

    # The subject's own trend and its sub-teams' figures: one query each.
    own = {
        (m, start): v
        for m, start, v in snapshots.filter(
            scope=subject.scope,
            subject_id=subject.pk,
            metric__in=KEY_METRICS,
            period_kind=period.kind,
            period_start__in=[p.start for p in trend],
        ).values_list("metric", "period_start", "value")
    }
    child_ids = [pk for pk, parent in tree.parent.items() if parent == (team.pk if team else None)]
    children = list(Team.objects.filter(pk__in=child_ids).order_by("name"))
    child_values = {
        (pk, m): v
        for pk, m, v in snapshots.filter(
            scope="team",
            subject_id__in=child_ids,
            metric__in=KEY_METRICS,
            period_kind=period.kind,
            period_start=period.start,
        ).values_list("subject_id", "metric", "value")
    }

    # Revenue targets: the reps' for the period, the subject's over the trend.
    rep_targets = list(
        Target.objects.filter(
            scope="rep",
            rep_id__in=rep_ids,
            metric="revenue_won",
            period_kind=period.kind,
            period_start=period.start,
        )
    )
    progress = targets_progress(rep_targets, timezone.localdate(), snapshots=snapshots)
    rep_target = {t.rep_id: t for t in rep_targets}
    own_targets = {
        t.period_start: t.value
        for t in Target.objects.for_subject(subject.scope, subject.pk).filter(
            metric="revenue_won", period_kind=period.kind, period_start__in=[p.start for p in trend]
        )
    }
    team_targets = list(
        Target.objects.filter(
            scope="team", team_id__in=team_ids, period_kind=period.kind, period_start=period.start
        ).select_related("team")
    )
    gaps = reconciliation_gaps(team_targets, tree)

    metrics = [catalogue.get(k) for k in KEY_METRICS]
    money = catalogue.get("revenue_won").unit
    rep_hrefs = drill_hrefs("rep", rep_ids, KEY_METRICS, period)
    lines = []
    for r in reps:
        values = {m: rep_values.get((r.pk, m)) for m in KEY_METRICS}
        target = rep_target.get(r.pk)
        target_progress = progress.get(target.pk) if target else None
        target_value = target.value if target else None
        attainment = target_progress.attainment if target_progress else None
        lines.append(
            RepLine(
                rep=r,
                values=values,
                target=target,
                progress=target_progress,
                href=f"{reverse('targets:scorecard', args=[r.pk])}?period={period}",
                target_cell=_cell(target_value, format_value(target_value, money)),
                attainment_cell=_cell(attainment, percent(attainment)),
                cells=_metric_cells(metrics, rep_values, rep_hrefs, r.pk),
            )
        )
    leaders = sorted(
        (ln for ln in lines if ln.values["revenue_won"] is not None),
        key=lambda ln: (-ln.values["revenue_won"], ln.rep.full_name),
    )[:10]
    top = leaders[0].values["revenue_won"] if leaders else 0
    behind = sorted(
        (ln for ln in lines if ln.progress and ln.progress.status != "on_track"),
        key=lambda ln: (ln.progress.pace is None, ln.progress.pace or 0),
    )
    revenue_chart = charts.bar_chart(
        [
            (
                p.label,
                own.get(("revenue_won", p.start)),
                drill_href(subject.scope, subject.pk, "revenue_won", p),
            )
            for p in trend
        ],
        label=f"Revenue won by {name}, last {TREND_LENGTH} {period.kind}s",
        fmt=lambda v: format_value(v, money),
        targets=[own_targets.get(p.start) for p in trend],
    )
    deals_chart = charts.bar_chart(
        [
            (p.label, own.get(("deals_won", p.start)), drill_href(subject.scope, subject.pk, "deals_won", p))
            for p in trend
        ],
        label=f"Deals won by {name}, last {TREND_LENGTH} {period.kind}s",
        fmt=lambda v: format_value(v, "count"),
        height=140,
    )
    comparison = []
    for key in KEY_METRICS:
        metric = catalogue.get(key)
        now, before = own.get((key, period.start)), own.get((key, previous.start))
        change = (now - before) / abs(before) if now is not None and before else None
        better = None if change is None or change == 0 else (change > 0) == metric.higher_is_better
        comparison.append(
            {"metric": metric, "now": now, "before": before, "change": change, "better": better}
        )

    child_hrefs = drill_hrefs("team", child_ids, KEY_METRICS, period)
    picker = _team_picker(request.user, tree)
    return render(
        request,
        "targets/dashboard.html",
        {
            "subject": subject,
            "name": name,
            "team": team,
            "period": period,
            "previous": previous,
            "next": period.shifted(1),
            "switch": period_switch(period),
            "metrics": metrics,
            "lines": lines,
            "leaders": [(ln, (ln.values["revenue_won"] / top * 100) if top else 0) for ln in leaders],
            "behind": behind,
            "gaps": gaps,
            "children": [(c, _metric_cells(metrics, child_values, child_hrefs, c.pk)) for c in children],
            "revenue_chart": revenue_chart,
            "deals_chart": deals_chart,
            "comparison": comparison,
            "picker": picker,
            "nav": "dashboard",
        },
    )


def _cell(value, text: str, href: str = "") -> Cell:
    return Cell(text, "" if value is None else f"{value:f}", href)


def _metric_cells(metrics, values: dict, hrefs: dict, pk: int) -> list[Cell]:
    """One subject's figures, from {(subject_id, metric): value}, in the order of `metrics`."""
    cells = []
    for m in metrics:
        value = values.get((pk, m.key))
        cells.append(_cell(value, format_value(value, m.unit), hrefs[pk, m.key]))
    return cells


def _team_picker(user, tree: TeamTree) -> list[dict]:
    """The teams a user may pick, as an indented tree; the company first for admins."""
    visible = visibility.visible_team_ids(user, tree)
    names = dict(Team.objects.filter(pk__in=visible).values_list("pk", "name"))
    kids = tree.children()
    out = [{"pk": "", "name": "Company", "depth": 0}] if visibility.can_see_company(user) else []

    def walk(pk, depth):
        out.append({"pk": pk, "name": names[pk], "depth": depth})
        for child in sorted(kids.get(pk, []), key=lambda k: names.get(k, "")):
            if child in visible:
                walk(child, depth + 1)

    for root in sorted(visibility.top_team_ids(user, tree), key=names.get):
        walk(root, 1 if out else 0)
    for option in out:
        option["label"] = " " * option["depth"] + option["name"]
    return out
