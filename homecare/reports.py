"""What an aide records on a visit from her phone (issue 18): arrival, departure, the
report, judged against the proof her team asks for that service, and the alert a
worrying outcome raises.

A report is its own record (its id made on the phone), so a coordinator's edit of the
visit never turns the aide's check-in into a conflict. A report is never refused for
its proof: when the proof fails or is missing it is kept as unverified with the reason,
for the coordinator to review. A verified, normal report marks the visit done with its
real times, so the hours and the quota (homecare/hours.py) count it. An op on a visit
of her team that is not hers (any more: reassigned or cancelled while her phone was
offline, and she did go) is kept, never verified, with the reason `not_hers`, for the
coordinator's review; it never marks the visit done. A visit of another team, unknown,
or older than a week is refused as unknown.

Times are the phone's. The phone sends its clock with each batch (`client_time`), so
the server knows how far off it is; a report whose phone was more than 10 minutes off,
or whose times are in the future or before the visit's day, is kept but flagged
(`time_flag`) and left unverified for the coordinator: its times do not count as they
are. A visit 15 minutes or more longer or shorter than planned asks the aide why; when
no reason comes the report is kept, marked "reason missing".
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock, sync
from core.accounts import User
from core.errors import FieldError, Invalid
from core.roles import Role
from homecare import cards, hours
from homecare.calendar import local_moment
from homecare.hours import MAX_DONE
from homecare.models import (
    AIDE_REASONS,
    ALERT_OUTCOMES,
    CLOCK_TOLERANCE_S,
    NOTE_MAX,
    OUTCOMES,
    TASK_MAX,
    TASKS_MAX,
    VARIANCE_MINUTES,
    VARIANCE_NOTE_MAX,
    VARIANCE_REASONS,
    Beneficiary,
    CarePlan,
    ProofRule,
    Visit,
    VisitReport,
)
from notifications import services as notify

# A report may come days after the visit (a phone long offline), not weeks.
LATE_REPORT = timedelta(days=7)
# A time this far ahead of the server's clock is "in the future" (flagged, kept).
FUTURE_SLACK = timedelta(minutes=5)
ALERT_TEMPLATE = "homecare_visit_alert"
ALERT_CATEGORY = "service_change"
# Says only that something waits: no household's name leaves by SMS.
ALERT_KIND = notify.TemplateKind(
    code=ALERT_TEMPLATE,
    category=ALERT_CATEGORY,
    placeholders=(),
    defaults={
        "fr": "Terrain aide à domicile: alerte urgente sur une visite. Ouvrez Terrain.",
        "nl": "Terrain thuishulp: dringende melding over een bezoek. Open Terrain.",
        "en": "Terrain home care: urgent alert on a visit. Open Terrain.",
    },
)


@dataclass(frozen=True)
class Fix:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Entry:
    """One op's data, read: `step` is checkin, checkout or report."""

    step: str
    report_id: uuid.UUID
    visit_id: uuid.UUID
    at: datetime | None = None  # checkin / checkout
    fix: Fix | None = None
    arrived_at: datetime | None = None  # report
    left_at: datetime | None = None
    arrival_fix: Fix | None = None
    departure_fix: Fix | None = None
    tasks_done: tuple[str, ...] = ()
    note: str = ""
    outcome: str = "normal"
    aide_reason: str | None = None
    code: str | None = None  # the household card's code, scanned or typed
    variance_reason: str | None = None
    variance_note: str = ""


def _uuid(data: Mapping[str, Any], name: str, errors: dict[str, FieldError]) -> uuid.UUID:
    try:
        return uuid.UUID(str(data.get(name)))
    except ValueError:
        errors[name] = FieldError("invalid_uuid")
        return uuid.UUID(int=0)


def _time(data: Mapping[str, Any], name: str, errors: dict[str, FieldError]) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    found = sync.parse_client_time(value)
    if found is None:
        errors[name] = FieldError("invalid_datetime")
    # A time in the future is the phone's clock being wrong: kept, flagged (save()).
    return found


def _code(data: Mapping[str, Any], name: str, errors: dict[str, FieldError]) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        errors[name] = FieldError("too_long", {"max": 40})
        return None
    return cards.normalise(value) or None


def _fix(data: Mapping[str, Any], prefix: str, errors: dict[str, FieldError]) -> Fix | None:
    latitude, longitude = data.get(f"{prefix}latitude"), data.get(f"{prefix}longitude")
    if latitude is None and longitude is None:
        return None
    ok = all(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        for value in (latitude, longitude)
    )
    if not ok or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # type: ignore[operator]
        errors[f"{prefix}latitude"] = FieldError("invalid_position")
        return None
    return Fix(float(latitude), float(longitude))  # type: ignore[arg-type]


def read_entry(step: str, data: Mapping[str, Any]) -> Entry:
    """The op's data checked; Invalid with every bad field."""
    errors: dict[str, FieldError] = {}
    report_id = _uuid(data, "id", errors)
    visit_id = _uuid(data, "visit_id", errors)
    if step in ("checkin", "checkout"):
        at = _time(data, "at", errors)
        if at is None and "at" not in errors:
            errors["at"] = FieldError("required")
        fix = _fix(data, "", errors)
        code = _code(data, "code", errors)
        if errors:
            raise Invalid(errors)
        return Entry(step, report_id, visit_id, at=at, fix=fix, code=code)
    arrived_at = _time(data, "arrived_at", errors)
    left_at = _time(data, "left_at", errors)
    if arrived_at and left_at:
        if left_at <= arrived_at:
            errors["left_at"] = FieldError("ends_before_start")
        elif left_at - arrived_at > MAX_DONE:
            errors["left_at"] = FieldError("visit_too_long")
    tasks = data.get("tasks_done", [])
    if (
        not isinstance(tasks, list)
        or len(tasks) > TASKS_MAX
        or not all(isinstance(task, str) and len(task) <= TASK_MAX for task in tasks)
    ):
        errors["tasks_done"] = FieldError("invalid_tasks")
        tasks = []
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        errors["note"] = FieldError("too_long")
        note = ""
    outcome = data.get("outcome", "normal")
    if outcome not in OUTCOMES:
        errors["outcome"] = FieldError("unknown_choice")
    aide_reason = data.get("unverified_reason")
    if aide_reason is not None and aide_reason not in AIDE_REASONS:
        errors["unverified_reason"] = FieldError("unknown_choice")
    arrival_fix = _fix(data, "arrival_", errors)
    departure_fix = _fix(data, "departure_", errors)
    code = _code(data, "proof_code", errors)
    variance_reason = data.get("variance_reason") or None
    if variance_reason is not None and variance_reason not in VARIANCE_REASONS:
        errors["variance_reason"] = FieldError("unknown_choice")
    variance_note = data.get("variance_note", "")
    if not isinstance(variance_note, str) or len(variance_note) > VARIANCE_NOTE_MAX:
        errors["variance_note"] = FieldError("too_long", {"max": VARIANCE_NOTE_MAX})
        variance_note = ""
    if errors:
        raise Invalid(errors)
    return Entry(
        step,
        report_id,
        visit_id,
        arrived_at=arrived_at,
        left_at=left_at,
        arrival_fix=arrival_fix,
        departure_fix=departure_fix,
        tasks_done=tuple(dict.fromkeys(tasks)),
        note=note.strip(),
        outcome=str(outcome),
        aide_reason=aide_reason,
        code=code,
        variance_reason=variance_reason,
        variance_note=variance_note.strip(),
    )


def _team_visit(session: Session, user: User, visit_id: uuid.UUID) -> tuple[Visit, bool]:
    """A visit of her team from the last week on, and whether it is hers now (one of
    its aides, not cancelled); else refused as unknown."""
    visit = session.get(Visit, visit_id)
    since = clock.to_local(clock.now()).date() - LATE_REPORT
    if (
        visit is None
        or user.role != Role.AIDE
        or visit.team_id != user.team_id
        or visit.day < since
    ):
        raise Invalid({"visit_id": FieldError("unknown_visit")})
    hers = user.id in (visit.aide_id, visit.second_aide_id) and visit.status != "cancelled"
    return visit, hers


def distance_m(a: Fix, b: Fix) -> float:
    """Great-circle distance in metres."""
    earth = 6_371_000.0
    phi1, phi2 = math.radians(a.latitude), math.radians(b.latitude)
    dphi, dlambda = phi2 - phi1, math.radians(b.longitude - a.longitude)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * earth * math.asin(math.sqrt(h))


def proof_rule(session: Session, visit: Visit) -> ProofRule:
    service = session.scalar(select(CarePlan.service).where(CarePlan.id == visit.plan_id))
    rule = session.get(ProofRule, (visit.team_id, service or ""))
    return rule or ProofRule(
        team_id=visit.team_id, service=service or "", mode="none", radius_m=150
    )


def judge(session: Session, visit: Visit, report: VisitReport) -> str | None:
    """Why the report is not verified, or None when it is."""
    rule = proof_rule(session, visit)
    report.proof = rule.mode
    if report.arrived_at is None or report.left_at is None:
        return "times_missing"
    if rule.mode == "none":
        return None
    if rule.mode == "code":
        return cards.check_code(
            session, visit.team_id, visit.beneficiary_id, report.proof_code or ""
        ).reason
    household = session.get(Beneficiary, visit.beneficiary_id)
    if household is None or household.latitude is None or household.longitude is None:
        return "no_household_position"
    home = Fix(household.latitude, household.longitude)
    fixes = []
    for latitude, longitude in (
        (report.arrival_latitude, report.arrival_longitude),
        (report.departure_latitude, report.departure_longitude),
    ):
        if latitude is None or longitude is None:
            return "no_fix"
        fixes.append(Fix(latitude, longitude))
    if any(distance_m(fix, home) > rule.radius_m for fix in fixes):
        return "outside_radius"
    return None


def time_flag(visit: Visit, report: VisitReport, offset_s: int | None) -> str | None:
    """Why the report's times look wrong, or None: the phone's clock far off when it
    sent them, a time in the future, or a time before the visit's day."""
    if offset_s is not None and abs(offset_s) > CLOCK_TOLERANCE_S:
        return "clock_offset"
    times = [moment for moment in (report.arrived_at, report.left_at) if moment is not None]
    if any(moment > clock.now() + FUTURE_SLACK for moment in times):
        return "in_future"
    if any(moment < local_moment(visit.day, time(0)) for moment in times):
        return "before_visit_day"
    return None


def variance(visit: Visit, report: VisitReport) -> int | None:
    """Minutes longer (+) or shorter (-) than planned, when 15 or more; else None."""
    if report.arrived_at is None or report.left_at is None:
        return None
    actual = round((report.left_at - report.arrived_at).total_seconds() / 60)
    difference = actual - visit.duration_minutes
    return difference if abs(difference) >= VARIANCE_MINUTES else None


def reason_missing(report: VisitReport) -> bool:
    """An over- or under-run the aide's report gave no reason for."""
    return report.submitted and report.variance_minutes is not None and not report.variance_reason


def serialize(report: VisitReport) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return clock.as_utc(value).isoformat() if value else None

    return {
        "id": str(report.id),
        "version": report.version,
        "visit_id": str(report.visit_id),
        "arrived_at": moment(report.arrived_at),
        "left_at": moment(report.left_at),
        "tasks_done": list(report.tasks_done or []),
        "note": report.note,
        "outcome": report.outcome,
        "submitted": report.submitted,
        "proof": report.proof,
        "verified": report.verified,
        "unverified_reason": report.unverified_reason,
        "aide_reason": report.aide_reason,
        "proof_code": report.proof_code,
        "clock_offset_s": report.clock_offset_s,
        "time_flag": report.time_flag,
        "variance_minutes": report.variance_minutes,
        "variance_reason": report.variance_reason,
        "variance_note": report.variance_note,
        "reason_missing": reason_missing(report),
    }


def save(
    session: Session,
    user: User,
    entry: Entry,
    client_at: datetime | None = None,
    clock_offset: timedelta | None = None,
) -> VisitReport:
    """Apply one step to the report (made by the first step that arrives).
    `clock_offset`: the phone's clock minus the server's when the batch was sent."""
    visit, hers = _team_visit(session, user, entry.visit_id)
    report = session.get(VisitReport, entry.report_id)
    if report is not None and (report.aide_id != user.id or report.visit_id != visit.id):
        raise Invalid({"visit_id": FieldError("unknown_visit")})
    created = report is None
    if report is None:
        report = VisitReport(
            id=entry.report_id,
            team_id=visit.team_id,
            visit_id=visit.id,
            aide_id=user.id,
            tasks_done=[],
            note="",
            outcome="normal",
            submitted=False,
            proof="none",
            verified=False,
            variance_note="",
            changed_at=clock.now(),  # stamped below, after the proof is judged
            updated_at=clock.now(),
        )
        session.add(report)
    if entry.code:
        report.proof_code = entry.code
    if clock_offset is not None:
        report.clock_offset_s = round(clock_offset.total_seconds())
    if entry.step == "checkin":
        report.arrived_at = entry.at
        if entry.fix:
            report.arrival_latitude, report.arrival_longitude = (
                entry.fix.latitude,
                entry.fix.longitude,
            )
    elif entry.step == "checkout":
        report.left_at = entry.at
        if entry.fix:
            report.departure_latitude = entry.fix.latitude
            report.departure_longitude = entry.fix.longitude
    else:
        report.arrived_at = entry.arrived_at or report.arrived_at
        report.left_at = entry.left_at or report.left_at
        for fix, names in (
            (entry.arrival_fix, ("arrival_latitude", "arrival_longitude")),
            (entry.departure_fix, ("departure_latitude", "departure_longitude")),
        ):
            if fix:
                setattr(report, names[0], fix.latitude)
                setattr(report, names[1], fix.longitude)
        report.tasks_done = list(entry.tasks_done)
        report.note = entry.note
        report.outcome = entry.outcome
        report.aide_reason = entry.aide_reason
        report.variance_reason = entry.variance_reason
        report.variance_note = entry.variance_note
        report.submitted = True
    if report.arrived_at and report.left_at and report.left_at <= report.arrived_at:
        raise Invalid({"at": FieldError("ends_before_start")})
    report.variance_minutes = variance(visit, report)
    report.time_flag = time_flag(
        visit, report, round(clock_offset.total_seconds()) if clock_offset is not None else None
    )
    # The proof first; times that look wrong keep a proven report unverified too. A
    # visit no longer hers (reassigned, cancelled while she was offline): kept for review.
    reason = judge(session, visit, report) or report.time_flag
    if not hers:
        reason = "not_hers"
    report.verified = reason is None
    report.unverified_reason = reason
    sync.stamp(session, report, sync.team_scope(visit.team_id), user, client_at)
    if report.submitted and report.verified and report.outcome == "normal":
        _mark_done(session, user, visit, report)
    if report.submitted and report.outcome in ALERT_OUTCOMES:
        alert(session, user, visit, report)
    audit.record(
        session,
        actor=user,
        action="create" if created else "update",
        entity_type="homecare_visit_report",
        entity_id=report.id,
        details={
            "visit": str(visit.id),
            "step": entry.step,
            "verified": report.verified,
            "reason": reason,
            "outcome": report.outcome,
            "time_flag": report.time_flag,
            "reason_missing": reason_missing(report),
        },
    )
    session.flush()
    return report


def _mark_done(session: Session, user: User, visit: Visit, report: VisitReport) -> None:
    """The visit counts with the times the aide recorded (unless the coordinator
    validated it herself: her times stand)."""
    if visit.status == "done" and visit.validation in ("review", "coordinator"):
        return
    if (
        visit.status == "done"
        and visit.actual_start == report.arrived_at
        and visit.actual_end == report.left_at
    ):
        return
    assert report.arrived_at is not None and report.left_at is not None
    hours.validate(session, user, visit, report.arrived_at, report.left_at, None, "report")


def coordinators(session: Session, team_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.team_id == team_id, User.role == Role.COORDINATOR, User.active.is_(True))
            .order_by(User.id)
        )
    )


def alert(session: Session, user: User, visit: Visit, report: VisitReport) -> Any | None:
    """An urgent SMS to the team's coordinator, once per visit and outcome (the key)."""
    for coordinator in coordinators(session, visit.team_id):
        contact = notify.contact_for_user(session, coordinator.id)
        if contact is None:
            continue
        report.alerted_at = report.alerted_at or clock.now()
        return notify.enqueue(
            session,
            key=f"homecare:alert:{visit.id}:{report.outcome}",
            contact=contact,
            category=ALERT_CATEGORY,
            template=ALERT_TEMPLATE,
            values={},
            urgent=True,
            actor=user,
        )
    return None


def report_id_for(visit_id: uuid.UUID, aide_id: int) -> uuid.UUID:
    """The report id the page's forms carry: one report per visit and aide, the same in
    a page kept offline and in one loaded again."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"terrain:homecare-report:{visit_id}:{aide_id}")


def reports_of(session: Session, user: User, visit_ids: list[uuid.UUID]) -> dict[str, VisitReport]:
    """The aide's reports of these visits, by visit id (text)."""
    if not visit_ids:
        return {}
    rows = session.scalars(
        select(VisitReport).where(
            VisitReport.aide_id == user.id, VisitReport.visit_id.in_(visit_ids)
        )
    )
    return {str(report.visit_id): report for report in rows}
