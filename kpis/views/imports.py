"""The mapped CSV import's pages (issue 19), as HubSpot's and Pipedrive's import wizards go:
upload a file of any CRM and say what it holds → map its columns (and its stage or owner values)
to ours → preview the first rows as they would be saved, every row error and the counts → import,
as a background job whose page (kpis.views.ops.job) follows it.

Between the steps the upload is a draft job's file (kpis.jobs.job_draft: in the database, where
any web process reads it, never in a cookie). "Preview" runs the draft with the mapping as a
background job that writes nothing (every row of a large file is checked: longer than a request
may take) and the mapping page follows it as the job's page does; "Import" starts the real job with
the file and deletes the draft. Reading, mapping and checking rows is kpis.imports'; these pages
only move files, mappings and previews between the browser and it.
"""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from ..forms import FactsUploadForm, ImportMappingForm, ValueMapFormSet, mapped_values
from ..imports import KINDS, suggest_columns
from ..jobs import draft_preview, job_draft, job_draft_preview, job_progress, job_start
from ..models import ImportMapping, Job
from ..pages import login_required, require_admin
from .ops import get_job_for_admin

SHOWN_ERRORS = 1000  # a preview lists this many row errors and counts them all (the page stays light)
DRAFT_LIFETIME = dt.timedelta(days=1)  # an upload left unmapped this long is deleted


@login_required
def upload(request):
    """Step 1: the file, what it holds, and optionally a saved mapping."""
    require_admin(request.user)
    form = FactsUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        Job.objects.filter(
            kind=Job.Kind.FACTS_IMPORT, options__draft=True, created_at__lt=timezone.now() - DRAFT_LIFETIME
        ).delete()
        file, saved, table = form.cleaned_data["file"], form.cleaned_data["mapping"], form.table
        draft = job_draft(
            kind=Job.Kind.FACTS_IMPORT,
            user=request.user,
            files={file.name: form.content},
            options={
                "kind": form.cleaned_data["kind"],
                "file": file.name,
                "saved": saved and saved.pk,
                # What the mapping page shows of the file, so that it need not read it again.
                "table": {"header": table.header, "encoding": table.encoding, "rows": len(table.rows)},
            },
        )
        return redirect("kpis:facts_import_map", pk=draft.pk)
    mappings = ImportMapping.objects.all()
    return render(request, "kpis/imports/upload.html", {"form": form, "mappings": mappings, "nav": "import"})


@login_required
def mapping(request, pk: int):
    """Steps 2 and 3: map the columns and values and preview (the draft runs as a background job
    that writes nothing, and this page follows it), then import."""
    draft = _get_draft_for_admin(request.user, pk)
    kind, header = KINDS[draft.options["kind"]], draft.options["table"]["header"]
    saved = ImportMapping.objects.filter(pk=draft.options["saved"]).first()
    previewed = draft.options.get("mapping")  # the mapping of the last preview, as the admin set it
    preview, status = draft_preview(draft), job_progress(draft)
    run = None  # the last preview: "running", "failed" (the mapping cannot import the file), "done"
    if previewed:
        run = "done" if preview else Job.State.FAILED.value if status["finished"] else "running"
    if request.method == "POST":
        form = ImportMappingForm(request.POST, kind=kind, header=header)
        values = ValueMapFormSet(request.POST, prefix="values", form_kwargs={"kind": kind})
        if not (form.is_valid() and values.is_valid()):
            run = None  # a preview of another mapping than the one shown would mislead
        else:
            mapping = form.mapping(mapped_values(values))
            if "import" in request.POST and run == "done" and _same(_fields(mapping), previewed):
                try:
                    return _start(request, draft=draft, form=form, mapping=mapping)
                except ValidationError as e:
                    form.add_error("save_as", e.messages)
            else:
                # What is imported is what was previewed: a mapping changed since is previewed first.
                if "import" in request.POST:
                    messages.info(request, "The mapping changed since its preview: here is its preview.")
                job_draft_preview(draft=draft, options={**draft.options, "mapping": _fields(mapping)})
                return redirect("kpis:facts_import_map", pk=draft.pk)
    else:
        start = previewed or (_fields(saved) if saved else None)
        form = ImportMappingForm(kind=kind, header=header, initial=_initial(kind.key, header, start))
        values = _value_forms(kind, start["values"] if start else {}, preview.unmapped if preview else {})
    labels = {spec.name: spec.label for spec in kind.fields}
    missing = {labels.get(f, f): c for f, c in (saved.columns if saved else {}).items() if c not in header}
    context = {
        "draft": draft,
        "kind": kind,
        "file": draft.options["table"] | {"name": draft.options["file"]},
        "saved": saved,
        "missing": missing,
        "form": form,
        "values": values,
        "run": run,
        "preview": preview,
        "status": status,
        "shown_errors": SHOWN_ERRORS,
        "nav": "import",
    }
    return render(request, "kpis/imports/mapping.html", context)


def _get_draft_for_admin(user, pk: int) -> Job:
    require_admin(user)
    draft = Job.objects.filter(pk=pk, kind=Job.Kind.FACTS_IMPORT, options__draft=True).first()
    if draft is None:
        raise Http404("No such upload: it was imported, or left unmapped for a day. Upload the file again.")
    return draft


def _fields(mapping: ImportMapping) -> dict:
    """A mapping as JSON for a job's options (ImportMapping(kind=..., **fields) again)."""
    return {
        "name": mapping.name,
        "columns": mapping.columns,
        "values": mapping.values,
        "date_format": mapping.date_format,
        "decimal_comma": mapping.decimal_comma,
    }


def _same(mapping: dict, previewed: dict) -> bool:
    """The same mapping but for its name (naming it after the preview changes nothing it does)."""
    return {**mapping, "name": ""} == {**previewed, "name": ""}


def _initial(kind: str, header: list[str], start: dict | None) -> dict:
    """The columns of the mapping we start from (the last preview's, else the saved one's) where
    the file has them, the others suggested by their names in the file."""
    columns = suggest_columns(kind, header)
    if start is None:
        return {f"column_{field}": column for field, column in columns.items()}
    columns.update({field: column for field, column in start["columns"].items() if column in header})
    return {
        **{f"column_{field}": column for field, column in columns.items()},
        "date_format": start["date_format"],
        "decimal_comma": start["decimal_comma"],
        "save_as": start["name"],
    }


def _value_forms(kind, values: dict[str, dict[str, str]], unmapped: dict[str, list[str]]):
    """A select for each value the mapping maps, then for each value of the file it does not."""
    rows = [
        {"field": f, "value": v, "ours": ours} for f, mapped in values.items() for v, ours in mapped.items()
    ]
    rows += [{"field": f, "value": v} for f, found in unmapped.items() for v in found]
    return ValueMapFormSet(initial=rows, prefix="values", form_kwargs={"kind": kind})


def _start(request, *, draft: Job, form, mapping: ImportMapping):
    """Step 4: save the mapping if named, start the job on the draft's file, drop the draft."""
    upload = draft.files.get(name=draft.options["file"])
    options = {
        "kind": mapping.kind,
        "file": upload.name,
        "good_rows_only": form.cleaned_data["good_rows_only"],
        "confirmed": form.cleaned_data["confirmed"],
    }
    if mapping.name:
        options["mapping_id"] = import_mapping_save(mapping=mapping, user=request.user).pk
    else:
        options["mapping"] = _fields(mapping)
    job = job_start(
        kind=Job.Kind.FACTS_IMPORT,
        user=request.user,
        files={upload.name: bytes(upload.content)},
        options=options,
    )
    draft.delete()
    return redirect("kpis:job", pk=job.pk)


def import_mapping_save(*, mapping: ImportMapping, user) -> ImportMapping:
    """Create or update the mapping named `mapping.name`; a name taken by another kind is refused.
    (The request's transaction holds it: ATOMIC_REQUESTS.)"""
    saved = ImportMapping.objects.select_for_update().filter(name=mapping.name).first()
    if saved is not None and saved.kind != mapping.kind:
        raise ValidationError(
            "“%(name)s” is a mapping for %(kind)s: choose another name.",
            params={"name": saved.name, "kind": saved.get_kind_display().lower()},
        )
    if saved is None:
        mapping.created_by = user
        saved = mapping
    else:
        for field in ("columns", "values", "date_format", "decimal_comma"):
            setattr(saved, field, getattr(mapping, field))
    saved.full_clean()
    saved.save()
    return saved


@login_required
def error_csv(request, pk: int):
    """The rows an import refused, as in the file plus an error column: those a "good rows only"
    import left out, or those that made an all-or-nothing one refuse the file."""
    job = get_job_for_admin(request.user, pk)
    name = job.result.get("error_file") if job.kind == Job.Kind.FACTS_IMPORT else None
    file = job.files.filter(name=name).first() if name else None
    if file is None:
        raise Http404("This job refused no rows.")
    response = HttpResponse(bytes(file.content), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response
