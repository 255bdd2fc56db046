"""The admin's CRM upload in a real browser (issue 18's last basic): the upload is a background
job whose page shows its result and the rows it refused; a preview imports the same files on a
click. Without a broker (as here) the job runs inside the request, and the page shows it done."""

import pytest
from playwright.sync_api import expect

from kpis.models import Opportunity
from tests.e2e.test_targets_flow import log_in
from tests.web.test_crm_import import FILES

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_previews_a_crm_upload_then_imports_the_same_files(page, org):
    log_in(page, "admin")
    page.goto("/ops/import/crm/")
    for name, text in FILES.items():
        page.get_by_label(name).set_input_files(
            files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}]
        )
    expect(page.get_by_label("Preview only (check every row, save nothing)")).to_be_checked()
    page.get_by_role("button", name="Go").click()

    expect(page.get_by_role("heading", name="Preview — nothing saved")).to_be_visible()
    expect(
        page.get_by_text("sales_pipeline.csv, line 3: sales_agent: unknown owner 'Nobody'")
    ).to_be_visible()
    assert not Opportunity.objects.exists()

    page.get_by_role("button", name="Import these files").click()
    expect(
        page.get_by_role("heading", name="Imported; the KPI snapshots are being recomputed")
    ).to_be_visible()
    expect(page.get_by_text("1 opportunities")).to_be_visible()
    assert Opportunity.objects.get().external_id == "A1"
