"""The reception desk and the agents' view (appointments/desk.py) on the database.

Each test builds its own location, service and agents (`Agenda` of appointments_world.py:
open every day 09:00–12:00). Bookings are made on Tuesday 1 December 2026 at 09:00 for
Thursday 3 December; the desk's "now" is then Thursday morning.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from appointments import booking, desk
from appointments.models import AgentService, Appointment
from core import accounts, clock
from core.audit import AuditEntry
from core.errors import Invalid
from tests.db.appointments_world import NOW, THURSDAY, Agenda, at


@pytest.fixture()
def now() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def go_to(traveller: clock.Traveller, moment) -> None:
    traveller.advance(seconds=(moment - clock.now()).total_seconds())


def staff(db) -> accounts.User:
    return accounts.find_user(db, "accueil")


def walk_in(db, agenda: Agenda, **fields) -> Appointment:
    return desk.add_walk_in(
        db, location=agenda.location, service=agenda.service, actor=staff(db), **fields
    )


def test_the_agenda_shows_each_agent_working_that_day_with_their_appointments(db, now):
    agenda = Agenda(db, agents=2)
    first, second = agenda.agents
    kept = agenda.book(at(9), agent_id=first.id)
    cancelled = agenda.book(at(10), agent_id=second.id)
    booking.cancel(db, cancelled, by="staff", actor=staff(db))
    go_to(now, at(9, 5))
    day = desk.day_agenda(db, agenda.location, THURSDAY, reader=staff(db))
    assert [column.agent.id for column in day.columns] == sorted(
        [first.id, second.id], key=lambda i: db.get(accounts.User, i).display_name
    )
    by_agent = {column.agent.id: column for column in day.columns}
    assert [block.appointment for block in by_agent[first.id].blocks] == [kept]
    # Cancelled ones stay on the agenda, shown as cancelled.
    assert [block.state for block in by_agent[second.id].blocks] == ["cancelled"]
    block = by_agent[first.id].blocks[0]
    assert (block.row, block.span) == (1, 2)  # 09:00, two rows of 15 minutes
    assert clock.to_local(day.first_row_at).hour == 9 and day.rows == 12
    assert day.now_row == 1 and day.is_today and day.closed is None
    # The read of the names is audited once per person and day view, not at each refresh.
    desk.day_agenda(db, agenda.location, THURSDAY, reader=staff(db))
    reads = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "appointment_agenda",
            AuditEntry.entity_id == f"{agenda.location.code}:{THURSDAY.isoformat()}",
        )
    ).all()
    assert len(reads) == 1 and reads[0].actor_id == staff(db).id


def test_an_absent_agent_has_no_column_and_a_partly_absent_one_shows_the_absence(db, now):
    from appointments.models import AgentAbsence

    agenda = Agenda(db, agents=2)
    first, second = agenda.agents
    db.add(AgentAbsence(user_id=first.id, starts_at=at(8), ends_at=at(13), reason="leave"))
    db.add(AgentAbsence(user_id=second.id, starts_at=at(11), ends_at=at(12), reason="training"))
    db.flush()
    day = desk.day_agenda(db, agenda.location, THURSDAY)
    assert [column.agent.id for column in day.columns] == [second.id]
    assert [block.state for block in day.columns[0].blocks] == ["absent"]


def test_a_walk_in_joins_the_queue_with_a_ticket_and_is_audited(db, now):
    agenda = Agenda(db)
    go_to(now, at(9, 0))
    first = walk_in(db, agenda)
    second = walk_in(db, agenda, name="Marc", phone_number="0471 99 88 77")
    assert first.source == "walk_in" and first.agent_id is None
    assert first.status == "checked_in" and first.checked_in_at == clock.now()
    assert first.end_at - first.start_at == timedelta(minutes=30)
    assert second.person.name == "Marc" and second.person.phone == "+32471998877"
    entries = desk.queue(db, agenda.location, THURSDAY)
    assert [(entry.appointment, entry.ticket) for entry in entries] == [(first, 1), (second, 2)]
    logged = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "appointment", AuditEntry.entity_id == str(first.id)
        )
    )
    assert logged.details["source"] == "walk_in" and logged.actor_id == staff(db).id


def test_bad_walk_in_input_is_refused_and_nothing_is_made(db, now):
    agenda = Agenda(db)
    other = Agenda(db)
    before = db.scalar(select(Appointment.id).order_by(Appointment.id.desc()).limit(1))
    cases = [
        ({"phone_number": "12"}, "phone", "invalid_phone"),
        ({"name": "x" * 121}, "name", "too_long"),
    ]
    for fields, name, code in cases:
        with pytest.raises(Invalid) as refused:
            walk_in(db, agenda, **fields)
        assert refused.value.errors[name].code == code
    with pytest.raises(Invalid) as refused:
        desk.add_walk_in(
            db, location=agenda.location, service=other.service, actor=staff(db), name=""
        )
    assert refused.value.errors["service"].code == "not_offered"
    after = db.scalar(select(Appointment.id).order_by(Appointment.id.desc()).limit(1))
    assert before == after


def test_queue_order_and_expected_wait(db, now):
    """Agent A has a booking at 09:30; the agent B is free. Walk-ins of 30 minutes
    arrive at 09:00: the first goes to A now (free until 09:30), the second to B now,
    the third waits until the first free end: 09:30 (B); the booked person, arrived
    early, keeps their time (09:30 with A)."""
    agenda = Agenda(db, agents=2)
    a, b = sorted(agenda.agents, key=lambda agent: agent.id)
    booked = agenda.book(at(9, 30), agent_id=a.id)
    go_to(now, at(9, 0))
    booking.check_in(db, booked, actor=staff(db))
    walk_ins = [walk_in(db, agenda) for _ in range(3)]
    entries = desk.queue(db, agenda.location, THURSDAY)
    expected = {entry.appointment.id: entry for entry in entries}
    assert expected[walk_ins[0].id].expected_wait_minutes == 0
    assert expected[walk_ins[0].id].expected_agent_id == a.id
    assert expected[walk_ins[1].id].expected_wait_minutes == 0
    assert expected[walk_ins[1].id].expected_agent_id == b.id
    assert expected[walk_ins[2].id].expected_wait_minutes == 30
    assert expected[walk_ins[2].id].expected_agent_id == b.id
    assert expected[booked.id].expected_at == at(9, 30)
    assert [entry.position for entry in entries] == [1, 2, 3, 4]
    assert entries[-1].appointment == walk_ins[2]
    # Ten minutes later, they have waited ten minutes.
    go_to(now, at(9, 10))
    later = desk.queue(db, agenda.location, THURSDAY)
    assert {entry.waited_minutes for entry in later} == {10}


def test_a_walk_in_for_a_service_nobody_delivers_today_has_no_estimate(db, now):
    agenda = Agenda(db)
    alone = agenda.new_service(minutes=20)
    db.execute(AgentService.__table__.delete().where(AgentService.service_id == alone.id))
    go_to(now, at(9))
    person = desk.add_walk_in(db, location=agenda.location, service=alone, actor=staff(db), name="")
    (entry,) = desk.queue(db, agenda.location, THURSDAY)
    assert entry.appointment == person and entry.expected_at is None


def test_calling_a_walk_in_gives_the_agent_and_the_time_from_now(db, now):
    agenda = Agenda(db, minutes=20, buffer=5)
    (agent,) = agenda.agents
    go_to(now, at(9, 0))
    person = walk_in(db, agenda)
    go_to(now, at(9, 12))
    called = desk.call(db, person, agent, actor=staff(db))
    assert called.agent_id == agent.id and called.called_at == at(9, 12)
    assert (called.start_at, called.end_at, called.busy_until) == (
        at(9, 12),
        at(9, 32),
        at(9, 37),
    )
    assert desk.queue(db, agenda.location, THURSDAY) == []
    # A second tap (or another desk) changes nothing.
    go_to(now, at(9, 13))
    assert desk.call(db, person, agent, actor=staff(db)).called_at == at(9, 12)


def test_a_busy_agent_is_refused_naming_until_when(db, now):
    agenda = Agenda(db)
    (agent,) = agenda.agents
    booked = agenda.book(at(9, 30), agent_id=agent.id)
    go_to(now, at(9, 10))
    person = walk_in(db, agenda)  # 30 minutes: would overlap 09:30
    with pytest.raises(Invalid) as refused:
        desk.call(db, person, agent, actor=staff(db))
    error = refused.value.errors["agent"]
    assert error.code == "agent_busy"
    assert error.params == {"agent": agent.display_name, "from": "09:30", "until": "10:00"}
    db.refresh(person)
    assert person.agent_id is None and person.called_at is None
    assert booked.status == "booked"


def test_two_walk_ins_for_one_agent_the_second_call_is_refused(db, now):
    agenda = Agenda(db)
    (agent,) = agenda.agents
    go_to(now, at(9))
    first, second = walk_in(db, agenda), walk_in(db, agenda)
    desk.call(db, first, agent, actor=staff(db))
    with pytest.raises(Invalid) as refused:
        desk.call(db, second, agent, actor=staff(db))
    assert refused.value.errors["agent"].params["until"] == "09:30"
    # Done early: the rest of the time is freed, and the next one can be called.
    go_to(now, at(9, 20))
    desk.finish(db, first, actor=staff(db))
    assert first.status == "done" and first.end_at == at(9, 20)
    assert desk.call(db, second, agent, actor=staff(db)).agent_id == agent.id


def test_calling_checks_the_agent_and_the_status(db, now):
    agenda = Agenda(db, agents=2)
    a, b = agenda.agents
    booked = agenda.book(at(9, 30), agent_id=a.id)
    other = agenda.new_service()
    db.execute(
        AgentService.__table__.delete().where(
            AgentService.service_id == other.id, AgentService.user_id == b.id
        )
    )
    go_to(now, at(9, 0))
    with pytest.raises(Invalid) as refused:
        desk.call(db, booked, a, actor=staff(db))  # not arrived yet
    assert refused.value.errors["status"].code == "wrong_status"
    booking.check_in(db, booked, actor=staff(db))
    with pytest.raises(Invalid) as refused:
        desk.call(db, booked, b, actor=staff(db))
    assert refused.value.errors["agent"].code == "not_their_agent"
    assert desk.call(db, booked, None, actor=staff(db)).called_at == at(9, 0)
    assert booked.start_at == at(9, 30)  # a booked person keeps their time
    person = desk.add_walk_in(db, location=agenda.location, service=other, actor=staff(db), name="")
    with pytest.raises(Invalid) as refused:
        desk.call(db, person, b, actor=staff(db))
    assert refused.value.errors["agent"].code == "does_not_deliver"


def test_call_next_takes_the_first_person_the_agent_can_take(db, now):
    agenda = Agenda(db)
    (agent,) = agenda.agents
    go_to(now, at(9, 0))
    first = walk_in(db, agenda)
    walk_in(db, agenda)
    called = desk.call_next(db, agenda.location, agent, actor=staff(db))
    assert called == first and called.agent_id == agent.id


def test_no_show_before_the_start_is_refused_and_a_double_tap_is_harmless(db, now):
    agenda = Agenda(db)
    booked = agenda.book(at(10))
    other = agenda.book(at(11))
    go_to(now, at(9, 50))
    with pytest.raises(Invalid) as refused:
        booking.mark_no_show(db, booked, actor=staff(db))
    assert refused.value.errors["status"].code == "not_started"
    go_to(now, at(10, 5))
    booking.mark_no_show(db, booked, actor=staff(db))
    booking.mark_no_show(db, booked, actor=staff(db))
    assert booked.status == "no_show"
    entries = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "appointment",
            AuditEntry.entity_id == str(booked.id),
            AuditEntry.action == "update",
        )
    ).all()
    assert len(entries) == 1
    booking.check_in(db, other, actor=staff(db))
    booking.check_in(db, other, actor=staff(db))
    desk.finish(db, other, actor=staff(db))
    desk.finish(db, other, actor=staff(db))
    assert other.status == "done"


def test_my_appointments_and_my_beneficiaries(db, now):
    agenda = Agenda(db, agents=2)
    me, colleague = agenda.agents
    seen = agenda.book(at(9), agent_id=me.id, person_name="Vu Avant", phone="+32471550999")
    mine = agenda.book(at(11), agent_id=me.id)
    stranger = agenda.book(at(10), agent_id=colleague.id)
    go_to(now, at(9, 40))
    booking.check_in(db, seen, actor=staff(db))
    desk.finish(db, seen, actor=staff(db))
    # Seen before by me, now booked with my colleague.
    with clock.frozen(NOW):
        again = agenda.book(
            at(11, 30), agent_id=colleague.id, person_name="Vu Avant", phone="+32471550999"
        )
    result = desk.my_appointments(db, me)
    assert [a.id for a in result.mine] == [seen.id, mine.id]
    assert [a.id for a in result.beneficiaries] == [again.id]
    assert stranger not in result.beneficiaries
    assert result.agents[colleague.id] == colleague


# --- Issue 16: the preselected agent, undo, closed days and phone-only services ----------


def test_the_proposed_agent_is_the_free_one_whose_skills_the_queue_needs_least(db, now):
    """The only debt-mediation agent (lower id, so first before the fix) and a
    generalist are both free: an ordinary walk-in is proposed to the generalist, and a
    debt-mediation walk-in behind them to the mediator."""
    agenda = Agenda(db, agents=2)
    mediator, generalist = sorted(agenda.agents, key=lambda agent: agent.id)
    debts = agenda.new_service()
    db.execute(
        AgentService.__table__.delete().where(
            AgentService.service_id == debts.id, AgentService.user_id == generalist.id
        )
    )
    go_to(now, at(9, 0))
    ordinary = walk_in(db, agenda)
    (entry,) = desk.queue(db, agenda.location, THURSDAY)
    assert entry.appointment == ordinary and entry.expected_agent_id == generalist.id
    # The rarer skill weighs even with nobody waiting for it; with someone waiting, too.
    indebted = desk.add_walk_in(
        db, location=agenda.location, service=debts, actor=staff(db), name=""
    )
    expected = {e.appointment.id: e for e in desk.queue(db, agenda.location, THURSDAY)}
    assert expected[ordinary.id].expected_agent_id == generalist.id
    assert expected[indebted.id].expected_agent_id == mediator.id
    assert expected[indebted.id].expected_wait_minutes == 0


def test_done_can_be_undone_for_a_while_with_the_time_given_back(db, now):
    agenda = Agenda(db)
    (agent,) = agenda.agents
    go_to(now, at(9, 0))
    person = walk_in(db, agenda)
    desk.call(db, person, agent, actor=staff(db))
    go_to(now, at(9, 10))
    desk.finish(db, person, actor=staff(db))  # ended early: 09:10
    assert (person.status, person.end_at) == ("done", at(9, 10))
    (closed,) = desk.day_agenda(db, agenda.location, THURSDAY).recent
    assert closed.appointment == person and closed.status == "done"
    go_to(now, at(9, 11))
    desk.undo(db, person, actor=staff(db))
    assert person.status == "checked_in" and person.called_at == at(9, 0)
    assert (person.end_at, person.busy_until) == (at(9, 30), at(9, 30))
    day = desk.day_agenda(db, agenda.location, THURSDAY)
    assert day.recent == [] and day.with_agent == [person]
    undone = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "appointment", AuditEntry.entity_id == str(person.id))
        .order_by(AuditEntry.id.desc())
    ).first()
    assert undone.details == {"status": "checked_in", "from": "done", "undone": True}
    assert undone.actor_id == staff(db).id
    # Done again, then too late to undo.
    desk.finish(db, person, actor=staff(db))
    go_to(
        now,
        at(
            9,
            11 + desk.UNDO_MINUTES,
        )
        + timedelta(seconds=1),
    )
    assert desk.day_agenda(db, agenda.location, THURSDAY).recent == []
    with pytest.raises(Invalid) as refused:
        desk.undo(db, person, actor=staff(db))
    assert refused.value.errors["status"].code == "undo_too_late"
    assert person.status == "done"


def test_undoing_done_is_refused_once_the_agent_called_someone_else(db, now):
    agenda = Agenda(db)
    (agent,) = agenda.agents
    go_to(now, at(9, 0))
    first, second = walk_in(db, agenda), walk_in(db, agenda)
    desk.call(db, first, agent, actor=staff(db))
    go_to(now, at(9, 10))
    desk.finish(db, first, actor=staff(db))
    desk.call(db, second, agent, actor=staff(db))
    with pytest.raises(Invalid) as refused:
        desk.undo(db, first, actor=staff(db))
    assert refused.value.errors["agent"].code == "agent_busy"
    db.refresh(first)
    assert first.status == "done"


def test_a_walk_in_who_left_can_be_put_back_in_their_place(db, now):
    agenda = Agenda(db)
    booked, other = agenda.book(at(10)), agenda.book(at(11))
    go_to(now, at(9, 0))
    first, second = walk_in(db, agenda), walk_in(db, agenda)
    go_to(now, at(9, 5))
    desk.leave(db, first, actor=staff(db))
    assert first.status == "cancelled"
    assert [e.appointment for e in desk.queue(db, agenda.location, THURSDAY)] == [second]
    desk.undo(db, first, actor=staff(db))
    assert first.status == "checked_in" and first.cancelled_at is None
    assert [e.appointment for e in desk.queue(db, agenda.location, THURSDAY)] == [first, second]
    # A booked person's cancellation is not "left", and is not undone from here, even
    # once they had arrived: its time may already be offered to the waiting list.
    booking.check_in(db, booked, actor=staff(db))
    booking.cancel(db, booked, by="staff", actor=staff(db))
    assert booked.checked_in_at is not None
    with pytest.raises(Invalid):
        desk.undo(db, booked, actor=staff(db))
    with pytest.raises(Invalid):
        desk.leave(db, other, actor=staff(db))


def test_no_walk_in_on_a_closed_day_or_for_a_phone_only_service(db, now):
    from appointments.models import Closure

    agenda = Agenda(db)
    phone_only = agenda.new_service(booking_mode="phone")
    go_to(now, at(9, 0))
    with pytest.raises(Invalid) as refused:
        desk.add_walk_in(db, location=agenda.location, service=phone_only, actor=staff(db), name="")
    assert refused.value.errors["service"].code == "phone_only"
    db.add(
        Closure(location_id=agenda.location.id, first_day=THURSDAY, last_day=THURSDAY, reason="x")
    )
    db.flush()
    with pytest.raises(Invalid) as refused:
        walk_in(db, agenda)
    assert refused.value.errors["walk_in"].code == "closed_today"
    assert desk.queue(db, agenda.location, THURSDAY) == []
