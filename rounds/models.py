"""Rounds records: vehicles, the minibus's public stops and their weekly permanences,
meal orders and ride requests of a day, with where the day's plan put them.

Every record carries the `Synced` columns and its team (a mobile team of a CPAS). A plan
is stored on the orders and rides themselves: the vehicle, the order in its route, the
planned time, or the reason it stayed unplaced.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.sync import Synced

VEHICLE_KINDS = ("minibus", "van", "car")
DIETS = ("normal", "diabetic", "no_salt", "mixed_texture")
TOPICS = ("social", "jobs", "housing", "digital", "other")
ROUND_KINDS = ("minibus", "meals", "rides")
ROUND_STATUSES = ("planned", "started", "finished", "cancelled")
CANCEL_KINDS = ("", "holiday", "decision")
STOP_KINDS = ("public_stop", "household", "pickup", "dropoff")
STOP_STATUSES = ("planned", "skipped", "moved", "arrived", "left")
LANGUAGES = ("fr", "nl", "en")

NAME_MAX = 120
ADDRESS_MAX = 200
SLUG_MAX = 80
TEXT_MAX = 1000
REASON_MAX = 40
EXPLANATION_MAX = 200  # a cancelled round's or an exception's reason, as the staff wrote it


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Vehicle(Base, Synced):
    """A vehicle of the mobile team with its driver's day: seats, meals it carries, depot."""

    __tablename__ = "rounds_vehicles"
    __table_args__ = (
        Index("ix_rounds_vehicles_team_seq", "team_id", "change_seq"),
        CheckConstraint("seats >= 0", name="seats_positive"),
        CheckConstraint("meal_capacity >= 0", name="meal_capacity_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    kind: Mapped[str] = mapped_column(String(20))  # minibus | van | car
    plate: Mapped[str] = mapped_column(String(20), default="")
    driver_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    seats: Mapped[int] = mapped_column(Integer, default=0)  # passengers besides the driver
    meal_capacity: Mapped[int] = mapped_column(Integer, default=0)  # meals carried at once
    depot_address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    depot_latitude: Mapped[float] = mapped_column(Float)
    depot_longitude: Mapped[float] = mapped_column(Float)
    day_start: Mapped[time] = mapped_column(Time)  # the driver's shift on a round day
    day_end: Mapped[time] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Stop(Base, Synced):
    """A public stop of the minibus: a place people are told to come to."""

    __tablename__ = "rounds_stops"
    __table_args__ = (Index("ix_rounds_stops_team_seq", "team_id", "change_seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_vehicles.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))  # e.g. "Monceau, place de l'Église"
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(80))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Its public page and poster: /arret/<public_slug> (lower-case letters, digits and
    # hyphens, made from the name; unique over every CPAS).
    public_slug: Mapped[str | None] = mapped_column(String(SLUG_MAX), unique=True)
    # The appointments place (kind mobile stop) this stop is: its opening hours are
    # written from the permanences here, its closures from cancelled days (rounds/places.py).
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment_locations.id"), unique=True
    )


class RoundTemplate(Base, Synced):
    """A weekly round of one vehicle: on a weekday, from `starts` to `ends`, between two
    dates (`active_until` empty: open-ended). A minibus template's stops are its
    permanences (time order); a meal or ride template takes the day's orders or rides."""

    __tablename__ = "rounds_templates"
    __table_args__ = (
        Index("ix_rounds_templates_team_seq", "team_id", "change_seq"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts < ends", name="starts_before_ends"),
        CheckConstraint(
            "active_until IS NULL OR active_from <= active_until", name="active_in_order"
        ),
        CheckConstraint(_in("kind", ROUND_KINDS), name="kind_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_vehicles.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    kind: Mapped[str] = mapped_column(String(20))  # minibus | meals | rides
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday … 6 Sunday
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    active_from: Mapped[date] = mapped_column(Date)
    active_until: Mapped[date | None] = mapped_column(Date)


class Permanence(Base, Synced):
    """A stop of a minibus round template: the minibus arrives at the stop at `starts`
    and leaves at `ends`, every week on the template's weekday, with a topic. One
    vehicle is never at two stops at once (`vehicle_busy`)."""

    __tablename__ = "rounds_permanences"
    __table_args__ = (
        Index("ix_rounds_permanences_team_seq", "team_id", "change_seq"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts < ends", name="starts_before_ends"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_templates.id"), index=True)
    stop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_stops.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # the template's weekday (0 Monday)
    starts: Mapped[time] = mapped_column(Time)  # arrives
    ends: Mapped[time] = mapped_column(Time)  # leaves
    topic: Mapped[str] = mapped_column(String(20), default="social")


class Round(Base, Synced):
    """A dated round of one vehicle on one day, made from a template (or alone).

    At most one per template and day (generation is idempotent); one vehicle's rounds
    that are not cancelled never overlap (checked under the vehicle's row lock).
    `revision` grows with every change of the plan people are told about (cancelled,
    a stop skipped or moved, stops re-ordered): "once per change" keys use it."""

    __tablename__ = "rounds_rounds"
    __table_args__ = (
        Index("ix_rounds_rounds_team_seq", "team_id", "change_seq"),
        Index("ix_rounds_rounds_team_day", "team_id", "day"),
        Index("ix_rounds_rounds_vehicle_day", "vehicle_id", "day"),
        UniqueConstraint("template_id", "day", name="uq_rounds_rounds_template_day"),
        CheckConstraint("starts < ends", name="starts_before_ends"),
        CheckConstraint(_in("kind", ROUND_KINDS), name="kind_known"),
        CheckConstraint(_in("status", ROUND_STATUSES), name="status_known"),
        CheckConstraint(_in("cancel_kind", CANCEL_KINDS), name="cancel_kind_known"),
        CheckConstraint(
            "km_end IS NULL OR km_start IS NULL OR km_end >= km_start", name="km_in_order"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_vehicles.id"))
    template_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rounds_templates.id"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))  # minibus | meals | rides
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    # Why it does not run: "holiday" (the CPAS calendar; the reason is the holiday's
    # name) or "decision" (a coordinator's, with her reason); empty while it runs.
    cancel_kind: Mapped[str] = mapped_column(String(20), default="")
    cancel_reason: Mapped[str] = mapped_column(String(EXPLANATION_MAX), default="")
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    km_start: Mapped[int | None] = mapped_column(Integer)
    km_end: Mapped[int | None] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer, default=1)


class RoundStop(Base, Synced):
    """One stop of a dated round, in order: a public stop (a permanence), a household's
    meal delivery, a ride's pickup or drop-off; what the plan said and what happened."""

    __tablename__ = "rounds_round_stops"
    __table_args__ = (
        Index("ix_rounds_round_stops_team_seq", "team_id", "change_seq"),
        Index("ix_rounds_round_stops_round", "round_id", "position"),
        CheckConstraint(_in("kind", STOP_KINDS), name="kind_known"),
        CheckConstraint(_in("status", STOP_STATUSES), name="status_known"),
        CheckConstraint("people_seen IS NULL OR people_seen >= 0", name="people_positive"),
        CheckConstraint(
            "(kind = 'public_stop' AND stop_id IS NOT NULL)"
            " OR (kind = 'household' AND meal_order_id IS NOT NULL)"
            " OR (kind IN ('pickup', 'dropoff') AND ride_id IS NOT NULL)",
            name="target_of_kind",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_rounds.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    stop_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rounds_stops.id"))
    meal_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rounds_meal_orders.id"))
    ride_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rounds_rides.id"))
    topic: Mapped[str] = mapped_column(String(20), default="")  # a public stop's permanence
    planned_arrival: Mapped[time | None] = mapped_column(Time)
    planned_departure: Mapped[time | None] = mapped_column(Time)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    arrived_at: Mapped[datetime | None] = mapped_column()
    left_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(REASON_MAX), default="")
    people_seen: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(EXPLANATION_MAX), default="")
    moved_to: Mapped[time | None] = mapped_column(Time)
    # The template's stop it was made from: a later change of it reaches this stop while
    # the round has not started (rounds.follow).
    permanence_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("rounds_permanences.id"), index=True
    )
    # The appointments closure its skip made (appointments' id, no foreign key: the
    # reception desk may remove it there), removed again when the stop is restored.
    closure_id: Mapped[int | None] = mapped_column(Integer)


class RoundStopRemoval(Base, Synced):
    """A stop taken out of a dated round that had not started (its template's stop
    removed): what the crew's phones hear as a deletion (`rounds.stop`, record null)."""

    __tablename__ = "rounds_round_stop_removals"
    __table_args__ = (Index("ix_rounds_round_stop_removals_team_seq", "team_id", "change_seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the removed stop's id
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_rounds.id"), index=True)


class StopSubscription(Base):
    """Someone who asked for SMS about a public stop (a late or cancelled minibus): a
    contact of notifications, confirmed by a reply, ended by STOP."""

    __tablename__ = "rounds_stop_subscriptions"
    __table_args__ = (
        CheckConstraint(_in("language", LANGUAGES), name="language_known"),
        Index("ix_rounds_stop_subscriptions_stop", "stop_id", "stopped_at"),
        # One running subscription per stop and contact (a second asks again, no copy).
        Index(
            "uq_rounds_stop_subscriptions_running",
            "stop_id",
            "contact_id",
            unique=True,
            postgresql_where=text("stopped_at IS NULL"),
            sqlite_where=text("stopped_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    stop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_stops.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("notification_contacts.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="fr")
    created_at: Mapped[datetime] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column()
    stopped_at: Mapped[datetime | None] = mapped_column()


class MealSettings(Base):
    """A mobile team's meal rules from a delivery day on (`applies_from`): cancellations
    close `cutoff_days` days before the delivery day at `cutoff_time` (Europe/Brussels),
    and Friday's round may carry the weekend's meals. The rule of a day is the row with
    the latest `applies_from` not after it; none: the day before at 10:00, no weekend."""

    __tablename__ = "rounds_meal_settings"
    __table_args__ = (
        UniqueConstraint("team_id", "applies_from"),
        CheckConstraint("cutoff_days BETWEEN 0 AND 7", name="cutoff_days_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    applies_from: Mapped[date] = mapped_column(Date)
    cutoff_days: Mapped[int] = mapped_column(Integer, default=1)
    cutoff_time: Mapped[time] = mapped_column(Time)
    weekend_on_friday: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WeeklyMealOrder(Base, Synced):
    """A household's standing order: meals on some weekdays from a day on (until another,
    empty: open-ended). Its dated `MealOrder`s are made ahead (rounds/meals.py)."""

    __tablename__ = "rounds_weekly_meal_orders"
    __table_args__ = (
        Index("ix_rounds_weekly_meal_orders_team_seq", "team_id", "change_seq"),
        CheckConstraint("meals > 0", name="meals_positive"),
        CheckConstraint("ends_on IS NULL OR starts_on <= ends_on", name="dates_order"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    household: Mapped[str] = mapped_column(String(NAME_MAX))
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(80))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    weekdays: Mapped[str] = mapped_column(String(20))  # "0,2,4": Monday, Wednesday, Friday
    meals: Mapped[int] = mapped_column(Integer, default=1)
    diet: Mapped[str] = mapped_column(String(20), default="normal")
    instructions: Mapped[str] = mapped_column(Text, default="")
    window_start: Mapped[time] = mapped_column(Time)
    window_end: Mapped[time] = mapped_column(Time)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)


class WeeklyMealPause(Base):
    """Days a weekly order delivers nothing (`starts_on`–`ends_on`, days eaten, both
    included), e.g. while the household's care plan is suspended: no dated order is made
    for them, and those made already are cancelled while their cut-off is ahead."""

    __tablename__ = "rounds_weekly_meal_pauses"
    __table_args__ = (CheckConstraint("starts_on <= ends_on", name="dates_order"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    weekly_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rounds_weekly_meal_orders.id"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))  # "care_plan": its plan suspended
    created_at: Mapped[datetime] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MealOrder(Base, Synced):
    """Meals for one household on one day, delivered by the day's meal round."""

    __tablename__ = "rounds_meal_orders"
    __table_args__ = (
        Index("ix_rounds_meal_orders_team_seq", "team_id", "change_seq"),
        Index("ix_rounds_meal_orders_team_day", "team_id", "day"),
        CheckConstraint("meals > 0", name="meals_positive"),
        # A weekly order makes one order per day eaten, whoever generates it twice.
        UniqueConstraint("weekly_id", "eaten_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    household: Mapped[str] = mapped_column(String(NAME_MAX))
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(80))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    meals: Mapped[int] = mapped_column(Integer, default=1)
    diet: Mapped[str] = mapped_column(String(20), default="normal")
    instructions: Mapped[str] = mapped_column(Text, default="")
    window_start: Mapped[time] = mapped_column(Time)  # deliver between (e.g. 10:00–12:00)
    window_end: Mapped[time] = mapped_column(Time)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    # When and by whom it was cancelled (the kitchen's list counts only cancellations made
    # before the team's cut-off: rounds/meals.py).
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Made from a weekly order (empty: entered for that day only); `eaten_on` the day the
    # meals are for: a Saturday's or Sunday's when Friday carries the weekend.
    weekly_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("rounds_weekly_meal_orders.id"), index=True
    )
    eaten_on: Mapped[date | None] = mapped_column(Date)
    # The day's plan (empty until planned; `unplaced` says why it is in no route)
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rounds_vehicles.id"))
    position: Mapped[int | None] = mapped_column(Integer)
    planned_at: Mapped[time | None] = mapped_column(Time)
    unplaced: Mapped[str] = mapped_column(String(REASON_MAX), default="")


class Ride(Base, Synced):
    """A person's ride: picked up at one address in a window, dropped off at another."""

    __tablename__ = "rounds_rides"
    __table_args__ = (
        Index("ix_rounds_rides_team_seq", "team_id", "change_seq"),
        Index("ix_rounds_rides_team_day", "team_id", "day"),
        CheckConstraint("seats > 0", name="seats_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    person: Mapped[str] = mapped_column(String(NAME_MAX))
    phone: Mapped[str] = mapped_column(String(20), default="")
    pickup_address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    pickup_latitude: Mapped[float] = mapped_column(Float)
    pickup_longitude: Mapped[float] = mapped_column(Float)
    dropoff_address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    dropoff_latitude: Mapped[float] = mapped_column(Float)
    dropoff_longitude: Mapped[float] = mapped_column(Float)
    pickup_from: Mapped[time] = mapped_column(Time)  # pick up between these two times
    pickup_until: Mapped[time] = mapped_column(Time)
    seats: Mapped[int] = mapped_column(Integer, default=1)  # the person and a companion: 2
    wheelchair: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The day's plan
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rounds_vehicles.id"))
    pickup_position: Mapped[int | None] = mapped_column(Integer)
    pickup_at: Mapped[time | None] = mapped_column(Time)
    dropoff_position: Mapped[int | None] = mapped_column(Integer)
    dropoff_at: Mapped[time | None] = mapped_column(Time)
    unplaced: Mapped[str] = mapped_column(String(REASON_MAX), default="")
