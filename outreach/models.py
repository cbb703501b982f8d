"""Street outreach records: people met (anonymous first), places, encounters.

Ids are UUIDs made on the phone, so a record created offline can be referred to by
the next offline change before the server has seen it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, String, Text, Uuid
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
PLACE_NOTES_MAX = 1000
NOTE_MAX = 2000


class Person(Base, Synced):
    """Somebody met in the street, known by a nickname and a description until they
    choose to give more."""

    __tablename__ = "outreach_people"
    __table_args__ = (
        Index("ix_outreach_people_team_seq", "team_id", "change_seq"),
        # The person list, most recently seen first.
        Index("ix_outreach_people_team_seen", "team_id", "last_seen_at"),
    )

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
    # Flagged a minor by the team even when the age band says otherwise.
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when this record was merged into another (it then holds nothing of its own).
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("outreach_people.id"))

    @property
    def is_minor(self) -> bool:
        return self.minor or self.age_band == "under_18"


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
    # What the team should know about the spot: access, who sleeps there, when to come.
    notes: Mapped[str] = mapped_column(Text, default="")


class Encounter(Base, Synced):
    """One contact with one person, at a place, at the time the phone recorded."""

    __tablename__ = "outreach_encounters"
    __table_args__ = (
        Index("ix_outreach_encounters_team_seq", "team_id", "change_seq"),
        Index("ix_outreach_encounters_person_at", "person_id", "occurred_at"),
        # The street home: the team's latest encounters.
        Index("ix_outreach_encounters_team_at", "team_id", "occurred_at"),
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
    maraude_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("outreach_maraudes.id"), index=True
    )
    ethos: Mapped[str] = mapped_column(String(10), default="unknown")  # outreach/ethos.py

    person: Mapped[Person] = relationship()
    place: Mapped[Place | None] = relationship()


# --- Issue 8: maraudes, ETHOS, minors, referrals, consent, merges, retention ----------

KM_MAX = 500.0
INCIDENTS_MAX = 2000
AREA_MAX = 120
REFERRAL_STATUSES = ("proposed", "accepted", "done", "not_done")
PARTNER_KINDS = (
    "night_shelter",
    "day_centre",
    "medical",
    "mental_health",
    "addiction",
    "housing",
    "food",
    "legal",
    "youth",
    "other",
)
CONSENT_SCOPES = ("identity", "referral_sharing")
CONSENT_METHODS = ("oral", "written")


class Maraude(Base, Synced):
    """A street round: who went out, where, from when to when (phone times)."""

    __tablename__ = "outreach_maraudes"
    __table_args__ = (
        Index("ix_outreach_maraudes_team_seq", "team_id", "change_seq"),
        Index("ix_outreach_maraudes_team_started", "team_id", "started_at"),
        CheckConstraint("km IS NULL OR km >= 0", name="km_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    area: Mapped[str] = mapped_column(String(AREA_MAX), default="")
    member_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # users of the team
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    km: Mapped[float | None] = mapped_column(Float)
    incidents: Mapped[str] = mapped_column(Text, default="")
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class OutreachTeamSettings(Base):
    """A street team's own settings: the protective path for minors, its retention."""

    __tablename__ = "outreach_team_settings"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    # Who is alerted when the team meets a minor: its people (ProtectivePerson) and/or
    # a contact outside Terrain.
    protective_contact: Mapped[str] = mapped_column(String(200), default="")
    # Months without contact before an anonymous person is purged (None: the global rule).
    anonymous_retention_months: Mapped[int | None]


class ProtectivePerson(Base):
    """A staff member of the team named on its protective path for minors."""

    __tablename__ = "outreach_protective_people"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class OutreachRetentionSettings(Base):
    """The administrator's retention rules (one row, id 1)."""

    __tablename__ = "outreach_retention_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    anonymous_months: Mapped[int] = mapped_column(default=24)
    named_months: Mapped[int] = mapped_column(default=60)


class MinorAlert(Base):
    """An encounter with a minor, for the person the team's protective path names."""

    __tablename__ = "outreach_minor_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outreach_people.id"), index=True)
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outreach_encounters.id"))
    alert_contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recipients: Mapped[list[MinorAlertRecipient]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="MinorAlertRecipient.user_id"
    )

    @property
    def alert_user_ids(self) -> list[int]:
        """The staff told of this alert (the team's protective people when it was made)."""
        return [recipient.user_id for recipient in self.recipients]

    @property
    def nobody_to_tell(self) -> bool:
        """Saved while the team had no protective path (an op from a phone's outbox)."""
        return not self.recipients and not self.alert_contact


class MinorAlertRecipient(Base):
    """One staff member told of a minor alert."""

    __tablename__ = "outreach_minor_alert_recipients"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("outreach_minor_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class ServicePartner(Base):
    """An external service of the directory (night shelter, medical centre…)."""

    __tablename__ = "outreach_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)


class Referral(Base):
    """A person sent to a partner or to a CPAS service, and how it went."""

    __tablename__ = "outreach_referrals"
    __table_args__ = (
        CheckConstraint("(partner_id IS NULL) <> (to_team_id IS NULL)", name="one_destination"),
        Index("ix_outreach_referrals_team_proposed", "team_id", "proposed_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))  # the street team
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outreach_people.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_partners.id"))
    # An internal CPAS service: the team (antenne) receiving the person, and optionally
    # the code of an appointments service (a string: outreach does not import appointments).
    to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(40), default="")
    need: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_at: Mapped[datetime]
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]  # done or not_done
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    partner: Mapped[ServicePartner | None] = relationship()


class PersonConsent(Base):
    """What a person agreed to, when, how, recorded by whom; kept after withdrawal."""

    __tablename__ = "outreach_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outreach_people.id"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    method: Mapped[str] = mapped_column(String(10))
    given_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PersonIdentity(Base):
    """The real identity a person chose to give: a table of its own, erased on withdrawal."""

    __tablename__ = "outreach_identities"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outreach_people.id"), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    birth_date: Mapped[date | None]
    niss: Mapped[str | None] = mapped_column(String(11))
    consent_id: Mapped[int] = mapped_column(ForeignKey("outreach_consents.id"))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class PersonMerge(Base):
    """Two records found to be one person: what moved, so that it can be undone."""

    __tablename__ = "outreach_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    survivor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outreach_people.id"), index=True)
    merged_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outreach_people.id"), index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    merged_at: Mapped[datetime]
    merged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class OutreachPurgeReport(Base):
    """What one retention run deleted: counts only, no ids, no personal data."""

    __tablename__ = "outreach_purge_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(index=True)
    ran_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: scheduler
    anonymous_cutoff: Mapped[datetime]  # the global rule's; teams may have their own
    named_cutoff: Mapped[datetime]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
