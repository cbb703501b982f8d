"""A phone talking to the live server: login, POST /api/sync, GET /api/sync (standard
library only), the ops it makes, and direct reads of the server's database."""

from __future__ import annotations

import http.cookiejar
import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, text

from core import clock
from core.sync import SyncOperation
from outreach.models import Encounter, Person
from tests.browser.helpers import DEMO_PASSWORD
from tests.support import csrf_from

CREATE = "outreach.encounter.create"
UPDATE = "outreach.encounter.update"


class Phone:
    """One logged-in session: a cookie jar (terrain_session) and its CSRF token."""

    def __init__(self, base_url: str, jar: http.cookiejar.CookieJar | None = None):
        self.base_url = base_url
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def twin(self) -> Phone:
        """The same logged-in user on another connection (same cookies, same token)."""
        twin = Phone(self.base_url, self.jar)
        twin.csrf = self.csrf
        return twin

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base_url + path, data=body, headers=headers or {}, method=method
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        status, page = self.request("GET", "/login")
        assert status == 200, status
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf_token": csrf_from(page.decode())}
        ).encode()
        status, _ = self.request(
            "POST",
            "/login",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 200, f"login of {username}: HTTP {status}"
        assert any(cookie.name == "terrain_session" for cookie in self.jar)
        status, me = self.request("GET", "/api/me")
        assert status == 200, f"/api/me after the login of {username}: HTTP {status}"
        self.csrf = json.loads(me)["csrf_token"]

    def post_ops(self, ops: list[dict[str, Any]], timeout: float = 120) -> tuple[int, bytes]:
        return self.request(
            "POST",
            "/api/sync",
            json.dumps({"ops": ops}).encode(),
            {"Content-Type": "application/json", "X-CSRFToken": self.csrf},
            timeout=timeout,
        )

    def push(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """POST /api/sync; the answers, one per op, checked to be in the ops' order."""
        status, body = self.post_ops(ops)
        assert status == 200, f"POST /api/sync: HTTP {status}: {body[:500]!r}"
        results = json.loads(body)["results"]
        assert [result["id"] for result in results] == [op["id"] for op in ops]
        return results

    def pull_all(self) -> list[dict[str, Any]]:
        """A fresh full pull (no `since`), following `more`: every change, in order."""
        changes: list[dict[str, Any]] = []
        query = ""
        for _ in range(100):
            status, body = self.request("GET", f"/api/sync{query}")
            assert status == 200, f"GET /api/sync: HTTP {status}: {body[:500]!r}"
            page = json.loads(body)
            assert page["reset"] is (not query)
            changes.extend(page["changes"])
            if not page["more"]:
                return changes
            query = "?" + urllib.parse.urlencode({"since": page["token"]})
        raise AssertionError("the feed never ended")


# --- Ops --------------------------------------------------------------------------------


def ago(**delta: float) -> datetime:
    return clock.now() - timedelta(**delta)


def encounter(note: str = "", *, occurred_at: datetime | None = None) -> dict[str, Any]:
    """The full data of a new encounter with a new person, as the phone makes it."""
    return {
        "id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "nickname": "Test live",
        "age_band": "26_40",
        "gender": "unknown",
        "language": "fr",
        "description": "Sac à dos vert",
        "place_id": None,
        "occurred_at": (occurred_at or ago(hours=1)).isoformat(),
        "contact_type": "conversation",
        "needs": ["food"],
        "given": ["food_drink"],
        "note": note,
    }


def op(
    op_type: str,
    data: dict[str, Any],
    *,
    client_at: datetime | None = None,
    base_version: int | None = None,
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": op_type,
        "base_version": base_version,
        "client_at": (client_at or ago(minutes=1)).isoformat(),
        "data": data,
    }


# --- The server's database ------------------------------------------------------------


def _uuids(values: Iterable[str]) -> list[uuid.UUID]:
    return [uuid.UUID(value) for value in values]


def stored_ops(engine: Engine, op_ids: Iterable[str]) -> dict[str, list[str]]:
    """Op id → the statuses of its rows in sync_operations (one row, or none)."""
    ids = _uuids(op_ids)
    found: dict[str, list[str]] = {str(op_id): [] for op_id in ids}
    with engine.connect() as connection:
        table = SyncOperation.__table__
        for op_id, status in connection.execute(
            select(table.c.id, table.c.status).where(table.c.id.in_(ids))
        ):
            found[str(op_id)].append(status)
    return found


def count_stored_ops(engine: Engine, op_ids: Iterable[str]) -> int:
    table = SyncOperation.__table__
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(table).where(table.c.id.in_(_uuids(op_ids)))
        ).scalar_one()


def stored_encounters(engine: Engine, encounter_ids: Iterable[str]) -> dict[str, list[dict]]:
    """Encounter id → its rows in outreach_encounters (one row, or none)."""
    ids = _uuids(encounter_ids)
    found: dict[str, list[dict]] = {str(encounter_id): [] for encounter_id in ids}
    table = Encounter.__table__
    with engine.connect() as connection:
        for row in connection.execute(select(table).where(table.c.id.in_(ids))).mappings():
            found[str(row["id"])].append(dict(row))
    return found


def count_people(engine: Engine, person_ids: Iterable[str]) -> int:
    table = Person.__table__
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(table).where(table.c.id.in_(_uuids(person_ids)))
        ).scalar_one()


def write_transaction_open(engine: Engine) -> bool:
    """Does another connection hold a transaction that has written and not yet ended?

    PostgreSQL: a backend of the server's database with a transaction id (given at its
    first write). SQLite: the write lock is taken (BEGIN IMMEDIATE fails at once)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return bool(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND pid <> pg_backend_pid() "
                        "AND backend_xid IS NOT NULL"
                    )
                ).scalar_one()
            )
    probe = sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # database is locked: a writer is in its transaction
        return True
    finally:
        probe.close()
