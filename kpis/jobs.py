"""Background jobs: long work started from a page (an import) runs on a Celery worker, and the
page follows it — the step it is at, rows done of all, the rows refused as they come, then the
result. The `Job` row is the record (who, when, files, counts, errors), kept after it ends; the
uploaded files are in the database, so a worker on another machine reads them, and the job
survives the web process that started it going away.

While a job runs its import is one open transaction, invisible to other connections: progress
goes through the cache (Redis when configured), the record is written when the job ends. With no
broker (eager mode) the job runs inside the request that starts it, and the page shows it done.
"""

import logging
import tempfile
from dataclasses import asdict
from pathlib import Path

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .crm_import import ImportFailed, import_crm
from .deal_history import recorded_by
from .imports import ImportFailed as MappedImportFailed
from .imports import Preview, import_table, preview_import, read_table
from .models import ImportMapping, Job, JobFile

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 24 * 60 * 60
INTERNAL_ERROR = "Internal error: see the worker's log."
SHOWN_ERRORS = 200  # a page shows the first ones while the job runs; the record keeps them all
PREVIEW_ROWS = 20  # a mapped import's preview shows the first rows as they would be saved


class JobFailed(Exception):
    """The job could not do its work at all (a file or column missing, a change not confirmed);
    `errors` are the rows that made it refuse the whole file, kept in the record after the reason,
    and `result` what it leaves all the same (the refused rows as a file)."""

    def __init__(self, message: str, errors: list[str] | None = None, result: dict | None = None):
        super().__init__(message)
        self.errors = errors or []
        self.result = result or {}


@transaction.atomic
def job_start(*, kind: str, user, files: dict[str, bytes], options: dict | None = None) -> Job:
    """Record a job and its files; a worker runs it once this transaction commits."""
    from .tasks import run_job

    job = _job_record(kind=kind, user=user, files=files, options=options or {})
    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def job_draft(*, kind: str, user, files: dict[str, bytes], options: dict) -> Job:
    """Record a job and its files without running it (`options["draft"]`): an upload the admin is
    still mapping. The mapped import's pages keep the file here between their steps, where any
    web process reads it, preview it with `job_draft_preview`, then start the real job with it
    and delete the draft."""
    return _job_record(kind=kind, user=user, files=files, options={**options, "draft": True})


def job_draft_preview(*, draft: Job, options: dict) -> None:
    """Run a draft (again) with these options: its runner previews, which writes nothing, and the
    draft keeps the preview as its result. A preview of every row of a large file takes longer
    than a web request may (35–47 s for 100,000 deals here), so a worker runs it and the page
    follows. A run of the draft's earlier options still going leaves the record to this one."""
    from .tasks import run_job

    Job.objects.filter(pk=draft.pk).update(
        options={**options, "draft": True},
        state=Job.State.QUEUED,
        started_at=None,
        finished_at=None,
        result={},
        errors=[],
    )
    transaction.on_commit(lambda: run_job.delay(draft.pk))


@transaction.atomic
def _job_record(*, kind: str, user, files: dict[str, bytes], options: dict) -> Job:
    job = Job.objects.create(kind=kind, created_by=user, options=options)
    JobFile.objects.bulk_create([JobFile(job=job, name=name, content=data) for name, data in files.items()])
    return job


def job_rerun(*, job: Job, user, options: dict) -> Job:
    """The same files again, with other options (a previewed import, now for real)."""
    return job_start(
        kind=job.kind, user=user, files={f.name: bytes(f.content) for f in job.files.all()}, options=options
    )


class Progress:
    """What a running job reports: `progress(step, done, total)`, `progress.refused(line)`."""

    def __init__(self, job_id: int):
        self.key, self.state = progress_key(job_id), {"step": "", "done": 0, "total": None, "errors": []}

    def __call__(self, step: str, done: int = 0, total: int | None = None) -> None:
        self.state.update(step=step, done=done, total=total)
        cache.set(self.key, self.state, PROGRESS_SECONDS)

    def refused(self, line: str) -> None:
        if len(self.state["errors"]) < SHOWN_ERRORS:
            self.state["errors"].append(line)
            cache.set(self.key, self.state, PROGRESS_SECONDS)


def progress_key(job_id: int) -> str:
    return f"kpis:job:{job_id}:progress"


def job_progress(job: Job) -> dict:
    """A job's state for its page: the record, and while it runs, how far it got."""
    running = cache.get(progress_key(job.pk)) if job.state == Job.State.RUNNING else None
    running = running or {"step": "", "done": 0, "total": None, "errors": []}
    finished = job.state in (Job.State.SUCCEEDED, Job.State.FAILED)
    return {
        "state": job.state,
        "step": running["step"],
        "done": running["done"],
        "total": running["total"],
        "errors": job.errors if finished else running["errors"],
        "result": job.result,
        "finished": finished,
    }


def job_run(job_id: int) -> None:
    """Run a job (the task's body). A duplicate delivery of a finished job does nothing; one of a
    job a dead worker left running runs it again (imports are idempotent). The latest run owns the
    record: a run that ends after another began (a draft previewed again meanwhile) leaves it."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.state in (Job.State.SUCCEEDED, Job.State.FAILED):
        log.info("Job %s is gone or finished; nothing to run.", job_id)
        return
    started = timezone.now()
    Job.objects.filter(pk=job_id).update(state=Job.State.RUNNING, started_at=started)
    job.state = Job.State.RUNNING
    progress = Progress(job_id)
    ended = Job.objects.filter(pk=job_id, started_at=started)
    try:
        with recorded_by(job.created_by):  # its changes to deals are the starter's
            result, errors = RUNNERS[job.kind](job, progress)
    except JobFailed as e:
        ended.update(
            state=Job.State.FAILED, finished_at=timezone.now(), errors=[str(e), *e.errors], result=e.result
        )
    except Exception:
        ended.update(state=Job.State.FAILED, finished_at=timezone.now(), errors=[INTERNAL_ERROR])
        raise
    else:
        ended.update(state=Job.State.SUCCEEDED, finished_at=timezone.now(), result=result, errors=errors)
    finally:
        cache.delete(progress.key)


def _crm_import(job: Job, progress: Progress) -> tuple[dict, list[str]]:
    """import_crm on the job's four files; a preview rolls everything back."""
    preview = bool(job.options.get("preview"))
    # A preview shows what the files change in the existing org; the import applies those
    # changes only if the admin ticked them (their digest).
    confirm_org = True if preview else job.options.get("confirm_org", "")
    with tempfile.TemporaryDirectory() as folder:
        for f in job.files.all():
            (Path(folder) / Path(f.name).name).write_bytes(bytes(f.content))
        try:
            with transaction.atomic():
                report = import_crm(
                    folder,
                    recompute=not preview,
                    progress=progress,
                    on_skip=progress.refused,
                    confirm_org=confirm_org,
                    user=job.created_by,
                )
                transaction.set_rollback(preview)
        except ImportFailed as e:
            raise JobFailed(str(e).replace(folder + "/", "")) from e
    return {
        "preview": preview,
        "counts": report.counts,
        "org_changes": report.org_changes,
        "org_digest": report.org_digest,
        "skipped": report.rows_skipped,
    }, report.skipped


def _facts_import(job: Job, progress: Progress) -> tuple[dict, list[str]]:
    """One CSV file of any CRM, mapped (kpis.imports): all rows or none, or — chosen — the good
    rows, the bad ones kept as a CSV file of the job (`errors_file_name`) to fix and upload again.
    A draft previews instead (`_facts_preview`)."""
    if job.options.get("draft"):
        return _facts_preview(job, progress)
    options = job.options
    upload = job.files.get(name=options["file"])
    mapping = _mapping_of(options)
    try:
        table = read_table(bytes(upload.content), name=upload.name)
        result = import_table(
            kind=options["kind"],
            table=table,
            mapping=mapping,
            user=job.created_by,
            good_rows_only=bool(options.get("good_rows_only")),
            confirmed=bool(options.get("confirmed")),
            progress=progress,
            on_refused=progress.refused,
        )
    except MappedImportFailed as e:  # a file refused whole still gives its bad rows to fix
        raise JobFailed(str(e), errors=e.errors, result={"error_file": _keep_errors(job, e.error_csv)}) from e
    counts = {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "refused": result.refused,
    }
    return {
        "kind": options["kind"],
        "mapping": mapping.name,
        "counts": counts,
        "encoding": result.encoding,
        "error_file": _keep_errors(job, result.error_csv),
    }, result.errors


def _keep_errors(job: Job, error_csv: bytes | None) -> str | None:
    """The refused rows as a file of the job (`errors_file_name`); its name, or None: none refused."""
    if error_csv is None:
        return None
    name = errors_file_name(job.options["file"])
    # A job run again (its worker died) replaces the file rather than adding a second one.
    JobFile.objects.update_or_create(job=job, name=name, defaults={"content": error_csv})
    return name


def _facts_preview(job: Job, progress: Progress) -> tuple[dict, list[str]]:
    """What importing the draft's file with its mapping would do (kpis.imports.preview_import):
    the result keeps all but the row errors, which are the job's errors."""
    upload = job.files.get(name=job.options["file"])
    try:
        table = read_table(bytes(upload.content), name=upload.name)
        progress("checking every row", 0, len(table.rows))
        preview = preview_import(
            kind=job.options["kind"],
            table=table,
            mapping=_mapping_of(job.options),
            user=job.created_by,
            rows=PREVIEW_ROWS,
            progress=progress,
            on_refused=progress.refused,
        )
    except MappedImportFailed as e:
        raise JobFailed(str(e), errors=e.errors) from e
    shown = {name: value for name, value in asdict(preview).items() if name != "errors"}
    return {"preview": shown}, preview.errors


def draft_preview(draft: Job) -> Preview | None:
    """The preview a draft's last run left, if it succeeded."""
    if draft.state != Job.State.SUCCEEDED or "preview" not in draft.result:
        return None
    return Preview(**draft.result["preview"], errors=draft.errors)


def _mapping_of(options: dict) -> ImportMapping:
    """The saved mapping the job names, or the unsaved one the admin previewed (its fields)."""
    if "mapping_id" not in options:
        return ImportMapping(kind=options["kind"], **options["mapping"])
    mapping = ImportMapping.objects.filter(pk=options["mapping_id"], kind=options["kind"]).first()
    if mapping is None:
        raise JobFailed("The saved mapping this import used was deleted: map the file again.")
    return mapping


def errors_file_name(upload_name: str) -> str:
    """deals.csv → deals.errors.csv: never the name of the upload beside it."""
    return f"{Path(upload_name).stem}.errors.csv"


RUNNERS = {Job.Kind.CRM_IMPORT: _crm_import, Job.Kind.FACTS_IMPORT: _facts_import}
