"""Helpers of the browser tests: the live server, the phone context, login, axe, texts."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from functools import cache
from pathlib import Path
from typing import Any

import axe_playwright_python
import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from core import clock
from core.db import make_engine, make_session_factory
from tests import zygote
from tests.support import (
    clock_env,
    clock_template,
    demo_template,
    own_database,
    terrain_env,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = PROJECT_ROOT / "translations"

# Headless, as root, and never reaching out to Google (there is no network here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
VIEWPORT = {"width": 360, "height": 740}
# A mid-range Android phone, in French (the app's default language).
PHONE: dict[str, Any] = {
    "viewport": VIEWPORT,
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-BE",
    "service_workers": "allow",
}
DEMO_PASSWORD = "demo"
STARTUP_TIMEOUT = 30.0
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


# --- Chromium -------------------------------------------------------------------------


def find_chromium(*, full: bool = False) -> str | None:
    """The Chromium the browser tests drive; None when there is none.

    The full browser: CHROMIUM_PATH, else `chromium` on the PATH, else Debian's
    /usr/bin/chromium. Unless `full`, Debian's old headless shell comes first
    (HEADLESS_SHELL_PATH, else `chromium-headless-shell` on the PATH: the same Blink,
    V8 and service workers without the browser's interface, what Playwright itself runs
    headless; the browser tests take about a third less time with it), then the full
    browser. A path given that names no executable counts as none (no silent fallback).
    """
    browser = _executable_or_none(
        [os.environ["CHROMIUM_PATH"]]
        if os.environ.get("CHROMIUM_PATH")
        else [shutil.which("chromium"), "/usr/bin/chromium"]
    )
    if full:
        return browser
    if os.environ.get("HEADLESS_SHELL_PATH"):
        return _executable_or_none([os.environ["HEADLESS_SHELL_PATH"]])
    if os.environ.get("CHROMIUM_PATH"):
        return browser  # the browser asked for, by its path
    return _executable_or_none([shutil.which("chromium-headless-shell")]) or browser


def _executable_or_none(candidates: list[str | None]) -> str | None:
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def new_phone_context(browser: Browser, base_url: str, **overrides: Any) -> BrowserContext:
    context = browser.new_context(base_url=base_url, **{**PHONE, **overrides})
    context.set_default_timeout(10_000)
    install_clock(context, base_url)
    return context


# The clock offset of each live server by base URL, so that a browser context opened on
# it gets the same time in its pages' `Date` (the suite's --clock, or a module's own).
_SITE_CLOCKS: dict[str, timedelta] = {}


def install_clock(context: BrowserContext, base_url: str) -> None:
    """Give the pages of `context` the clock of the server at `base_url` (it ticks on),
    when that clock is moved; the wall clock needs nothing."""
    offset = _SITE_CLOCKS.get(base_url.rstrip("/"), clock.offset())
    if offset:
        context.clock.install(time=datetime.now(UTC) + offset)


# --- Live server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    process: zygote.Forked | subprocess.Popen  # gunicorn's master
    log_path: Path
    database_url: str = ""  # the database it serves, for tests that read it directly
    clock_offset: timedelta = field(default_factory=timedelta)  # its clock's, see now()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def now(self) -> datetime:
        """What the server's clock reads now (the suite's, or its module's own)."""
        return datetime.now(UTC) + self.clock_offset

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop gunicorn and its workers (their own process group); idempotent.

        At the end of their tests nothing is left to finish and the database goes next:
        the group is killed at once (kill()), where a graceful stop (SIGTERM) spent
        seconds per server waiting for the workers to wind down."""
        if self.process.poll() is not None:
            return
        self.kill()

    def kill(self) -> None:
        """SIGKILL gunicorn and every worker at once, as a power cut would; idempotent.

        Nothing gets to finish: requests in flight lose their connection and open
        transactions are rolled back by the database.
        """
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with suppress(ProcessLookupError):  # one killed before it made its group
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        # Killed workers are reaped by init; wait until none still holds the port.
        deadline = time.monotonic() + 10
        while _group_alive(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling interval while the kernel tears the workers down


def _group_alive(group: int) -> bool:
    """Whether a process of process group `group` is still running (zombies excluded)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[2] == str(group) and fields[0] != "Z":  # state, ppid, pgrp
            return True
    return False


def _wait_healthy(server: LiveServer) -> str | None:
    """None once the server answers /healthz with 200, else what went wrong (stopped)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            last_error = f"the server exited with code {server.process.returncode}"
            break
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return None
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.1)  # polling interval while gunicorn boots
    server.stop()
    return last_error


@dataclass
class LiveSite:
    """A migrated database holding the demo data, and the instance folder and
    environment to serve it with; a server can be started on it again after a crash."""

    database_url: str
    instance: Path
    env: dict[str, str]

    @property
    def clock_offset(self) -> timedelta:
        """How far the site's clock is moved (TERRAIN_CLOCK_START/_ANCHOR of its env)."""
        start, anchor = self.env.get("TERRAIN_CLOCK_START"), self.env.get("TERRAIN_CLOCK_ANCHOR")
        if not start or not anchor:
            return timedelta(0)
        return datetime.fromisoformat(start) - datetime.fromisoformat(anchor)

    def start(self, port: int | None = None, workers: int = 2) -> LiveServer:
        """`terrain serve` on this site (a free port unless `port`), once /healthz answers.

        A free port is one the kernel has just handed out; another process (an xdist
        worker starting a server too) may take it before gunicorn binds it: then
        another port is tried."""
        for _ in range(5):
            server = self._launch(port or _free_port(), workers)
            error = _wait_healthy(server)
            if error is None:
                _SITE_CLOCKS[server.url] = server.clock_offset
                return server
            if port is not None or "Address already in use" not in server.output():
                break
        pytest.fail(
            f"the live server did not answer /healthz with 200 within {STARTUP_TIMEOUT:.0f} s "
            f"({error}); its output:\n{server.output()}",
            pytrace=False,
        )

    def _launch(self, port: int, workers: int) -> LiveServer:
        # Forked from the zygote that imported the app once (tests.zygote), in a
        # process group of its own, stopped as a whole; a restart appends to the log.
        args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        log_path = self.instance / "server.log"
        process = zygote.start(args, self.env, PROJECT_ROOT, log_path, new_session=True)
        return LiveServer(
            url=f"http://127.0.0.1:{port}",
            process=process,
            log_path=log_path,
            database_url=self.database_url,
            clock_offset=self.clock_offset,
        )


@contextmanager
def live_site(
    tag: str, clock_start: datetime | None = None, *, seed_on_clock: bool = True
) -> Iterator[LiveSite]:
    """A database of its own holding the demo data, and an instance folder; both removed
    afterwards. The database is a copy of the run's template (`terrain db upgrade` and
    `terrain seed-demo`, once: tests.support.demo_template) on the suite's clock; a site
    on a clock of its own (`clock_start`) is a copy of the run's template seeded on that
    clock (tests.support.clock_template: seeded once per run and clock, whichever module
    asks first), its clock going on from where the seed left it (seconds after
    `clock_start`); unless `seed_on_clock` is False: then it is a copy of the demo
    template (seeded on the suite's clock), served on that clock, for tests that bring
    their own dated data and only need the demo's accounts, teams and places."""
    with ExitStack() as stack:
        instance = stack.enter_context(
            tempfile.TemporaryDirectory(prefix=f"terrain-{tag}-instance-")
        )
        if clock_start is None:
            database_url = stack.enter_context(own_database(tag, template=demo_template()))
            env = terrain_env(database_url, instance)
        elif not seed_on_clock:
            database_url = stack.enter_context(own_database(tag, template=demo_template()))
            env = {**terrain_env(database_url, instance), **clock_env(clock_start)}
        else:
            template, seeded_at = clock_template(clock_start)
            database_url = stack.enter_context(own_database(tag, template=template))
            env = {**terrain_env(database_url, instance), **clock_env(seeded_at)}
        yield LiveSite(database_url=database_url, instance=Path(instance), env=env)


@contextmanager
def run_live_server(
    tag: str, clock_start: datetime | None = None, *, seed_on_clock: bool = True, **env: str
) -> Iterator[LiveServer]:
    """Migrate and seed a fresh database, then serve it with gunicorn until the end;
    `env` adds to the server's environment (TWILIO_AUTH_TOKEN…); `clock_start` and
    `seed_on_clock` as in live_site."""
    with live_site(tag, clock_start, seed_on_clock=seed_on_clock) as site:
        site.env.update(env)
        server = site.start()
        try:
            yield server
        finally:
            server.stop()


def open_everywhere(day: date) -> bool:
    """Whether every CPAS is open on `day` by default, whatever its region and regime
    (no federal, regional, community or administration holiday closes it)."""
    from core.organisations import REGIMES, REGIONS, default_holidays

    return not any(
        holiday.closed and holiday.day == day
        for region in REGIONS
        for regime in REGIMES
        for holiday in default_holidays(region, regime, day.year)
    )


def live_server_fixture(
    tag: str,
    clock_at: time_of_day | None = None,
    *,
    working_day: bool = False,
    seed_on_clock: bool = True,
    **env: str,
) -> Callable[..., Iterator[LiveServer]]:
    """A module-scoped fixture serving a live site of its own (`live_site(tag)`): give
    each module its own tag, so that what its tests change stays away from the others.
    With `clock_at`, the site's clock starts at that time of day (Brussels) of the
    suite's current day, for tests about a given time of day, whatever --clock says;
    with `working_day`, of the first day from then on that no CPAS closes on by default
    (`open_everywhere`: appointments have none on a closed day; --clock=dst in 2027 falls
    on Easter Sunday, a suite run on 2 November on a day the administrations close);
    `seed_on_clock` as in live_site.

        files_server = live_server_fixture("ofiles")
    """

    @pytest.fixture(scope="module")
    def server(chromium_path: str) -> Iterator[LiveServer]:
        # Depends on chromium_path so that no server starts when the tests are skipped.
        start = None
        if clock_at is not None:
            today = clock.to_local(clock.now()).date()
            while working_day and not open_everywhere(today):
                today += timedelta(days=1)
            start = datetime.combine(today, clock_at, clock.BRUSSELS)
        with run_live_server(tag, start, seed_on_clock=seed_on_clock, **env) as running:
            yield running

    return server


# The clock of the home-care modules' sites (test_homecare_*): 14:00 of the suite's day, or
# of the next working day. One clock for all of them: their sites are copies of one
# template, seeded once per run on that clock (tests.support.clock_template); each module
# still has a site of its own, so what its tests change stays away from the others.
HOMECARE_CLOCK: dict[str, Any] = {"clock_at": time_of_day(14), "working_day": True}


def live_sessions_fixture(server_fixture: str) -> Callable[..., Iterator[sessionmaker[Session]]]:
    """A module-scoped fixture of sessions on the database of the live server that the
    fixture named `server_fixture` serves, as the scheduler opens them.

        sessions = live_sessions_fixture("files_server")
    """

    @pytest.fixture(scope="module")
    def sessions(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
        server: LiveServer = request.getfixturevalue(server_fixture)
        engine = make_engine(server.database_url)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()

    return sessions


# The clock of a module whose tests make "today's" data on a site of their own and
# then open it: noon of a working day, far from midnight (test_rounds_crew,
# test_rounds_follow), on a copy of the demo template.
NOON: dict[str, Any] = {"clock_at": time_of_day(12), "working_day": True, "seed_on_clock": False}


def folder_site_fixture(server_fixture: str) -> Callable[..., str]:
    """A module-scoped `live_server`, the base URL the folder's `context` and `page` open
    on: the site that the fixture named `server_fixture` serves, instead of the folder's.

        live_server = folder_site_fixture("crew_server")
    """

    @pytest.fixture(scope="module")
    def live_server(request: pytest.FixtureRequest) -> str:
        server: LiveServer = request.getfixturevalue(server_fixture)
        return server.url

    return live_server


# --- In the page ----------------------------------------------------------------------


def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form at /login; returns once the next page has loaded."""
    page.goto("/login")
    form = page.locator("form[action^='/login']")
    form.locator("[name=username]").fill(username)
    form.locator("[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def switch_to_english(page: Page) -> None:
    """The language switch of the page's menu to English, unless already; the user's
    profile keeps it for the next login."""
    if page.locator("html").get_attribute("lang") != "en":
        with page.expect_navigation():
            page.locator("form.lang-switch button[name=language][value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def log_in(page: Page, username: str) -> None:
    """Log in through the form, then switch to English (the msgids do not change, the
    French and Dutch wording may)."""
    login(page, username)
    switch_to_english(page)


def open_from_menu(page: Page, href: str) -> None:
    """Open a menu entry as a user would: from the bar, or through "More" on a phone
    whose bar has no room for it (web/nav.py)."""
    entry = page.locator(f"nav.appnav a[href='{href}']")
    if entry.is_visible():
        entry.click()
    else:
        page.locator("nav.appnav a[href='/menu']").click()
        # The menu page first (a boosted swap): a link of the page being left may carry
        # the same address and vanish under the click.
        expect(page).to_have_url(re.compile(r"/menu$"))
        page.locator(f"main a[href='{href}']").click()
    expect(page).to_have_url(re.compile(re.escape(href) + r"(\?.*)?$"))


def new_page(
    chromium: Browser,
    server: LiveServer,
    viewport: dict,
    *,
    watch_csp: bool = False,
    storage_state: dict | None = None,
) -> Iterator[Page]:
    """A page in a context of its own at `viewport` (a phone's at VIEWPORT, else a
    desktop's), closed afterwards: `yield from new_page(...)` in a fixture. With
    `watch_csp`, the console's Content-Security-Policy complaints are kept in
    `page.csp_errors`, which check_page requires to be empty. With `storage_state`
    (another context's `storage_state()`), it starts with that context's cookies: logged
    in as its user, without the login form again."""
    extra: dict[str, Any] = {} if storage_state is None else {"storage_state": storage_state}
    context = new_phone_context(
        chromium, server.url, viewport=viewport, is_mobile=viewport == VIEWPORT, **extra
    )
    try:
        page = context.new_page()
        if watch_csp:
            page.csp_errors = []  # type: ignore[attr-defined]
            page.on(
                "console",
                lambda message: (
                    "Content Security Policy" in message.text
                    and page.csp_errors.append(message.text)
                ),  # type: ignore[attr-defined]
            )
        yield page
    finally:
        context.close()


def logged_in_page(
    chromium: Browser, server: LiveServer, viewport: dict, username: str
) -> Iterator[Page]:
    """new_page(watch_csp=True) logged in as `username` through the form and switched to
    English (log_in), left on the page the login leads to: `yield from` it in a
    module-scoped fixture, so that the module's tests by that user on that screen share
    one context and one login (for tests that do not test the login itself and do not
    log out); fresh_start() at the start of each test."""
    pages = new_page(chromium, server, viewport, watch_csp=True)
    page = next(pages)
    try:
        log_in(page, username)
        yield page
    finally:
        pages.close()


def fresh_start(page: Page, at: str | None = None) -> Page:
    """A page of logged_in_page() at the start of a test: the CSP complaints of the tests
    before it forgotten (each test checks its own pages); opened `at` that address first
    when given (the home page "/": where a login leads)."""
    if at is not None:
        page.goto(at)
    page.csp_errors.clear()  # type: ignore[attr-defined]
    return page


def assert_accessible(page: Page) -> None:
    """axe-core (WCAG 2.0-2.2 A/AA and best practices): no serious or critical violation.

    axe is injected with page.evaluate (DevTools protocol), which the page's
    Content-Security-Policy (script-src 'self') does not govern: no bypass_csp needed.
    """
    # Injected once per document: a check after an htmx swap (the same document, nearly
    # half of the suite's checks) reuses the copy the first check left; axe.run reads
    # the DOM afresh each time.
    if not page.evaluate("() => typeof window.axe?.run === 'function'"):
        page.evaluate(AXE_SOURCE)
    results = page.evaluate(
        """tags => axe.run(document, {
            runOnly: {type: "tag", values: tags},
            resultTypes: ["violations"],
        })""",
        AXE_TAGS,
    )
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    if bad:
        lines = [f"axe: {len(bad)} serious/critical violation(s) on {page.url}"]
        for violation in bad:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:10])
            lines.append(
                f"- [{violation['impact']}] {violation['id']}: {violation['help']} "
                f"({violation['helpUrl']})\n    targets: {targets}"
            )
        pytest.fail("\n".join(lines), pytrace=False)


def check_page(page: Page) -> None:
    """axe-core, nothing wider than the window, and no CSP complaint on a page that
    new_page(watch_csp=True) opened."""
    assert_accessible(page)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    viewport = page.viewport_size or VIEWPORT
    assert width <= viewport["width"], f"{page.url} scrolls sideways: {width} px"
    assert getattr(page, "csp_errors", []) == []


def put_caret_at_end(field: Locator) -> None:
    """Focus a text field and put its caret after the last character (Ctrl+End), then
    wait until the field really has the focus and the caret: a key pressed while the
    page is still settling (a boosted swap, htmx's focus handling) can be lost."""
    at_end = """el => document.activeElement === el
        && el.selectionStart === el.value.length && el.selectionEnd === el.value.length"""
    deadline = time.monotonic() + 10
    while True:
        field.focus()
        field.press("Control+End")
        if field.evaluate(at_end):
            return
        if time.monotonic() > deadline:
            pytest.fail("the caret never reached the end of the field", pytrace=False)
        time.sleep(0.05)  # polling interval while the page settles


def service_worker_ready(page: Page) -> str:
    """Wait for the page's service worker to be active; returns its script URL."""
    return page.evaluate(
        "navigator.serviceWorker.ready.then(registration => registration.active.scriptURL)"
    )


# --- Texts ----------------------------------------------------------------------------


@cache
def _catalogue(locale: str) -> dict[str, str]:
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    # Fuzzy entries are left out of the compiled .mo: the app shows the msgid for them.
    return {
        message.id: message.string
        for message in catalogue
        if isinstance(message.id, str)
        and isinstance(message.string, str)
        and message.string
        and not message.fuzzy
    }


def translated(locale: str, msgid: str) -> str:
    """What the app shows for `msgid` in `locale`: the catalogue's text, else the msgid."""
    return _catalogue(locale).get(msgid, msgid)


def en(msgid: str, **values: object) -> str:
    """What the app shows in English for `msgid`, with `values` put in (%(name)s)."""
    text = translated("en", msgid)
    return text % values if values else text


def has_translation(locale: str, msgid: str) -> bool:
    return msgid in _catalogue(locale)
