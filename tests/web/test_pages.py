"""Pages and endpoints of the foundation: health, PWA, errors, htmx partials, admin."""

from __future__ import annotations

import json
import re

from sqlalchemy import create_engine, select

from core import accounts
from core.audit import AuditEntry


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_healthz_503_when_the_database_is_unreachable(tmp_path):
    from core.config import Settings
    from web import create_app

    settings = Settings.from_env(
        {
            "TERRAIN_INSTANCE_PATH": str(tmp_path),
            "TERRAIN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    engine = create_engine(settings.database_url, connect_args={"connect_timeout": 2})
    app = create_app(settings, TERRAIN_ENGINE=engine)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["db"] == "unreachable" and body["reason"]
    assert "nobody" not in json.dumps(body)  # never the connection string


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    assert manifest["short_name"] == "Terrain" and manifest["lang"] == "fr"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_service_worker_is_served_from_the_root_uncached(client):
    response = client.get("/sw.js")
    assert response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert "terrain-shell-" in body and '"/offline"' in body
    assert re.search(r'"/static/css/terrain\.[0-9a-f]{10}\.css"', body), body


def test_offline_page_holds_no_personal_data(browser):
    browser.login("aide1")
    page = browser.get("/offline").get_data(as_text=True)
    assert "Fatima" not in page and "aide1" not in page
    assert 'class="card narrow offline"' in page


def test_every_page_varies_on_htmx_and_is_not_cached(browser):
    browser.login("admin")
    for path in ("/", "/profile", "/admin/users", "/admin/audit", "/login"):
        response = browser.client.get(path)
        assert "HX-Request" in response.headers["Vary"], path
        if response.mimetype == "text/html":
            assert response.headers["Cache-Control"] == "no-store", path
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_every_page_has_the_csrf_meta_tag(browser):
    browser.login("admin")
    for path in ("/", "/profile", "/admin/users", "/admin/audit", "/nope"):
        page = browser.client.get(path).get_data(as_text=True)
        assert '<meta name="csrf-token" content="' in page, path
    # The offline page is cached on the phone for everyone: it carries an empty token.
    offline = browser.client.get("/offline").get_data(as_text=True)
    assert '<meta name="csrf-token" content="">' in offline


def test_htmx_gets_a_fragment_and_a_boosted_request_the_page(browser):
    browser.login("admin")
    fragment = browser.client.get("/admin/audit", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="audit-results"')
    boosted = browser.client.get(
        "/admin/audit", headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    assert boosted.get_data(as_text=True).lstrip().startswith("<!doctype html>")


def test_api_errors_are_json(browser):
    assert browser.client.get("/api/nothing").get_json()["error"] == "not_found"
    assert browser.client.get("/api/me").status_code == 401
    browser.login("rue1")
    me = browser.client.get("/api/me").get_json()
    assert me["username"] == "rue1" and me["team"]["code"] == "bxl-rue-nord"


def test_openapi_describes_the_api(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/me" in spec["paths"]


def test_a_403_page_is_friendly(browser):
    browser.login("aide1")
    response = browser.client.get("/admin/audit")
    assert response.status_code == 403
    assert 'href="/"' in response.get_data(as_text=True)


def test_audit_page_filters_and_shows_logins(browser):
    browser.login("admin")
    page = browser.get("/admin/audit?action=login").get_data(as_text=True)
    assert "Admin Terrain" in page
    bad = browser.client.get("/admin/audit?since=2026-13-45&action=steal&actor=x")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert text.count('class="error"') == 3


def test_admin_creates_an_account_that_can_log_in(browser, db, app):
    browser.login("admin")
    response = browser.post(
        "/admin/users",
        {
            "username": "m.dupont",
            "display_name": "Marc Dupont",
            "role": "aide",
            "team": "bxl-saf",
            "language": "",
            "password": "un-mot-de-passe-long",
        },
    )
    assert response.status_code == 302
    created = accounts.find_user(db, "m.dupont")
    assert created.role == "aide" and created.team.code == "bxl-saf"
    entry = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "user", AuditEntry.action == "create")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry.entity_id == str(created.id) and entry.actor_role == "admin"
    from tests.conftest import Browser

    newcomer = Browser(app.test_client())
    newcomer.get("/login")
    login = newcomer.post("/login", {"username": "m.dupont", "password": "un-mot-de-passe-long"})
    assert login.status_code == 302


def test_admin_bad_account_input_changes_nothing(browser, db):
    browser.login("admin")
    count = accounts.count_users(db)
    for form in (
        {"username": "aide1", "display_name": "Doublon", "role": "aide", "password": "x" * 12},
        {"username": "ok.name", "display_name": "", "role": "aide", "password": "x" * 12},
        {"username": "ok.name", "display_name": "Nom", "role": "king", "password": "x" * 12},
        {"username": "ok.name", "display_name": "Nom", "role": "aide", "password": "short"},
        {
            "username": "ok.name",
            "display_name": "Nom",
            "role": "aide",
            "password": "x" * 12,
            "team": "atlantis",
        },
    ):
        response = browser.post("/admin/users", {"language": "", "team": "", **form})
        assert response.status_code == 422, form
        assert 'class="error"' in response.get_data(as_text=True)
    assert accounts.count_users(db) == count


def test_admin_deactivates_and_reactivates(browser, db):
    browser.login("admin")
    aide = accounts.find_user(db, "aide4")
    browser.post(f"/admin/users/{aide.id}/active", {"active": "0"})
    db.expire_all()
    assert accounts.find_user(db, "aide4").active is False
    browser.post(f"/admin/users/{aide.id}/active", {"active": "1"})
    db.expire_all()
    assert accounts.find_user(db, "aide4").active is True
    assert (
        browser.client.post(
            "/admin/users/99999/active", data={"csrf_token": browser.token, "active": "0"}
        ).status_code
        == 404
    )


def test_a_deactivated_user_is_logged_out_at_once(app, db, browser):
    from tests.conftest import Browser

    aide = Browser(app.test_client())
    aide.login("aide3")
    browser.login("admin")
    user = accounts.find_user(db, "aide3")
    browser.post(f"/admin/users/{user.id}/active", {"active": "0"})
    assert aide.client.get("/").status_code == 302
