"""The mapped import in a real browser (issue 19): an admin imports a HubSpot-style deals export —
upload, map (the columns suggested from their names), map an unknown stage to one of ours,
preview, save the mapping, import as a background job, read the deal's figure on its drill-down —
then imports the same file again with the saved mapping: 0 created, 2 unchanged.
Screenshots: docs/screenshots/import-*.png (README, "Importing from your CRM").

The second test does it with a real worker, each run held until the page showed it running.

Figures by hand (the file is tests/web/test_imports.py's DEALS): Alice's "Acme renewal", won on
2017-02-15 for "$12,500.00" → USD 12,500 of revenue won in 2017-02; Bob's "Globex pilot",
"Appointment Scheduled" → Engaging, open, USD 3,000.
"""

import threading

import pytest
from playwright.sync_api import expect

from kpis import jobs
from kpis.models import ImportMapping, Job, Opportunity
from tests.e2e.test_targets_flow import log_in
from tests.integration.conftest import celery_worker  # noqa: F401  (the fixture)
from tests.web.test_imports import DEALS, SUGGESTED, stages  # noqa: F401  (stages: the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Our field's label on the mapping page → the column of the file it should suggest.
LABELS = {
    "External id": "Record ID",
    "Name": "Deal Name",
    "Owner": "Deal owner",
    "Stage": "Deal Stage",
    "Amount": "Amount",
    "Created on": "Create Date",
    "Close date": "Close Date",
}


def choose_file(page, name="hubspot-deals.csv"):
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": DEALS.encode()}]
    )
    page.get_by_label("It holds").select_option("opportunities")


def test_an_admin_maps_previews_and_imports_a_hubspot_export_then_reimports_it(
    page,
    org,
    stages,  # noqa: F811
    screenshots,
):
    assert set(LABELS.values()) == set(SUGGESTED.values())
    log_in(page, "admin")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import from your CRM")).to_be_visible()
    choose_file(page)
    page.screenshot(path=screenshots / "import-1-upload.png", full_page=True)
    page.get_by_role("button", name="Next: map the columns").click()

    # Map: the columns were suggested from the header's names; the file was read as UTF-8.
    expect(page.get_by_role("heading", name="Map hubspot-deals.csv")).to_be_visible()
    expect(page.get_by_test_id("file-facts")).to_contain_text("Read as UTF-8; 2 rows, 7 columns")
    for label, column in LABELS.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(column)
    page.screenshot(path=screenshots / "import-2-map.png", full_page=True)

    # A first preview: neither of the file's stages is one of ours; each is offered for mapping.
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview — nothing saved yet")).to_be_visible()
    expect(page.get_by_test_id("row-errors")).to_contain_text("Appointment Scheduled")
    page.get_by_label("Stage “Closed Won”").select_option(label="Won")
    page.get_by_label("Stage “Appointment Scheduled”").select_option(label="Engaging")
    page.screenshot(path=screenshots / "import-3-map-values.png", full_page=True)

    # Preview again: both rows to create, no errors; the first rows as they would be saved.
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("counts")).to_have_text("2 to create, 0 to update, 0 unchanged, 0 refused.")
    expect(page.get_by_test_id("row-errors")).to_have_count(0)
    expect(page.get_by_test_id("preview-rows")).to_contain_text("Acme renewal")
    page.get_by_label("Save this mapping as").fill("HubSpot deals")
    expect(page.get_by_label("Rows with errors")).to_have_value("")  # all or nothing
    page.screenshot(path=screenshots / "import-4-preview.png", full_page=True)
    assert not Opportunity.objects.exists()

    # Import: a background job; without a broker it ran in the request, its page shows it done.
    page.get_by_role("button", name="Import").click()
    expect(
        page.get_by_role("heading", name="Imported; the KPI snapshots are being recomputed")
    ).to_be_visible()
    expect(page.get_by_test_id("result-counts")).to_have_text("2 created, 0 updated, 0 unchanged, 0 refused.")
    page.screenshot(path=screenshots / "import-5-job-done.png", full_page=True)
    assert ImportMapping.objects.get().name == "HubSpot deals"

    # The deal's figure where a manager reads it: Alice's revenue won in February 2017.
    page.goto(f"/drill/?scope=rep&subject={org.alice.pk}&metric=revenue_won&period=2017-02")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revenue won: USD 12,500")
    deal = page.get_by_role("row").filter(has_text="Acme renewal")
    expect(deal).to_contain_text("USD 12,500.00")
    expect(deal).to_contain_text("Won")
    page.screenshot(path=screenshots / "import-6-drill-down.png", full_page=True)

    # The same file again, with the saved mapping: every row unchanged, nothing written.
    page.goto("/ops/import/facts/")
    choose_file(page)
    page.get_by_role("combobox", name="Saved mapping").select_option(label="HubSpot deals (Opportunities)")
    page.get_by_role("button", name="Next: map the columns").click()
    expect(page.get_by_text("Columns from the saved mapping HubSpot deals.")).to_be_visible()
    expect(page.get_by_label("Stage “Appointment Scheduled”")).to_have_value(str(stages["engaging"].pk))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("counts")).to_have_text("0 to create, 0 to update, 2 unchanged, 0 refused.")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("result-counts")).to_have_text("0 created, 0 updated, 2 unchanged, 0 refused.")
    page.screenshot(path=screenshots / "import-7-reimport-unchanged.png", full_page=True)
    assert Opportunity.objects.count() == 2


@pytest.mark.integration
def test_with_a_worker_the_pages_follow_the_preview_and_the_import_until_they_end(
    page,
    org,
    stages,  # noqa: F811
    celery_worker,  # noqa: F811
    monkeypatch,
    screenshots,
):
    """With a broker the preview and the import each return at once and run on the worker; the
    mapping page and the job's page poll their status (static/js/app.js), show the step, and
    reload when the run ends. Each run waits at a gate until the page has shown it running."""
    gates = {"preview": threading.Event(), "import": threading.Event()}

    def held(name, real):
        def run(**kwargs):
            gates[name].wait(30)
            return real(**kwargs)

        return run

    monkeypatch.setattr(jobs, "preview_import", held("preview", jobs.preview_import))
    monkeypatch.setattr(jobs, "import_table", held("import", jobs.import_table))
    log_in(page, "admin")
    page.goto("/ops/import/facts/")
    choose_file(page)
    page.get_by_role("button", name="Next: map the columns").click()
    page.get_by_label("Save this mapping as").fill("HubSpot deals")
    try:
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("heading", name="Preview — checking every row")).to_be_visible()
        expect(page.locator("#job-progress .step")).to_have_text("checking every row")  # polled
        expect(page.locator("#job-progress .count")).to_have_text("0 of 2")
        page.screenshot(path=screenshots / "import-previewing.png", full_page=True)
        gates["preview"].set()
        expect(page.get_by_role("heading", name="Preview — nothing saved yet")).to_be_visible()
        counts = page.get_by_test_id("counts")
        expect(counts).to_have_text("0 to create, 0 to update, 0 unchanged, 2 refused.")
        expect(page.get_by_label("Save this mapping as")).to_have_value("HubSpot deals")

        page.get_by_label("Stage “Closed Won”").select_option(label="Won")
        page.get_by_label("Stage “Appointment Scheduled”").select_option(label="Engaging")
        page.get_by_role("button", name="Preview").click()
        expect(counts).to_have_text("2 to create, 0 to update, 0 unchanged, 0 refused.")

        page.get_by_role("button", name="Import").click()
        expect(page.locator("#job-progress .state")).to_have_text("running")  # polled
        assert not Opportunity.objects.exists()
        gates["import"].set()
        result = page.get_by_test_id("result-counts")
        expect(result).to_have_text("2 created, 0 updated, 0 unchanged, 0 refused.")
    finally:
        for gate in gates.values():
            gate.set()  # never leave the worker waiting
    job = Job.objects.get()  # the draft is gone: the import's job
    assert page.url.endswith(f"/ops/jobs/{job.pk}/") and job.state == "succeeded"
    assert len(celery_worker.task_ids) >= 3  # two previews and the import ran on the worker
    assert Opportunity.objects.count() == 2
