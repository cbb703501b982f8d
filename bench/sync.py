"""Offline sync through HTTP against `terrain serve` (gunicorn): the phones' flush.

1. One phone flushes 1,000 queued ops (5 batches of 200, `outreach.encounter.create`,
   each with a new person). Figure: server time per op and in total (gunicorn's own
   request time, from its access log). Reference, same run, same database: the rows
   those ops create (person, encounter, ledger row) written by a plain INSERT loop, one
   transaction per op, like the engine.
2. 200 phones reconnect at once (a barrier), each its own street educator of team
   bxl-rue-nord, each flushing 20 ops in one batch (4,000 ops). A phone whose request
   fails sends the same batch again, as the outbox does. Checked in the database: 0 lost,
   0 duplicated, every change number of the team distinct. Figure: p50/p95 request
   latency and ops/s. Reference: the rate of the plain INSERT loop (1,000 ops' rows,
   one commit per op, one connection), what the database gives with no engine at all.

Database: BENCH_DATABASE_URL (a PostgreSQL URL: the benchmark works in a new schema of
that database, dropped afterwards), else a temporary SQLite file. The 200 phones run on
PostgreSQL only (the production database); on SQLite their row says so.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import Engine, create_engine, func, insert, make_url, select, text

from bench.progress import Progress
from core.config import PROJECT_ROOT
from core.db import make_engine

ONE_PHONE_OPS = 1_000
BATCH = 200
PHONES = 200
OPS_PER_PHONE = 20
WORKERS = 4  # gunicorn processes, 4 threads each (`terrain serve`)
TEAM = "bxl-rue-nord"
PHONE_PASSWORD = "bench-phone-password"  # noqa: S105 - a throwaway bench account
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
ACCESS_LINE = re.compile(r'"POST /api/sync" (\d{3}) \S+ (\d+)ms')
RETRIES = 5
REFERENCE_OPS = 1_000  # enough rows for the INSERT loop's rate
PHONE_TIME_LIMIT = 90.0  # static/js/offline/engine.js SYNC_TIMEOUT_MS: the phone gives up then


# --- Database and server ----------------------------------------------------------------


@contextmanager
def _database(folder: str) -> Iterator[str]:
    """BENCH_DATABASE_URL's PostgreSQL database in a schema of its own, or SQLite."""
    given = os.environ.get("BENCH_DATABASE_URL")
    if not given:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    if not given.startswith("postgresql"):
        yield given
        return
    base = make_url(given)
    schema = f"bench_sync_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    query = {**base.query, "options": f"-csearch_path={schema}"}
    try:
        yield base.set(query=query).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _prepare(url: str) -> None:
    """Schema, demo data and one street educator per simulated phone."""
    from core import accounts
    from core.db import make_session_factory
    from core.migrations import upgrade
    from web.demo import seed_all

    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        seed_all(session)
        team = accounts.get_team(session, TEAM)
        # Every phone has the same password: one argon2 hash (0.2 s each) serves them all.
        shared_hash = accounts.hash_password(PHONE_PASSWORD)
        with mock.patch.object(accounts, "hash_password", lambda _password: shared_hash):
            for number in range(PHONES):
                accounts.create_user(
                    session,
                    username=_username(number),
                    display_name=f"Téléphone {number}",
                    password=PHONE_PASSWORD,
                    role="street_educator",
                    team=team,
                )
        session.commit()
    engine.dispose()


def _username(number: int) -> str:
    return f"phone-{number:03d}"


@dataclass
class _Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def sync_request_times(self) -> list[tuple[int, int]]:
        """(HTTP status, gunicorn's request time in ms) of every POST /api/sync so far."""
        log = self.log_path.read_text(errors="replace")
        return [(int(status), int(ms)) for status, ms in ACCESS_LINE.findall(log)]


@contextmanager
def _serve(url: str, folder: str, workers: int = WORKERS) -> Iterator[_Server]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "TERRAIN_DATABASE_URL": url,
        "TERRAIN_INSTANCE_PATH": folder,
        "TERRAIN_SECRET_KEY": secrets.token_urlsafe(32),
        "TERRAIN_LOG_LEVEL": "WARNING",
    }
    script = Path(sys.executable).parent / "terrain"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "web.cli"]
    log_path = Path(folder) / "server.log"
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [*command, *serve],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = _Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"terrain serve did not start:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{server.url}/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.2)  # polling interval while gunicorn boots
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


# --- A phone ----------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 302 after the login is the answer itself


class _Phone:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        self.csrf = ""

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base_url + path, data=body, headers=headers or {}, method=method
        )
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def login(self, username: str, password: str) -> None:
        _status, page = self.request("GET", "/login")
        token = CSRF_META.search(page.decode())
        assert token, "no csrf-token on /login"
        form = {"username": username, "password": password, "csrf_token": token.group(1)}
        status, _ = self.request(
            "POST",
            "/login",
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 302, f"login of {username}: HTTP {status}"
        status, me = self.request("GET", "/api/me")
        assert status == 200, f"/api/me of {username}: HTTP {status}"
        self.csrf = json.loads(me)["csrf_token"]

    def push(self, ops: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
        try:
            status, body = self.request(
                "POST",
                "/api/sync",
                json.dumps({"ops": ops}).encode(),
                {"Content-Type": "application/json", "X-CSRFToken": self.csrf},
            )
        except OSError:
            return 0, []  # no answer: the outbox keeps the batch
        return status, json.loads(body)["results"] if status == 200 else []

    def flush(self, ops: list[dict[str, Any]]) -> tuple[float, int]:
        """Send the batch until it is answered (as the outbox does): (seconds, retries)."""
        start = time.perf_counter()
        for attempt in range(RETRIES + 1):
            status, results = self.push(ops)
            if status == 200:
                statuses = {result["status"] for result in results}
                assert statuses <= {"applied", "duplicate"}, results[:3]
                return time.perf_counter() - start, attempt
            time.sleep(0.5 * (attempt + 1))
        raise AssertionError(f"batch never answered (last HTTP status {status})")


def _ops(count: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "id": str(uuid.uuid4()),
            "type": "outreach.encounter.create",
            "base_version": None,
            "client_at": (now - timedelta(minutes=count - n)).isoformat(),
            "data": {
                "id": str(uuid.uuid4()),
                "person_id": str(uuid.uuid4()),
                "nickname": f"Personne {n}",
                "age_band": "26_40",
                "gender": "unknown",
                "language": "fr",
                "place_id": None,
                "occurred_at": (now - timedelta(hours=2, minutes=count - n)).isoformat(),
                "contact_type": "conversation",
                "needs": ["food", "shelter"],
                "given": ["food_drink"],
                "note": "Rencontré près de la gare, orienté vers l'accueil de jour.",
            },
        }
        for n in range(count)
    ]


# --- Checks and the reference -----------------------------------------------------------


def _check_stored(engine: Engine, ops: list[dict[str, Any]]) -> tuple[int, int]:
    """(lost, duplicated) in the database: ops missing their applied ledger row, their
    encounter or their person; rows beyond one per op."""
    from core.sync import SyncOperation
    from outreach.models import Encounter, Person

    ledger = SyncOperation.__table__
    wanted = (
        (ledger, "id", ledger.c.status == "applied"),
        (Encounter.__table__, "data.id", None),
        (Person.__table__, "data.person_id", None),
    )
    lost = duplicated = 0
    with engine.connect() as connection:
        for table, key, condition in wanted:
            ids = [uuid.UUID(op["id"] if key == "id" else op["data"][key[5:]]) for op in ops]
            found: dict[uuid.UUID, int] = {}
            for first in range(0, len(ids), 500):
                query = (
                    select(table.c.id, func.count())
                    .where(table.c.id.in_(ids[first : first + 500]))
                    .group_by(table.c.id)
                )
                if condition is not None:
                    query = query.where(condition)
                for row_id, count in connection.execute(query):
                    found[row_id] = count
            lost = max(lost, len(ids) - len(found))
            duplicated = max(duplicated, sum(count - 1 for count in found.values()))
    return lost, duplicated


def _distinct_change_numbers(engine: Engine) -> bool:
    """Every change number of the team given once (the counter lost no increment)."""
    with engine.connect() as connection:
        numbers = connection.execute(
            text(
                "SELECT change_seq FROM outreach_people WHERE change_seq > 0 "
                "UNION ALL SELECT change_seq FROM outreach_encounters WHERE change_seq > 0 "
                "UNION ALL SELECT change_seq FROM outreach_places WHERE change_seq > 0"
            )
        ).scalars()
        numbers = list(numbers)
    return len(numbers) == len(set(numbers))


def _insert_loop(engine: Engine, count: int) -> float:
    """Seconds to write `count` ops' rows (person, encounter, ledger row) by plain INSERTs,
    one transaction per op, on one connection."""
    from core import accounts
    from core.sync import SyncOperation
    from outreach.models import Encounter, Person

    with engine.connect() as connection:
        team_id, user_id = connection.execute(
            select(accounts.User.team_id, accounts.User.id).where(accounts.User.username == "rue1")
        ).one()
    rows = []
    for op in _ops(count):
        data, now = op["data"], datetime.now(UTC)
        common = {
            "team_id": team_id,
            "version": 1,
            "change_seq": 0,  # not in the feed: no counter, no ordering
            "changed_at": now,
            "updated_at": now,
            "changed_by_id": user_id,
        }
        person_id, encounter_id = uuid.UUID(data["person_id"]), uuid.UUID(data["id"])
        occurred = datetime.fromisoformat(data["occurred_at"])
        person = {
            "id": person_id,
            "nickname": data["nickname"],
            "age_band": data["age_band"],
            "gender": data["gender"],
            "language": data["language"],
            "description": "",
            "first_seen_at": occurred,
            "last_seen_at": occurred,
            "created_by_id": user_id,
            **common,
        }
        encounter = {
            "id": encounter_id,
            "person_id": person_id,
            "place_id": None,
            "occurred_at": occurred,
            "contact_type": data["contact_type"],
            "needs": data["needs"],
            "given": data["given"],
            "note": data["note"],
            "recorded_by_id": user_id,
            **common,
        }
        ledger = {
            "id": uuid.UUID(op["id"]),
            "user_id": user_id,
            "op_type": op["type"],
            "record_id": str(encounter_id),
            "status": "applied",
            "answer": {"id": op["id"], "status": "applied", "record": data},
            "client_at": now,
            "received_at": now,
        }
        rows.append((person, encounter, ledger))
    with engine.connect() as connection:
        start = time.perf_counter()
        for person, encounter, ledger in rows:
            with connection.begin():
                connection.execute(insert(Person.__table__), person)
                connection.execute(insert(Encounter.__table__), encounter)
                connection.execute(insert(SyncOperation.__table__), ledger)
        return time.perf_counter() - start


_note = Progress("bench/sync.py")


def _cpu_seconds(group: int) -> tuple[float, float]:
    """CPU time used so far by process group `group` (gunicorn) and by PostgreSQL."""
    tick = os.sysconf("SC_CLK_TCK")
    ours = postgres = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        name, fields = raw[raw.index("(") + 1 : raw.rindex(")")], raw.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        if fields[2] == str(group):
            ours += used
        elif name.startswith("postgres"):
            postgres += used
    return ours, postgres


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


# --- The two scenarios ------------------------------------------------------------------


def _one_phone(server: _Server, engine: Engine, backend: str) -> str:
    phone = _Phone(server.url)
    phone.login("rue1", "demo")
    _note("server up; 1 phone flushing")
    phone.flush(_ops(5))  # warm-up: every import and the first connections
    time.sleep(0.5)  # gunicorn writes its access log line after the response
    before = len(server.sync_request_times())
    ops = _ops(ONE_PHONE_OPS)
    start = time.perf_counter()
    retries = 0
    for first in range(0, ONE_PHONE_OPS, BATCH):
        retries += phone.flush(ops[first : first + BATCH])[1]
    wall = time.perf_counter() - start
    lost, duplicated = _check_stored(engine, ops)
    assert (lost, duplicated, retries) == (0, 0, 0), (lost, duplicated, retries)
    time.sleep(0.5)  # gunicorn writes its access log line after the response
    timings = server.sync_request_times()[before:]
    assert [status for status, _ in timings] == [200] * (ONE_PHONE_OPS // BATCH), timings
    server_ms = sum(ms for _, ms in timings)
    _note(f"1 phone flushed {ONE_PHONE_OPS} ops in {wall:.1f} s; INSERT loop")
    reference = _insert_loop(engine, ONE_PHONE_OPS)
    per_op = server_ms / ONE_PHONE_OPS
    reference_per_op = reference * 1000 / ONE_PHONE_OPS
    return (
        f"| sync: 1 phone flushes {ONE_PHONE_OPS:,} ops, {ONE_PHONE_OPS // BATCH} batches "
        f"of {BATCH} ({backend}) "
        f"| {per_op:.2f} ms/op server time, total {server_ms / 1000:.2f} s "
        f"(wall {wall:.2f} s); 0 lost, 0 duplicated "
        f"| plain INSERT loop, 1 commit per op: {reference_per_op:.2f} ms/op, "
        f"total {reference:.2f} s "
        f"| {per_op / reference_per_op:.1f}× | {date.today()} |"
    )


def _reconnect(server: _Server, engine: Engine, backend: str) -> str:
    _note(f"logging {PHONES} phones in")
    phones = [_Phone(server.url) for _ in range(PHONES)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda pair: pair[1].login(_username(pair[0]), PHONE_PASSWORD),
                enumerate(phones),
            )
        )
    _note(f"{PHONES} phones logged in")
    batches = [_ops(OPS_PER_PHONE) for _ in phones]
    barrier = threading.Barrier(PHONES + 1)
    latencies: list[float] = [0.0] * PHONES
    retries: list[int] = [0] * PHONES
    failures: list[BaseException] = []

    def reconnect(index: int) -> None:
        barrier.wait()
        try:
            latencies[index], retries[index] = phones[index].flush(batches[index])
        except BaseException as error:  # counted and reported below
            failures.append(error)

    threads = [
        threading.Thread(target=reconnect, args=(index,), daemon=True) for index in range(PHONES)
    ]
    for thread in threads:
        thread.start()
    cpu_before = _cpu_seconds(server.process.pid)
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    cpu_after = _cpu_seconds(server.process.pid)
    cpu = [after - before for after, before in zip(cpu_after, cpu_before, strict=True)]
    _note(
        f"{PHONES} phones flushed in {wall:.1f} s; CPU meanwhile: gunicorn {cpu[0]:.1f} s, "
        f"PostgreSQL {cpu[1]:.1f} s ({os.cpu_count()} cores)"
    )
    assert not failures, failures[:3]
    every_op = [op for batch in batches for op in batch]
    lost, duplicated = _check_stored(engine, every_op)
    assert (lost, duplicated) == (0, 0), (lost, duplicated)
    assert _distinct_change_numbers(engine), "two changes share a change number"
    total = len(every_op)
    rate = total / wall
    p50, p95 = _percentiles([seconds * 1000 for seconds in latencies])
    late = sum(1 for seconds in latencies if seconds > PHONE_TIME_LIMIT)
    reference_rate = REFERENCE_OPS / _insert_loop(engine, REFERENCE_OPS)
    return (
        f"| sync: {PHONES} phones reconnect at once, {OPS_PER_PHONE} ops each "
        f"({total:,} ops; gunicorn {WORKERS} workers × 4 threads; {backend}) "
        f"| {rate:.0f} ops/s (all in {wall:.1f} s), request p50 {p50:.0f} ms, "
        f"p95 {p95:.0f} ms, {late} of {PHONES} answered after {PHONE_TIME_LIMIT:.0f} s "
        f"(the phone's time limit); 0 lost, 0 duplicated, {sum(retries)} retried requests "
        f"| plain INSERT loop, 1 commit per op: {reference_rate:.0f} ops/s "
        f"| {rate / reference_rate:.2f}× | {date.today()} |"
    )


def run() -> list[str]:
    _note.restart()
    with (
        tempfile.TemporaryDirectory(prefix="terrain-bench-sync-") as folder,
        _database(folder) as url,
    ):
        _prepare(url)
        _note(f"database ready, {PHONES} accounts created")
        backend = url.split(":", 1)[0]
        engine = make_engine(url)
        try:
            with _serve(url, folder) as server:
                rows = [_one_phone(server, engine, backend)]
                if backend.startswith("postgresql"):
                    rows.append(_reconnect(server, engine, backend))
                else:
                    rows.append(
                        f"| sync: {PHONES} phones reconnect at once ({backend}) "
                        "| not run: PostgreSQL only, set BENCH_DATABASE_URL | | | |"
                    )
        finally:
            engine.dispose()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
