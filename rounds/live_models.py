"""What the crew records from the phone during a dated round (issue 19), and the notices
people were sent about a late or cancelled public stop.

The crew's records carry ids made on the phone (`RoundReport`: the round's start,
incident and finish; `StopReport`: arrival, departure and outcome at one stop), so a
coordinator's edit of the round or of its stops never turns a tap into a conflict. What
they say is copied onto the round and its stops (status, times) for the pages and ETAs.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.sync import Synced

STOP_OUTCOMES = ("delivered", "nobody_home", "refused", "seen", "ride_done", "no_show")
NOTICE_KINDS = ("late", "cancelled", "restored")
INCIDENT_MAX = 500
LATE_DEFAULT = 15  # minutes late at a public stop before subscribers hear of it
LATE_MIN, LATE_MAX = 5, 120


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class RoundReport(Base, Synced):
    """The crew's record of one dated round: started (with the odometer), an incident,
    finished (with the odometer). One per round: the first op names its id."""

    __tablename__ = "rounds_round_reports"
    __table_args__ = (
        Index("ix_rounds_round_reports_team_seq", "team_id", "change_seq"),
        UniqueConstraint("round_id", name="uq_rounds_round_reports_round"),
        CheckConstraint("km_start IS NULL OR km_start >= 0", name="km_start_positive"),
        CheckConstraint(
            "km_end IS NULL OR km_start IS NULL OR km_end >= km_start", name="km_in_order"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the phone
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_rounds.id"))
    crew_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # who started it
    started_at: Mapped[datetime | None] = mapped_column()
    km_start: Mapped[int | None] = mapped_column(Integer)
    finished_at: Mapped[datetime | None] = mapped_column()
    km_end: Mapped[int | None] = mapped_column(Integer)
    incident_at: Mapped[datetime | None] = mapped_column()
    incident_note: Mapped[str] = mapped_column(String(INCIDENT_MAX), default="")
    alerted_at: Mapped[datetime | None] = mapped_column()


class StopReport(Base, Synced):
    """The crew's record of one stop of a dated round: arrived, left, how it went."""

    __tablename__ = "rounds_stop_reports"
    __table_args__ = (
        Index("ix_rounds_stop_reports_team_seq", "team_id", "change_seq"),
        UniqueConstraint("round_stop_id", name="uq_rounds_stop_reports_stop"),
        CheckConstraint("outcome = '' OR " + _in("outcome", STOP_OUTCOMES), name="outcome_known"),
        CheckConstraint("people_seen IS NULL OR people_seen >= 0", name="people_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the phone
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_rounds.id"), index=True)
    round_stop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_round_stops.id"))
    crew_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    arrived_at: Mapped[datetime | None] = mapped_column()
    left_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(20), default="")
    people_seen: Mapped[int | None] = mapped_column(Integer)


class StopNotice(Base):
    """One change people were told about at a public stop of a dated round: `late` by
    `minutes` (revision 1, 2… as the delay grows) or `cancelled` (the round's revision).
    Unique per round stop, kind and revision: two processes seeing the same delay make
    one notice, and the outbox keys (`rounds:late:<round>:<stop>:<revision>:<contact>`)
    make one SMS per person."""

    __tablename__ = "rounds_stop_notices"
    __table_args__ = (
        UniqueConstraint("round_stop_id", "kind", "revision", name="uq_rounds_stop_notices_once"),
        CheckConstraint(_in("kind", NOTICE_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_rounds.id"), index=True)
    round_stop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rounds_round_stops.id"))
    kind: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()


class LiveSettings(Base):
    """A mobile team's setting for the live rounds: how late (minutes) at a public stop
    before its subscribers get an SMS."""

    __tablename__ = "rounds_live_settings"
    __table_args__ = (
        CheckConstraint(f"late_minutes BETWEEN {LATE_MIN} AND {LATE_MAX}", name="late_range"),
    )

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    late_minutes: Mapped[int] = mapped_column(Integer, default=LATE_DEFAULT)
    updated_at: Mapped[datetime] = mapped_column()
