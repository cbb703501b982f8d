"""The pages each role uses most, on the demo grown to 1× and to `--scale`× (100 by default).

1× is the demo plus, per unit of scale: 1,000 street people each with one encounter
(spread over a year), 10,000 SMS messages, 1,000 appointments (a year of days, with
their people) and 5,000 audit entries; at 100× that is 100,000 people and encounters,
1,000,000 messages, 100,000 appointments and 500,000 audit entries (a year). Rows go in
with multi-row Core inserts (one INSERT of 5,000 rows on PostgreSQL), in batches.

Figure: p95 of N GETs of each page through the whole Flask stack (test client, logged in
as the role that uses it), at 1× and at the scale, and their ratio. Reference, same run:
GET /healthz.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m bench.growth --scale 10
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from core.config import Settings
from core.db import make_engine, make_session_factory
from core.migrations import upgrade

RUNS = 40
BATCH = 5_000
SCALE = int(os.environ.get("BENCH_GROWTH_SCALE", "100"))
PER_UNIT = {"people": 1_000, "messages": 10_000, "appointments": 1_000, "audit": 5_000}

PAGES = [
    ("rue1", "/outreach/", "street home"),
    ("rue1", "/outreach/personnes", "person list"),
    ("rue1", "/outreach/personnes/{person}", "person file"),
    ("rue1", "/api/sync", "sync feed (first page)"),
    ("accueil", "/accueil/", "desk day"),
    ("coordination", "/sms/", "SMS outbox list"),
    ("coordination", "/sms/report", "SMS report"),
    # The current month holds only the days since the 1st (at 100×, filled on the 6th:
    # a handful of messages); the last whole month holds 80,000.
    ("coordination", "/sms/report?month={last_month}", "SMS report (last whole month)"),
    ("coordination", "/outreach/indicateurs", "street indicators (month)"),
    ("coordination", "/parametres/rendez-vous/indicateurs", "appointment indicators"),
]


def _note(message: str) -> None:
    print(f"# growth: {message}", flush=True)


@contextmanager
def _database(folder: str, keep: str | None = None) -> Iterator[tuple[str, bool]]:
    """BENCH_DATABASE_URL's PostgreSQL database in a schema of its own, or SQLite; and
    whether it is already filled. `keep`: that schema, kept afterwards and used again
    by the next run with the same name (migrated to the head, not filled again)."""
    given = os.environ.get("BENCH_DATABASE_URL")
    if not given:
        yield f"sqlite:///{Path(folder) / 'bench.db'}", False
        return
    base = make_url(given)
    schema = keep or f"bench_growth_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        filled = bool(
            keep
            and connection.scalar(
                text("SELECT to_regclass(:table) IS NOT NULL"), {"table": f"{keep}.sms_messages"}
            )
        )
        if not filled:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    query = {**base.query, "options": f"-csearch_path={schema}"}
    try:
        yield base.set(query=query).render_as_string(hide_password=False), filled
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _batches(rows: Iterator[dict]) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(session, model, batch: list[dict]) -> None:
    """Multi-row INSERTs on PostgreSQL, as a bulk insert would do (an executemany would
    run the SMS counts' statement trigger once per row, each time on the same few count
    rows in one transaction); SQLite, whose statements take at most 32,766 parameters,
    gets the batch as an executemany."""
    if session.bind.dialect.name == "postgresql":
        # At most 65,535 parameters a statement, defaults included.
        step = 60_000 // len(model.__table__.columns)
        for start in range(0, len(batch), step):
            session.execute(insert(model).values(batch[start : start + step]))
    else:
        session.execute(insert(model), batch)


def _fill(session, scale: int) -> None:
    """`scale` units of rows (see the module's docstring) on top of the demo."""
    from appointments.models import Appointment, BookingPerson, Location, Service
    from core import accounts, clock
    from core.audit import AuditEntry
    from core.sync import SyncCounter, team_scope
    from notifications.models import Contact, Message
    from outreach.models import Encounter, Person, Place

    now = clock.now()
    year_ago = now - timedelta(days=365)
    street = accounts.find_user(session, "rue1")
    agent = accounts.find_user(session, "as1")
    team = street.team_id
    place = session.scalars(select(Place.id).where(Place.team_id == team)).first()
    scope = team_scope(team)
    seq = session.scalar(select(SyncCounter.value).where(SyncCounter.scope == scope)) or 0

    people = PER_UNIT["people"] * scale
    for batch in _batches(
        {
            "id": uuid.UUID(int=n + 1, version=4),
            "team_id": team,
            "nickname": f"Grown {n}",
            "first_seen_at": year_ago + timedelta(minutes=5 * (n % 100_000)),
            "last_seen_at": year_ago + timedelta(minutes=5 * (n % 100_000)),
            "created_by_id": street.id,
            "change_seq": seq + n + 1,
            "changed_at": now,
            "updated_at": now,
        }
        for n in range(people)
    ):
        _insert(session, Person, batch)
    for batch in _batches(
        {
            "id": uuid.uuid4(),
            "team_id": team,
            "person_id": uuid.UUID(int=n + 1, version=4),
            "place_id": place,
            "occurred_at": year_ago + timedelta(minutes=5 * (n % 100_000)),
            "contact_type": "conversation",
            "needs": ["food"],
            "given": [],
            "recorded_by_id": street.id,
            "change_seq": seq + people + n + 1,
            "changed_at": now,
            "updated_at": now,
        }
        for n in range(people)
    ):
        _insert(session, Encounter, batch)
    session.execute(
        update(SyncCounter).where(SyncCounter.scope == scope).values(value=seq + 2 * people)
    )
    _note(f"{people:,} people and encounters")

    contacts = session.scalars(select(Contact.id)).all()
    messages = PER_UNIT["messages"] * scale
    states = ("delivered", "delivered", "delivered", "sent", "failed", "cancelled")
    body = "Rappel : rendez-vous au CPAS demain à 10:00."
    if session.bind.dialect.name == "postgresql":
        # The same rows made by the database, in batches (a million rows sent from
        # Python is most of the fill's time); each batch one statement, as a bulk insert.
        for first in range(0, messages, 100_000):
            session.execute(
                text(
                    'INSERT INTO sms_messages (key, contact_id, "to", language, category, '
                    "body, segments, encoding, urgent, requested, attempts, status, not_before, "
                    "created_at, sent_at, status_at) "
                    "SELECT 'growth:' || n, "
                    "(CAST(:contacts AS integer[]))[n % CAST(:ncontacts AS integer) + 1], "
                    "'+3247' || lpad((n % 10000000)::text, 7, '0'), 'fr', 'reminder', :body, 1, "
                    "'GSM-7', false, false, 0, (CAST(:states AS text[]))[n % 6 + 1], "
                    "at, at, at, at "
                    "FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n, "
                    "LATERAL (SELECT CAST(:start AS timestamptz) "
                    "+ (31 * (n % 1000000)) * interval '1 second' AS at) AS t"
                ),
                {
                    "contacts": list(contacts),
                    "ncontacts": len(contacts),
                    "body": body,
                    "states": list(states),
                    "first": first,
                    "last": min(first + 100_000, messages) - 1,
                    "start": year_ago,
                },
            )
    for batch in _batches(
        {
            "key": f"growth:{n}",
            "contact_id": contacts[n % len(contacts)],
            "to": f"+3247{n % 10_000_000:07d}",
            "language": "fr",
            "category": "reminder",
            "body": body,
            "segments": 1,
            "status": states[n % len(states)],
            "not_before": (at := year_ago + timedelta(seconds=31 * (n % 1_000_000))),
            "created_at": at,
            "sent_at": at,
            "status_at": at,
        }
        for n in range(messages if session.bind.dialect.name != "postgresql" else 0)
    ):
        _insert(session, Message, batch)
    _note(f"{messages:,} SMS messages")

    appointments = PER_UNIT["appointments"] * scale
    service = session.scalars(select(Service.id)).first()
    locations = session.scalars(select(Location.id)).all()
    first_person = (session.scalar(select(func.max(BookingPerson.id))) or 0) + 1
    for batch in _batches(
        {"name": f"Grown {n}", "phone": None, "created_at": year_ago} for n in range(appointments)
    ):
        _insert(session, BookingPerson, batch)
    for batch in _batches(
        {
            "service_id": service,
            "location_id": locations[n % len(locations)],
            "agent_id": agent.id,
            "person_id": first_person + n,
            # A year either side of today, 8:00 to 16:00 in steps of 20 minutes.
            "start_at": (
                at := (now - timedelta(days=182)).replace(hour=7, minute=0)
                + timedelta(days=n % 365, minutes=20 * ((n // 365) % 24))
            ),
            "end_at": at + timedelta(minutes=15),
            "busy_until": at + timedelta(minutes=20),
            "status": "done" if at < now else "booked",
            "source": "phone",
            "created_at": year_ago,
        }
        for n in range(appointments)
    ):
        _insert(session, Appointment, batch)
    _note(f"{appointments:,} appointments")

    entries = PER_UNIT["audit"] * scale
    actions = ("read", "update", "create", "login")
    step = 365 * 24 * 3600 / entries
    for batch in _batches(
        {
            "at": year_ago + timedelta(seconds=step * n),
            "actor_id": agent.id,
            "actor_role": "social_worker",
            "action": actions[n % 4],
            "entity_type": "user",
            "entity_id": str(n % 5000),
        }
        for n in range(entries)
    ):
        _insert(session, AuditEntry, batch)
    _note(f"{entries:,} audit entries")
    session.commit()
    if session.bind.dialect.name == "postgresql":
        # What autovacuum does after a load: statistics and the visibility map (for
        # index-only scans).
        with session.bind.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE"
            )


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def _time(client, path: str) -> list[float]:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return samples


def _client(app, session_factory, username: str):
    from core import accounts, clock

    client = app.test_client()
    with session_factory() as session:
        user = accounts.find_user(session, username)
        token = accounts.start_login_session(session, user)
        session.commit()
        now = clock.now().timestamp()
        with client.session_transaction() as cookie:
            cookie.update(
                _user_id=str(user.id),
                sid=token,
                _fresh=True,
                login_at=now,
                seen_at=now,
                password_at=user.password_changed_at.timestamp(),
            )
    return client


def _measure(
    scale: int, keep: str | None = None
) -> tuple[str, dict[str, tuple[float, float]], tuple[float, float]]:
    """p50/p95 per page, and of /healthz, with the demo grown `scale` times."""
    from core import clock
    from outreach.models import Encounter
    from web import create_app
    from web.demo import seed_all

    with tempfile.TemporaryDirectory() as folder, _database(folder, keep) as (url, filled):
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        started = time.perf_counter()
        with factory() as session:
            if not filled:
                seed_all(session)
                session.commit()
                _fill(session, scale)
            person = session.scalars(
                select(Encounter.person_id).order_by(Encounter.occurred_at.desc())
            ).first()
        _note(f"{scale}×: filled in {time.perf_counter() - started:.0f} s")
        settings = Settings.from_env(
            {
                "TERRAIN_INSTANCE_PATH": folder,
                "TERRAIN_DATABASE_URL": url,
                "TERRAIN_SECRET_KEY": "bench",
            }
        )
        app = create_app(settings)
        today = clock.to_local(clock.now()).date()
        last_month = f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
        clients = {}
        figures = {}
        for username, path, _label in PAGES:
            client = clients.get(username) or _client(app, factory, username)
            clients[username] = client
            path = path.format(person=person, last_month=last_month)
            client.get(path)  # warm-up
            figures[_label] = _percentiles(_time(client, path))
            _note(f"{scale}× {_label}: p95 {figures[_label][1]:.1f} ms")
        reference = _percentiles(_time(clients["rue1"], "/healthz"))
        engine.dispose()
    return url.split(":", 1)[0], figures, reference


def run(scale: int = SCALE, keep: str | None = None) -> list[str]:
    backend, small, small_ref = _measure(1, f"{keep}_1" if keep else None)
    _, large, large_ref = _measure(scale, f"{keep}_{scale}" if keep else None)
    rows = []
    for _username, _path, label in PAGES:
        rows.append(
            f"| growth: {label}, {scale}× the demo ({backend}) "
            f"| p95 {large[label][1]:.1f} ms at {scale}× (p50 {large[label][0]:.1f}) "
            f"| p95 {small[label][1]:.1f} ms at 1×; /healthz p95 {large_ref[1]:.1f} ms "
            f"(1× run {small_ref[1]:.1f}) "
            f"| {large[label][1] / small[label][1]:.2f}× | {date.today()} |"
        )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=SCALE)
    parser.add_argument(
        "--keep",
        metavar="SCHEMA",
        help="PostgreSQL: fill schemas SCHEMA_1 and SCHEMA_<scale> once and keep them; "
        "later runs with the same name measure them again without filling",
    )
    arguments = parser.parse_args()
    for row in run(arguments.scale, arguments.keep):
        print(row, flush=True)
