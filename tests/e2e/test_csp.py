"""Under the Content-Security-Policy (salesperf.csp) the pages still work in a real browser: the
inline SVG charts draw, the leaderboard's bars have their widths, static/js/app.js runs (a table
sorts), the API docs load, and the browser reports no violation on any of them."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_targets_flow import log_in
from tests.web.conftest import sales  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/dashboard/?period=2017-Q1",
    "/scorecard/{alice}/?period=2017-Q1",
    "/drill/?scope=rep&subject={alice}&metric=revenue_won&period=2017-Q1",
    "/targets/",
    "/targets/grid/",
    "/ops/import/facts/",
    "/admin/",
    "/api/docs/",
]


def test_the_pages_work_under_the_policy_and_break_none_of_it(page, sales):  # noqa: F811
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.on("pageerror", lambda e: violations.append(str(e)))
    log_in(page, "admin")

    for path in PAGES:
        response = page.goto(path.format(alice=sales.alice.pk))
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")

    expect(page.locator("#swagger-ui .info .title")).to_contain_text("salesperf API")  # the last page
    assert violations == []


def test_charts_bars_and_the_script_work_under_the_policy(page, sales):  # noqa: F811
    log_in(page, "admin")
    page.goto("/dashboard/?period=2017-Q1")

    expect(page.locator("svg.chart").first).to_be_visible()
    widths = [bar.bounding_box()["width"] for bar in page.locator(".leaders .bar-fill").all()]
    assert len(widths) == 3 and max(widths) > 2 * min(widths) > 0  # Alice's bar is the longest
    header = page.locator("table[data-sortable] thead th").first
    header.locator("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")  # the server sorted it ascending
