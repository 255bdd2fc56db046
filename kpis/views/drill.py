"""The drill-down: the records behind a figure (kpis.drill), as a page or a CSV."""

import datetime as dt

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from salesperf import csv
from teams.subjects import Scope, subject_name
from teams.visibility import is_admin

from .. import catalogue
from ..drill import records_for
from ..models import KpiSnapshot
from ..pages import get_subject_for_user, int_or_none, login_required, period_from, period_switch
from ..selectors import AsOf

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
