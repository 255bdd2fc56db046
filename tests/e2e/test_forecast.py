"""A manager's forecast call, done in Chromium: she opens the forecast page, sees her reps side by
side with the team's total, submits the team's number as the roll-up with an adjustment, and the
page shows it (screenshots in docs/screenshots/task-forecast-*.png).

Figures: tests/targets/forecast_book.py. Alice submitted 3,500; Bob nothing, so his commit 2,000
counts: the roll-up is 5,500, and the manager takes 500 off.
"""

import pytest
from playwright.sync_api import expect

from targets.services import forecast_submit
from tests.e2e.test_targets_flow import log_in
from tests.targets.forecast_book import make_book

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_submits_the_teams_forecast_over_her_reps_roll_up(page, org, screenshots):
    book = make_book(org)
    forecast_submit(
        user=org.alice.user, scope="rep", subject_id=org.alice.pk, period=book.quarter, amount="3500"
    )

    log_in(page, "east_manager")
    page.get_by_role("link", name="Forecast", exact=True).click()  # her team, this quarter
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"East · {book.quarter.label}")
    alice, bob, east = (page.get_by_test_id(f"line-{s}") for s in lines(org))
    expect(alice.get_by_test_id("submission")).to_contain_text("USD 3,500")
    expect(bob.get_by_test_id("commit")).to_have_text("USD 2,000")
    expect(east.get_by_test_id("commit")).to_have_text("USD 5,000")
    expect(page.get_by_test_id("rollup")).to_have_text("USD 5,500")
    page.screenshot(path=screenshots / "task-forecast-1-roll-up.png", full_page=True)

    page.get_by_label("Adjustment over the roll-up").fill("-500")
    page.get_by_role("button", name="Submit commit").click()

    expect(page.get_by_role("status")).to_contain_text("USD 5,000.00")
    team = east.get_by_test_id("submission")
    expect(team).to_contain_text("USD 5,000")
    expect(team).to_contain_text("roll-up USD 5,500 − USD 500")
    expect(team).to_contain_text("east_manager")
    page.screenshot(path=screenshots / "task-forecast-2-submitted.png", full_page=True)


def lines(org):
    return [f"rep-{org.alice.pk}", f"rep-{org.bob.pk}", f"team-{org.east.pk}"]
