"""`Builder` (a service, its place, its agents) and `local`: test_appointment_slots*, test_cpas."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from unittest import mock

from sqlalchemy.orm import Session

from appointments import slots
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
from core import accounts, clock, organisations
from tests.support import place_team

BRUSSELS = clock.BRUSSELS
MONDAY = date(2026, 11, 16)
EARLY = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)  # "now" well before every test date
_HASH = accounts.hash_password("slots-test-password")
_counter = iter(range(10**6))


def local(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """A Brussels wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, time(hour, minute), BRUSSELS).replace(fold=fold).astimezone(UTC)


def hm(moment: datetime) -> str:
    return clock.to_local(moment).strftime("%H:%M")


class Builder:
    """A service, a location offering it and agents able to deliver it, in `db`."""

    def __init__(
        self,
        db: Session,
        *,
        minutes: int = 30,
        buffer: int = 0,
        agents: int = 1,
        opening: list[tuple[int, time, time]] | None = None,
        booking_mode: str = "online",
        notice: int = 0,
        horizon: int = 365,
    ):
        self.db = db
        n = next(_counter)
        self.service = Service(
            code=f"t-svc-{n}",
            name_fr="Test",
            name_nl="Test",
            name_en="Test",
            duration_minutes=minutes,
            buffer_minutes=buffer,
            booking_mode=booking_mode,
            languages=["fr"],
            min_notice_hours=notice,
            max_horizon_days=horizon,
        )
        self.location = self.new_location(opening)
        db.add(self.service)
        db.flush()
        db.add(ServiceLocation(service_id=self.service.id, location_id=self.location.id))
        self.agents = [self.new_agent() for _ in range(agents)]
        self.person = BookingPerson(name="Test", phone="+32470000000")
        db.add(self.person)
        db.flush()

    def new_location(self, opening: list[tuple[int, time, time]] | None = None) -> Location:
        n = next(_counter)
        if opening is None:
            opening = [
                (weekday, opens, closes)
                for weekday in range(5)
                for opens, closes in ((time(8, 30), time(12, 0)), (time(13, 0), time(16, 0)))
            ]
        location = Location(code=f"t-loc-{n}", name=f"Lieu {n}", team_id=place_team(self.db))
        location.opening_hours = [
            OpeningHours(weekday=weekday, opens=opens, closes=closes)
            for weekday, opens, closes in opening
        ]
        self.db.add(location)
        self.db.flush()
        return location

    def new_agent(self, *, delivers: bool = True) -> accounts.User:
        n = next(_counter)
        with mock.patch.object(accounts, "hash_password", lambda _password: _HASH):
            user = accounts.create_user(
                self.db,
                username=f"t-agent-{n}",
                display_name=f"Agent {n}",
                password="unused-password",
                role="social_worker",
                check_password=False,
            )
        if delivers:
            self.db.add(AgentService(user_id=user.id, service_id=self.service.id))
            self.db.flush()
        return user

    def plan(
        self,
        agent: accounts.User,
        weekdays: tuple[int, ...] | range = range(5),
        starts: time = time(8, 30),
        ends: time = time(16, 0),
        *,
        valid_from: date = date(2026, 1, 1),
        valid_until: date | None = None,
        location: Location | None = None,
    ) -> None:
        for weekday in weekdays:
            self.db.add(
                WorkingPlan(
                    user_id=agent.id,
                    location_id=(location or self.location).id,
                    weekday=weekday,
                    starts=starts,
                    ends=ends,
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
            )
        self.db.flush()

    def absence(self, agent: accounts.User, starts: datetime, ends: datetime) -> None:
        self.db.add(AgentAbsence(user_id=agent.id, starts_at=starts, ends_at=ends))
        self.db.flush()

    def appointment(
        self,
        agent: accounts.User,
        start: datetime,
        minutes: int = 30,
        buffer: int = 0,
        *,
        status: str = "booked",
        location: Location | None = None,
    ) -> Appointment:
        appointment = Appointment(
            service_id=self.service.id,
            location_id=(location or self.location).id,
            agent_id=agent.id,
            person_id=self.person.id,
            start_at=start,
            end_at=start + timedelta(minutes=minutes),
            busy_until=start + timedelta(minutes=minutes + buffer),
            status=status,
            source="desk",
        )
        self.db.add(appointment)
        self.db.flush()
        return appointment

    def closure(self, first: date, last: date | None = None, *, everywhere: bool = False):
        self.db.add(
            Closure(
                location_id=None if everywhere else self.location.id,
                # Every place of the place's CPAS (a closure is one CPAS's: docs/cpas.md).
                cpas_id=(
                    organisations.cpas_id_of_team(self.db, self.location.team_id)
                    if everywhere
                    else None
                ),
                first_day=first,
                last_day=last or first,
                reason="test",
            )
        )
        self.db.flush()

    def slots(
        self, first_day: date = MONDAY, days: int = 1, now: datetime = EARLY, **kwargs
    ) -> list[slots.Slot]:
        return slots.free_slots(
            self.db,
            service=kwargs.get("service", self.service),
            location=kwargs.get("location", self.location),
            first_day=first_day,
            days=days,
            now=now,
        )

    def starts(self, first_day: date = MONDAY, days: int = 1, **kwargs) -> list[str]:
        return [hm(slot.start) for slot in self.slots(first_day, days, **kwargs)]

    def free_at(self, start: datetime, now: datetime = EARLY, **kwargs) -> list[int]:
        return slots.agents_free_at(
            self.db, service=self.service, location=self.location, start=start, now=now, **kwargs
        )
