"""The reception desk (/accueil) and the agent's list (/mes-rendez-vous) via the test client.

Each test builds its own place, service and agents (`Agenda`: open every day 09:00–12:00);
bookings are made on Tuesday 1 December 2026 at 09:00 for Thursday 3 December, then the
clock moves to Thursday and the member of staff logs in (in English, so the assertions
read the msgids).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from appointments import booking, desk
from appointments.models import Appointment
from core import clock
from core.audit import AuditEntry
from tests.db.appointments_world import NOW, THURSDAY, Agenda, at
from tests.support import text_of

HTMX = {"HX-Request": "true"}


@pytest.fixture()
def now() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def go_to(traveller: clock.Traveller, moment) -> None:
    traveller.advance(seconds=(moment - clock.now()).total_seconds())


def desk_url(agenda: Agenda) -> str:
    return f"/accueil/?location={agenda.location.code}&day={THURSDAY.isoformat()}"


@pytest.fixture()
def thursday(db, now):
    """An agenda with two agents, a booking at 09:00 and one at 10:00; now Thursday 09:05."""
    agenda = Agenda(db, agents=2)
    first, second = sorted(agenda.agents, key=lambda agent: agent.id)
    agenda.early = agenda.book(at(9), agent_id=first.id, person_name="Amina Early")
    agenda.later = agenda.book(at(10), agent_id=second.id, person_name="Bram Later")
    go_to(now, at(9, 5))
    db.flush()
    return agenda


def test_the_desk_page_shows_every_agent_side_by_side(login, thursday):
    browser = login("accueil")
    response = browser.get(desk_url(thursday))
    assert response.status_code == 200
    page = text_of(response)
    for agent in thursday.agents:
        assert agent.display_name in page
    assert "Amina Early" in page and "Bram Later" in page
    assert "Reception desk" in page and "Walk-in" in page
    # Started, not arrived: "Did not come" is offered; the 10:00 one cannot be missed yet.
    assert page.count(">Did not come<") == 1
    assert "data-desk-poll" in page


def test_the_default_place_is_the_teams_and_the_choice_is_remembered(login, thursday):
    browser = login("accueil")
    page = text_of(browser.get("/accueil/"))
    assert "Antenne Marolles" in page.split("</h1>")[0]
    browser.get(desk_url(thursday))
    page = text_of(browser.get("/accueil/"))
    assert thursday.location.name in page.split("</h1>")[0]


def test_unknown_place_or_day_is_a_422_with_the_reason(login, thursday):
    browser = login("accueil")
    response = browser.get("/accueil/?location=nowhere")
    assert response.status_code == 422 and "Choose from the list." in text_of(response)
    response = browser.get(f"/accueil/?location={thursday.location.code}&day=31-12")
    assert response.status_code == 422 and "Give a date like" in text_of(response)
    response = browser.get("/accueil/queue?location=nowhere")
    assert response.status_code == 422


@pytest.mark.parametrize("htmx", [False, True])
def test_check_in_then_call_then_done(login, thursday, db, htmx):
    browser = login("accueil")
    headers = HTMX if htmx else {}
    appointment = thursday.early
    response = browser.post(f"/accueil/appointments/{appointment.id}/check-in", headers=headers)
    if htmx:
        assert response.status_code == 200
        assert 'id="desk-board"' in text_of(response) and "<html" not in text_of(response)
        assert "Amina Early has arrived." in text_of(response)
    else:
        assert response.status_code == 302
        assert thursday.location.code in response.headers["Location"]
    db.refresh(appointment)
    assert appointment.status == "checked_in"
    response = browser.post(f"/accueil/appointments/{appointment.id}/call", headers=headers)
    assert response.status_code == (200 if htmx else 302)
    db.refresh(appointment)
    assert appointment.called_at == clock.now()
    response = browser.post(f"/accueil/appointments/{appointment.id}/done", headers=headers)
    assert response.status_code == (200 if htmx else 302)
    db.refresh(appointment)
    assert appointment.status == "done"


@pytest.mark.parametrize("htmx", [False, True])
def test_no_show_before_the_start_is_a_422_and_nothing_changes(login, thursday, db, htmx):
    browser = login("accueil")
    headers = HTMX if htmx else {}
    response = browser.post(f"/accueil/appointments/{thursday.later.id}/no-show", headers=headers)
    assert response.status_code == 422
    assert "The appointment has not started yet." in text_of(response)
    assert ("<html" in text_of(response)) is not htmx
    db.refresh(thursday.later)
    assert thursday.later.status == "booked"
    response = browser.post(f"/accueil/appointments/{thursday.early.id}/no-show", headers=headers)
    assert response.status_code == (200 if htmx else 302)
    db.refresh(thursday.early)
    assert thursday.early.status == "no_show"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_walk_in_joins_the_queue_in_one_tap_and_is_called(login, thursday, db, htmx):
    browser = login("accueil")
    headers = HTMX if htmx else {}
    form = {"location": thursday.location.code, "service": thursday.service.code}
    response = browser.post("/accueil/walk-in", form, headers=headers)
    assert response.status_code == (200 if htmx else 302)
    walk_in = db.scalar(
        select(Appointment)
        .where(Appointment.location_id == thursday.location.id, Appointment.source == "walk_in")
        .order_by(Appointment.id.desc())
    )
    assert walk_in.status == "checked_in" and walk_in.agent_id is None
    page = text_of(browser.get(desk_url(thursday)))
    assert "Walk-in no. 1" in page and "Waiting for 0 min" in page
    # The first agent is with Amina (09:00–09:30): the second is proposed and called.
    agent = sorted(thursday.agents, key=lambda a: a.id)[1]
    response = browser.post(
        f"/accueil/appointments/{walk_in.id}/call", {"agent": str(agent.id)}, headers=headers
    )
    assert response.status_code == (200 if htmx else 302)
    db.refresh(walk_in)
    assert walk_in.agent_id == agent.id and walk_in.called_at is not None


def test_bad_walk_in_input_is_a_422_and_nothing_is_made(login, thursday, db):
    browser = login("accueil")
    before = db.scalar(select(func.count(Appointment.id)))
    for form in (
        {"location": thursday.location.code, "service": "nope"},
        {"location": thursday.location.code, "service": thursday.service.code, "phone": "12"},
    ):
        for headers in ({}, HTMX):
            response = browser.post("/accueil/walk-in", form, headers=headers)
            assert response.status_code == 422
            assert "Nothing was changed." in text_of(response)
    assert db.scalar(select(func.count(Appointment.id))) == before


def test_calling_a_busy_agent_is_refused_naming_until_when(login, thursday, db):
    browser = login("accueil")
    agent = sorted(thursday.agents, key=lambda a: a.id)[0]  # with Amina until 09:30
    walk_in = desk.add_walk_in(
        db, location=thursday.location, service=thursday.service, actor=None, name="Chris"
    )
    db.flush()
    response = browser.post(
        f"/accueil/appointments/{walk_in.id}/call", {"agent": str(agent.id)}, headers=HTMX
    )
    assert response.status_code == 422
    assert f"{agent.display_name} is busy from 09:00 until 09:30" in text_of(response)
    db.refresh(walk_in)
    assert walk_in.agent_id is None
    response = browser.post(f"/accueil/appointments/{walk_in.id}/call", {"agent": "x"})
    assert response.status_code == 422 and "Choose from the list." in text_of(response)


def test_move_by_the_form_and_a_taken_time_offers_the_next_ones(login, thursday, db):
    browser = login("accueil")
    later = thursday.later
    page = browser.get(f"/accueil/appointments/{later.id}/move")
    assert page.status_code == 200 and "Move an appointment" in text_of(page)
    # Both agents are taken at 11:00.
    for _ in thursday.agents:
        thursday.book(at(11), source="desk", actor=None)
    taken = browser.post(
        f"/accueil/appointments/{later.id}/move", {"day": THURSDAY.isoformat(), "time": "11:00"}
    )
    assert taken.status_code == 409 and "Next free times" in text_of(taken)
    db.refresh(later)
    assert later.status == "booked"
    bad = browser.post(f"/accueil/appointments/{later.id}/move", {"day": "x", "time": ""})
    assert bad.status_code == 422 and "Give a date like" in text_of(bad)
    assert clock.to_local(at(11, 30)).isoformat() in text_of(taken)
    moved = browser.post(
        f"/accueil/appointments/{later.id}/move",
        {"start": clock.to_local(at(11, 30)).isoformat()},
    )
    assert moved.status_code == 302
    db.refresh(later)
    assert later.status == "cancelled"
    new = db.scalar(select(Appointment).where(Appointment.start_at == at(11, 30)))
    assert new.person_id == later.person_id and new.status == "booked"


@pytest.mark.parametrize("htmx", [False, True])
def test_cancel_from_the_desk(login, thursday, db, htmx):
    browser = login("accueil")
    response = browser.post(
        f"/accueil/appointments/{thursday.later.id}/cancel", headers=HTMX if htmx else {}
    )
    assert response.status_code == (200 if htmx else 302)
    db.refresh(thursday.later)
    assert thursday.later.status == "cancelled" and thursday.later.cancelled_by == "staff"


def test_book_for_a_caller(login, thursday, db):
    browser = login("accueil")
    base = f"/accueil/book?location={thursday.location.code}"
    page = browser.get(f"{base}&service={thursday.service.code}&day={THURSDAY.isoformat()}")
    assert page.status_code == 200 and "Free times" in text_of(page)
    start = clock.to_local(at(11, 30)).isoformat()
    assert start in text_of(page)
    form = {
        "location": thursday.location.code,
        "service": thursday.service.code,
        "day": THURSDAY.isoformat(),
        "start": start,
        "name": "Dina Caller",
        "phone": "0471 55 66 77",
        "source": "phone",
    }
    missing = browser.post("/accueil/book", {**form, "name": ""})
    assert missing.status_code == 422 and "This is needed." in text_of(missing)
    done = browser.post("/accueil/book", form)
    assert done.status_code == 302
    made = db.scalar(select(Appointment).where(Appointment.start_at == at(11, 30)))
    assert made.source == "phone" and made.person.name == "Dina Caller"


def test_permissions_field_roles_get_403(login, thursday):
    appointment = thursday.early
    for username in ("aide1", "rue1"):
        browser = login(username)
        assert browser.get(desk_url(thursday)).status_code == 403
        assert browser.get("/mes-rendez-vous").status_code == 403
        assert browser.get("/accueil/book").status_code == 403
        response = browser.post(f"/accueil/appointments/{appointment.id}/check-in")
        assert response.status_code == 403
        assert browser.post("/accueil/walk-in", {}).status_code == 403


def test_my_appointments_page(login, thursday, db):
    agent = sorted(thursday.agents, key=lambda a: a.id)[0]
    agent.role = "social_worker"
    db.flush()
    browser = login(agent.username)
    page = browser.get("/mes-rendez-vous")
    assert page.status_code == 200
    assert "Amina Early" in text_of(page) and "My beneficiaries" in text_of(page)
    read = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "appointment_agenda",
            AuditEntry.entity_id == f"agent:{agent.id}",
        )
    )
    assert read is not None
    booking.check_in(db, thursday.early, actor=None)
    assert login("accueil").get("/mes-rendez-vous").status_code == 403


# --- Issue 16: the queue entry carries its actions; undo; flashes name the entry ----------


@pytest.mark.parametrize("htmx", [False, True])
def test_call_done_and_undo_from_the_queue_entry_named_as_shown(login, thursday, db, htmx):
    browser = login("accueil")
    headers = HTMX if htmx else {}
    form = {"location": thursday.location.code, "service": thursday.service.code}
    browser.post("/accueil/walk-in", form, headers=headers)
    walk_in = db.scalar(
        select(Appointment).where(
            Appointment.location_id == thursday.location.id, Appointment.source == "walk_in"
        )
    )

    def after(response) -> str:
        if htmx:
            assert response.status_code == 200
            return text_of(response)
        assert response.status_code == 302
        return text_of(browser.get(response.headers["Location"]))

    agent = sorted(thursday.agents, key=lambda a: a.id)[1]
    page = after(
        browser.post(
            f"/accueil/appointments/{walk_in.id}/call", {"agent": str(agent.id)}, headers=headers
        )
    )
    assert f"Walk-in no. 1 is called in by {agent.display_name}." in page
    # With the agent: "Done" is on the entry under the queue, not only in the agenda.
    queue = page.split('id="desk-with"')[1].split("</section>")[0]
    assert f'id="with-{walk_in.id}"' in queue
    assert f"/accueil/appointments/{walk_in.id}/done" in queue
    page = after(browser.post(f"/accueil/appointments/{walk_in.id}/done", headers=headers))
    assert "Walk-in no. 1: done. You can undo it for a while." in page
    assert "A person" not in page
    queue = page.split('id="desk-with"')[1].split("</section>")[0]
    assert f"/accueil/appointments/{walk_in.id}/undo" in queue
    # The queue's refresh brings this list too (out of band).
    polled = text_of(
        browser.get(
            f"/accueil/queue?location={thursday.location.code}&day={THURSDAY.isoformat()}",
            headers=HTMX,
        )
    )
    assert 'id="desk-with" class="card desk-with"' in polled and 'hx-swap-oob="true"' in polled
    assert f"/accueil/appointments/{walk_in.id}/undo" in polled
    page = after(browser.post(f"/accueil/appointments/{walk_in.id}/undo", headers=headers))
    assert "Undone: Walk-in no. 1 is with the agent again." in page
    db.refresh(walk_in)
    assert walk_in.status == "checked_in" and walk_in.called_at is not None


def test_left_can_be_undone_and_too_late_is_a_422(login, thursday, db, now):
    browser = login("accueil")
    form = {"location": thursday.location.code, "service": thursday.service.code}
    browser.post("/accueil/walk-in", form, headers=HTMX)
    walk_in = db.scalar(select(Appointment).where(Appointment.source == "walk_in"))
    response = browser.post(f"/accueil/appointments/{walk_in.id}/left", headers=HTMX)
    assert "Walk-in no. 1 left the queue." in text_of(response)
    db.refresh(walk_in)
    assert walk_in.status == "cancelled"
    response = browser.post(f"/accueil/appointments/{walk_in.id}/undo", headers=HTMX)
    assert "Undone: Walk-in no. 1 is waiting again." in text_of(response)
    browser.post(f"/accueil/appointments/{walk_in.id}/left", headers=HTMX)
    go_to(now, clock.now() + desk_undo_window())
    response = browser.post(f"/accueil/appointments/{walk_in.id}/undo", headers=HTMX)
    assert response.status_code == 422 and "Too late to undo" in text_of(response)
    db.refresh(walk_in)
    assert walk_in.status == "cancelled"


def desk_undo_window():
    from datetime import timedelta

    return timedelta(minutes=desk.UNDO_MINUTES, seconds=1)


def test_closed_day_and_phone_only_service_have_no_walk_in_button(login, thursday, db):
    from appointments.models import Closure

    phone_only = thursday.new_service(booking_mode="phone")
    browser = login("accueil")
    page = text_of(browser.get(desk_url(thursday)))
    buttons = page.split('id="walk-in-title"')[1].split("</section>")[0]
    assert f'value="{thursday.service.code}"' in buttons
    assert f'value="{phone_only.code}"' not in buttons
    db.add(
        Closure(location_id=thursday.location.id, first_day=THURSDAY, last_day=THURSDAY, reason="")
    )
    db.flush()
    page = text_of(browser.get(desk_url(thursday)))
    assert 'id="walk-in-title"' not in page and "closed on this day" in page


def test_a_call_button_that_cannot_work_is_disabled_and_says_why(login, thursday, db):
    from appointments.models import AgentService

    alone = thursday.new_service()
    db.execute(AgentService.__table__.delete().where(AgentService.service_id == alone.id))
    person = desk.add_walk_in(db, location=thursday.location, service=alone, actor=None, name="")
    browser = login("accueil")
    page = text_of(browser.get(desk_url(thursday)))
    entry = page.split(f'id="queue-{person.id}"')[1].split("</li>")[0]
    assert "disabled" in entry and f'aria-describedby="call-why-{person.id}"' in entry
    assert "no agent working here today delivers this service" in entry
