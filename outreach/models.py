"""Street outreach records: people met (anonymous first), places, encounters.

Ids are UUIDs made on the phone, so a record created offline can be referred to by
the next offline change before the server has seen it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.sync import Synced

AGE_BANDS = ("under_18", "18_25", "26_40", "41_60", "over_60", "unknown")
GENDERS = ("female", "male", "other", "unknown")
LANGUAGES = ("fr", "nl", "en", "ar", "es", "pl", "ro", "other", "unknown")
CONTACT_TYPES = ("first_contact", "conversation", "support", "emergency", "greeting")
NEEDS = (
    "shelter",
    "food",
    "health",
    "papers",
    "income",
    "housing",
    "addiction",
    "work_training",
    "other",
)
GIVEN = ("information", "food_drink", "hygiene", "clothing", "orientation", "listening", "care")

NICKNAME_MAX = 60
DESCRIPTION_MAX = 300
PLACE_NAME_MAX = 120
NOTE_MAX = 2000


class Person(Base, Synced):
    """Somebody met in the street, known by a nickname and a description until they
    choose to give more."""

    __tablename__ = "outreach_people"
    __table_args__ = (Index("ix_outreach_people_team_seq", "team_id", "change_seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    nickname: Mapped[str] = mapped_column(String(NICKNAME_MAX), default="")
    age_band: Mapped[str] = mapped_column(String(10), default="unknown")
    gender: Mapped[str] = mapped_column(String(10), default="unknown")
    language: Mapped[str] = mapped_column(String(10), default="unknown")
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Place(Base, Synced):
    """A named spot of the team's rounds ("Gare du Nord, quai 3"), with coordinates."""

    __tablename__ = "outreach_places"
    __table_args__ = (
        Index("ix_outreach_places_team_seq", "team_id", "change_seq"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    name: Mapped[str] = mapped_column(String(PLACE_NAME_MAX))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    last_visit_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Encounter(Base, Synced):
    """One contact with one person, at a place, at the time the phone recorded."""

    __tablename__ = "outreach_encounters"
    __table_args__ = (
        Index("ix_outreach_encounters_team_seq", "team_id", "change_seq"),
        Index("ix_outreach_encounters_person_at", "person_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outreach_people.id"))
    place_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("outreach_places.id"))
    occurred_at: Mapped[datetime]
    contact_type: Mapped[str] = mapped_column(String(20))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    given: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    person: Mapped[Person] = relationship()
    place: Mapped[Place | None] = relationship()
