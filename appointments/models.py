"""Appointments: services offered at locations by agents, their working plans, bookings.

Times of day (opening hours, working plans) are Europe/Brussels wall-clock times;
moments (an appointment's start, an absence) are stored in UTC. Nobody is ever
double-booked: a booking locks its agent's row (`appointment_agent_locks`) before it
checks for an overlap and inserts, so two bookings for one agent are serialised.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base

BOOKING_MODES = ("online", "phone", "walk_in")  # online includes phone and desk bookings
LOCATION_KINDS = ("antenne", "mobile_stop")
APPOINTMENT_STATES = ("booked", "checked_in", "done", "no_show", "cancelled")
ACTIVE_STATES = ("booked", "checked_in", "done")  # they hold the agent's time
SOURCES = ("online", "phone", "desk", "walk_in")
CANCELLED_BY = ("person", "staff", "sms")
WEEKDAYS = range(7)  # Monday = 0, as date.weekday()


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Service(Base):
    """What a person can come for: permanence sociale, médiation de dettes, énergie…"""

    __tablename__ = "appointment_services"
    __table_args__ = (
        CheckConstraint(_in("booking_mode", BOOKING_MODES), name="booking_mode"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 240", name="duration_range"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 120", name="buffer_range"),
        CheckConstraint("min_notice_hours BETWEEN 0 AND 720", name="notice_range"),
        CheckConstraint("max_horizon_days BETWEEN 1 AND 365", name="horizon_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    # The CPAS whose service it is (docs/cpas.md, migration 0051): offered only at its
    # places, changed only by its staff. None: the installation's, shared (set up before
    # CPAS existed and offered by places of several CPAS).
    cpas_id: Mapped[int | None] = mapped_column(ForeignKey("cpas.id"), index=True)
    name_fr: Mapped[str] = mapped_column(String(120))
    name_nl: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    duration_minutes: Mapped[int]
    buffer_minutes: Mapped[int] = mapped_column(default=0)  # after each appointment
    booking_mode: Mapped[str] = mapped_column(String(10), default="online")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # offered: fr, nl, en…
    min_notice_hours: Mapped[int] = mapped_column(default=2)
    max_horizon_days: Mapped[int] = mapped_column(default=56)
    # Reminders: the day before at this hour (None: none), and this many hours before.
    reminder_day_before_at: Mapped[time | None] = mapped_column(Time, default=time(17, 0))
    reminder_hours_before: Mapped[int | None] = mapped_column(default=2)
    active: Mapped[bool] = mapped_column(default=True)
    # What to bring (identity card, bank statements…), shown when booking and on the
    # appointment's page; empty in a language: the French text.
    bring_fr: Mapped[str] = mapped_column(Text, default="")
    bring_nl: Mapped[str] = mapped_column(Text, default="")
    bring_en: Mapped[str] = mapped_column(Text, default="")

    def name(self, language: str | None) -> str:
        return {"nl": self.name_nl, "en": self.name_en}.get(language or "fr", self.name_fr)

    def what_to_bring(self, language: str | None) -> str:
        text = {"nl": self.bring_nl, "en": self.bring_en}.get(language or "fr", self.bring_fr)
        return text or self.bring_fr


class Location(Base):
    """An antenne sociale, or a stop of the minibus."""

    __tablename__ = "appointment_locations"
    __table_args__ = (
        CheckConstraint(_in("kind", LOCATION_KINDS), name="kind"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Brussels is bilingual: the Dutch name and street ("Hoogstraat 298") where there is
    # one, shown on Dutch pages and in Dutch SMS; empty: the name and address above.
    name_nl: Mapped[str] = mapped_column(String(120), default="")
    kind: Mapped[str] = mapped_column(String(12), default="antenne")
    # Every place belongs to a team, so to its CPAS (docs/cpas.md; 0052_cpas_place_team).
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    address: Mapped[str] = mapped_column(String(200), default="")
    address_nl: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    city_nl: Mapped[str] = mapped_column(String(80), default="")  # Brussel, Schaarbeek…
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    phone: Mapped[str] = mapped_column(String(20), default="")  # E.164, for phone bookings

    opening_hours: Mapped[list[OpeningHours]] = relationship(
        order_by="(OpeningHours.weekday, OpeningHours.opens)", cascade="all, delete-orphan"
    )

    def display_name(self, language: str | None) -> str:
        """The name in `language` (Dutch when there is one), else the name."""
        return (self.name_nl if language == "nl" else "") or self.name

    def street(self, language: str | None) -> str:
        """The street and number in `language` (Dutch when there is one), else the address."""
        return (self.address_nl if language == "nl" else "") or self.address

    def town(self, language: str | None) -> str:
        """Postcode and town in `language` ("1000 Brussel" on a Dutch page)."""
        city = (self.city_nl if language == "nl" else "") or self.city
        return f"{self.postcode} {city}".strip()


class ServiceLocation(Base):
    """Which services a location offers."""

    __tablename__ = "appointment_service_locations"

    service_id: Mapped[int] = mapped_column(ForeignKey("appointment_services.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_locations.id"), primary_key=True
    )


class OpeningHours(Base):
    __tablename__ = "appointment_opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens < closes", name="order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("appointment_locations.id"), index=True)
    weekday: Mapped[int]
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class Closure(Base):
    """Days a location is closed (works, staff day out); public holidays come from
    the CPAS's calendar. No location: every location of the CPAS `cpas_id` (one or the
    other, never both: a CPAS closes only its own places)."""

    __tablename__ = "appointment_closures"
    __table_args__ = (
        CheckConstraint("first_day <= last_day", name="order"),
        CheckConstraint("(location_id IS NULL) <> (cpas_id IS NULL)", name="place_or_cpas"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_locations.id"))
    cpas_id: Mapped[int | None] = mapped_column(ForeignKey("cpas.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(120), default="")


class AgentService(Base):
    """Who can deliver which service."""

    __tablename__ = "appointment_agent_services"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("appointment_services.id"), primary_key=True)


class WorkingPlan(Base):
    """A weekly recurring stretch of an agent's time at a location, for appointments."""

    __tablename__ = "appointment_working_plans"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("starts < ends", name="order"),
        CheckConstraint("valid_until IS NULL OR valid_from <= valid_until", name="validity"),
        Index("ix_appointment_working_plans_location_day", "location_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("appointment_locations.id"))
    weekday: Mapped[int]
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class AgentAbsence(Base):
    """An exception to the working plan: leave, training, illness."""

    __tablename__ = "appointment_agent_absences"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(40), default="leave")


class AgentLock(Base):
    """One row per agent, locked (an upsert, `booking.lock_agent`) by every booking for that agent:
    the overlap check and the insert then happen one booking at a time."""

    __tablename__ = "appointment_agent_locks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    bookings: Mapped[int] = mapped_column(default=0)


class BookingPerson(Base):
    """Who booked: a name and a mobile number are enough; no account. Staff may book for
    somebody without a phone (a homeless person often has none): `phone` is then None,
    and nothing is ever sent (the person gets a printed slip)."""

    __tablename__ = "appointment_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164, or None
    language: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(_in("status", APPOINTMENT_STATES), name="status"),
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint(
            f"cancelled_by IS NULL OR {_in('cancelled_by', CANCELLED_BY)}", name="cancelled_by"
        ),
        CheckConstraint("start_at < end_at AND end_at <= busy_until", name="times"),
        Index("ix_appointments_agent_start", "agent_id", "start_at"),
        Index("ix_appointments_location_start", "location_id", "start_at"),
        Index("ix_appointments_start", "start_at"),  # the indicators' month, all places
        UniqueConstraint("manage_token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("appointment_services.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("appointment_locations.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: walk-in queue
    person_id: Mapped[int] = mapped_column(ForeignKey("appointment_people.id"), index=True)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    busy_until: Mapped[datetime]  # end + the service's buffer: the agent's time it holds
    status: Mapped[str] = mapped_column(String(12), default="booked")
    source: Mapped[str] = mapped_column(String(10))
    # The link in the confirmation SMS carries the token; only its hash is stored.
    manage_token_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_in_at: Mapped[datetime | None]
    # An agent called the person in (the wait is checked_in_at or start_at → called_at).
    called_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(10))
    confirmed_at: Mapped[datetime | None]  # replied OUI to the reminder
    # Moved: the appointment that replaced this one (this one is cancelled). The old SMS
    # link then says "moved to …" and leads to the new one.
    moved_to_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    # The street outreach referral this appointment was booked for. No foreign key:
    # appointments does not depend on outreach, and a referral deleted by the outreach
    # retention leaves the appointment (the id then names nothing).
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)

    service: Mapped[Service] = relationship()
    location: Mapped[Location] = relationship()
    person: Mapped[BookingPerson] = relationship()


class WaitingEntry(Base):
    """Someone waiting for a slot of a service: offered by SMS the first one that frees."""

    __tablename__ = "appointment_waiting_list"
    __table_args__ = (
        CheckConstraint(
            _in("status", ("waiting", "offered", "booked", "withdrawn")), name="status"
        ),
        Index("ix_appointment_waiting_list_service", "service_id", "status", "created_at"),
        # One waiting entry per number, service and place, held by the database so two
        # concurrent requests cannot both insert; a place of NULL ("anywhere") needs its
        # own index, as NULLs never collide in a unique index.
        Index(
            "uq_appointment_waiting_list_number_place",
            "phone",
            "service_id",
            "location_id",
            unique=True,
            sqlite_where=text("status = 'waiting' AND location_id IS NOT NULL"),
            postgresql_where=text("status = 'waiting' AND location_id IS NOT NULL"),
        ),
        Index(
            "uq_appointment_waiting_list_number_anywhere",
            "phone",
            "service_id",
            unique=True,
            sqlite_where=text("status = 'waiting' AND location_id IS NULL"),
            postgresql_where=text("status = 'waiting' AND location_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("appointment_services.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_locations.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("appointment_people.id"))
    phone: Mapped[str] = mapped_column(String(20))  # E.164, the person's: one entry per number
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    offered_at: Mapped[datetime | None]
