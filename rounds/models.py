"""Rounds records: vehicles, the minibus's public stops and their weekly permanences,
meal orders and ride requests of a day, with where the day's plan put them.

Every record carries the `Synced` columns and its team (a mobile team of a CPAS). A plan
is stored on the orders and rides themselves: the vehicle, the order in its route, the
planned time, or the reason it stayed unplaced.
"""

from __future__ import annotations

import uuid
from datetime import date, time

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
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.sync import Synced

VEHICLE_KINDS = ("minibus", "van", "car")
DIETS = ("normal", "diabetic", "no_salt", "mixed_texture")
TOPICS = ("social", "jobs", "housing", "digital", "other")

NAME_MAX = 120
ADDRESS_MAX = 200
TEXT_MAX = 1000
REASON_MAX = 40


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


class Permanence(Base, Synced):
    """The minibus held at a stop every week on one weekday, from `starts` to `ends`."""

    __tablename__ = "rounds_permanences"
    __table_args__ = (
        Index("ix_rounds_permanences_team_seq", "team_id", "change_seq"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts < ends", name="starts_before_ends"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    stop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_stops.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday … 6 Sunday
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    topic: Mapped[str] = mapped_column(String(20), default="social")


class MealOrder(Base, Synced):
    """Meals for one household on one day, delivered by the day's meal round."""

    __tablename__ = "rounds_meal_orders"
    __table_args__ = (
        Index("ix_rounds_meal_orders_team_seq", "team_id", "change_seq"),
        Index("ix_rounds_meal_orders_team_day", "team_id", "day"),
        CheckConstraint("meals > 0", name="meals_positive"),
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
