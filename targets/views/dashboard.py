"""A manager's (or admin's) dashboard: a team's or the company's KPIs against targets.

What it shows is targets.dashboard's; who may see which team is kpis.pages.get_team_for_user.
"""

from django.shortcuts import render
from django.utils import timezone

from kpis import catalogue
from kpis.pages import (
    TREND_LENGTH,
    get_team_for_user,
    int_or_none,
    login_required,
    period_from,
    period_switch,
)
from teams import visibility
from teams.models import Team
from teams.tree import TeamTree

from ..dashboard import KEY_METRICS
from ..dashboard import dashboard as dashboard_of


@login_required
def dashboard(request):
    tree = TeamTree.load()
    team = get_team_for_user(request.user, int_or_none(request.GET.get("team")), tree)
    period = period_from(request)
    context = dashboard_of(
        user=request.user,
        team=team,
        period=period,
        tree=tree,
        today=timezone.localdate(),
        trend_length=TREND_LENGTH,
        leader=request.GET.get("leader", "revenue_won"),
    )
    return render(
        request,
        "targets/dashboard.html",
        {
            **context,
            "switch": period_switch(period),
            "picker": _team_picker(request.user, tree),
            "leader_choices": [catalogue.get(k) for k in KEY_METRICS],
            "nav": "dashboard",
        },
    )


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
