"""Pages about KPIs alone: the drill-down to the records behind a figure, and the admin's recompute.

They read KpiSnapshot and the facts, never computing a KPI. Who may see what, and which period a
page shows, come from kpis.pages. The pages that show KPIs against targets (home, scorecard,
dashboard) live in targets.views.
"""

import datetime as dt
import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from salesperf import csv
from teams import visibility
from teams.models import Rep
from teams.subjects import COMPANY, Scope, Subject, subject_name
from teams.tree import TeamTree
from teams.visibility import is_admin

from . import catalogue, charts
from .crm_import import FILES, ImportFailed, import_crm
from .drill import records_for
from .fields import PeriodKind
from .forms import CrmImportForm
from .funnel import stage_funnel
from .models import KpiSnapshot
from .pages import (
    get_subject_for_user,
    get_team_for_user,
    int_or_none,
    login_required,
    period_from,
    period_switch,
    require_admin,
)
from .periods import Period
from .selectors import AsOf
from .templatetags.kpis_tags import format_value, percent

DRILL_PAGE_SIZE = 50


@login_required
def drill(request):
    scope = request.GET.get("scope", "")
    subject_id = int_or_none(request.GET.get("subject")) if scope != Scope.COMPANY else 0
    metric_key = request.GET.get("metric", "")
    if subject_id is None or metric_key not in catalogue.BY_KEY:
        raise Http404("Give scope, subject, metric and period.")
    subject = get_subject_for_user(request.user, scope, subject_id)
    period = period_from(request)
    metric = catalogue.get(metric_key)
    records = records_for(metric.key, period, subject)
    qs = records.queryset
    q = request.GET.get("q", "").strip()
    if "\x00" in q:  # PostgreSQL cannot compare text with NUL in it
        return HttpResponseBadRequest("The search text may not contain NUL characters.")
    if q:
        match = Q()
        for field in records.search:
            match |= Q(**{f"{field}__icontains": q})
        qs = qs.filter(match)
    # The viewer may see the subject, so the records behind its figure — a team's former members'
    # included — but a figure may count records that are another's (a deal another team won
    # from a customer the viewer's rep owns): counted in the figure, never listed, unless the
    # viewer may see them anyway.
    if is_admin(request.user):
        shown = qs
    else:
        shown = qs.filter(records.theirs | Q(pk__in=qs.visible_to(request.user).values("pk")))
    if request.GET.get("format") == "csv":
        return _csv(shown, records, f"{metric.key}-{subject.scope}-{subject.pk}-{period.label}.csv")
    page = Paginator(shown, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    hidden = 0 if shown is qs else qs.count() - page.paginator.count
    snapshot = (
        KpiSnapshot.objects.visible_to(request.user)
        .filter(
            scope=subject.scope,
            subject_id=subject.pk,
            metric=metric.key,
            period_kind=period.kind,
            period_start=period.start,
        )
        .only("value", "state", "numerator", "computed_at")
        .first()
    )
    return render(
        request,
        "kpis/drill.html",
        {
            "subject": subject,
            "name": subject_name(subject),
            "metric": metric,
            "period": period,
            "snapshot": snapshot,
            "data_as_of": AsOf(snapshot.computed_at if snapshot else None),
            # The period nav's ‹ › and month / quarter / year tabs (they linked to period=).
            "previous": period.shifted(-1),
            "next": period.shifted(1),
            "switch": period_switch(period),
            "records": records,
            "rows": [[c.of(r) for c in records.columns] for r in page],
            "page": page,
            "hidden": hidden,
            "q": q,
            "nav": "scorecard" if subject.scope == Scope.REP else "dashboard",
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
    require_admin(request.user)
    if request.method == "POST":
        from .tasks import fan_out_recompute

        started = timezone.now()
        result = fan_out_recompute.delay()
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
    require_admin(request.user)
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


@login_required
def crm_import(request):
    """Admins upload the CRM layout's four CSV files: a preview reports every row it would skip
    (file:line: reason) and saves nothing; the real import is one transaction."""
    require_admin(request.user)
    form = CrmImportForm(request.POST or None, request.FILES or None)
    report = error = None
    if request.method == "POST" and form.is_valid():
        preview = form.cleaned_data["preview"]
        with tempfile.TemporaryDirectory() as folder:
            for name in FILES:
                with open(Path(folder) / name, "wb") as out:
                    for chunk in form.cleaned_data[name].chunks():
                        out.write(chunk)
            try:
                with transaction.atomic():
                    # A preview shows what the files change in the existing org; the import then
                    # applies those changes only if the admin ticked them (their digest).
                    confirm_org = True if preview else request.POST.get("confirm_org", "")
                    report = import_crm(
                        folder, recompute=not preview, progress=lambda *_: None, confirm_org=confirm_org
                    )
                    transaction.set_rollback(preview)
            except ImportFailed as e:
                error = str(e).replace(folder + "/", "")
        if report and not preview:
            messages.success(request, "Imported; the KPI snapshots are being recomputed.")
    return render(
        request, "kpis/crm_import.html", {"form": form, "report": report, "error": error, "nav": "import"}
    )


# --- the stage funnel


@login_required
def funnel(request):
    """The stage funnel of a subject's deals opened in a period (kpis.funnel): by default the
    viewer's own subject — a manager's team, an admin's company, a rep's deals — and the current
    quarter. A bad scope, subject or period is said on the page (400); a subject the viewer may
    not see is a 404."""
    today = timezone.localdate()
    scope = request.GET.get("scope", "").strip()
    try:
        period = _funnel_period(request.GET.get("period", "").strip(), today)
        subject = _funnel_subject(request.user, scope, request.GET.get("subject"))
    except ValueError as e:
        return render(request, "kpis/funnel.html", {"error": str(e), "nav": "dashboard"}, status=400)
    result = stage_funnel(
        subject=subject, period=period, today=today, snapshots=KpiSnapshot.objects.visible_to(request.user)
    )
    name = subject_name(subject)
    notes = [_conversion_note(result, i) for i in range(len(result.steps))]
    return render(
        request,
        "kpis/funnel.html",
        {
            "funnel": result,
            "subject": subject,
            "name": name,
            "period": period,
            "steps": list(zip(result.steps, notes, strict=True)),
            "chart": charts.funnel_chart(
                [(s.name, s.reached, note) for s, note in zip(result.steps, notes, strict=True)],
                label=f"Stage funnel of {name}, deals opened in {period}",
            ),
            "days": [(t, format_value(t.median_days, "days")) for t in result.days_in_stage],
            "beside": [(catalogue.get(key), figure) for key, figure in result.figures.items()],
            "previous": period.shifted(-1),
            "next": period.shifted(1),
            "switch": period_switch(period),
            "nav": "scorecard" if subject.scope == Scope.REP else "dashboard",
        },
    )


def _funnel_period(label: str, today: dt.date) -> Period:
    return Period.parse(label) if label else Period.containing(PeriodKind.QUARTER, today)


def _funnel_subject(user, scope: str, subject_id: str | None) -> Subject:
    """The subject asked for (404 if not visible), or without a scope the viewer's own."""
    if not scope:
        if visibility.is_manager(user):
            team = get_team_for_user(user, None, TeamTree.load())
            return COMPANY if team is None else Subject.team(team.pk)
        rep = Rep.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
        if rep is None:
            raise Http404("You manage no team and are not a rep.")
        return Subject.rep(rep)
    if scope not in Scope.values:
        raise ValueError(f"'{scope}' is not a scope: use rep, team or company.")
    pk = 0 if scope == Scope.COMPANY else int_or_none(subject_id)
    if pk is None:
        raise ValueError(f"Name the {scope} by its id: subject=…")
    return get_subject_for_user(user, scope, pk)


def _conversion_note(result, i: int) -> str:
    step = result.steps[i]
    if i == 0:
        return f"of {result.opened} opened"
    before = result.steps[i - 1].name
    if step.conversion is None:
        return f"undefined: none reached {before}"
    return f"{percent(step.conversion)} of {before}"
