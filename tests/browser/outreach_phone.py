"""The street educator's phone in the browser tests: its offline pages, its login, the form."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from tests.browser.helpers import login, new_phone_context, switch_to_english
from tests.browser.offline import PAGES_KEPT, controlled, eventually, outbox

OFFLINE_VIEWS = ("/outreach/", "/outreach/encounters/new", "/outreach/maraude", "/outreach/places/")
# What the service worker keeps for a street educator: the outreach views and the sync page.
OFFLINE_PAGES = (*OFFLINE_VIEWS, "/sync")


def user_id(page: Page) -> str:
    """The id of the user the page is for (its terrain-user meta)."""
    return page.locator('meta[name="terrain-user"]').get_attribute("content") or ""


def ready_for_offline(page: Page) -> None:
    """The worker controls the page and keeps this user's offline pages."""
    controlled(page)
    eventually(page, PAGES_KEPT, list(OFFLINE_PAGES))


def log_in(page: Page, username: str) -> None:
    """Log in, then wait until the phone keeps this user's offline pages."""
    # Waiting also keeps the test's next page from racing the worker's own downloads of
    # those pages on the live server.
    login(page, username)
    ready_for_offline(page)


class Phones:
    """Phones logged in through the form, each user's own, kept from one test to the next."""

    # A login and the worker's set-up per user, not per test. `of(username)` gives the
    # user's phone and its page; after each test (`tidy`), a phone left online, logged in
    # as its user, with an empty outbox and its pages kept serves the next test; any
    # other is closed (the next one logs in anew).

    def __init__(
        self,
        chromium: Browser,
        base_url: str,
        login: Callable[[Page, str], None] | None = None,
        **options: Any,
    ) -> None:
        self.chromium, self.base_url, self.options = chromium, base_url, options
        self.login = login or log_in
        self.kept: dict[str, tuple[BrowserContext, Page]] = {}
        self.used: set[str] = set()

    def of(self, username: str) -> tuple[BrowserContext, Page]:
        if username not in self.kept:
            context = new_phone_context(self.chromium, self.base_url, **self.options)
            page = context.new_page()
            self.kept[username] = (context, page)
            self.used.add(username)
            self.login(page, username)
        self.used.add(username)
        return self.kept[username]

    def tidy(self) -> None:
        for username in self.used:
            context, page = self.kept.pop(username)
            if self._reusable(context, page, username):
                self.kept[username] = (context, page)
            else:
                context.close()
        self.used.clear()

    def _reusable(self, context: BrowserContext, page: Page, username: str) -> bool:
        try:
            context.unroute_all(behavior="ignoreErrors")
            context.clear_permissions()  # back to the phone's own (a test may grant more)
            if self.options.get("permissions"):
                context.grant_permissions(self.options["permissions"])
            context.set_offline(False)
            for other in context.pages:
                if other != page:
                    other.close()
            page.wait_for_load_state()
            me = page.request.get("/api/me")
            return (
                me.ok
                and me.json()["username"] == username
                and outbox(page)["ops"] == []
                and page.evaluate(PAGES_KEPT, list(OFFLINE_PAGES))
            )
        except PlaywrightError:
            return False

    def close(self) -> None:
        for context, _ in self.kept.values():
            context.close()
        self.kept.clear()


def phones_fixture(
    server_fixture: str | None = None,
    login: Callable[[Page, str], None] | None = None,
    **options: Any,
):
    """Fixtures giving `Phones` on the live server `server_fixture` (default: the shared one)."""
    # Kept for the module, tidied after each test.

    @pytest.fixture(scope="module")
    def kept_phones(request: pytest.FixtureRequest, chromium: Browser) -> Iterator[Phones]:
        server = request.getfixturevalue(server_fixture or "live_server")
        phones = Phones(
            chromium, server if isinstance(server, str) else server.url, login, **options
        )
        yield phones
        phones.close()

    @pytest.fixture()
    def phones(kept_phones: Phones) -> Iterator[Phones]:
        yield kept_phones
        kept_phones.tidy()

    return kept_phones, phones


def english(page: Page, username: str) -> None:
    """Log in (the offline pages kept), in English."""
    log_in(page, username)
    switch_to_english(page)
    # The kept pages are the French ones: take the English ones while online.
    for path in OFFLINE_VIEWS:
        page.goto(path)


def indicator(page: Page):
    """The header's sync status."""
    return page.locator("[data-sync-status]")


def form(page: Page):
    """The page's form saved on the phone (an offline op)."""
    return page.locator("form[data-offline-op]")


def save(page: Page) -> None:
    """Submit the offline form."""
    form(page).locator("button[type=submit]").click()
