"""A manager's task in Chromium: from the team's dashboard, open the pipeline waterfall of a
quarter, choose "Pushed out" and see the deal that was pushed (tests/waterfall_deals.py's
hand-worked 2025-Q4: Alice's "Pushed", 2,000, expected close moved from 12-15 to 2026-02-15).
Screenshots: docs/screenshots/task-6-waterfall*.png (the README shows them)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_targets_flow import log_in
from tests.waterfall_deals import quarter_deals

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_opens_the_teams_waterfall_and_sees_the_deal_pushed_out(page, org, screenshots):
    quarter_deals(org)
    log_in(page, "east_manager")
    page.goto(f"/dashboard/?team={org.east.pk}&period=2025-Q4")
    page.get_by_role("link", name="Pipeline waterfall: what moved in 2025-Q4").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pipeline waterfall East · 2025-Q4")
    legend = page.get_by_test_id("legend")
    expect(legend.locator("tr", has_text="Opening")).to_contain_text("USD 22,000.00")
    expect(legend.locator("tr", has_text="Closing")).to_contain_text("USD 20,000.00")
    page.screenshot(path=screenshots / "task-6-waterfall.png", full_page=True)

    legend.get_by_role("link", name="Pushed out").click()
    deals = page.get_by_test_id("deals")
    expect(deals.get_by_role("heading")).to_have_text("Pushed out: 1 deal, USD 2,000.00")
    expect(deals.locator("tbody tr")).to_have_count(1)
    expect(deals.locator("tbody tr")).to_contain_text("Pushed")
    expect(deals.locator("tbody tr")).to_contain_text("Alice")
    page.screenshot(path=screenshots / "task-6-waterfall-pushed-out.png", full_page=True)

    # The chart's bars lead to their deals too: the Lost bar (the 8th row) to Bob's lost deal.
    page.locator("svg.waterfall a").nth(7).click()
    expect(deals.get_by_role("heading")).to_have_text("Lost: 1 deal, USD 5,000.00")
    expect(deals.locator("tbody tr")).to_contain_text("Grown-lost")


def test_the_waterfall_reads_on_a_phone(browser, live_server, org, screenshots):
    quarter_deals(org)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, "east_manager")
    page.goto(f"/pipeline/waterfall/?scope=team&subject={org.east.pk}&period=2025-Q4")
    chart = page.locator("svg.waterfall")
    expect(chart).to_be_visible()
    # Nothing wider than the screen, and each row's name and amount drawn at a readable size
    # (a box 12 px high: text of about 11 px, the smallest the rest of the site shows on a phone).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sizes = chart.locator("a text").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert len(sizes) == 2 * 9 and min(sizes) >= 12, sizes
    page.screenshot(path=screenshots / "task-6-waterfall-phone.png", full_page=True)
    context.close()
