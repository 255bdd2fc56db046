"""Browser tests: Playwright (the PyPI package, which bundles its driver) driving Debian's
Chromium headless against pytest-django's live_server.

Without /usr/bin/chromium these tests skip; with SALESPERF_REQUIRE_SERVICES=1 (CI, whose
.ci/run installs it) they fail instead. Playwright's own browser download is never used.
"""

import os
from pathlib import Path

import pytest

from tests.services import services_required

CHROMIUM = Path(os.environ.get("SALESPERF_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if services_required():
            pytest.fail(f"SALESPERF_REQUIRE_SERVICES=1 and {message}.", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django then refuses ORM
    # calls from it (test setup, the database's creation); they are synchronous all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context per test."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
