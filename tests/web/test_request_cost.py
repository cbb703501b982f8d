"""The fixed cost of a signed-in request (issues 14 and 20): the user and its login
session in one statement; the menu, its `visible` checks and badges only for a page that
shows it, once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event

from web import nav

# The test's own statements around each request (its commits are savepoints).
SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
HTMX = {"HX-Request": "true"}


@contextmanager
def queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(SAVEPOINTS):
            statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture()
def menus(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the users whose menu was worked out (`nav.entries_for` calls)."""
    calls: list[int] = []
    entries_for = nav.entries_for

    def counted(user):
        calls.append(user.id)
        return entries_for(user)

    monkeypatch.setattr(nav, "entries_for", counted)
    return calls


def test_a_json_request_reads_the_user_and_its_login_session_in_one_statement(login, connection):
    browser = login("rue1")
    with queries(connection.engine) as statements:
        response = browser.get("/api/me")
    assert response.status_code == 200
    assert len(statements) == 1, statements
    assert "FROM users" in statements[0] and "login_sessions" in statements[0]


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/me", {}, 200),  # JSON
        ("/outreach/personnes", HTMX, 200),  # an htmx partial (the people list)
        ("/login", {}, 302),  # a redirect (already signed in)
    ],
)
def test_no_menu_nor_badge_where_no_menu_is_shown(login, connection, menus, path, headers, status):
    browser = login("rue1")  # her menu has a badge: the minors' alerts on People
    menus.clear()
    with queries(connection.engine) as statements:
        response = browser.get(path, headers=headers)
    assert response.status_code == status
    assert b'class="appnav"' not in response.get_data()
    assert menus == []
    assert not [sql for sql in statements if "count(outreach_minor_alerts" in sql]


def test_a_page_works_out_its_menu_once_and_counts_its_badge_in_one_statement(
    login, connection, menus
):
    browser = login("rue1")
    menus.clear()
    with queries(connection.engine) as statements:
        response = browser.get("/")  # the home page's cards and the menu: one list
    assert response.status_code == 200
    assert b'class="appnav"' in response.get_data()
    assert len(menus) == 1
    assert len([sql for sql in statements if "count(outreach_minor_alerts" in sql]) == 1
