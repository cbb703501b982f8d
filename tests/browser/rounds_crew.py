"""The crew's phone in the browser tests: « Ma tournée » opened and kept for offline use."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.helpers import login, service_worker_ready
from tests.browser.offline import PAGES_KEPT, controlled, eventually

PAGE = "/tournees/ma-tournee"


def open_kept_crew_page(page: Page) -> None:
    """The crew member logs in and opens « Ma tournée », kept by the worker for offline use."""
    login(page, "mobile1")
    service_worker_ready(page)
    page.goto(PAGE)
    controlled(page)
    eventually(page, PAGES_KEPT, [PAGE])
