"""The broken basics in a real browser (issue 18): each test failed before its fix."""

from itertools import pairwise

import pytest
from playwright.sync_api import expect

from targets.services import target_save
from tests.e2e.test_targets_flow import log_in
from tests.web.conftest import sales  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_value_relative_toggle_shows_one_set_of_fields(page, sales):  # noqa: F811
    log_in(page, "east_manager")
    page.goto("/targets/new/")
    value, baseline = page.get_by_label("Value", exact=True), page.get_by_label("Baseline period", exact=True)
    # `.stacked .field { display: flex }` beat `hidden`: both sets showed
    expect(value).to_be_visible()
    expect(baseline).to_be_hidden()
    page.get_by_label("Relative to a baseline period").check()
    expect(baseline).to_be_visible()
    expect(value).to_be_hidden()


def test_the_targets_list_fits_a_phone(browser, live_server, sales):  # noqa: F811
    for rep in (sales.alice, sales.bob):
        target_save(
            user=sales.admin,
            scope="rep",
            subject_id=rep.pk,
            metric="revenue_won",
            period="2017-Q1",
            value="9000",
        )
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, "east_manager")
    page.goto("/targets/")
    # the page itself does not scroll sideways (a wide table scrolls inside its own box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_chart_labels_are_readable_on_a_phone(browser, live_server, sales):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, "east_manager")
    page.goto(f"/dashboard/?team={sales.east.pk}&period=2017-03")
    labels = page.locator(".chart").first.locator("text.period:visible")
    expect(labels.first).to_be_visible()
    # the 640-unit chart drawn 350 px wide made 10-unit labels about 5 px high
    heights = [box["height"] for box in (label.bounding_box() for label in labels.all())]
    assert min(heights) >= 11, heights
    # and the visible ones do not overlap
    boxes = sorted((label.bounding_box() for label in labels.all()), key=lambda b: b["x"])
    assert all(a["x"] + a["width"] <= b["x"] for a, b in pairwise(boxes))
    ticks = page.locator(".chart text.tick")
    expect(ticks.first).to_be_visible()
    context.close()
