"""Targets as CSV: the export, and the import page (upload → preview → confirm).

The reading, checking and writing is targets.csv_io's; these pages only move files and
previews between the browser and it.
"""

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render

from kpis.pages import login_required
from teams import visibility

from ..csv_io import csv_text, targets_export_csv, targets_import_csv
from ..forms import ImportForm
from ..models import Target

PREVIEW_ROWS = 20


@login_required
def target_export(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="targets.csv"'
    targets_export_csv(targets=Target.objects.visible_to(request.user), stream=response)
    return response


class _DryRun(Exception):
    pass


def _run_import(kind: str, *, user, text: str, dry_run: bool) -> list[str]:
    importer = {"targets": targets_import_csv}[kind]
    if not dry_run:
        return importer(user=user, file=io.StringIO(text))
    try:
        with transaction.atomic():
            errors = importer(user=user, file=io.StringIO(text))
            raise _DryRun
    except _DryRun:
        return errors


def _import_page(request, *, template: str, title: str, nav: str):
    """Upload → preview (a dry run: rows and per-row errors, nothing kept) → confirm → import."""
    form = ImportForm(request.POST or None, request.FILES or None)
    preview = None
    session_key = "import:pending"
    if request.method == "POST" and request.POST.get("confirm"):
        pending = request.session.pop(session_key, None)
        if not pending:
            messages.error(request, "Nothing to import: upload the file again.")
            return redirect(request.path)
        errors = _run_import(pending["kind"], user=request.user, text=pending["text"], dry_run=False)
        if errors:  # the data changed since the preview; csv_io kept nothing
            preview = {
                "errors": errors,
                "rows": [],
                "header": [],
                "kind": pending["kind"],
                "name": pending["name"],
            }
        else:
            messages.success(request, f"Imported {pending['name']}.")
            return redirect(request.path)
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = csv_text(upload.read())
        except ValueError as e:
            form.add_error("file", str(e))
        else:
            try:
                rows = list(csv.reader(io.StringIO(text, newline="")))
            except csv.Error:  # no rows to show; the dry run below reports what is wrong
                rows = []
            kind = form.cleaned_data["kind"]
            errors = _run_import(kind, user=request.user, text=text, dry_run=True)
            preview = {
                "kind": kind,
                "name": upload.name,
                "header": rows[0] if rows else [],
                "rows": rows[1 : PREVIEW_ROWS + 1],
                "count": max(len(rows) - 1, 0),
                "errors": errors,
            }
            if not errors:
                request.session[session_key] = {"kind": kind, "text": text, "name": upload.name}
    return render(request, template, {"form": form, "preview": preview, "title": title, "nav": nav})


@login_required
def target_import(request):
    if not visibility.is_manager(request.user):
        raise PermissionDenied("Reps do not set targets.")
    return _import_page(request, template="targets/import.html", title="Import targets", nav="targets")


@login_required
def data_import(request):
    if not visibility.is_admin(request.user):
        raise PermissionDenied("Only admins may import data.")
    return _import_page(request, template="targets/import.html", title="Import data", nav="import")
