"""`Agenda` (a service, its place, its agents), NOW, `at`: the appointment tests of db and web."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from unittest import mock

import pytest
from sqlalchemy import select

from appointments import booking
from appointments.models import (
    AgentService,
    Appointment,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WorkingPlan,
)
from core import accounts, clock
from notifications.models import Message
from tests.support import place_team

BRUSSELS = clock.BRUSSELS
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=BRUSSELS)
THURSDAY = date(2026, 12, 3)
LINK = "https://terrain.example"
SECRET = "test-secret"
_HASH = accounts.hash_password("booking-test-password")
_counter = itertools.count(1)
_numbers = itertools.count(1)


def at(hour: int, minute: int = 0, day: date = THURSDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), BRUSSELS).astimezone(UTC)


def mobile() -> str:
    """A mobile number of its own (no demo contact shares it)."""
    return f"+3247155{next(_numbers):04d}"


class Agenda:
    """A service offered at a location open every day 09:00–12:00, and its agents."""

    def __init__(self, db, *, agents: int = 1, minutes: int = 30, buffer: int = 0, **service):
        self.db = db
        n = next(_counter)
        self.location = Location(
            code=f"tb-loc-{n}",
            name=f"Antenne Test {n}",
            address="Rue Haute 298",
            team_id=place_team(db),
        )
        self.location.opening_hours = [
            OpeningHours(weekday=weekday, opens=time(9, 0), closes=time(12, 0))
            for weekday in range(7)
        ]
        db.add(self.location)
        self.service = self.new_service(minutes=minutes, buffer=buffer, **service)
        self.agents = [self.new_agent() for _ in range(agents)]

    def new_service(self, *, minutes: int = 30, buffer: int = 0, **fields) -> Service:
        n = next(_counter)
        service = Service(
            code=f"tb-svc-{n}",
            name_fr="Permanence sociale",
            name_nl="Sociale permanentie",
            name_en="Social desk",
            duration_minutes=minutes,
            buffer_minutes=buffer,
            languages=["fr", "nl"],
            **{"min_notice_hours": 2, "max_horizon_days": 56, **fields},
        )
        self.db.add(service)
        self.db.flush()
        self.db.add(ServiceLocation(service_id=service.id, location_id=self.location.id))
        for agent in getattr(self, "agents", []):
            self.db.add(AgentService(user_id=agent.id, service_id=service.id))
        self.db.flush()
        return service

    def new_agent(self) -> accounts.User:
        n = next(_counter)
        with mock.patch.object(accounts, "hash_password", lambda _password: _HASH):
            agent = accounts.create_user(
                self.db,
                username=f"tb-agent-{n}",
                display_name=f"Agent {n}",
                password="unused-password",
                role="social_worker",
                check_password=False,
            )
        self.db.add(AgentService(user_id=agent.id, service_id=self.service.id))
        for weekday in range(7):
            self.db.add(
                WorkingPlan(
                    user_id=agent.id,
                    location_id=self.location.id,
                    weekday=weekday,
                    starts=time(9, 0),
                    ends=time(12, 0),
                    valid_from=date(2026, 1, 1),
                )
            )
        self.db.flush()
        return agent

    def book(self, start: datetime | None = None, **overrides) -> Appointment:
        arguments = {
            "service": self.service,
            "location": self.location,
            "start": start or at(10),
            "person_name": "Amina Test",
            "phone": mobile(),
            "language": "fr",
            "source": "online",
            "link_base": LINK,
            "secret_key": SECRET,
            **overrides,
        }
        return booking.book(self.db, **arguments)


@pytest.fixture(autouse=True)
def now() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def messages(db, appointment: Appointment) -> dict[str, Message]:
    return {
        message.key: message
        for message in db.scalars(
            select(Message).where(Message.subject == f"appointment:{appointment.id}")
        )
    }
