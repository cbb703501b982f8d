"""Browser tests: the system Chromium (Playwright, sync API) against a live server.

The live server is the real thing: `terrain serve` (gunicorn, two workers) on a free
port, over a database of its own, a copy of the template that `terrain db upgrade` and
`terrain seed-demo` built (`tests.support.demo_template`: SQLite file copy, or a
PostgreSQL database of its own with TEST_DATABASE_URL).

Chromium: Debian's headless shell (`chromium-headless-shell`) when installed, the full
browser (CHROMIUM_PATH, else `chromium` on the PATH) otherwise and for the test that
needs it (`full_chromium_path`: the back/forward cache). Without one the tests are skipped,
unless REQUIRE_BROWSER=1 (CI), which turns the skip into a failure. `playwright install`
is never needed: Chromium is always launched through its executable_path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.browser.helpers import (
    CHROMIUM_ARGS,
    LiveServer,
    find_chromium,
    new_phone_context,
    run_live_server,
)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


def _required(path: str | None) -> str:
    """`path`, or the session's skip (a failure under REQUIRE_BROWSER=1) without one."""
    if path is None:
        message = (
            "Chromium not found: set CHROMIUM_PATH or install Debian's chromium "
            "(apt-get install chromium); the browser tests drive the system Chromium."
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The headless shell when installed (tests.browser.helpers.find_chromium), else the
    full browser."""
    return _required(find_chromium())


@pytest.fixture(scope="session")
def full_chromium_path(chromium_path: str) -> str:
    """The full browser, for what the headless shell does not have (the back/forward
    cache)."""
    return _required(find_chromium(full=True))


@pytest.fixture(scope="session")
def playwright_driver(chromium_path: str) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright_driver: Playwright, chromium_path: str) -> Iterator[Browser]:
    """One headless Chromium for the whole session; each test gets its own context."""
    browser = playwright_driver.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def live_server_process(chromium_path: str) -> Iterator[LiveServer]:
    # Depends on chromium_path so that no server starts when the tests are skipped.
    with run_live_server("browser") as server:
        yield server


@pytest.fixture(scope="session")
def live_server(live_server_process: LiveServer) -> str:
    """The base URL of the live server shared by the tests of this folder."""
    return live_server_process.url


@pytest.fixture(scope="session")
def appointments_server(chromium_path: str) -> Iterator[LiveServer]:
    """A live site (`live_site("appts")`) shared by the modules about appointment
    settings, the desk and the platform administrator's pages (test_appointments_setup,
    test_desk_queue, test_referral_booking, test_cpas_orphans), started by the first of
    them that an xdist worker runs, instead of one site each: each adds its own places,
    services, agents and people (names tagged per module), which the others never look
    at, and none changes what the demo had. What they change stays away from the suite's
    shared site (`live_server`) and its modules."""
    with run_live_server("appts") as server:
        yield server


@pytest.fixture()
def context(chromium: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A fresh phone (360x740, 2x, touch, fr-BE): no cookies, no service worker yet."""
    context = new_phone_context(chromium, live_server)
    yield context
    context.close()


@pytest.fixture()
def page(context: BrowserContext) -> Page:
    return context.new_page()
