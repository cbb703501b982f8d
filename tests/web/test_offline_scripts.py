"""Issue 14: a page loads the offline engine and the domain modules its user's role
uses, nothing more; the engine names no domain; the worker's version follows them."""

from __future__ import annotations

import re

import pytest

from core.config import PROJECT_ROOT
from tests.conftest import DEMO_USER_FOR_ROLE

ENGINE = "/static/js/offline/engine.js"
OUTREACH = "/static/js/outreach/offline.js"
SCRIPT = re.compile(r'<script src="([^"]+)"')
# The content hash of a built file's name (web/assets.py): js/app.1a2b3c4d5e.js.
HASH = re.compile(r"\.[0-9a-f]{10}(?=\.\w+$)")


def scripts_of(response) -> list[str]:
    """The page's scripts, by their unhashed names."""
    return [HASH.sub("", src) for src in SCRIPT.findall(response.get_data(as_text=True))]


def test_a_street_educator_loads_the_engine_then_the_outreach_module(login):
    browser = login(DEMO_USER_FOR_ROLE["street_educator"])
    for path in ("/", "/outreach/encounters/new", "/sync", "/profile"):
        scripts = scripts_of(browser.get(path))
        assert ENGINE in scripts and OUTREACH in scripts, (path, scripts)
        assert scripts.index(ENGINE) < scripts.index(OUTREACH), scripts
    page = browser.get("/").get_data(as_text=True)
    assert 'id="terrain-offline-texts"' in page and "data-sync-status" in page


def test_an_aide_loads_the_engine_and_the_home_care_module(login):
    scripts = scripts_of(login("aide1").get("/"))
    assert ENGINE in scripts and "/static/js/homecare/offline.js" in scripts, scripts
    assert OUTREACH not in scripts


@pytest.mark.parametrize("role", ["admin", "coordinator", "social_worker", "reception"])
def test_roles_that_do_not_sync_load_no_offline_script(login, role):
    browser = login(DEMO_USER_FOR_ROLE[role])
    response = browser.get("/")
    scripts = scripts_of(response)
    assert ENGINE not in scripts and OUTREACH not in scripts, scripts
    assert 'id="terrain-offline-texts"' not in response.get_data(as_text=True)
    # Their /sync page (typed in: no link leads there) still shows what the phone holds.
    assert scripts_of(browser.get("/sync")).count(ENGINE) == 1
    assert OUTREACH not in scripts_of(browser.get("/sync"))


def test_the_login_page_loads_no_offline_script_and_the_offline_page_the_engine(browser):
    scripts = scripts_of(browser.get("/login"))
    assert ENGINE not in scripts and OUTREACH not in scripts, scripts
    scripts = scripts_of(browser.get("/offline"))
    assert ENGINE in scripts and OUTREACH not in scripts, scripts


def test_the_engine_names_no_domain():
    engine = (PROJECT_ROOT / "static/js/offline/engine.js").read_text()
    for word in ("outreach", "maraude", "encounter", "person_id", "place_id"):
        assert word not in engine.lower(), word


def test_the_worker_caches_the_engine_and_a_kept_page_s_own_scripts(browser):
    worker = browser.get("/sw.js").get_data(as_text=True)
    assert re.search(r'"/static/js/offline/engine\.[0-9a-f]{10}\.js"', worker), worker
    assert "js/offline.js" not in worker
    assert 'const STATIC_PREFIX = "/static/";' in worker
