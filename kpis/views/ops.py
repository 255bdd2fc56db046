"""The admin's operations: recompute now, the CRM upload, and the background jobs that run them
(the mapped import's own pages: kpis.views.imports)."""

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..crm_import import FILES
from ..forms import CrmImportForm
from ..jobs import job_progress, job_rerun, job_start
from ..models import Job
from ..pages import login_required, require_admin

# --- admin: recompute now

RECOMPUTE_KEY = "kpis:recompute:last"


@login_required
def recompute(request):
    require_admin(request.user)
    if request.method == "POST":
        from ..tasks import fan_out_recompute

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


def get_job_for_admin(user, pk: int) -> Job:
    require_admin(user)
    job = Job.objects.filter(pk=pk).select_related("created_by").first()
    if job is None:
        raise Http404("No such job.")
    return job


@login_required
def job(request, pk: int):
    """A job's page: its progress while it runs (polled by static/js/app.js), then its result; a
    finished preview offers to import the same files. A mapped import's upload not yet started
    (a draft) is at its mapping page."""
    job = get_job_for_admin(request.user, pk)
    if job.options.get("draft"):
        return redirect("kpis:facts_import_map", pk=job.pk)
    return render(
        request,
        "kpis/job.html",
        {"job": job, "status": job_progress(job), "files": job.file_names, "nav": "import"},
    )


@login_required
def job_status(request, pk: int):
    return JsonResponse(job_progress(get_job_for_admin(request.user, pk)))


@login_required
@require_POST
def job_import(request, pk: int):
    """Import the files a finished preview checked, with the org changes the admin ticked."""
    job = get_job_for_admin(request.user, pk)
    if not (job.state == Job.State.SUCCEEDED and job.result.get("preview")):
        return HttpResponseBadRequest("Only a finished preview can be imported.")
    options = {"preview": False, "confirm_org": request.POST.get("confirm_org", "")}
    again = job_rerun(job=job, user=request.user, options=options)
    return redirect("kpis:job", pk=again.pk)
