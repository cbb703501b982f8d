"""A minibus's live day (DAY), its taps, subscribers, holders, weeks: the rounds tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import booking
from appointments.models import Appointment, BookingPerson, Location, Service
from core import accounts, clock, sync
from notifications import services as notify
from notifications.models import Message
from rounds import live, places, services
from rounds.models import Round, RoundStop, RoundTemplate, StopSubscription
from tests.db.rounds_world import vehicle_data

DAY = date(2031, 5, 6)  # a Tuesday
MONDAY = DAY - timedelta(days=DAY.weekday())
PERMANENCES = (("09:00", "10:30"), ("11:00", "12:30"), ("13:30", "15:00"))


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return live.moment(day, time(hour, minute))


@pytest.fixture()
def coord(db: Session) -> accounts.User:
    found = accounts.find_user(db, "mobile-coord")
    assert found is not None
    return found


@pytest.fixture()
def crew(db: Session) -> accounts.User:
    found = accounts.find_user(db, "mobile1")
    assert found is not None
    return found


def _minibus_day(db, coord) -> tuple[Round, list[RoundStop]]:
    team_id = coord.team_id
    vehicle = services.create_vehicle(db, coord, team_id, vehicle_data(kind="minibus"))
    stops = [
        services.create_stop(
            db,
            coord,
            team_id,
            {
                "vehicle_id": str(vehicle.id),
                "name": name,
                "address": "Place de l'Église",
                "postcode": "6031",
                "city": "Monceau-sur-Sambre",
                "latitude": 50.4152,
                "longitude": 4.3940,
            },
        )
        for name in ("Marchienne gare", "Monceau église", "Goutroux place")
    ]
    template = services.create_template(
        db,
        coord,
        team_id,
        {
            "vehicle_id": str(vehicle.id),
            "name": "Minibus live",
            "kind": "minibus",
            "weekday": str(DAY.weekday()),
            "starts": "09:00",
            "ends": "15:30",
            "active_from": "2031-04-01",
        },
    )
    for stop, (starts, ends) in zip(stops, PERMANENCES, strict=True):
        services.add_permanence(
            db,
            coord,
            team_id,
            {
                "template_id": str(template.id),
                "stop_id": str(stop.id),
                "starts": starts,
                "ends": ends,
                "topic": "social",
            },
        )
    services.generate_rounds(db, team_id, MONDAY, 1, actor=coord)
    dated = db.scalar(select(Round).where(Round.template_id == template.id, Round.day == DAY))
    assert dated is not None
    db.commit()
    return dated, services.round_stops(db, dated.id)


def _subscribe(db, coord, stop_id, phone: str, *, language="fr", **state) -> int:
    contact = notify.create_contact(
        db,
        actor=coord,
        display_name="Abonné",
        language=language,
        phones=[phone],
        team_ids=[coord.team_id],
    )
    db.flush()
    notify.set_consent(
        db,
        contact,
        category="service_change",
        granted=state.get("consent", True),
        method="form",
        actor=coord,
    )
    db.add(
        StopSubscription(
            id=uuid.uuid4(),
            team_id=coord.team_id,
            stop_id=stop_id,
            contact_id=contact.id,
            language=language,
            created_at=clock.now(),
            confirmed_at=None if state.get("unconfirmed") else clock.now(),
            stopped_at=clock.now() if state.get("stopped") else None,
        )
    )
    db.commit()
    return contact.id


def _op(db, user, name: str, data: dict) -> dict:
    return sync.apply_op(db, user, sync.Op(uuid.uuid4(), name, data, None, None))


def _tap(db, user, name: str, when: datetime, **data) -> dict:
    with clock.frozen(when):
        return _op(db, user, name, {"at": when.isoformat(), **data})


def _place(db, coord, stop_id) -> Location:
    location = Location(
        code=f"test-minibus-{uuid.uuid4().hex[:8]}",
        name="Minibus : arrêt Monceau",
        kind="mobile_stop",
        team_id=coord.team_id,
        postcode="6031",
        city="Monceau-sur-Sambre",
    )
    db.add(location)
    db.flush()
    places.link_place(
        db, coord, coord.team_id, {"stop_id": str(stop_id), "location": location.code}
    )
    db.flush()
    return location


def _holder(db, location, start, phone, *, language="fr", status="booked", consent=True):
    """A booked appointment at the place, as a booking leaves it: the person, the
    notifications contact of the place's team, the consent of the booking form."""
    service = db.scalar(select(Service).order_by(Service.id).limit(1))
    person = BookingPerson(name="Personne test", phone=phone, language=language)
    db.add(person)
    db.flush()
    db.add(
        Appointment(
            service_id=service.id,
            location_id=location.id,
            agent_id=None,
            person_id=person.id,
            start_at=start,
            end_at=start + timedelta(minutes=20),
            busy_until=start + timedelta(minutes=20),
            status=status,
            source="phone",
        )
    )
    if phone:
        contact = booking.contact_for(db, person, location=location)
        db.flush()
        if consent:
            booking.record_consent(db, contact, source="phone", actor=None)
        else:
            notify.set_consent(
                db, contact, category="service_change", granted=False, method="form", actor=None
            )
    db.commit()
    return person


def _sent(db, kind: str) -> list[Message]:
    return list(
        db.scalars(select(Message).where(Message.key.like(f"rounds:{kind}:%")).order_by(Message.id))
    )


def _weeks(db, coord):
    """The test minibus's rounds from the week before to four weeks on, seen on DAY at
    07:00: last week's (gone by), today's (started), next week's (a stop skipped, one
    moved), the week after (cancelled), the last (as generated)."""
    dated, _stops = _minibus_day(db, coord)
    services.generate_rounds(db, coord.team_id, MONDAY - timedelta(days=7), 5, actor=coord)
    rounds = list(
        db.scalars(select(Round).where(Round.template_id == dated.template_id).order_by(Round.day))
    )
    past, today, skipped, cancelled, _plain = rounds
    assert today.id == dated.id and past.day < DAY
    today.status = "started"
    _one, two, three = services.round_stops(db, skipped.id)
    services.skip_stop(db, coord, two.id, {"reason": "Marché"})
    services.move_stop(db, coord, three.id, {"reason": "Travaux", "moved_to": "14:00"})
    services.cancel_round(db, coord, cancelled.id, {"reason": "Formation"})
    db.commit()
    return rounds, services.permanences_of(db, dated.template_id)


FIELDS = ("vehicle_id", "name", "kind", "weekday", "starts", "ends", "active_from", "active_until")


def _form(db, template_id, **changes) -> dict[str, str]:
    template = db.get(RoundTemplate, template_id)
    db.refresh(template)
    data: dict[str, str] = {}
    for name in FIELDS:
        value = getattr(template, name)
        if isinstance(value, time):
            value = value.strftime("%H:%M")
        data[name] = "" if value is None else str(value)
    return data | {"version": str(template.version)} | changes


def _rounds(db, template_id) -> list[Round]:
    found = list(
        db.scalars(select(Round).where(Round.template_id == template_id).order_by(Round.day))
    )
    for dated in found:
        db.refresh(dated)
    return found
