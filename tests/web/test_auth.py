"""Logging in and out through the real pages: CSRF, throttling, timeouts, redirects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import accounts, clock


def test_login_form_carries_csrf_and_autocomplete(browser):
    page = browser.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert 'autocomplete="username"' in page and 'autocomplete="current-password"' in page


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "admin", "password": "demo"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still logged out


def test_wrong_password_gets_a_message_next_to_the_field(browser):
    response = browser.post("/login", {"username": "admin", "password": "nope"})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert 'id="password-error"' in page and 'aria-invalid="true"' in page


def test_empty_form_says_which_field_is_missing(browser):
    response = browser.post("/login", {"username": "", "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="username-error"' in page and 'id="password-error"' in page


def test_login_redirects_to_the_page_asked_for_but_never_elsewhere(browser):
    browser.get("/login")
    response = browser.post("/login?next=/profile", {"username": "as1", "password": "demo"})
    assert response.headers["Location"] == "/profile"
    browser.get("/profile")  # the token changes at login, as the session does
    browser.post("/logout")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        browser.get("/login")
        response = browser.post(f"/login?next={target}", {"username": "as1", "password": "demo"})
        assert response.headers["Location"] == "/", target
        browser.get("/")
        browser.post("/logout")


def test_throttled_login_answers_429_with_retry_after(browser):
    for _ in range(5):
        browser.post("/login", {"username": "aide6", "password": "wrong"})
    response = browser.post("/login", {"username": "aide6", "password": "demo"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert 'role="alert"' in response.get_data(as_text=True)


def test_logout_needs_post_and_ends_the_session(browser):
    browser.login("accueil")
    assert browser.client.get("/logout").status_code == 405
    response = browser.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert browser.client.get("/").headers["Location"].startswith("/login")


def test_a_copy_of_the_cookie_from_before_logout_does_not_log_back_in(browser, db):
    # A request still running at logout answers after it and sets the old cookie again
    # (seen in the browser tests): the server, not the cookie, knows the session ended.
    browser.login("as1")
    before = browser.client.get_cookie("terrain_session").value
    browser.post("/logout")
    browser.client.set_cookie("terrain_session", before)
    response = browser.client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    page = browser.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are logged out." in page or "Vous êtes déconnecté" in page
    user = accounts.find_user(db, "as1")
    ended = db.scalars(
        select(accounts.LoginSession.end_reason).where(accounts.LoginSession.user_id == user.id)
    ).all()
    assert ended == ["logout"]


def test_each_login_is_its_own_session(app, browser):
    from tests.conftest import Browser

    browser.login("rue1")
    other = Browser(app.test_client())
    other.login("rue1")
    browser.post("/logout")
    assert browser.client.get("/").status_code == 302
    assert other.client.get("/").status_code == 200  # the other device stays in


def test_idle_session_times_out(browser, app):
    browser.login("coordination")
    idle = app.config["TERRAIN_SETTINGS"].session_idle_minutes
    with clock.frozen(clock.now()) as travel:
        travel.advance(minutes=idle - 1)
        assert browser.client.get("/").status_code == 200  # activity keeps it alive
        travel.advance(minutes=idle + 1)
        response = browser.client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_session_has_a_maximum_length_even_when_active(browser, app):
    browser.login("coordination")
    hours = app.config["TERRAIN_SETTINGS"].session_max_hours
    with clock.frozen(clock.now()) as travel:
        for _ in range(hours * 2 + 1):
            travel.advance(minutes=30)
            response = browser.client.get("/")
    assert response.status_code == 302


def test_password_change_ends_other_sessions(app, db, browser):
    browser.login("rue2")
    other = app.test_client()
    from tests.conftest import Browser

    second = Browser(other)
    second.login("rue2")
    response = browser.post(
        "/profile",
        {
            "pw-current_password": "demo",
            "pw-new_password": "une-phrase-assez-longue",
            "pw-confirm_password": "une-phrase-assez-longue",
        },
    )
    assert response.status_code == 302
    assert browser.client.get("/").status_code == 200  # this device stays in
    assert other.get("/").status_code == 302  # the other one is logged out


def test_password_change_with_bad_input_changes_nothing(db, browser):
    browser.login("as1")
    before = accounts.find_user(db, "as1").password_hash
    for form in (
        {
            "pw-current_password": "wrong",
            "pw-new_password": "long-enough-pass",
            "pw-confirm_password": "long-enough-pass",
        },
        {"pw-current_password": "demo", "pw-new_password": "short", "pw-confirm_password": "short"},
        {
            "pw-current_password": "demo",
            "pw-new_password": "long-enough-pass",
            "pw-confirm_password": "different-pass!",
        },
    ):
        response = browser.post("/profile", form)
        assert response.status_code == 422
        assert 'class="error"' in response.get_data(as_text=True)
    db.expire_all()
    assert accounts.find_user(db, "as1").password_hash == before


def test_session_cookie_is_httponly_and_lax(browser):
    browser.login("admin")
    cookie = browser.client.get_cookie("terrain_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert cookie.expires is not None
    assert cookie.expires - clock.now() <= timedelta(hours=12, minutes=1)


def _at(address):
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_an_attacker_elsewhere_does_not_keep_a_colleague_out(app, db, login):
    from datetime import UTC, datetime

    from argon2 import PasswordHasher

    from tests.conftest import Browser

    # Cheap argon2 parameters: fifty wrong passwords stay fast; the throttling is the same.
    user = accounts.find_user(db, "as1")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("demo")
    db.commit()
    attacker = Browser(app.test_client())
    attacker.get("/login", **_at("198.51.100.66"))
    with clock.frozen(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) as travel:
        failures = 0
        while failures < 50:
            response = attacker.post(
                "/login", {"username": "as1", "password": "wrong"}, **_at("198.51.100.66")
            )
            if response.status_code == 429:
                travel.advance(seconds=int(response.headers["Retry-After"]))
            else:
                assert response.status_code == 401
                failures += 1
        response = attacker.post(
            "/login", {"username": "as1", "password": "demo"}, **_at("198.51.100.66")
        )
        assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1

        owner = Browser(app.test_client())
        owner.get("/login", **_at("192.0.2.20"))
        response = owner.post(
            "/login", {"username": "as1", "password": "demo"}, **_at("192.0.2.20")
        )
        assert response.status_code == 302 and response.headers["Location"] == "/"

        page = login("admin").get("/admin/users").get_data(as_text=True)
    attacked = page[page.index('id="attacked-title"') : page.index('id="users-caption"')]
    assert "<td>as1</td>" in attacked
    assert "<td>50</td>" in attacked  # failures in the last 24 hours
    assert "<td>1</td>" in attacked  # from one address


def test_reactivating_an_account_does_not_bring_its_old_sessions_back(app, db, login):
    from tests.conftest import Browser

    aide = Browser(app.test_client())
    aide.login("aide1")
    old_cookie = aide.client.get_cookie("terrain_session").value
    admin = login("admin")
    user = accounts.find_user(db, "aide1")
    for active in ("0", "1"):
        response = admin.post(f"/admin/users/{user.id}/active", {"active": active})
        assert response.status_code == 302
    aide.client.set_cookie("terrain_session", old_cookie)
    response = aide.client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert aide.client.get("/").status_code == 302  # and stays out
    fresh = Browser(app.test_client())
    fresh.login("aide1")
    assert fresh.client.get("/").status_code == 200
