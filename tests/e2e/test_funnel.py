"""A manager opens the stage funnel from the dashboard and reads a conversion, in Chromium; the
same page on a 390 px phone. Screenshots: docs/screenshots/task-6-*.png.

The deals are tests/kpis/test_funnel.py's, worked out there by hand: East opened 6 deals in
2017-Q1; 5 reached Engaging, 83.3 % of the 6 that reached Prospecting. "Today" is 31 March 2017.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_targets_flow import log_in
from tests.kpis.test_funnel import TODAY, with_deals

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def funnel_deals(org, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return with_deals(org)


def test_a_manager_opens_the_funnel_from_the_dashboard_and_reads_a_rate(page, funnel_deals, screenshots):
    log_in(page, "east_manager")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    page.get_by_role("link", name="Quarter").click()
    page.get_by_role("link", name="Stage funnel of the deals opened in 2017-Q1").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Stage funnel East · 2017-Q1")
    engaging = page.get_by_test_id("funnel-steps").locator("tr", has_text="Engaging")
    expect(engaging).to_contain_text("5")
    expect(engaging).to_contain_text("83.3%")
    expect(page.get_by_role("img", name="Stage funnel of East, deals opened in 2017-Q1")).to_be_visible()
    expect(page.get_by_test_id("slips")).to_contain_text("2 of these deals slipped")
    page.screenshot(path=screenshots / "task-6-funnel.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    # Nothing wider than the phone: the page does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshots / "task-6-funnel-phone.png", full_page=True)
