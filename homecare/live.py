"""The coordinator's live day (issue 18): today's visits of her team and where each
stands, the SMS telling a household its aide is late, and the review of the reports her
aides' phones could not verify.

Where a visit stands (`state_of`), judged at `clock.now()`:

- `problem`: the aide reported nobody answered, a refusal, the household in hospital
  or an incident (the alert of homecare/reports.py, the household's phones and
  emergency contact shown with it);
- `done`: validated (homecare/hours.py: it counts);
- `rejected`: an unverified report the coordinator rejected (it does not count);
- `unverified`: a report whose proof failed or is missing, waiting for review;
- `in_progress`: the aide arrived (and has not sent her report yet);
- `late`: nobody arrived `LATE_AFTER` (15 min) after the expected start (the planned
  start, or the window's opening when none);
- `to_come`, and `unassigned` (no aide).

"Today" is the Brussels day: its visits, and last night's running past midnight (a
21:00-07:00 night watch is on both days' pages). Every moment is UTC, placed on the Brussels day
by homecare/calendar.py, so a clock change needs no special case.

Scope: the coordinator of the visit's home-care team, no one else; another team's
visit or report answers exactly like an unknown one (`unknown_visit`, `unknown_report`).
The last section holds the pages' use cases, each ending its transaction.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock, sync
from core.accounts import User
from core.db import committed
from core.errors import Conflict, FieldError, Invalid
from homecare import access, hours
from homecare.calendar import local_moment
from homecare.models import (
    REVIEW_REASON_MAX,
    REVIEWS,
    Beneficiary,
    CarePlan,
    Visit,
    VisitReport,
)
from notifications import services as notify

LATE_AFTER = timedelta(minutes=15)
STATES = (
    "problem",
    "late",
    "unverified",
    "in_progress",
    "to_come",
    "unassigned",
    "done",
    "rejected",
)
LATE_TEMPLATE = "homecare_visit_late"
LATE_CATEGORY = "service_change"
# No name, no time: an SMS may be read by someone else at home.
LATE_KIND = notify.TemplateKind(
    code=LATE_TEMPLATE,
    category=LATE_CATEGORY,
    placeholders=(),
    defaults={
        "fr": (
            "CPAS aide à domicile: votre aide aura du retard aujourd'hui. "
            "Elle arrive dès que possible."
        ),
        "nl": (
            "OCMW thuishulp: uw gezinszorger zal vandaag wat later zijn. Ze komt zo snel mogelijk."
        ),
        "en": "CPAS home care: your aide will be late today. She is coming as soon as she can.",
    },
)


def late_key(visit_id: uuid.UUID) -> str:
    """The outbox key of a visit's late SMS: one per visit, the database's unique key."""
    return f"homecare:late:{visit_id}"


def expected_start(visit: Visit) -> datetime:
    """When the aide is expected: the planned start, else the window's opening."""
    return clock.as_utc(visit.planned_start or visit.earliest_start)


def expected_end(visit: Visit) -> datetime:
    return expected_start(visit) + timedelta(minutes=visit.duration_minutes)


def state_of(visit: Visit, reports: list[VisitReport], now: datetime) -> str:
    """Where the visit stands at `now` (see the module's docstring)."""
    sent = [report for report in reports if report.submitted]
    if any(report.outcome != "normal" for report in sent):
        return "problem"
    if visit.status == "done":
        return "done"
    if visit.aide_id is None:
        return "unassigned"
    if sent:
        return "rejected" if all(r.review == "rejected" for r in sent) else "unverified"
    if any(report.arrived_at is not None for report in reports):
        return "in_progress"
    if now >= expected_start(visit) + LATE_AFTER:
        return "late"
    return "to_come"


@dataclass(frozen=True)
class LiveVisit:
    """One visit of the live day, with what the coordinator needs to act on it."""

    visit: Visit
    state: str
    household: Beneficiary
    service: str
    aide: str
    second_aide: str
    expected: datetime  # UTC
    ends: datetime
    reports: list[VisitReport]
    phones: list[str]  # the household's (late, problem)
    late_sms: notify.MessageState | None  # the household told its aide is late

    @property
    def late_minutes(self) -> int:
        return max(int((clock.now() - self.expected).total_seconds() // 60), 0)

    @property
    def problem(self) -> VisitReport | None:
        return next((r for r in self.reports if r.submitted and r.outcome != "normal"), None)

    @property
    def arrived_at(self) -> datetime | None:
        return min((r.arrived_at for r in self.reports if r.arrived_at), default=None)


@dataclass
class LiveDay:
    day: date
    now: datetime
    visits: list[LiveVisit]
    counts: Counter[str] = field(default_factory=Counter)
    to_review: int = 0  # unverified reports waiting for review, all days

    def of(self, state: str) -> list[LiveVisit]:
        return [item for item in self.visits if item.state == state]


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        user.id: user.display_name for user in session.scalars(select(User).where(User.id.in_(ids)))
    }


def _phones(session: Session, household: Beneficiary) -> list[str]:
    if household.contact_id is None:
        return []
    contact = notify.get_contact(session, household.contact_id)
    return [phone.e164 for phone in contact.phones] if contact is not None else []


def pending_filter(team_id: int):
    """The reports waiting for the coordinator's review (a normal visit, unverified)."""
    return (
        VisitReport.team_id == team_id,
        VisitReport.submitted.is_(True),
        VisitReport.verified.is_(False),
        VisitReport.outcome == "normal",
        VisitReport.review.is_(None),
    )


def live_day(session: Session, user: User) -> LiveDay:
    """Today's visits of the team `user` coordinates, each with where it stands
    (Invalid `unknown_team` for anybody else)."""
    team_id = access.team_to_manage(user, user.team_id)
    now = clock.now()
    today = clock.to_local(now).date()
    midnight = local_moment(today, time(0))
    rows = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.team_id == team_id,
                Visit.status != "cancelled",
                Visit.day.in_((today - timedelta(days=1), today)),
            )
            .order_by(Visit.day, Visit.earliest_start, Visit.id)
        )
    )
    # Yesterday's only when it runs past midnight (a night watch is on both days).
    visits = [
        visit
        for visit in rows
        if visit.day == today
        or max(expected_end(visit), clock.as_utc(visit.actual_end or midnight)) > midnight
    ]
    ids = [visit.id for visit in visits]
    reports: dict[uuid.UUID, list[VisitReport]] = {visit_id: [] for visit_id in ids}
    if ids:
        for report in session.scalars(
            select(VisitReport).where(VisitReport.visit_id.in_(ids)).order_by(VisitReport.id)
        ):
            reports[report.visit_id].append(report)
    plans = {visit.plan_id for visit in visits}
    services: dict[uuid.UUID, str] = {}
    if plans:
        rows_of = session.execute(
            select(CarePlan.id, CarePlan.service).where(CarePlan.id.in_(plans))
        )
        services = {plan_id: service for plan_id, service in rows_of}
    names = _names(
        session,
        {visit.aide_id for visit in visits if visit.aide_id}
        | {visit.second_aide_id for visit in visits if visit.second_aide_id},
    )
    items = []
    for visit in visits:
        household = session.get(Beneficiary, visit.beneficiary_id)
        assert household is not None
        state = state_of(visit, reports[visit.id], now)
        items.append(
            LiveVisit(
                visit=visit,
                state=state,
                household=household,
                service=services.get(visit.plan_id, ""),
                aide=names.get(visit.aide_id, "") if visit.aide_id else "",
                second_aide=names.get(visit.second_aide_id, "") if visit.second_aide_id else "",
                expected=expected_start(visit),
                ends=expected_end(visit),
                reports=reports[visit.id],
                phones=_phones(session, household) if state in ("late", "problem") else [],
                late_sms=(
                    notify.message_state(session, late_key(visit.id))
                    if state in ("late", "in_progress", "done", "unverified", "problem")
                    else None
                ),
            )
        )
    items.sort(key=lambda item: (STATES.index(item.state), item.expected))
    waiting = len(list(session.scalars(select(VisitReport.id).where(*pending_filter(team_id)))))
    return LiveDay(
        day=today,
        now=now,
        visits=items,
        counts=Counter(item.state for item in items),
        to_review=waiting,
    )


# --- The late SMS -----------------------------------------------------------------------


@dataclass(frozen=True)
class LateNotice:
    sent: bool  # False: it had been sent before (a second click)
    message: notify.MessageState


def tell_late(session: Session, user: User, visit_id: uuid.UUID | None) -> LateNotice:
    """The household told by SMS that its aide will be late, in its language, with its
    consent for service changes, once per visit (the outbox's unique key; the visit's
    row is locked so two clicks wait for each other and the second says "already").
    Quiet hours are the outbox's category rules for `service_change` (an urgent message
    may leave during them when the CPAS allows it); the SMS is worthless once the visit
    should be over (`valid_until`)."""
    query = select(Visit).where(Visit.id == visit_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    visit = session.scalar(query) if visit_id else None
    if visit is None or not access.coordinates(user, visit.team_id):
        raise Invalid({"visit_id": FieldError("unknown_visit")})
    key = late_key(visit.id)
    before = notify.message_state(session, key)
    if before is not None:
        return LateNotice(sent=False, message=before)
    reports = list(session.scalars(select(VisitReport).where(VisitReport.visit_id == visit.id)))
    if state_of(visit, reports, clock.now()) != "late":
        raise Invalid({"visit_id": FieldError("visit_not_late")})
    household = session.get(Beneficiary, visit.beneficiary_id)
    contact = (
        notify.get_contact(session, household.contact_id)
        if household is not None and household.contact_id is not None
        else None
    )
    if contact is None:
        raise Invalid({"visit_id": FieldError("household_no_mobile")})
    reach = notify.reachability(session, contact, LATE_CATEGORY)
    if not reach.ok:
        code = "household_no_consent" if reach.reason in ("no_consent", "withdrawn") else None
        raise Invalid({"visit_id": FieldError(code or "household_no_mobile")})
    notify.enqueue(
        session,
        key=key,
        contact=contact,
        category=LATE_CATEGORY,
        template=LATE_TEMPLATE,
        values={},
        urgent=True,
        valid_until=max(expected_end(visit), clock.now() + LATE_AFTER),
        actor=user,
    )
    audit.record(
        session,
        actor=user,
        action="update",
        entity_type="homecare_visit",
        entity_id=visit.id,
        details={"sms": "late"},
    )
    session.flush()
    state = notify.message_state(session, key)
    assert state is not None
    return LateNotice(sent=True, message=state)


# --- The review of unverified reports ---------------------------------------------------


@dataclass(frozen=True)
class ReviewItem:
    report: VisitReport
    visit: Visit
    household: str
    aide: str
    service: str


def _item(session: Session, report: VisitReport, names: dict[int, str]) -> ReviewItem:
    visit = session.get(Visit, report.visit_id)
    assert visit is not None
    household = session.get(Beneficiary, visit.beneficiary_id)
    service = session.scalar(select(CarePlan.service).where(CarePlan.id == visit.plan_id))
    return ReviewItem(
        report,
        visit,
        household.name if household else "",
        names.get(report.aide_id, ""),
        service or "",
    )


def review_queue(session: Session, user: User) -> list[ReviewItem]:
    """The unverified reports of her team waiting for review, oldest first."""
    team_id = access.team_to_manage(user, user.team_id)
    reports = list(
        session.scalars(
            select(VisitReport)
            .where(*pending_filter(team_id))
            .order_by(VisitReport.arrived_at, VisitReport.id)
            .limit(200)
        )
    )
    names = _names(session, {report.aide_id for report in reports})
    return [_item(session, report, names) for report in reports]


def report_to_review(session: Session, user: User, report_id: uuid.UUID | None) -> ReviewItem:
    """One report of her team (any review state); Invalid `unknown_report` alike when
    unknown or another team's."""
    report = session.get(VisitReport, report_id) if report_id else None
    if report is None or not access.coordinates(user, report.team_id):
        raise Invalid({"report_id": FieldError("unknown_report")})
    return _item(session, report, _names(session, {report.aide_id}))


def review(
    session: Session,
    user: User,
    report_id: uuid.UUID | None,
    version: int | None,
    decision: str,
    *,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    reason: str = "",
) -> ReviewItem:
    """Accept, correct (other real times) or reject (a reason) an unverified report.
    Accepted or corrected, the visit is validated (it counts: homecare/hours.py) with the
    report's or the corrected times; rejected, it does not count. The aide's times stay
    on her report as she sent them. A `version` other than the report's is a Conflict
    (the form was stale); a report already reviewed, verified or not sent is Invalid."""
    item = report_to_review(session, user, report_id)
    report, visit = item.report, item.visit
    if version != report.version:
        raise Conflict({"id": str(report.id), "version": report.version, "review": report.review})
    errors: dict[str, FieldError] = {}
    if decision not in REVIEWS:
        raise Invalid({"decision": FieldError("unknown_choice")})
    if not report.submitted or report.verified or report.outcome != "normal":
        raise Invalid({"report_id": FieldError("report_not_to_review")})
    if report.review is not None:
        raise Invalid({"report_id": FieldError("already_reviewed")})
    reason = (reason or "").strip()
    if len(reason) > REVIEW_REASON_MAX:
        errors["reason"] = FieldError("too_long", {"max": REVIEW_REASON_MAX})
    if decision == "rejected" and not reason:
        errors["reason"] = FieldError("required")
    if decision == "accepted":
        started_at, ended_at = report.arrived_at, report.left_at
        if started_at is None or ended_at is None:
            errors["decision"] = FieldError("times_missing_correct")
    if decision in ("accepted", "corrected"):
        found = hours.check_times(visit, started_at, ended_at)
        if decision == "accepted" and "decision" in errors:
            found = {}
        errors.update(found)
    if errors:
        raise Invalid(errors)
    fields = ["review", "reviewed_by_id", "reviewed_at"]
    if reason:
        fields.append("review_reason")
    report.review = decision
    report.review_reason = reason or None
    report.reviewed_by_id, report.reviewed_at = user.id, clock.now()
    sync.stamp(session, report, sync.team_scope(report.team_id), user, None)
    audit.record_change(
        session,
        user,
        "homecare_visit_report",
        report.id,
        fields,
        review=decision,
        visit=str(visit.id),
    )
    if decision != "rejected":
        assert started_at is not None and ended_at is not None
        hours.validate(session, user, visit, started_at, ended_at, None, "review")
        audit.record_change(
            session,
            user,
            "homecare_visit",
            visit.id,
            ["status", "validation", "actual_start", "actual_end"],
            review=decision,
        )
    session.flush()
    return item


# --- The pages' use cases: each ends its transaction ----------------------------------


def open_day(session: Session, user: User) -> LiveDay:
    """The live day (`live_day`), the transaction ended."""
    return committed(session, lambda: live_day(session, user))


def send_late_notice(session: Session, user: User, visit_id: uuid.UUID | None) -> LateNotice:
    """`tell_late`, committed (the SMS row with it)."""
    return committed(session, lambda: tell_late(session, user, visit_id))


def open_queue(session: Session, user: User) -> list[ReviewItem]:
    return committed(session, lambda: review_queue(session, user))


def open_report(session: Session, user: User, report_id: uuid.UUID | None) -> ReviewItem:
    return committed(session, lambda: report_to_review(session, user, report_id))


def save_review(
    session: Session,
    user: User,
    report_id: uuid.UUID | None,
    version: int | None,
    decision: str,
    *,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    reason: str = "",
) -> ReviewItem:
    """`review`, committed (Invalid, Conflict: rolled back, raised)."""
    return committed(
        session,
        lambda: review(
            session,
            user,
            report_id,
            version,
            decision,
            started_at=started_at,
            ended_at=ended_at,
            reason=reason,
        ),
    )
