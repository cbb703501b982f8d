"""The installable app: service worker, shell cache, the real offline page, the manifest."""

from __future__ import annotations

import re
import struct
import tempfile
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.helpers import (
    CHROMIUM_ARGS,
    PHONE,
    LiveServer,
    assert_accessible,
    login,
    new_phone_context,
    run_live_server,
    service_worker_ready,
    translated,
)
from tests.browser.offline import eventually

SHELL_CACHE = re.compile(r"^terrain-shell-[0-9a-f]{12}$")

CACHE_CONTENTS = r"""async () => {
    const result = {};
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        // By their unhashed names (js/app.1a2b3c4d5e.js: js/app.js).
        result[name] = (await cache.keys()).map((request) =>
            new URL(request.url).pathname.replace(/\.[0-9a-f]{10}(?=\.\w+$)/, ""));
    }
    return result;
}"""


RAW_KEYS = """async () => {
    const paths = [];
    for (const name of await caches.keys()) {
        if (!name.startsWith("terrain-shell-")) { continue; }
        for (const request of await (await caches.open(name)).keys()) {
            const path = new URL(request.url).pathname;
            if (path.startsWith("/static/")) { paths.push(path); }
        }
    }
    return paths;
}"""
HASHED = re.compile(r"\.[0-9a-f]{10}\.\w+$")

# Whether a shell cache holds static/`path`, under its hashed name.
SHELL_HOLDS = """async (path) => {
    const dot = path.lastIndexOf(".");
    const [stem, suffix] = [path.slice(0, dot), path.slice(dot)];
    for (const name of await caches.keys()) {
        if (!name.startsWith("terrain-shell-")) { continue; }
        for (const request of await (await caches.open(name)).keys()) {
            const found = new URL(request.url).pathname;
            if (found.startsWith(stem + ".") && found.endsWith(suffix) &&
                /^[0-9a-f]{10}$/.test(found.slice(stem.length + 1, found.length - suffix.length))) {
                return true;
            }
        }
    }
    return false;
}"""


def test_the_worker_caches_the_shell_then_controls_the_pages_of_a_user_who_does_not_sync(
    page: Page, live_server: str
):
    page.goto("/login")
    script_url = service_worker_ready(page)
    assert script_url == f"{live_server}/sw.js"

    caches = page.evaluate(CACHE_CONTENTS)
    shell = [name for name in caches if SHELL_CACHE.match(name)]
    assert len(shell) == 1, caches
    version = shell[0].removeprefix("terrain-shell-")
    worker_source = page.request.get("/sw.js").text()
    assert f'const VERSION = "{version}";' in worker_source

    stored = set(caches[shell[0]])
    # app.js comes in the shell bundle (web/assets.py BUNDLES).
    assert {"/offline", "/static/css/terrain.css", "/static/js/shell.js"} <= stored, stored
    # Under their content-hashed names only (web/assets.py).
    raw = page.evaluate(RAW_KEYS)
    assert raw and all(HASHED.search(path) for path in raw), raw
    # Pages that may hold personal data are never stored.
    assert not stored & {"/", "/login", "/profile"}, stored

    # A role that does not sync loads no offline module, and its pages are the
    # worker's once logged in.
    login(page, "coordination")
    service_worker_ready(page)
    scripts = page.evaluate("[...document.scripts].map((script) => script.src)")
    assert not [src for src in scripts if "offline" in src], scripts
    assert page.evaluate(SHELL_HOLDS, "/static/js/outreach/offline.js") is False
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.goto("/profile")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")


def test_a_role_s_offline_views_bring_their_own_scripts_into_the_shell_cache(page: Page):
    # The street educator's kept views load the outreach module: cached with them.
    login(page, "rue1")
    service_worker_ready(page)
    page.goto("/outreach/")
    eventually(page, SHELL_HOLDS, "/static/js/outreach/offline.js")
    assert page.evaluate(SHELL_HOLDS, "/static/js/offline/engine.js")


@pytest.fixture()
def offline_server(chromium_path: str) -> Iterator[LiveServer]:
    """A server of the offline test's own: the test stops it, the others keep theirs."""
    with run_live_server("offline") as server:
        yield server


def expect_offline_page(page: Page) -> None:
    offline = page.locator(".offline")
    expect(offline).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(translated("fr", "No connection"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    # The app shell: the Terrain header, styled (the CSS comes from the shell cache).
    brand = page.locator("header.topbar a.brand")
    expect(brand).to_be_visible()
    expect(brand).to_have_text("Terrain")
    background = page.locator("header.topbar").evaluate(
        "element => getComputedStyle(element).backgroundColor"
    )
    assert background == "rgb(11, 93, 87)", background
    expect(offline.get_by_role("link")).to_have_attribute("href", "/")
    # Stored once for every user of the phone: no personal data in it.
    expect(page.get_by_text("Nadia Benali")).to_have_count(0)


def wait_until_controlled(page: Page) -> None:
    try:
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=5_000)
    except PlaywrightTimeoutError:
        page.reload()  # a page loaded before its worker was active may stay uncontrolled
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def test_offline_page_when_the_server_is_gone(chromium: Browser, offline_server: LiveServer):
    # The real thing: the server process stops. (Playwright's context.set_offline does
    # not apply to the service worker's own fetches, so it would prove nothing.)
    context = new_phone_context(chromium, offline_server.url)
    try:
        page = context.new_page()
        login(page, "coordination")
        expect(page).to_have_url(f"{offline_server.url}/")
        service_worker_ready(page)
        wait_until_controlled(page)
        # A second tab on the home page, to tap its bottom bar once the server is gone.
        tab = context.new_page()
        tab.goto("/")
        wait_until_controlled(tab)

        offline_server.stop()

        page.reload()
        expect_offline_page(page)
        assert_accessible(page)

        # A boosted link is fetched by htmx, not navigated to: it must end on the
        # offline page too, not on a button that does nothing.
        tab.locator("nav.appnav a[href='/menu']").click()  # "More", in a phone's bar
        expect(tab).to_have_url(f"{offline_server.url}/menu")
        expect_offline_page(tab)
    finally:
        context.close()


def _png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", body[16:24])
    return width, height


def _check_manifest(manifest: dict, page: Page) -> None:
    assert manifest["name"]
    assert manifest["short_name"] == "Terrain"
    assert manifest["start_url"].startswith("/")
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["theme_color"])
    assert manifest["lang"] == "fr"
    icons = manifest["icons"]
    sizes = {icon["sizes"] for icon in icons}
    assert {"192x192", "512x512"} <= sizes, icons
    assert any("maskable" in icon.get("purpose", "").split() for icon in icons), icons
    for icon in icons:
        response = page.request.get(icon["src"])
        assert response.ok, icon
        width, height = _png_size(response.body())
        assert f"{width}x{height}" == icon["sizes"], icon


def test_app_is_installable(playwright_driver: Playwright, chromium_path: str, live_server: str):
    # A persistent profile, not the usual new_context(): Playwright's contexts are
    # incognito-like, and Chromium then answers Page.getInstallabilityErrors with
    # [{"errorId": "in-incognito"}] whatever the site does (checked with Chromium 156).
    with tempfile.TemporaryDirectory(prefix="terrain-profile-") as profile:
        context = playwright_driver.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_ARGS,
            base_url=live_server,
            **PHONE,
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto("/login")
            service_worker_ready(page)
            session = context.new_cdp_session(page)
            errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
            assert errors == [], errors
            app_manifest = session.send("Page.getAppManifest")
            assert app_manifest["url"] == f"{live_server}/manifest.webmanifest"
            assert app_manifest["errors"] == [], app_manifest["errors"]

            response = page.request.get("/manifest.webmanifest")
            assert response.ok
            assert response.headers["content-type"].startswith("application/manifest+json")
            _check_manifest(response.json(), page)
        finally:
            context.close()


def test_the_back_forward_cache_keeps_login_and_never_a_page_after_logout(
    playwright_driver: Playwright, full_chromium_path: str, live_server: str
):
    # Playwright turns the back/forward cache off by default: a browser of this test's own,
    # the full one (the headless shell has no back/forward cache).
    browser = playwright_driver.chromium.launch(
        executable_path=full_chromium_path,
        headless=True,
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    try:
        page = new_phone_context(browser, live_server).new_page()
        page.goto("/login")
        # The worker's first activation claims the page: that would evict it (once).
        service_worker_ready(page)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.evaluate("window.terrainMarker = 1")
        page.goto("/offline")
        page.go_back(wait_until="commit")  # a page from the cache fires no "load"
        expect(page).to_have_url(re.compile(r"/login$"))
        assert page.evaluate("window.terrainMarker") == 1  # the same page, kept whole
        # A user's page is no-store: Chromium may keep it while the session cookie stays
        # the same, and drops it when the cookie changes. After a logout, Back loads
        # the address again, and gets the login page.
        login(page, "as1")
        page.goto("/profile")
        page.evaluate("window.terrainMarker = 2")
        with page.expect_navigation():
            page.locator("form[action='/logout'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        page.go_back(wait_until="commit")
        page.wait_for_load_state()
        assert page.evaluate("window.terrainMarker") is None
        expect(page.locator("form[action^='/login'] [name=password]")).to_be_visible()
    finally:
        browser.close()
