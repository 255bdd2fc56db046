"""Pages about KPIs alone: the drill-down to the records behind a figure, the pipeline waterfall,
and the admin's recompute.

They read KpiSnapshot and the facts, never computing a KPI. Who may see what, and which period a
page shows, come from kpis.pages. The pages that show KPIs against targets (home, scorecard,
dashboard) live in targets.views.
"""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from salesperf import csv
from teams import visibility
from teams.models import Rep
from teams.subjects import COMPANY, Scope, Subject, subject_name
from teams.tree import TeamTree
from teams.visibility import is_admin

from . import catalogue
from .charts import waterfall_chart
from .crm_import import FILES
from .drill import records_for
from .fields import PeriodKind
from .forms import CrmImportForm
from .jobs import job_progress, job_rerun, job_start
from .models import Job, KpiSnapshot
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
from .templatetags.kpis_tags import format_money
from .waterfall import KEYS, MEANING, NotBegun, pipeline_waterfall

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
    """Admins upload the CRM layout's four CSV files; a background job imports them (a preview
    checks every row and saves nothing) and its page follows it."""
    require_admin(request.user)
    form = CrmImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = {name: form.cleaned_data[name].read() for name in FILES}
        job = job_start(
            kind=Job.Kind.CRM_IMPORT,
            user=request.user,
            files=files,
            options={"preview": form.cleaned_data["preview"]},
        )
        return redirect("kpis:job", pk=job.pk)
    return render(request, "kpis/crm_import.html", {"form": form, "nav": "import"})


def _get_job_for_admin(user, pk: int) -> Job:
    require_admin(user)
    job = Job.objects.filter(pk=pk).select_related("created_by").first()
    if job is None:
        raise Http404("No such job.")
    return job


@login_required
def job(request, pk: int):
    """A job's page: its progress while it runs (polled by static/js/app.js), then its result; a
    finished preview offers to import the same files."""
    job = _get_job_for_admin(request.user, pk)
    return render(
        request,
        "kpis/job.html",
        {"job": job, "status": job_progress(job), "files": job.file_names, "nav": "import"},
    )


@login_required
def job_status(request, pk: int):
    return JsonResponse(job_progress(_get_job_for_admin(request.user, pk)))


@login_required
@require_POST
def job_import(request, pk: int):
    """Import the files a finished preview checked, with the org changes the admin ticked."""
    job = _get_job_for_admin(request.user, pk)
    if not (job.state == Job.State.SUCCEEDED and job.result.get("preview")):
        return HttpResponseBadRequest("Only a finished preview can be imported.")
    options = {"preview": False, "confirm_org": request.POST.get("confirm_org", "")}
    again = job_rerun(job=job, user=request.user, options=options)
    return redirect("kpis:job", pk=again.pk)


# --- the pipeline waterfall

WATERFALL_PAGE_SIZE = 50


@login_required
def waterfall(request):
    """A subject's pipeline waterfall for a period (kpis.waterfall), and the deals of one bar
    (?show=<bar>). Without a subject: the user's own (a rep themself, a manager their top team,
    an admin the company); without a period: the current quarter."""
    today = timezone.localdate()
    try:
        subject = _waterfall_subject(request)
        label = request.GET.get("period", "").strip()
        period = Period.parse(label) if label else Period.containing(PeriodKind.QUARTER, today)
    except ValueError as e:
        return render(request, "kpis/waterfall.html", {"error": str(e), "nav": "dashboard"}, status=400)
    context = {
        "subject": subject,
        "name": subject_name(subject),
        "period": period,
        "previous": period.shifted(-1),
        "next": period.shifted(1),
        "switch": period_switch(period),
        "nav": "scorecard" if subject.scope == Scope.REP else "dashboard",
    }
    try:
        fall = pipeline_waterfall(subject=subject, period=period, today=today)
    except NotBegun as e:
        return render(request, "kpis/waterfall.html", {**context, "not_begun": str(e)})
    shown = fall.bar(_shown_bar(request.GET.get("show"), fall))
    hrefs = {bar.key: _bar_href(request, bar.key) for bar in fall.bars}
    steps = [
        (bar.label, bar.amount, {1: "up", -1: "down"}.get(bar.sign, "total"), hrefs[bar.key])
        for bar in fall.bars
    ]
    page = Paginator(shown.deals, WATERFALL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "kpis/waterfall.html",
        {
            **context,
            "fall": fall,
            "running": fall.closing_day < period.end,
            "legend": [(bar, hrefs[bar.key]) for bar in fall.bars],
            "chart": waterfall_chart(
                steps,
                label=f"Pipeline waterfall, {context['name']}, {period}",
                fmt=format_money,
                unit=settings.CURRENCY,
            ),
            "shown": shown,
            "meaning": MEANING[shown.key],
            "page": page,
            "admin_links": is_admin(request.user),
        },
    )


def _waterfall_subject(request) -> Subject:
    scope = request.GET.get("scope", "")
    if not scope:
        return _own_subject(request.user)
    if scope not in Scope.values:
        raise ValueError(f"'{scope}' is not a scope: use rep, team or company.")
    subject_id = int_or_none(request.GET.get("subject")) if scope != Scope.COMPANY else 0
    if subject_id is None:
        raise ValueError(f"Name the {scope} by its id (subject=).")
    return get_subject_for_user(request.user, scope, subject_id)


def _own_subject(user) -> Subject:
    if visibility.can_see_company(user):
        return COMPANY
    tree = TeamTree.load()
    if visibility.top_team_ids(user, tree):
        return Subject.team(get_team_for_user(user, None, tree).pk)
    rep_id = Rep.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
    if rep_id is None:
        raise Http404("You are neither a rep nor a team manager.")
    return Subject.rep(rep_id)


def _shown_bar(asked: str | None, fall) -> str:
    """The bar asked for; else the first movement with deals (what a manager came to see), else
    the opening."""
    if asked in KEYS:
        return asked
    return next((bar.key for bar in fall.movements if bar.deals), "opening")


def _bar_href(request, key: str) -> str:
    params = request.GET.copy()
    params["show"] = key
    params.pop("page", None)
    return f"?{params.urlencode()}#deals"
