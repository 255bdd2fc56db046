"""A manager sets a relative quarterly target, spreads it over months, and the rep sees it.

Hand-worked (tests/web/conftest.py's `sales`): Alice won 10,000 in 2016-Q4 and 8,250 in 2017-Q1.
A 2017-Q1 target of 2016-Q4 + 10% is 11,000; spread evenly it is 3,666.67 for January and
February and 3,666.66 for March (cents that add up, the left-over cent to the first months);
8,250 / 11,000 is 75% attainment, and with the quarter over: missed.
"""

import re

import pytest
from playwright.sync_api import expect

from targets.models import Target
from tests.web.conftest import sales  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_a_manager_sets_a_relative_target_and_the_rep_sees_it(page, sales, screenshots):  # noqa: F811
    alice = sales.alice

    log_in(page, "east_manager")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    # A relative quarterly target: 2017-Q1 = 2016-Q4 actual + 10%.
    page.get_by_role("link", name="Targets", exact=True).click()
    page.get_by_role("link", name="New target").click()
    page.get_by_label("Subject").select_option(f"rep:{alice.pk}")
    page.get_by_label("Metric").select_option("revenue_won")
    page.get_by_label("Period", exact=True).fill("2017-Q1")
    page.get_by_label("Relative to a baseline period").check()
    page.get_by_label("Baseline period", exact=True).fill("2016-Q4")
    page.get_by_label("Uplift %").fill("10")
    page.get_by_role("button", name="Save target").click()
    expect(page.get_by_role("status")).to_contain_text("2017-Q1 = USD 11,000")

    # Spread it over the quarter's months.
    page.goto("/targets/?period=2017-Q1")
    page.get_by_role("button", name="Spread over months").click()
    expect(page.get_by_role("status")).to_contain_text("Spread over 3 months")

    # The grid shows the months; fill Bob's and save them all at once.
    page.goto(f"/targets/grid/?team={sales.east.pk}&metric=revenue_won&year=2017")
    expect(page.get_by_label("Alice, 2017-01")).to_have_value("3666.67")
    expect(page.get_by_label("Alice, 2017-02")).to_have_value("3666.67")
    expect(page.get_by_label("Alice, 2017-03")).to_have_value("3666.66")
    for month in ("2017-01", "2017-02", "2017-03"):
        page.get_by_label(f"Bob, {month}").fill("1100")
    page.get_by_role("button", name="Save all cells").click()
    expect(page.get_by_role("status")).to_contain_text("3 cell(s) changed")

    page.goto("/dashboard/?period=2017-Q1")
    expect(page.get_by_role("heading", name="Who is behind")).to_be_visible()
    page.screenshot(path=screenshots / "dashboard.png", full_page=True)
    log_out(page)

    # Alice lands on her scorecard and switches to the quarter.
    log_in(page, "alice")
    expect(page).to_have_url(re.compile(r"/scorecard/$"))
    page.get_by_role("link", name="Quarter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2017-Q1")
    revenue = page.locator(".kpi", has=page.get_by_role("heading", name="Revenue won"))
    expect(revenue.locator(".value")).to_have_text("USD 8,250")
    expect(revenue).to_contain_text("USD 11,000")
    expect(revenue.get_by_test_id("attainment-revenue_won")).to_have_text("75%")
    expect(revenue.locator(".badge")).to_have_text("Missed")
    page.screenshot(path=screenshots / "scorecard.png", full_page=True)

    # And the figure leads to the deals behind it.
    revenue.locator(".value a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revenue won: USD 8,250")
    expect(page.locator("tbody tr")).to_have_count(3)

    # On a phone, the scorecard still reads.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/scorecard/?period=2017-Q1")
    page.screenshot(path=screenshots / "scorecard-phone.png", full_page=True)

    target = Target.objects.get(scope="rep", rep=alice, period_kind="quarter")
    assert target.is_relative and target.value == 11000
