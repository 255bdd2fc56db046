"""The admin's CRM upload: a preview saves nothing, the import saves everything it can take."""

import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from kpis.crm_import import import_crm
from kpis.jobs import Progress, job_progress
from kpis.models import Job, Opportunity
from teams.models import Rep

URL = "/ops/import/crm/"
FILES = {
    "sales_teams.csv": "sales_agent,manager,regional_office\nAnna Snelling,Dustin Brinkmann,Central\n",
    "products.csv": "product,series,sales_price\nGTX Pro,GTX,4821\n",
    "accounts.csv": "account,sector\nCancity,retail\n",
    "sales_pipeline.csv": (
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        "A1,Anna Snelling,GTXPro,Cancity,Engaging,2017-01-02,,\n"
        "A2,Nobody,GTX Pro,Cancity,Won,2017-01-02,2017-02-01,10\n"
    ),
}
NOBODY = "sales_pipeline.csv, line 3: sales_agent: unknown owner 'Nobody'"


def upload(client, preview):
    """Upload, let the background job run (eagerly, once the request commits), open its page."""
    data = {name: SimpleUploadedFile(name, text.encode()) for name, text in FILES.items()}
    if preview:
        data["preview"] = "on"
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = client.post(URL, data)
    return client.get(started.url)


@pytest.mark.django_db
def test_a_preview_lists_the_rows_it_would_skip_and_saves_nothing(org, client):
    client.force_login(org.admin)
    response = upload(client, preview=True)
    assert response.status_code == 200
    assert b"sales_pipeline.csv, line 3: sales_agent: unknown owner &#x27;Nobody&#x27;" in response.content
    assert not Opportunity.objects.exists()
    assert not Rep.objects.filter(full_name="Anna Snelling").exists()


@pytest.mark.django_db
def test_the_import_saves_every_row_it_can_take(org, client):
    client.force_login(org.admin)
    response = upload(client, preview=False)
    assert response.status_code == 200
    assert b"Imported; the KPI snapshots are being recomputed" in response.content
    deal = Opportunity.objects.get()
    assert (deal.external_id, deal.amount, deal.rep.full_name) == ("A1", 4821, "Anna Snelling")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["east_manager", "alice"])
def test_only_admins_may_import(org, client, who):
    user = org.east_manager if who == "east_manager" else org.alice.user
    client.force_login(user)
    assert client.get(URL).status_code == 403


@pytest.mark.django_db
def test_the_import_is_a_job_whose_record_stays(org, client):
    """Who started it, on which files, what it did and which rows it refused."""
    client.force_login(org.admin)
    page = upload(client, preview=False)
    job = Job.objects.get()
    assert page.request["PATH_INFO"] == f"/ops/jobs/{job.pk}/"
    assert (job.kind, job.state, job.created_by) == ("crm_import", "succeeded", org.admin)
    assert job.file_names == "sales_teams.csv, products.csv, accounts.csv, sales_pipeline.csv"
    assert job.result["counts"]["opportunities"] == 1
    assert job.errors == [NOBODY]
    assert client.get(f"/ops/jobs/{job.pk}/status/").json()["finished"] is True


@pytest.mark.django_db
def test_a_preview_offers_to_import_the_same_files(org, client):
    client.force_login(org.admin)
    preview = upload(client, preview=True).context["job"]
    assert not Opportunity.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = client.post(f"/ops/jobs/{preview.pk}/import/")
    imported = client.get(started.url).context["job"]
    assert imported.pk != preview.pk and imported.state == "succeeded"
    assert Opportunity.objects.get().external_id == "A1"
    # An import is not previewed again: only a finished preview offers it.
    assert client.post(f"/ops/jobs/{imported.pk}/import/").status_code == 400


@pytest.mark.django_db
def test_a_queued_job_says_so_and_its_page_follows_it(org, client):
    """With a broker the job waits for a worker: the page shows it queued, and polls."""
    client.force_login(org.admin)
    data = {name: SimpleUploadedFile(name, text.encode()) for name, text in FILES.items()}
    client.post(URL, data)  # its on-commit send never runs here: the job stays queued
    job = Job.objects.get()
    page = client.get(f"/ops/jobs/{job.pk}/").content.decode()
    assert 'data-finished="0"' in page and "queued" in page
    assert client.get(f"/ops/jobs/{job.pk}/status/").json()["state"] == "queued"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["east_manager", "alice"])
def test_only_admins_see_jobs(org, client, who):
    job = Job.objects.create(kind="crm_import", created_by=org.admin)
    client.force_login(org.east_manager if who == "east_manager" else org.alice.user)
    assert client.get(f"/ops/jobs/{job.pk}/").status_code == 403
    assert client.get(f"/ops/jobs/{job.pk}/status/").status_code == 403


@pytest.mark.django_db
def test_a_running_job_shows_the_rows_written_and_refused_so_far(org):
    """What the job's page polls while the import's transaction is still open: the rows written
    of all, and each refused row as it comes (through the cache, not the job's row)."""
    seen = []
    job = Job.objects.create(kind="crm_import", created_by=org.admin, state="running")
    progress = Progress(job.pk)

    def watching(step, done=0, total=None):
        progress(step, done, total)
        seen.append((job_progress(job)["step"], job_progress(job)["done"], job_progress(job)["total"]))

    folder = Path(tempfile.mkdtemp())
    for name, text in FILES.items():
        (folder / name).write_text(text)
    import_crm(folder, recompute=False, progress=watching, on_skip=progress.refused)
    assert seen == [("teams and reps", 1, None), ("accounts", 1, None), ("opportunities", 1, 1)]
    assert job_progress(job)["errors"] == ["sales_pipeline.csv, line 3: sales_agent: unknown owner 'Nobody'"]
