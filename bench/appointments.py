"""Appointments: slot search for one service over 8 weeks, 40 agents, 6 locations.

The world: 6 antennes open Mon–Fri 08:30–12:00 and 13:00–16:00; 40 agents who all
deliver the service (30 minutes, no buffer: the densest grid, 13 starts a day), each
working Mon–Fri at a home antenne, and one agent in four on Wednesdays at the next
antenne; about 30 % of every agent's grid starts over the 8 weeks already booked
(plus 5 % cancelled bookings, which must not count), 10 agent-days of leave, one
closure day. The search starts on Monday 23 November 2026 at 07:00 (the scenario is
fixed, so runs on different days compare): 8 weeks, with 25 December and 1 January.

Figures: p50/p95 of `free_slots(…, days=56)` for one location (round robin over the 6),
and of the 6 calls that answer "every location" (the public page's "any place").
Reference, same run, same database: a plain SELECT of the rows one search reads from
the appointments table (the location's agents' active appointments in the window),
fetched into Python: what the database costs before any rule is applied; for "every
location", that SELECT once per location.

Database: BENCH_DATABASE_URL (PostgreSQL: a schema of its own, dropped afterwards),
else a temporary SQLite file.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from unittest import mock

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.progress import Progress
from bench.sync import _database, _percentiles
from core.db import make_engine, make_session_factory

AGENTS = 40
LOCATIONS = 6
WEEKS = 8
FIRST_DAY = date(2026, 11, 23)  # a Monday
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 07:00 in Brussels
BOOKED = 0.30
CANCELLED = 0.05
RUNS_ONE = 60  # single-location searches (10 per location)
RUNS_ALL = 20  # "every location" searches (6 calls each)
STRETCHES = ((clock_time(8, 30), clock_time(12, 0)), (clock_time(13, 0), clock_time(16, 0)))
MINUTES = 30
AGENT_PASSWORD = "bench-agent-password"  # noqa: S105 - throwaway bench accounts

_note = Progress("bench/appointments.py")


def _fill(session: Session) -> dict[str, object]:
    """The world above; returns the service, the locations and the agents per location."""
    from appointments.models import (
        AgentAbsence,
        AgentService,
        Appointment,
        BookingPerson,
        Closure,
        Location,
        OpeningHours,
        Service,
        ServiceLocation,
        WorkingPlan,
    )
    from appointments.slots import is_public_holiday
    from core import accounts, clock, organisations

    service = Service(
        code="bench-permanence",
        name_fr="Permanence sociale",
        name_nl="Sociale permanentie",
        name_en="Social welfare appointment",
        duration_minutes=MINUTES,
        buffer_minutes=0,
        min_notice_hours=2,
        max_horizon_days=WEEKS * 7,
        languages=["fr", "nl"],
    )
    session.add(service)
    # Every place belongs to a team of a CPAS (docs/cpas.md): one of each.
    organisations.create_cpas(
        session,
        code="bench",
        name_fr="CPAS de Bruxelles",
        name_nl="OCMW van Brussel",
        region="brussels",
        language_regime="bilingual",
        postcodes=["1000"],
    )
    team = accounts.create_team(
        session,
        code="bench-antenne",
        name="Antenne",
        kind="antenne",
        cpas_code="bench",
        city="Bruxelles",
    )
    locations = []
    for n in range(LOCATIONS):
        location = Location(
            code=f"bench-antenne-{n}", name=f"Antenne {n}", city="Bruxelles", team_id=team.id
        )
        location.opening_hours = [
            OpeningHours(weekday=weekday, opens=opens, closes=closes)
            for weekday in range(5)
            for opens, closes in STRETCHES
        ]
        session.add(location)
        locations.append(location)
    session.flush()
    for location in locations:
        session.add(ServiceLocation(service_id=service.id, location_id=location.id))
    shared_hash = accounts.hash_password(AGENT_PASSWORD)
    agents = []
    with mock.patch.object(accounts, "hash_password", lambda _password: shared_hash):
        for n in range(AGENTS):
            agents.append(
                accounts.create_user(
                    session,
                    username=f"bench-agent-{n:02d}",
                    display_name=f"Agent {n}",
                    password=AGENT_PASSWORD,
                    role="social_worker",
                    check_password=False,
                )
            )
    # Agent n: home antenne n % 6, Mon–Fri; one in four works Wednesdays next door.
    where: dict[tuple[int, int], int] = {}  # (agent index, weekday) → location index
    for n, agent in enumerate(agents):
        session.add(AgentService(user_id=agent.id, service_id=service.id))
        for weekday in range(5):
            home = n % LOCATIONS
            at = (home + 1) % LOCATIONS if weekday == 2 and n % 4 == 0 else home
            where[n, weekday] = at
            for starts, ends in STRETCHES:
                session.add(
                    WorkingPlan(
                        user_id=agent.id,
                        location_id=locations[at].id,
                        weekday=weekday,
                        starts=starts,
                        ends=ends,
                        valid_from=date(2026, 1, 1),
                    )
                )
    session.add(
        Closure(
            location_id=locations[0].id,
            first_day=FIRST_DAY + timedelta(days=22),
            last_day=FIRST_DAY + timedelta(days=22),
            reason="formation",
        )
    )
    rng = random.Random(20261123)  # noqa: S311 - a reproducible world, not a secret
    for n in range(10):
        day = FIRST_DAY + timedelta(days=rng.randrange(WEEKS * 7))
        starts = datetime.combine(day, clock_time(), clock.BRUSSELS)
        session.add(
            AgentAbsence(
                user_id=agents[n * 4].id,
                starts_at=clock.as_utc(starts),
                ends_at=clock.as_utc(starts + timedelta(days=1)),
            )
        )
    people = [BookingPerson(name=f"Personne {n}", phone=f"+3247{n:07d}") for n in range(500)]
    session.add_all(people)
    session.flush()
    rows = []
    for offset in range(WEEKS * 7):
        day = FIRST_DAY + timedelta(days=offset)
        if day.weekday() >= 5 or is_public_holiday(day):
            continue
        for n, agent in enumerate(agents):
            for opens, closes in STRETCHES:
                wall = datetime.combine(day, opens)
                while wall + timedelta(minutes=MINUTES) <= datetime.combine(day, closes):
                    draw = rng.random()
                    if draw < BOOKED + CANCELLED:
                        start = clock.as_utc(wall.replace(tzinfo=clock.BRUSSELS))
                        end = start + timedelta(minutes=MINUTES)
                        cancelled = draw >= BOOKED
                        rows.append(
                            {
                                "service_id": service.id,
                                "location_id": locations[where[n, day.weekday()]].id,
                                "agent_id": agent.id,
                                "person_id": rng.choice(people).id,
                                "start_at": start,
                                "end_at": end,
                                "busy_until": end,
                                "status": "cancelled" if cancelled else "booked",
                                "cancelled_by": "person" if cancelled else None,
                                "cancelled_at": NOW if cancelled else None,
                                "source": "online",
                                "created_at": NOW,
                            }
                        )
                    wall += timedelta(minutes=MINUTES)
    for first in range(0, len(rows), 1000):
        session.execute(insert(Appointment.__table__), rows[first : first + 1000])
    session.commit()
    by_location = {
        index: sorted({agents[n].id for (n, _weekday), at in where.items() if at == index})
        for index in range(LOCATIONS)
    }
    booked = sum(1 for row in rows if row["status"] == "booked")
    _note(f"{len(rows):,} appointments inserted ({booked:,} booked)")
    return {"service": service, "locations": locations, "agents": by_location, "booked": booked}


def _reference_select(session: Session, agent_ids: list[int]) -> int:
    from appointments.models import ACTIVE_STATES, Appointment

    window_start = datetime.combine(FIRST_DAY, clock_time(), UTC) - timedelta(hours=3)
    window_end = window_start + timedelta(days=WEEKS * 7, hours=6)
    rows = session.execute(
        select(Appointment.agent_id, Appointment.start_at, Appointment.busy_until).where(
            Appointment.agent_id.in_(agent_ids),
            Appointment.status.in_(ACTIVE_STATES),
            Appointment.start_at < window_end,
            Appointment.busy_until > window_start,
        )
    ).all()
    return len(rows)


def run() -> list[str]:
    from appointments.slots import free_slots
    from core.migrations import upgrade

    _note.restart()
    with (
        tempfile.TemporaryDirectory(prefix="terrain-bench-appointments-") as folder,
        _database(folder) as url,
    ):
        upgrade(url)
        engine = make_engine(url)
        backend = url.split(":", 1)[0]
        try:
            with make_session_factory(engine)() as session:
                world = _fill(session)
                service, locations = world["service"], world["locations"]

                def search(location) -> list:
                    return free_slots(
                        session,
                        service=service,
                        location=location,
                        first_day=FIRST_DAY,
                        days=WEEKS * 7,
                        now=NOW,
                    )

                counts = [len(search(location)) for location in locations]  # warm-up
                starts = sum(slot.free for location in locations for slot in search(location))
                _note(f"slots per location: {counts}; agent-starts free: {starts:,}")
                one: list[float] = []
                for run_index in range(RUNS_ONE):
                    location = locations[run_index % LOCATIONS]
                    begin = time.perf_counter()
                    search(location)
                    one.append((time.perf_counter() - begin) * 1000)
                every: list[float] = []
                for _ in range(RUNS_ALL):
                    begin = time.perf_counter()
                    for location in locations:
                        search(location)
                    every.append((time.perf_counter() - begin) * 1000)
                reference: list[float] = []
                rows_read = 0
                for run_index in range(RUNS_ONE):
                    agent_ids = world["agents"][run_index % LOCATIONS]
                    begin = time.perf_counter()
                    rows_read += _reference_select(session, agent_ids)
                    reference.append((time.perf_counter() - begin) * 1000)
                reference_all: list[float] = []
                for _ in range(RUNS_ALL):
                    begin = time.perf_counter()
                    for agent_ids in world["agents"].values():
                        _reference_select(session, agent_ids)
                    reference_all.append((time.perf_counter() - begin) * 1000)
        finally:
            engine.dispose()
    one_p50, one_p95 = _percentiles(one)
    all_p50, all_p95 = _percentiles(every)
    ref_p50, ref_p95 = _percentiles(reference)
    ref_all_p50, ref_all_p95 = _percentiles(reference_all)
    rows_each = rows_read // RUNS_ONE
    scenario = (
        f"1 service, {WEEKS} weeks, {AGENTS} agents, {LOCATIONS} locations, "
        f"{world['booked']:,} booked appointments (~{BOOKED:.0%})"
    )
    reference_text = (
        f"SELECT of one location's agents' active appointments in the window "
        f"(~{rows_each:,} rows): p50 {ref_p50:.1f} ms, p95 {ref_p95:.1f} ms"
    )
    return [
        f"| appointments: free slots of one location, {scenario} ({backend}) "
        f"| p50 {one_p50:.1f} ms, p95 {one_p95:.1f} ms ({sum(counts) // LOCATIONS} slots "
        f"per location on average) | {reference_text} | {one_p50 / ref_p50:.1f}× "
        f"| {date.today()} |",
        f"| appointments: free slots of every location (6 calls), {scenario} ({backend}) "
        f"| p50 {all_p50:.1f} ms, p95 {all_p95:.1f} ms ({sum(counts):,} slots) "
        f"| the same SELECT for each of the 6 locations: p50 {ref_all_p50:.1f} ms, "
        f"p95 {ref_all_p95:.1f} ms | {all_p50 / ref_all_p50:.1f}× | {date.today()} |",
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
