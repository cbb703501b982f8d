"""Home care records: the service's settings, beneficiaries, care plans and their
suspensions, aides' profiles and qualifications, and the visits of a week.

Ids of the records phones may create offline are UUIDs; an aide's profile is keyed by
her user account. Every record carries the `Synced` columns and its team.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
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
    event,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import text

from core.db import Base
from core.sync import Synced

SERVICES = ("family_aide", "home_help", "day_care", "night_care")
NIGHT_SERVICES = ("night_care",)
HOLIDAY_RULES = ("skip", "keep", "move")
SKILLS = (
    "personal_care",  # toilette, aide à la mobilité
    "household",  # entretien, lessive, courses
    "meals",  # préparer un repas
    "dementia",  # accompagnement d'une personne désorientée
    "transfer",  # lève-personne, transferts
    "night_watch",  # garde de nuit
    "first_aid",
)
TRANSPORT_MODES = ("walk", "bike", "transit", "car")
SUSPENSION_REASONS = ("hospital", "holiday", "respite", "other")
LANGUAGES = ("fr", "nl", "en", "ar", "tr", "es", "pt", "pl", "ro", "other")
LOCATION_SOURCES = ("typed", "gps")
VISIT_STATUSES = ("planned", "done", "cancelled")
CONTRIBUTION_CATEGORIES = ("a", "b", "c", "d", "e")

NAME_MAX = 120
ADDRESS_MAX = 200
TEXT_MAX = 2000
TASKS_MAX = 20
TASK_MAX = 80


class Beneficiary(Base, Synced):
    """A household's person helped at home (ayant droit), with what aides need at the door."""

    __tablename__ = "homecare_beneficiaries"
    __table_args__ = (
        Index("ix_homecare_beneficiaries_team_seq", "team_id", "change_seq"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(80))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(10), default="typed")  # typed | gps
    # The notifications contact holding the phones and consents per kind.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("notification_contacts.id"))
    language: Mapped[str] = mapped_column(String(10), default="fr")
    entry_instructions: Mapped[str] = mapped_column(Text, default="")  # key safe, code, dog
    emergency_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    emergency_phone: Mapped[str] = mapped_column(String(20), default="")
    social_worker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    antenne_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    contribution_category: Mapped[str] = mapped_column(String(2), default="c")
    # The 'carnet de vie': habits, likes, what calms, what to avoid (aides of the household).
    life_book: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Shared outside the household's aides only with this recorded agreement.
    life_book_sharing_agreed_at: Mapped[datetime | None]
    life_book_sharing_agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CarePlan(Base, Synced):
    """What one service does for one beneficiary, on which days and in which window."""

    __tablename__ = "homecare_care_plans"
    __table_args__ = (
        Index("ix_homecare_care_plans_team_seq", "team_id", "change_seq"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("ends_on IS NULL OR starts_on <= ends_on", name="dates_order"),
        CheckConstraint("aides IN (1, 2)", name="aides_one_or_two"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("homecare_beneficiaries.id"), index=True
    )
    service: Mapped[str] = mapped_column(String(20))
    weekdays: Mapped[list[int]] = mapped_column(JSON)  # 0 = Monday
    # Wall-clock window in Europe/Brussels; window_end < window_start crosses midnight.
    window_start: Mapped[time] = mapped_column(Time)
    window_end: Mapped[time] = mapped_column(Time)
    tolerance_minutes: Mapped[int] = mapped_column(Integer, default=0)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    tasks: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    preferred_aide_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    refused_aide_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    holiday_rule: Mapped[str] = mapped_column(String(10), default="skip")
    # A meal order of the rounds domain this plan refers to (never duplicated here).
    meal_order_ref: Mapped[str | None] = mapped_column(String(80))
    # 2: a transfer (lifting, a bath), two aides arriving together.
    aides: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CarePlanSuspension(Base, Synced):
    """Days a plan is paused (hospital, holiday), both ends included."""

    __tablename__ = "homecare_suspensions"
    __table_args__ = (CheckConstraint("starts_on <= ends_on", name="dates_order"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("homecare_care_plans.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(TEXT_MAX), default="")


class AideProfile(Base, Synced):
    """An aide's working terms, keyed by her user account."""

    __tablename__ = "homecare_aide_profiles"
    __table_args__ = (
        CheckConstraint(
            "contract_minutes >= 0 AND contract_minutes <= 3000", name="contract_range"
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    contract_minutes: Mapped[int] = mapped_column(Integer)  # per week
    # [[weekday, "HH:MM", "HH:MM"], …]; an end before the start runs past midnight.
    working_hours: Mapped[list[Any]] = mapped_column(JSON, default=list)
    home_latitude: Mapped[float | None] = mapped_column(Float)
    home_longitude: Mapped[float | None] = mapped_column(Float)
    transport_mode: Mapped[str] = mapped_column(String(10), default="transit")
    speed_kmh: Mapped[float | None] = mapped_column(Float)  # None: the mode's usual speed


class AideQualification(Base, Synced):
    """A skill an aide holds, until its expiry date (then it no longer counts)."""

    __tablename__ = "homecare_qualifications"
    __table_args__ = (UniqueConstraint("user_id", "skill", name="one_per_skill"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("homecare_aide_profiles.user_id"))
    skill: Mapped[str] = mapped_column(String(20))
    expires_on: Mapped[date | None] = mapped_column(Date)


class Visit(Base, Synced):
    """One occurrence of a care plan: its window, and once planned its aide and start."""

    __tablename__ = "homecare_visits"
    __table_args__ = (
        # Generation is idempotent: one visit per plan and scheduled day.
        UniqueConstraint("plan_id", "scheduled_on", name="one_per_plan_day"),
        Index("ix_homecare_visits_team_day", "team_id", "day"),
        Index("ix_homecare_visits_team_seq", "team_id", "change_seq"),
        CheckConstraint("earliest_start <= latest_start", name="window_order"),
        CheckConstraint("status IN ('planned', 'done', 'cancelled')", name="status_known"),
        CheckConstraint(
            "validation IS NULL OR validation IN ('report', 'review', 'coordinator')",
            name="validation_known",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("homecare_care_plans.id"), index=True)
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("homecare_beneficiaries.id"), index=True
    )
    scheduled_on: Mapped[date] = mapped_column(Date)  # the plan's day (before a holiday move)
    day: Mapped[date] = mapped_column(Date)  # the day it happens (local)
    earliest_start: Mapped[datetime]
    latest_start: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="planned")
    cancel_reason: Mapped[str | None] = mapped_column(String(20))  # suspended, holiday, plan
    aide_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # A transfer (its plan's `aides` = 2): the second aide, starting with the first.
    aides: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    second_aide_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    planned_start: Mapped[datetime | None]
    unassigned_reason: Mapped[str | None] = mapped_column(String(40))
    # Once done (marked by the coordinator until the aide's phone validates it): the real
    # start and end (UTC) and the kilometres the aide drove for it.
    actual_start: Mapped[datetime | None]
    actual_end: Mapped[datetime | None]
    km: Mapped[float | None] = mapped_column(Float)
    # What made a done visit count for hours, quota and billing (VALIDATIONS).
    validation: Mapped[str | None] = mapped_column(String(12))


# A visit counts (status done) only once validated: by the aide's verified report
# (`report`), by the coordinator accepting or correcting an unverified one (`review`),
# or by the coordinator marking it done herself (`coordinator`).
VALIDATIONS = ("report", "review", "coordinator")


RUN_KINDS = ("plan", "replan")  # the whole week, or the visits of an absent aide
RUN_STATUSES = ("queued", "running", "done", "failed")
ACTIVE_RUN = "status IN ('queued', 'running')"


class PlanningRun(Base):
    """A coordinator's request to plan a week (or re-plan around an absence), run by the
    scheduler's `homecare.planning_runs` job, never inside a web request."""

    __tablename__ = "homecare_planning_runs"
    __table_args__ = (
        # One active run per team and week, whoever asks and however many schedulers run.
        Index(
            "ix_homecare_planning_runs_one_active",
            "team_id",
            "week",
            unique=True,
            postgresql_where=text(ACTIVE_RUN),
            sqlite_where=text(ACTIVE_RUN),
        ),
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="run_status_known"
        ),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week: Mapped[date] = mapped_column(Date)  # its Monday
    kind: Mapped[str] = mapped_column(String(10), default="plan")
    # replan: {"aide_id", "starts_at", "ends_at"} (ISO, UTC)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    seconds: Mapped[int] = mapped_column(Integer, default=5)  # the optimiser's time limit
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # done: counts (plan) or the proposal (replan); failed: {"error": code}
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]  # replan: the coordinator accepted the proposal
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class HoursQuota(Base, Synced):
    """The hours a funder subsidises for one service of a team in one year."""

    __tablename__ = "homecare_quotas"
    __table_args__ = (
        UniqueConstraint("team_id", "year", "service", "funder", name="one_per_service_year"),
        CheckConstraint("hours >= 0", name="hours_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    service: Mapped[str] = mapped_column(String(20))
    funder: Mapped[str] = mapped_column(String(20))
    hours: Mapped[int] = mapped_column(Integer)


PROOF_MODES = ("none", "code", "gps")  # code: the household's card (QR or typed)
OUTCOMES = ("normal", "nobody_answered", "refused", "hospital", "incident")
ALERT_OUTCOMES = ("nobody_answered", "incident")
UNVERIFIED_REASONS = (
    "times_missing",  # no arrival or no departure
    "no_fix",  # GPS asked for, a fix missing
    "no_household_position",  # GPS asked for, the household has no coordinates
    "outside_radius",  # a fix farther than the radius from the household
    "no_code",  # a code asked for, none given
    "old_code",  # the household's code before its card was replaced (a replay)
    "foreign_code",  # the code of another household's card
    "wrong_code",  # a code no card of the team ever had
    "no_card",  # a code asked for, the household has no card yet
    "clock_offset",  # the phone's clock was more than 10 minutes off (TIME_FLAGS)
    "in_future",  # a time after the server's now
    "before_visit_day",  # a time before the visit's day
    "not_hers",  # the visit was reassigned or cancelled while her phone was offline
)
# Over- or under-run of a visit (15 minutes or more against its planned length).
VARIANCE_MINUTES = 15
VARIANCE_REASONS = ("household_request", "care_needed", "late_arrival", "traffic", "other")
VARIANCE_NOTE_MAX = 500
# A phone clock more than this away from the server's flags the report's times.
CLOCK_TOLERANCE_S = 600
TIME_FLAGS = ("clock_offset", "in_future", "before_visit_day")
CODE_LENGTH = 6
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B
AIDE_REASONS = ("no_signal", "gps_refused", "other")  # what the aide says in one tap
NOTE_MAX = 2000


class ProofRule(Base):
    """The proof asked of a visit of one service of a team (none when no row)."""

    __tablename__ = "homecare_proof_rules"
    __table_args__ = (
        CheckConstraint("mode IN ('none', 'code', 'gps')", name="proof_mode_known"),
        CheckConstraint("radius_m > 0", name="radius_positive"),
    )

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    service: Mapped[str] = mapped_column(String(20), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10), default="none")
    radius_m: Mapped[int] = mapped_column(Integer, default=150)


class VisitReport(Base, Synced):
    """What the aide recorded on a visit, made on her phone with its own id: her arrival
    and departure (the phone's clock), proof fixes, tasks done, note and outcome. A
    coordinator's edit of the visit never conflicts with it; a report whose proof failed
    is kept as unverified with its reason, never lost."""

    __tablename__ = "homecare_visit_reports"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('normal', 'nobody_answered', 'refused', 'hospital', 'incident')",
            name="outcome_known",
        ),
        CheckConstraint(
            "review IS NULL OR review IN ('accepted', 'corrected', 'rejected')",
            name="review_known",
        ),
        Index("ix_homecare_visit_reports_team_seq", "team_id", "change_seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the phone
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("homecare_visits.id"), index=True)
    aide_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    arrived_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    arrival_latitude: Mapped[float | None] = mapped_column(Float)
    arrival_longitude: Mapped[float | None] = mapped_column(Float)
    departure_latitude: Mapped[float | None] = mapped_column(Float)
    departure_longitude: Mapped[float | None] = mapped_column(Float)
    tasks_done: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(20), default="normal")
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)  # the report op came
    proof: Mapped[str] = mapped_column(String(10), default="none")  # the mode it was judged by
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    unverified_reason: Mapped[str | None] = mapped_column(String(30))
    aide_reason: Mapped[str | None] = mapped_column(String(20))
    alerted_at: Mapped[datetime | None]
    # The coordinator's review of an unverified report (homecare/live.py).
    review: Mapped[str | None] = mapped_column(String(10))  # REVIEWS
    review_reason: Mapped[str | None] = mapped_column(Text)  # why rejected or corrected
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    # The household card's code as the aide scanned or typed it (judged, then kept).
    proof_code: Mapped[str | None] = mapped_column(String(16))
    # The phone's clock minus the server's when the op was sent (None: an old phone).
    clock_offset_s: Mapped[int | None] = mapped_column(Integer)
    time_flag: Mapped[str | None] = mapped_column(String(20))  # TIME_FLAGS
    # Over- or under-run: the aide's reason and note; "reason_missing" when none came.
    variance_minutes: Mapped[int | None] = mapped_column(Integer)
    variance_reason: Mapped[str | None] = mapped_column(String(20))
    variance_note: Mapped[str] = mapped_column(Text, default="")


REVIEWS = ("accepted", "corrected", "rejected")
REVIEW_REASON_MAX = 500


class ProofCard(Base):
    """A household's proof card: a short code and its QR, kept at the household. A new
    card replaces the old one (`replaced_at`): the old code then proves nothing."""

    __tablename__ = "homecare_proof_cards"
    __table_args__ = (
        UniqueConstraint("team_id", "code", name="code_unique_in_team"),
        Index(
            "ix_homecare_proof_cards_current",
            "beneficiary_id",
            unique=True,
            sqlite_where=text("replaced_at IS NULL"),
            postgresql_where=text("replaced_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("homecare_beneficiaries.id"))
    code: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime]
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    replaced_at: Mapped[datetime | None]


OFFER_STATUSES = ("open", "taken", "withdrawn")
OPEN_OFFER = "status = 'open'"


class VisitOffer(Base, Synced):
    """A visit left uncovered, offered from the board to the aides who could take it; the
    first to accept gets it. `status` leaves `open` once, by a conditional UPDATE
    (homecare/offers.py): exactly one acceptance wins, whatever arrives together."""

    __tablename__ = "homecare_visit_offers"
    __table_args__ = (
        # One open offer per visit, however many coordinators press the button.
        Index(
            "ix_homecare_visit_offers_one_open",
            "visit_id",
            unique=True,
            postgresql_where=text(OPEN_OFFER),
            sqlite_where=text(OPEN_OFFER),
        ),
        Index("ix_homecare_visit_offers_team_seq", "team_id", "change_seq"),
        CheckConstraint("status IN ('open', 'taken', 'withdrawn')", name="offer_status_known"),
        CheckConstraint("(status = 'taken') = (taken_by_id IS NOT NULL)", name="taken_has_taker"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("homecare_visits.id"), index=True)
    # The visit's version when offered: a visit changed since is no longer offered.
    visit_version: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime]  # the start offered (UTC)
    status: Mapped[str] = mapped_column(String(10), default="open")
    offered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    offered_at: Mapped[datetime]
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    taken_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]


class VisitOfferAide(Base):
    """An aide an offer was made to, with the travel it adds to her day (minutes)."""

    __tablename__ = "homecare_visit_offer_aides"

    offer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("homecare_visit_offers.id"), primary_key=True
    )
    aide_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    travel_minutes: Mapped[int | None] = mapped_column(Integer)  # None: no position known


TIMESHEET_PERIODS = ("week", "month")


class Timesheet(Base):
    """An aide's signature of her timesheet of a week or a month: the totals and the
    lines as they were, and the hash of those lines. Never changed once written (a
    re-signature is a new row); a later correction of a visit of the period shows as a
    hash that no longer matches (homecare/timesheets.py)."""

    __tablename__ = "homecare_timesheets"
    __table_args__ = (
        # The same lines signed twice (a double tap) are one signature.
        UniqueConstraint("aide_id", "period", "first_day", "lines_hash", name="one_per_content"),
        CheckConstraint("period IN ('week', 'month')", name="period_known"),
        CheckConstraint("first_day <= last_day", name="period_order"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    aide_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    period: Mapped[str] = mapped_column(String(10))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    km: Mapped[float] = mapped_column(Float)
    visits: Mapped[int] = mapped_column(Integer)
    lines: Mapped[list[Any]] = mapped_column(JSON)  # the lines signed, as shown
    lines_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the lines, hex
    signed_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(10), default="password")


@event.listens_for(Timesheet, "before_update")
@event.listens_for(Timesheet, "before_delete")
def _signed_is_final(_mapper: Any, _connection: Any, target: Timesheet) -> None:
    """A signature is never changed nor deleted through the application."""
    raise RuntimeError(f"a signed timesheet is never changed ({target.id})")
