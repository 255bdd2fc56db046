"""Pages about KPIs: home, scorecard, dashboard, drill-down, and the admin's recompute.

They read KpiSnapshot only, never computing a KPI; the drill-down reads the facts. Who may see
what is decided by teams.visibility, through one helper per page type that returns the subject
or raises Http404 (like healthchecks' _get_check_for_user).
"""

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required as auth_login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Max, Q
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from targets.models import Target
from targets.selectors import reconciliation_gaps, targets_progress
from targets.services import forecast_submit
from teams import visibility
from teams.models import Rep, Team
from teams.tree import TeamTree

from . import catalogue, charts
from .drill import records_for
from .forms import ForecastForm
from .models import ForecastSubmission, KpiSnapshot
from .periods import KINDS, Period
from .templatetags.kpis_tags import drill_href, format_value

# The columns of the dashboard's reps table, in order.
KEY_METRICS = ["revenue_won", "deals_won", "win_rate", "avg_deal_value", "pipeline_value", "calls_made"]
TREND_LENGTH = 12
DRILL_PAGE_SIZE = 50


def login_required(view):
    # settings.LOGIN_URL points at the admin's login, which only staff may pass.
    return auth_login_required(view, login_url="login")


# --- who may see what


@dataclass(frozen=True)
class Subject:
    """What a page is about: a rep, a team (its whole subtree) or the company."""

    scope: str
    pk: int
    name: str
    reps: dict | None  # a Rep lookup selecting its reps; None for the company (everything)


def _get_rep_for_user(user, rep_id: int) -> Rep:
    """The rep whose scorecard `user` asks for, or 404 — never another rep's numbers."""
    rep = visibility.visible_reps(user).select_related("team").filter(pk=rep_id).first()
    if rep is None:
        raise Http404("No such rep.")
    return rep


def _get_team_for_user(user, team_id: int | None, tree: TeamTree) -> Team | None:
    """The team a dashboard shows (None: the company, for admins), or 404.

    Without a team id: the company for an admin, else the first team the user manages."""
    visible = visibility.visible_team_ids(user, tree)
    if team_id is None:
        if visibility.can_see_company(user):
            return None
        tops = [pk for pk in visible if tree.parent[pk] not in visible]
        if not tops:
            raise Http404("You manage no team.")
        team_id = min(tops)
    if team_id not in visible:
        raise Http404("No such team.")
    return Team.objects.get(pk=team_id)


def _get_subject_for_user(user, scope: str, subject_id: int) -> Subject:
    """The rep, team or company a drill-down asks about, or 404."""
    if scope == "rep":
        rep = _get_rep_for_user(user, subject_id)
        return Subject("rep", rep.pk, rep.full_name, {"pk": rep.pk})
    if scope == "team":
        tree = TeamTree.load()
        team = _get_team_for_user(user, subject_id, tree)
        return Subject("team", team.pk, team.name, {"team_id__in": sorted(tree.subtree_ids([team.pk]))})
    if scope == "company" and visibility.can_see_company(user):
        return Subject("company", 0, "Company", None)
    raise Http404("No such subject.")


def _require_admin(user) -> None:
    if not visibility.is_admin(user):
        raise PermissionDenied("Only admins may do this.")


# --- periods


def _latest_month() -> Period:
    """The newest month with figures (the current one, on live data), so old data sets show."""
    this_month = Period.containing("month", timezone.localdate())
    latest = (
        KpiSnapshot.objects.filter(period_kind="month", period_start__lte=this_month.start)
        .order_by()
        .aggregate(m=Max("period_start"))["m"]
    )
    return Period.from_start("month", latest) if latest else this_month


def _period_from(request) -> Period:
    label = request.GET.get("period", "").strip()
    if not label:
        return _latest_month()
    try:
        return Period.parse(label)
    except ValueError:
        raise Http404("No such period.") from None


def _period_switch(period: Period) -> list[dict]:
    """Month / quarter / year tabs, each the period of that kind around the one shown."""
    day = min(period.end, timezone.localdate())
    day = max(day, period.start)
    return [
        {"kind": kind, "period": Period.containing(kind, day), "current": kind == period.kind}
        for kind in KINDS
    ]


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- pages


@login_required
def home(request):
    """A manager (or admin) lands on the dashboard, a rep on their scorecard."""
    user = request.user
    if visibility.is_admin(user) or visibility.visible_team_ids(user):
        return redirect("kpis:dashboard")
    if Rep.objects.filter(user_id=user.pk).exists():
        return redirect("kpis:my_scorecard")
    return render(request, "kpis/no_role.html")


@dataclass
class ScoreRow:
    metric: catalogue.Metric
    value: Decimal | None
    has_value: bool
    target: Target | None
    progress: object
    spark: str
    href: str


@login_required
def scorecard(request, rep_id: int | None = None):
    if rep_id is None:
        rep = Rep.objects.select_related("team").filter(user_id=request.user.pk).first()
        if rep is None:
            raise Http404("You are not a rep.")
    else:
        rep = _get_rep_for_user(request.user, rep_id)
    period = _period_from(request)
    form = ForecastForm(period=period)
    if request.method == "POST":
        form = ForecastForm(request.POST, period=period)
        if form.is_valid():
            try:
                forecast_submit(
                    user=request.user,
                    scope="rep",
                    subject_id=rep.pk,
                    period=form.cleaned_data["period"],
                    amount=form.cleaned_data["amount"],
                    category=form.cleaned_data["category"],
                )
            except ValidationError as e:
                _errors_to_form(form, e)
            else:
                messages.success(request, f"Forecast for {form.cleaned_data['period']} recorded.")
                return redirect(request.get_full_path())

    trend = [period.shifted(i - TREND_LENGTH + 1) for i in range(TREND_LENGTH)]
    values = {
        (metric, start): value
        for metric, start, value in KpiSnapshot.objects.filter(
            scope="rep", subject_id=rep.pk, period_kind=period.kind, period_start__in=[p.start for p in trend]
        ).values_list("metric", "period_start", "value")
    }
    targets = list(
        Target.objects.filter(scope="rep", rep_id=rep.pk, period_kind=period.kind, period_start=period.start)
    )
    progress = targets_progress(targets, timezone.localdate())
    by_metric = {t.metric: t for t in targets}
    rows = []
    for metric in catalogue.METRICS:
        target = by_metric.get(metric.key)
        series = [values.get((metric.key, p.start)) for p in trend]
        rows.append(
            ScoreRow(
                metric=metric,
                value=values.get((metric.key, period.start)),
                has_value=(metric.key, period.start) in values,
                target=target,
                progress=progress.get(target.pk) if target else None,
                spark=charts.sparkline(series, label=f"{metric.label}, last {TREND_LENGTH} {period.kind}s"),
                href=drill_href("rep", rep.pk, metric.key, period),
            )
        )
    # Metrics with a target first: those answer "am I on track?".
    rows.sort(key=lambda r: r.target is None)
    forecasts = ForecastSubmission.objects.for_subject("rep", rep.pk).order_by("-submitted_at")[:5]
    return render(
        request,
        "kpis/scorecard.html",
        {
            "rep": rep,
            "period": period,
            "previous": period.shifted(-1),
            "next": period.shifted(1),
            "switch": _period_switch(period),
            "rows": rows,
            "form": form,
            "forecasts": forecasts,
            "nav": "scorecard" if rep.user_id == request.user.pk else "dashboard",
        },
    )


def _errors_to_form(form, error: ValidationError) -> None:
    for field, msgs in (
        error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
    ):
        form.add_error(field if field in form.fields else None, msgs)


@dataclass
class RepLine:
    rep: Rep
    values: dict  # metric → value this period
    previous: dict  # metric → value the period before
    target: Target | None
    progress: object


@login_required
def dashboard(request):
    tree = TeamTree.load()
    team = _get_team_for_user(request.user, _int(request.GET.get("team")), tree)
    period = _period_from(request)
    previous = period.shifted(-1)
    trend = [period.shifted(i - TREND_LENGTH + 1) for i in range(TREND_LENGTH)]
    if team is None:
        subject = Subject("company", 0, "Company", None)
        team_ids = set(tree.parent)
        reps = Rep.objects.all()
    else:
        team_ids = tree.subtree_ids([team.pk])
        subject = Subject("team", team.pk, team.name, {"team_id__in": sorted(team_ids)})
        reps = Rep.objects.filter(team_id__in=team_ids)
    reps = list(reps.select_related("team").order_by("full_name"))
    rep_ids = [r.pk for r in reps]

    # This period and the one before, for every rep on the key metrics: one query.
    rep_values = {}
    rows = KpiSnapshot.objects.filter(
        scope="rep",
        metric__in=KEY_METRICS,
        period_kind=period.kind,
        period_start__in=[period.start, previous.start],
    )
    if team is not None:
        rows = rows.filter(subject_id__in=rep_ids)
    for pk, metric, start, value in rows.values_list("subject_id", "metric", "period_start", "value"):
        rep_values[pk, metric, start] = value

    # The subject's own trend and its sub-teams' figures: one query each.
    own = {
        (m, start): v
        for m, start, v in KpiSnapshot.objects.filter(
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
        for pk, m, v in KpiSnapshot.objects.filter(
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
    progress = targets_progress(rep_targets, timezone.localdate())
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
    gaps = reconciliation_gaps(team_targets)

    lines = [
        RepLine(
            rep=r,
            values={m: rep_values.get((r.pk, m, period.start)) for m in KEY_METRICS},
            previous={m: rep_values.get((r.pk, m, previous.start)) for m in KEY_METRICS},
            target=rep_target.get(r.pk),
            progress=progress.get(rep_target[r.pk].pk) if r.pk in rep_target else None,
        )
        for r in reps
    ]
    leaders = sorted(
        (ln for ln in lines if ln.values["revenue_won"] is not None),
        key=lambda ln: (-ln.values["revenue_won"], ln.rep.full_name),
    )[:10]
    top = leaders[0].values["revenue_won"] if leaders else 0
    behind = sorted(
        (ln for ln in lines if ln.progress and ln.progress.status != "on_track"),
        key=lambda ln: (ln.progress.pace is None, ln.progress.pace or 0),
    )
    money = catalogue.get("revenue_won").unit
    revenue_chart = charts.bar_chart(
        [
            (
                p.label,
                own.get(("revenue_won", p.start)),
                drill_href(subject.scope, subject.pk, "revenue_won", p),
            )
            for p in trend
        ],
        label=f"Revenue won by {subject.name}, last {TREND_LENGTH} {period.kind}s",
        fmt=lambda v: format_value(v, money),
        targets=[own_targets.get(p.start) for p in trend],
    )
    deals_chart = charts.bar_chart(
        [
            (p.label, own.get(("deals_won", p.start)), drill_href(subject.scope, subject.pk, "deals_won", p))
            for p in trend
        ],
        label=f"Deals won by {subject.name}, last {TREND_LENGTH} {period.kind}s",
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

    picker = _team_picker(request.user, tree)
    return render(
        request,
        "kpis/dashboard.html",
        {
            "subject": subject,
            "team": team,
            "period": period,
            "previous": previous,
            "next": period.shifted(1),
            "switch": _period_switch(period),
            "metrics": [catalogue.get(k) for k in KEY_METRICS],
            "lines": lines,
            "leaders": [(ln, (ln.values["revenue_won"] / top * 100) if top else 0) for ln in leaders],
            "behind": behind,
            "gaps": gaps,
            "children": [(c, {m: child_values.get((c.pk, m)) for m in KEY_METRICS}) for c in children],
            "revenue_chart": revenue_chart,
            "deals_chart": deals_chart,
            "comparison": comparison,
            "picker": picker,
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

    for root in sorted((pk for pk in visible if tree.parent[pk] not in visible), key=names.get):
        walk(root, 1 if out else 0)
    for option in out:
        option["label"] = " " * option["depth"] + option["name"]
    return out


@login_required
def drill(request):
    scope = request.GET.get("scope", "")
    subject_id = _int(request.GET.get("subject")) if scope != "company" else 0
    metric_key = request.GET.get("metric", "")
    if subject_id is None or metric_key not in catalogue.BY_KEY:
        raise Http404("Give scope, subject, metric and period.")
    subject = _get_subject_for_user(request.user, scope, subject_id)
    period = _period_from(request)
    metric = catalogue.get(metric_key)
    records = records_for(metric.key, period, subject.reps, (subject.scope, subject.pk))
    qs = records.queryset
    q = request.GET.get("q", "").strip()
    if q:
        match = Q()
        for field in records.search:
            match |= Q(**{f"{field}__icontains": q})
        qs = qs.filter(match)
    if request.GET.get("format") == "csv":
        return _csv(qs, records, f"{metric.key}-{subject.scope}-{subject.pk}-{period.label}.csv")
    page = Paginator(qs, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    value = (
        KpiSnapshot.objects.filter(
            scope=subject.scope,
            subject_id=subject.pk,
            metric=metric.key,
            period_kind=period.kind,
            period_start=period.start,
        )
        .values_list("value", flat=True)
        .first()
    )
    return render(
        request,
        "kpis/drill.html",
        {
            "subject": subject,
            "metric": metric,
            "period": period,
            "value": value,
            "records": records,
            "rows": [[c.of(r) for c in records.columns] for r in page],
            "page": page,
            "q": q,
            "nav": "scorecard" if subject.scope == "rep" else "dashboard",
        },
    )


class _Echo:
    def write(self, value):
        return value


def _csv(qs, records, filename) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines = [writer.writerow([c.header for c in records.columns])]
    lines += (
        writer.writerow([_plain(c.of(r)) for c in records.columns]) for r in qs.iterator(chunk_size=2000)
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return str(value)


# --- admin: recompute now

RECOMPUTE_KEY = "kpis:recompute:last"


@login_required
def recompute(request):
    _require_admin(request.user)
    if request.method == "POST":
        from .tasks import recompute_all

        started = timezone.now()
        result = recompute_all.delay()
        cache.set(
            RECOMPUTE_KEY,
            {
                "id": result.id,
                "started": started.isoformat(),
                "eager": result.ready(),
                "by": request.user.username,
            },
            60 * 60 * 24,
        )
        messages.success(request, "Recompute started.")
        return redirect("kpis:recompute")
    return render(request, "kpis/recompute.html", {"run": _recompute_status(), "nav": "recompute"})


@login_required
def recompute_status(request):
    _require_admin(request.user)
    return JsonResponse(_recompute_status() or {"state": "none"})


def _recompute_status() -> dict | None:
    """How far the last recompute got: its fan-out tasks (one per top-level team, then the
    company) done out of all. Snapshots' computed_at can't tell: unchanged rows keep theirs."""
    run = cache.get(RECOMPUTE_KEY)
    if run is None:
        return None
    status = {"started": run["started"], "by": run["by"], "done": 0, "total": 1, "state": "PENDING"}
    if run["eager"]:
        return {**status, "done": 1, "state": "SUCCESS"}
    from celery.result import AsyncResult

    try:
        result = AsyncResult(run["id"])
        state = result.state
        children = result.children or []
    except NotImplementedError:  # no result backend: nothing to report
        return {**status, "state": "UNKNOWN"}
    total = 1 + len(children)
    done = (state == "SUCCESS") + sum(1 for c in children if c.ready())
    failed = state == "FAILURE" or any(c.state == "FAILURE" for c in children)
    finished = state == "SUCCESS" and all(c.ready() for c in children)
    state = "FAILURE" if failed else ("SUCCESS" if finished else "STARTED")
    return {**status, "done": done, "total": total, "state": state}
