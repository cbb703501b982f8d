"""The settings pages' BASE, a service form, a booking at Marolles: setup, CPAS, SMS tests."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import select

from appointments import booking
from appointments.models import Appointment, Location, Service
from core import clock

BASE = "/parametres/rendez-vous"
_counter = itertools.count(1)


def service_form(**overrides) -> dict:
    return {
        "code": f"tw-svc-{next(_counter)}",
        "name_fr": "Aide énergie",
        "name_nl": "Energiehulp",
        "duration_minutes": "30",
        "buffer_minutes": "0",
        "booking_mode": "online",
        "languages": ["fr", "nl"],
        "min_notice_hours": "2",
        "max_horizon_days": "56",
        "reminder_day_before_at": "17:00",
        "reminder_hours_before": "2",
        "active": "1",
        **overrides,
    }


def book_at_marolles(db) -> Appointment:
    """A booked appointment next week at Marolles (the demo plans), for the stranded lists."""
    service = db.scalar(select(Service).where(Service.code == "permanence-sociale"))
    location = db.scalar(select(Location).where(Location.code == "bxl-marolles"))
    from appointments import slots

    today = clock.to_local(clock.now()).date()
    found = slots.free_slots(
        db, service=service, location=location, first_day=today + timedelta(days=14), days=14
    )
    assert found, "the demo has free slots at Marolles"
    return booking.book(
        db,
        service=service,
        location=location,
        start=found[0].start,
        person_name="Web Setup Person",
        phone=f"+3247177{next(_counter):04d}",
        language="fr",
        source="desk",
        link_base="https://terrain.example",
    )
