"""The manager's and the rep's tasks, done in Chromium step by step, with a screenshot of each
step in docs/screenshots/task-*.png (shown in the README).

Figures from tests/web/conftest.py's `sales` (deals close on the 15th): Alice won 10,000 in
2016-Q4 and 2,500 + 2,750 + 3,000 = 8,250 in 2017-Q1; Bob 1,000 a month; Carol (west) 2,000.
"Today" is 20 March 2017 where a task needs a running quarter: day 79 of Q1's 90.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from targets import alerts
from targets.models import Target
from targets.services import target_save
from tests.e2e.test_targets_flow import log_in
from tests.web.conftest import sales  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2017, 3, 20)


@pytest.fixture
def on_20_march_2017(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


def shot(page, screenshots, name):
    page.screenshot(path=screenshots / f"task-{name}.png", full_page=True)


def test_a_manager_sets_a_10_percent_over_last_quarter_revenue_target_for_a_rep(page, sales, screenshots):  # noqa: F811
    log_in(page, "east_manager")
    page.get_by_role("link", name="Targets", exact=True).click()
    page.get_by_role("link", name="New target").click()
    page.get_by_label("Subject").select_option(f"rep:{sales.alice.pk}")
    page.get_by_label("Metric").select_option("revenue_won")
    page.get_by_label("Period", exact=True).fill("2017-Q1")
    page.get_by_label("Relative to a baseline period").check()
    page.get_by_label("Baseline period", exact=True).fill("2016-Q4")
    page.get_by_label("Uplift %").fill("10")
    shot(page, screenshots, "1-relative-target-form")
    page.get_by_role("button", name="Save target").click()
    # 2016-Q4's 10,000 + 10%
    expect(page.get_by_role("status")).to_contain_text("2017-Q1 = USD 11,000")
    row = page.locator("tr", has_text="Alice")
    expect(row).to_contain_text("10% over 2016-Q4")
    shot(page, screenshots, "1-relative-target-saved")
    assert Target.objects.get(rep=sales.alice, period_kind="quarter").value == 11000


def test_a_manager_spreads_a_teams_year_target_to_reps_and_months(page, sales, screenshots):  # noqa: F811
    log_in(page, "east_manager")
    page.goto("/targets/new/")
    page.get_by_label("Subject").select_option(f"team:{sales.east.pk}")
    page.get_by_label("Metric").select_option("revenue_won")
    page.get_by_label("Period", exact=True).fill("2017")
    page.get_by_label("Value", exact=True).fill("120,000")
    page.get_by_role("button", name="Save target").click()
    expect(page.get_by_role("status")).to_contain_text("2017 = USD 120,000")
    page.locator("tr", has_text="East").get_by_role("link", name="Spread to reps × months…").click()
    page.get_by_label("How", exact=True).select_option("even")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_test_id("spread-preview")
    # 120,000 over 2 reps × 12 months: 5,000 a cell, 60,000 a rep
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview.locator("tbody tr").first).to_contain_text("USD 60,000")
    shot(page, screenshots, "2-spread-preview")
    page.get_by_role("button", name="Set these 24 targets").click()
    expect(page.get_by_role("status")).to_contain_text("24 rep × month targets set")
    page.goto(f"/targets/grid/?team={sales.east.pk}&metric=revenue_won&year=2017")
    expect(page.get_by_label("Alice, 2017-01")).to_have_value("5000")
    expect(page.get_by_test_id("year-check")).to_contain_text("adds up")
    shot(page, screenshots, "2-spread-grid")


def test_a_manager_fixes_a_bad_grid_cell(page, sales, screenshots):  # noqa: F811
    log_in(page, "east_manager")
    page.get_by_role("link", name="Grid").click()
    page.goto(f"/targets/grid/?team={sales.east.pk}&metric=revenue_won&year=2017")
    page.get_by_label("Alice, 2017-04").fill("12o0")
    page.get_by_label("Bob, 2017-04").fill("1,000")
    page.get_by_role("button", name="Save all cells").click()
    bad = page.get_by_label("Alice, 2017-04")
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").or_(page.locator(".msg-error"))).to_contain_text("Nothing was saved")
    shot(page, screenshots, "3-grid-bad-cell")
    assert not Target.objects.filter(period_start=dt.date(2017, 4, 1)).exists()
    bad.fill("1,200")
    page.get_by_role("button", name="Save all cells").click()
    expect(page.get_by_role("status")).to_contain_text("2 cell(s) changed")
    expect(page.get_by_test_id("column-totals")).to_contain_text("USD 2,200")
    shot(page, screenshots, "3-grid-fixed")


def test_a_manager_finds_who_is_behind_this_quarter_and_drills_into_their_deals(
    page,
    sales,  # noqa: F811
    screenshots,
    on_20_march_2017,
):
    for rep, value in [(sales.alice, "12000"), (sales.bob, "2500")]:
        target_save(
            user=sales.east_manager,
            scope="rep",
            subject_id=rep.pk,
            metric="revenue_won",
            period="2017-Q1",
            value=value,
        )
    log_in(page, "east_manager")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    # The current month, against February to the same day (20th)
    expect(page.get_by_role("heading", level=1)).to_contain_text("2017-03")
    expect(page.get_by_test_id("comparison")).to_contain_text("vs 2017-02 to 2017-02-20")
    shot(page, screenshots, "4-dashboard-month")
    page.get_by_role("link", name="Quarter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2017-Q1")
    behind = page.locator("ul.plain", has=page.locator(".status-behind"))
    # Alice: 8,250 against 12,000 × 79/90 = 10,533 expected: pace 78%, behind; Bob 3,000 of
    # 2,194 expected is on track.
    expect(behind).to_contain_text("Alice")
    expect(behind).to_contain_text("pace 78.3%")
    expect(behind).not_to_contain_text("Bob")
    shot(page, screenshots, "4-who-is-behind")
    behind.get_by_role("link", name="Alice").click()
    revenue = page.locator(".kpi", has=page.get_by_role("heading", name="Revenue won"))
    expect(revenue.locator(".badge")).to_have_text("Behind")
    revenue.locator(".value a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revenue won: USD 8,250")
    expect(page.locator("tbody tr")).to_have_count(3)
    shot(page, screenshots, "4-drill-deals")


def test_a_rep_reads_her_scorecard_and_an_alert(page, sales, screenshots, on_20_march_2017):  # noqa: F811
    target_save(
        user=sales.east_manager,
        scope="rep",
        subject_id=sales.alice.pk,
        metric="revenue_won",
        period="2017-Q1",
        value="12000",
    )
    assert alerts.check_targets(today=TODAY) == 2  # Alice and her manager
    log_in(page, "alice")
    expect(page).to_have_url(re.compile(r"/scorecard/$"))
    bell = page.get_by_test_id("bell")
    expect(bell).to_have_attribute("aria-label", "Notifications: 1 unread")
    expect(page.get_by_test_id("data-as-of")).to_contain_text("Data as of")
    shot(page, screenshots, "5-rep-scorecard")
    bell.click()
    alert = page.get_by_test_id("notifications").locator("li").first
    expect(alert).to_contain_text(
        "Alice is behind on revenue won for 2017-Q1: USD 8,250 of USD 12,000, USD 10,533 expected by now."
    )
    shot(page, screenshots, "5-rep-alert")
    alert.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2017-Q1")
    expect(page.get_by_test_id("bell")).to_have_attribute("aria-label", "Notifications: 0 unread")
    revenue = page.locator(".kpi", has=page.get_by_role("heading", name="Revenue won"))
    expect(revenue.get_by_test_id("attainment-revenue_won")).to_have_text("68.8%")
    shot(page, screenshots, "5-rep-alert-opened")
