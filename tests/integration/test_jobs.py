"""A CRM upload, or a mapped import, from the admin's pages runs as a background job on a real
worker: the request returns at once, the job's page follows it, and the record stays (issues 18
and 19)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kpis.models import Job, Opportunity
from tests.factories import StageFactory, won_stage
from tests.services import wait_for
from tests.web.test_crm_import import FILES
from tests.web.test_imports import mapping_post, stage_values, upload

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_upload_returns_at_once_and_the_worker_imports_it(celery_worker, client, org):
    client.force_login(org.admin)
    data = {name: SimpleUploadedFile(name, text.encode()) for name, text in FILES.items()}

    started = client.post("/ops/import/crm/", data)

    job = Job.objects.get()
    assert started.status_code == 302 and started.url == f"/ops/jobs/{job.pk}/"
    wait_for(
        lambda: Job.objects.filter(pk=job.pk, state__in=["succeeded", "failed"]).exists(),
        timeout=60,
        message=f"job {job.pk} to finish on the worker",
    )
    job.refresh_from_db()
    assert job.state == "succeeded", job.errors
    assert job.errors == ["sales_pipeline.csv, line 3: sales_agent: unknown owner 'Nobody'"]
    assert Opportunity.objects.get().external_id == "A1"
    status = client.get(f"/ops/jobs/{job.pk}/status/").json()
    assert status["finished"] and status["result"]["counts"]["opportunities"] == 1
    page = client.get(f"/ops/jobs/{job.pk}/").content.decode()
    assert "Imported; the KPI snapshots are being recomputed" in page


def test_a_mapped_import_runs_on_the_worker_and_its_page_shows_the_result(celery_worker, client, org):
    """The mapped import's preview and import each return at once; the worker previews, then
    imports the file (issue 19)."""
    stages = {"won": won_stage(), "engaging": StageFactory(name="Engaging")}
    client.force_login(org.admin)
    draft_url = upload(client).url
    draft = Job.objects.get()

    # The preview: the worker checks every row of the draft's file; the page then shows it.
    assert client.post(draft_url, mapping_post(values=stage_values(stages))).url == draft_url
    wait_for(
        lambda: Job.objects.filter(pk=draft.pk, state="succeeded").exists(),
        timeout=60,
        message=f"the preview of draft {draft.pk} on the worker",
    )
    preview = client.get(draft_url).context["preview"]
    assert preview.counts == {"create": 2, "update": 0, "unchanged": 0, "refused": 0}
    assert not Opportunity.objects.exists()

    started = client.post(draft_url, mapping_post(values=stage_values(stages)) | {"import": "1"})

    job = Job.objects.get(kind="facts_import")
    assert started.status_code == 302 and started.url == f"/ops/jobs/{job.pk}/"
    wait_for(
        lambda: Job.objects.filter(pk=job.pk, state__in=["succeeded", "failed"]).exists(),
        timeout=60,
        message=f"job {job.pk} to finish on the worker",
    )
    job.refresh_from_db()
    assert job.state == "succeeded", job.errors
    status = client.get(f"/ops/jobs/{job.pk}/status/").json()
    assert status["finished"] and status["result"]["counts"]["created"] == 2
    assert sorted(Opportunity.objects.values_list("external_id", flat=True)) == ["HS-101", "HS-102"]
    page = client.get(f"/ops/jobs/{job.pk}/").content.decode()
    assert "<strong>2</strong> created" in page
