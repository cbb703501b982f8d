"""Appointments: booking throughput under contention (many desks racing for the same starts).

The world of `bench/appointments.py` (6 antennes, 40 agents, 8 weeks, ~30 % booked).
WORKERS processes (as many web workers would) each loop: read the free starts of
antenne 0 over its first HOT_DAYS days, pick one of the first three (everyone wants the
earliest: the contention), and `book()` it as a phone booking (confirmation SMS and
reminders queued, audit row, person and contact made), then commit. A start taken
meanwhile answers SlotTaken (rolled back, counted). The loop ends when those days are
full. Then an SQL check: no two active appointments of one agent overlap.

Figures: committed bookings per second over the whole race, p50/p95 of one successful
`book()` + commit, how many attempts met SlotTaken, the statements of one successful
booking (all, and from the one that takes the agent's lock to the commit) and how long
the agent's lock was held (from that statement to the end of the commit): what the
other bookings of that agent wait for. Reference, same run, same
database, same number of processes: a plain INSERT of one appointment row + commit per
row (no lock, no check, no SMS): what the database's commits cost.

Database: BENCH_DATABASE_URL (PostgreSQL: a schema of its own, dropped afterwards),
else a temporary SQLite file (one writer at a time: the figure says so).
"""

from __future__ import annotations

import multiprocessing
import random
import tempfile
import time
from datetime import date, timedelta

from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import aliased

from bench.appointments import FIRST_DAY, NOW, _fill
from bench.progress import Progress
from bench.sync import _database, _percentiles
from core.db import make_engine, make_session_factory

WORKERS = 8
HOT_DAYS = 5
LINK = "https://terrain.example"
TIME_LIMIT_SECONDS = 300

_note = Progress("bench/appointment_booking.py")


def _book_loop(arguments: tuple[str, int, int, int]) -> dict[str, object]:
    """One worker: book the earliest free starts until there are none."""
    from appointments.booking import SlotTaken, book
    from appointments.models import Location, Service
    from appointments.slots import free_slots
    from core import clock

    url, service_id, location_id, worker = arguments
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(worker)  # noqa: S311 - spreading the picks, not a secret
    latencies: list[float] = []
    held: list[float] = []
    statements: list[tuple[int, int]] = []
    taken = 0
    # Every statement of a booking, and the moment the first one on the agents' lock
    # rows was sent (the lock is taken there; before issue 20 it was followed by
    # `SELECT … FOR UPDATE`, now it is one upsert).
    seen = {"all": 0, "locked": None, "at_lock": 0}

    def _count(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        seen["all"] += 1
        if seen["locked"] is None and "appointment_agent_locks" in statement:
            seen["locked"] = time.perf_counter()
            seen["at_lock"] = seen["all"]

    event.listen(engine, "before_cursor_execute", _count)
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    try:
        with clock.frozen(NOW), factory() as session:
            while time.monotonic() < deadline:
                service = session.get(Service, service_id)
                location = session.get(Location, location_id)
                free = free_slots(
                    session,
                    service=service,
                    location=location,
                    first_day=FIRST_DAY,
                    days=HOT_DAYS,
                    notice=False,
                )
                session.rollback()
                if not free:
                    break
                slot = rng.choice(free[:3])
                seen.update(all=0, locked=None, at_lock=0)
                begin = time.perf_counter()
                try:
                    book(
                        session,
                        service=service,
                        location=location,
                        start=slot.start,
                        person_name=f"Bench {worker}",
                        phone=f"+32471{worker:02d}{len(latencies) + taken:04d}",
                        language="fr",
                        source="phone",
                        link_base=LINK,
                    )
                    session.commit()
                    end = time.perf_counter()
                    latencies.append((end - begin) * 1000)
                    held.append((end - seen["locked"]) * 1000)
                    statements.append((seen["all"], seen["all"] - seen["at_lock"] + 1))
                except SlotTaken:
                    session.rollback()
                    taken += 1
    finally:
        engine.dispose()
    return {
        "latencies": latencies,
        "held": held,
        "statements": statements,
        "taken": taken,
        "ended": time.monotonic(),
    }


def _insert_loop(arguments: tuple[str, int, int, int, int]) -> float:
    """One worker of the reference: `rows` plain INSERT + COMMIT of an appointment row."""
    from appointments.models import Appointment

    url, service_id, location_id, person_id, rows = arguments
    engine = make_engine(url)
    factory = make_session_factory(engine)
    start = NOW + timedelta(days=365)
    try:
        with factory() as session:
            for _ in range(rows):
                session.execute(
                    insert(Appointment.__table__).values(
                        service_id=service_id,
                        location_id=location_id,
                        agent_id=None,
                        person_id=person_id,
                        start_at=start,
                        end_at=start + timedelta(minutes=30),
                        busy_until=start + timedelta(minutes=30),
                        status="booked",
                        source="phone",
                        created_at=NOW,
                    )
                )
                session.commit()
    finally:
        engine.dispose()
    return time.monotonic()


def _overlaps(session) -> int:
    """Pairs of active appointments of one agent that overlap (must be 0)."""
    from appointments.models import ACTIVE_STATES, Appointment

    other = aliased(Appointment)
    return session.scalar(
        select(func.count())
        .select_from(Appointment)
        .join(
            other,
            (other.agent_id == Appointment.agent_id)
            & (other.id > Appointment.id)
            & (other.start_at < Appointment.busy_until)
            & (other.busy_until > Appointment.start_at),
        )
        .where(Appointment.status.in_(ACTIVE_STATES), other.status.in_(ACTIVE_STATES))
    )


def run() -> list[str]:
    from appointments.models import BookingPerson
    from core.migrations import upgrade

    _note.restart()
    context = multiprocessing.get_context("fork")
    with (
        tempfile.TemporaryDirectory(prefix="terrain-bench-booking-") as folder,
        _database(folder) as url,
    ):
        upgrade(url)
        engine = make_engine(url)
        backend = url.split(":", 1)[0]
        try:
            with make_session_factory(engine)() as session:
                world = _fill(session)
                service_id = world["service"].id
                location_id = world["locations"][0].id
                person_id = session.scalar(select(func.min(BookingPerson.id)))
            engine.dispose()  # nothing shared across the fork

            _note(f"{WORKERS} workers booking antenne 0's first {HOT_DAYS} days")
            begin = time.monotonic()
            with context.Pool(WORKERS) as pool:
                results = pool.map(
                    _book_loop,
                    [(url, service_id, location_id, worker) for worker in range(WORKERS)],
                )
            elapsed = max(result["ended"] for result in results) - begin
            latencies = [value for result in results for value in result["latencies"]]
            taken = sum(result["taken"] for result in results)
            held = [value for result in results for value in result["held"]]
            counts = [value for result in results for value in result["statements"]]
            booked = len(latencies)
            with make_session_factory(engine)() as session:
                overlaps = _overlaps(session)
            _note(f"{booked} booked, {taken} SlotTaken, {overlaps} overlaps, {elapsed:.1f} s")

            share = max(1, booked // WORKERS)
            begin = time.monotonic()
            with context.Pool(WORKERS) as pool:
                ends = pool.map(
                    _insert_loop,
                    [(url, service_id, location_id, person_id, share)] * WORKERS,
                )
            reference_elapsed = max(ends) - begin
            _note(f"reference: {share * WORKERS} plain inserts in {reference_elapsed:.1f} s")
        finally:
            engine.dispose()
    if overlaps:
        raise AssertionError(f"{overlaps} overlapping appointments: double booking")
    p50, p95 = _percentiles(latencies)
    held50, held95 = _percentiles(held)
    every = sorted(total for total, _ in counts)
    locked = sorted(under for _, under in counts)
    rate = booked / elapsed
    reference_rate = share * WORKERS / reference_elapsed
    return [
        f"| appointments: booking under contention, {WORKERS} processes racing for the "
        f"earliest starts of one antenne ({HOT_DAYS} days, {booked} bookings) ({backend}) "
        f"| {rate:.0f} bookings/s; one booking p50 {p50:.0f} ms, p95 {p95:.0f} ms; "
        f'{taken} attempts met "slot taken"; 0 double bookings; '
        f"statements per booking: median {every[len(every) // 2]} "
        f"({locked[len(locked) // 2]} from the agent's lock to the commit); "
        f"lock held p50 {held50:.0f} ms, p95 {held95:.0f} ms "
        f"| {WORKERS} processes, plain INSERT + COMMIT of one row: {reference_rate:.0f} rows/s "
        f"| {rate / reference_rate:.2f}× | {date.today()} |"
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
