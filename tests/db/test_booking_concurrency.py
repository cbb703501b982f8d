"""Bookings racing on PostgreSQL: never two for one agent at one time, and no booking
waits for a lock it does not need (appointments/booking.py, issue 20).

Each booking tries the free agents one savepoint at a time: an agent whose lock another
open booking holds is skipped (`FOR UPDATE SKIP LOCKED`) while another agent is free, and
an agent found taken is released at once (the savepoint rolled back), before the next
free starts are read. Committed data on a database of its own; PostgreSQL only (SQLite
has one writer at a time: nothing races).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Barrier
from unittest import mock

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import aliased, sessionmaker

from appointments import booking, slots
from appointments.models import ACTIVE_STATES, AgentLock, Appointment, Location, Service
from core import clock
from core.db import make_engine, make_session_factory
from tests.db.appointments_world import LINK, NOW, SECRET, Agenda, at, mobile
from tests.live.support import POSTGRES_ONLY
from tests.support import fresh_database

pytestmark = POSTGRES_ONLY

RACERS = 8


@pytest.fixture(scope="module")
def sessions() -> Iterator[sessionmaker]:
    from core.migrations import upgrade

    with fresh_database("booking-race") as url:
        upgrade(url)
        engine = make_engine(url, pool_size=RACERS + 2)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with clock.frozen(NOW):
        yield


@dataclass(frozen=True)
class Made:
    service_id: int
    location_id: int
    agents: list[int]


def agenda(sessions: sessionmaker, agents: int) -> Made:
    """A committed service, place and agents (ascending ids), each agent's lock row made
    (as after the agent's first booking)."""
    with sessions() as session:
        made = Agenda(session, agents=agents)
        for agent in made.agents:
            booking.lock_agent(session, agent.id)
        session.commit()
        return Made(made.service.id, made.location.id, sorted(agent.id for agent in made.agents))


def book(session, made: Made) -> Appointment:
    return booking.book(
        session,
        service=session.get(Service, made.service_id),
        location=session.get(Location, made.location_id),
        start=at(10),
        person_name="Amina Test",
        phone=mobile(),
        language="fr",
        source="online",
        link_base=LINK,
        secret_key=SECRET,
    )


def overlaps(session, service_id: int) -> int:
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
        .where(
            Appointment.service_id == service_id,
            Appointment.status.in_(ACTIVE_STATES),
            other.status.in_(ACTIVE_STATES),
        )
    )


def test_a_booking_takes_the_next_agent_instead_of_waiting_for_a_held_one(sessions):
    made = agenda(sessions, agents=2)
    first, second = made.agents
    with sessions() as holder, sessions() as other:
        held = book(holder, made)  # not committed: holds the first agent's lock
        assert held.agent_id == first
        pool = ThreadPoolExecutor(max_workers=1)
        # Waiting for the holder's commit would never end: the holder waits here.
        future = pool.submit(book, other, made)
        try:
            booked = future.result(timeout=20)
        except TimeoutError:
            holder.rollback()  # lets the waiting booking go, so the test can end
            pytest.fail("the second booking waited for the first agent's lock")
        finally:
            pool.shutdown()
        assert booked.agent_id == second
        other.commit()
        holder.commit()
    with sessions() as session:
        starts = session.scalars(
            select(Appointment.agent_id).where(Appointment.service_id == made.service_id)
        ).all()
        assert sorted(starts) == [first, second]
        assert overlaps(session, made.service_id) == 0


def test_an_agent_found_taken_is_released_before_the_next_starts_are_read(sessions):
    made = agenda(sessions, agents=1)
    [agent_id] = made.agents
    with sessions() as session:
        book(session, made)
        session.commit()
    seen: list[list[int]] = []
    next_free_slots = slots.next_free_slots

    def looking(*args, **kwargs):
        # Another connection finds the agent's lock free while the refused booking,
        # still in its transaction, reads the next free starts.
        with sessions() as probe:
            seen.append(
                probe.scalars(
                    select(AgentLock.user_id)
                    .where(AgentLock.user_id == agent_id)
                    .with_for_update(skip_locked=True)
                ).all()
            )
            probe.rollback()
        return next_free_slots(*args, **kwargs)

    with (
        sessions() as late,
        # It read the agent free before the first booking was committed.
        mock.patch.object(slots, "agents_at_start", return_value=([agent_id], [agent_id])),
        mock.patch.object(slots, "next_free_slots", side_effect=looking),
    ):
        with pytest.raises(booking.SlotTaken) as taken:
            book(late, made)
        assert late.in_transaction()
        late.rollback()
    assert seen == [[agent_id]]
    assert taken.value.next_slots and taken.value.next_slots[0].start == at(10, 30)
    with sessions() as session:
        # The refused booking's count was given back with its savepoint.
        assert session.get(AgentLock, agent_id).bookings == 1
        assert (
            session.scalar(
                select(func.count())
                .select_from(Appointment)
                .where(Appointment.service_id == made.service_id)
            )
            == 1
        )


def test_racing_bookings_of_one_start_fill_each_agent_once(sessions):
    made = agenda(sessions, agents=3)
    barrier = Barrier(RACERS)

    def race(_: int) -> int | None:
        with sessions() as session:
            session.execute(text("SELECT 1"))  # connected before the start
            barrier.wait(timeout=30)
            try:
                appointment = book(session, made)
            except booking.SlotTaken:
                session.rollback()
                return None
            agent_id = appointment.agent_id
            session.commit()
            return agent_id

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        agents = list(pool.map(race, range(RACERS), timeout=120))
    booked = [agent for agent in agents if agent is not None]
    assert sorted(booked) == made.agents
    with sessions() as session:
        assert overlaps(session, made.service_id) == 0
        # Each agent counted its one booking: every refused attempt gave its count back.
        counts = session.scalars(
            select(AgentLock.bookings).where(AgentLock.user_id.in_(made.agents))
        ).all()
        assert sorted(counts) == [1, 1, 1]
        # Nothing of a refused booking stayed: one person per booking.
        people = session.scalar(
            select(func.count(func.distinct(Appointment.person_id))).where(
                Appointment.service_id == made.service_id
            )
        )
        assert people == 3
