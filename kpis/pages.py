"""What every page needs: who may see which subject, and which period a page shows.

Who may see what is decided by teams.visibility, through one helper per page type that returns
the subject or raises Http404 (like healthchecks' _get_check_for_user). The KPI pages here and
the target pages in targets.views share them.
"""

from django.contrib.auth.decorators import login_required as auth_login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from teams import visibility
from teams.models import Rep, Team
from teams.subjects import COMPANY, Scope, Subject
from teams.tree import TeamTree

from .fields import PeriodKind
from .models import KpiSnapshot
from .periods import KINDS, Period

# How many periods a page's trend (sparklines, bar charts) covers.
TREND_LENGTH = 12
# The records a list of deals shows at once, on a page or in an API answer (a waterfall's bar,
# a funnel's slipped deals).
PER_PAGE = 50


def login_required(view):
    # settings.LOGIN_URL points at the admin's login, which only staff may pass.
    return auth_login_required(view, login_url="login")


# --- who may see what


def get_rep_for_user(user, rep_id: int) -> Rep:
    """The rep whose scorecard `user` asks for, or 404 — never another rep's numbers."""
    rep = Rep.objects.visible_to(user).select_related("team").filter(pk=rep_id).first()
    if rep is None:
        raise Http404("No such rep.")
    return rep


def get_team_for_user(user, team_id: int | None, tree: TeamTree) -> Team | None:
    """The team a dashboard shows (None: the company, for admins), or 404.

    Without a team id: the company for an admin, else the first team the user manages."""
    if team_id is None:
        if visibility.can_see_company(user):
            return None
        tops = visibility.top_team_ids(user, tree)
        if not tops:
            raise Http404("You manage no team.")
        team_id = tops[0]
    if team_id not in visibility.visible_team_ids(user, tree):
        raise Http404("No such team.")
    return Team.objects.get(pk=team_id)


def get_subject_for_user(user, scope: str, subject_id: int) -> Subject:
    """The rep, team or company a page asks about, if `user` may see it; else 404."""
    if scope == Scope.REP:
        return Subject.rep(get_rep_for_user(user, subject_id).pk)
    if scope == Scope.TEAM:
        return Subject.team(get_team_for_user(user, subject_id, TeamTree.load()).pk)
    if scope == Scope.COMPANY and visibility.can_see_company(user):
        return COMPANY
    raise Http404("No such subject.")


def own_subject(user) -> Subject:
    """Whom a page about one subject shows when none is asked for: the company for an admin, the
    first team a manager manages, a rep themself; else 404."""
    if visibility.can_see_company(user):
        return COMPANY
    tree = TeamTree.load()
    if visibility.top_team_ids(user, tree):
        return Subject.team(get_team_for_user(user, None, tree).pk)
    rep_id = Rep.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
    if rep_id is None:
        raise Http404("You are neither a rep nor a team manager.")
    return Subject.rep(rep_id)


def require_admin(user) -> None:
    if not visibility.is_admin(user):
        raise PermissionDenied("Only admins may do this.")


# --- periods


def latest_month() -> Period:
    """The newest month with figures (the current one, on live data), so old data sets show.

    It reads no figure, only the newest month any subject has one for: not scoped."""
    this_month = Period.containing(PeriodKind.MONTH, timezone.localdate())
    latest = (
        KpiSnapshot.objects.filter(period_kind=PeriodKind.MONTH, period_start__lte=this_month.start)
        .order_by()
        .aggregate(m=Max("period_start"))["m"]
    )
    return Period.from_start(PeriodKind.MONTH, latest) if latest else this_month


def period_from(request) -> Period:
    """The period a page asks for (?period=2017-Q1), the latest month by default, or 404."""
    label = request.GET.get("period", "").strip()
    if not label:
        return latest_month()
    try:
        return Period.parse(label)
    except ValueError:
        raise Http404("No such period.") from None


def period_switch(period: Period) -> list[dict]:
    """Month / quarter / year tabs, each the period of that kind around the one shown."""
    day = min(period.end, timezone.localdate())
    day = max(day, period.start)
    return [
        {"kind": kind, "period": Period.containing(kind, day), "current": kind == period.kind}
        for kind in KINDS
    ]


def int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- lists read a page at a time (the database counts the records and returns one page)


def asked_page(request) -> int:
    """The page number asked for (`?page=`): the first when absent or not one."""
    return max(int_or_none(request.GET.get("page")) or 1, 1)


def last_page(count: int) -> int:
    return Paginator(range(count), PER_PAGE).num_pages


def read_page(listed: list, count: int, number: int) -> Page:
    """Page `number` of `count` records, of which only this page's (`listed`) were read."""
    return Page(listed, number, Paginator(range(count), PER_PAGE))
