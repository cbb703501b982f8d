"""Planning runs: the optimiser as a background job.

A coordinator asks (`request_plan`, `request_replan`): a `PlanningRun` row is queued,
one active per team and week (a partial unique index). The scheduler's job
(homecare/jobs.py) claims queued runs with `FOR UPDATE SKIP LOCKED` on PostgreSQL and
runs them; a run plans and stores in ONE transaction with its own `done` status, so a
run killed half-way leaves the visits as they were and stays `running` until it is
stale (`STALE_AFTER`): then it is taken again, or marked failed after `MAX_ATTEMPTS`.

A re-plan around an absent aide stores a proposal (old aide/time → new) and changes
nothing; `accept_proposal` applies it in one transaction with the SMS of every aide
and household concerned (outbox keys `homecare:visit-changed:<visit>:<version>`): the
dispatcher sends them later, once each.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock, sync
from core.accounts import User
from core.errors import Conflict, FieldError, Invalid
from core.roles import Role
from core.routing import Job, Window, check, solve
from homecare import access, planning
from homecare.calendar import local_moment, monday_of
from homecare.generation import lock_team, record_week, stamp_visit
from homecare.models import Beneficiary, PlanningRun, Visit
from homecare.notices import AIDE_VISIT, AIDE_VISIT_REMOVED, SUBJECT, VISIT_CHANGED
from homecare.services import record_absence
from notifications import services as notify

log = logging.getLogger("terrain.homecare")

DEFAULT_SECONDS = 5  # the optimiser's time limit for a demo-sized week
STALE_AFTER = timedelta(minutes=5)  # a running run not done by then was killed
MAX_ATTEMPTS = 2
MAX_ABSENCE_DAYS = 14
URGENT_WITHIN = timedelta(hours=14)  # a change that close may not wait for 08:00

# --- Asking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    """A run as the board shows it."""

    id: int
    week: date
    kind: str
    status: str
    progress: int  # percent, estimated from the time limit while running
    result: dict[str, Any]
    requested_at: datetime
    accepted: bool


def view(run: PlanningRun) -> RunView:
    progress = run.progress
    if run.status == "running" and run.started_at is not None:
        elapsed = (clock.now() - clock.as_utc(run.started_at)).total_seconds()
        budget = max(1, run.seconds * (2 if run.kind == "replan" else 1))
        progress = max(progress, min(95, 10 + int(85 * elapsed / budget)))
    return RunView(
        run.id,
        run.week,
        run.kind,
        run.status,
        progress,
        dict(run.result or {}),
        clock.to_local(run.requested_at),
        run.accepted_at is not None,
    )


def latest_row(session: Session, team_id: int, week: date) -> PlanningRun | None:
    return session.scalar(
        select(PlanningRun)
        .where(PlanningRun.team_id == team_id, PlanningRun.week == week)
        .order_by(PlanningRun.requested_at.desc(), PlanningRun.id.desc())
        .limit(1)
    )


def latest(session: Session, team_id: int, week: date) -> RunView | None:
    row = latest_row(session, team_id, week)
    return view(row) if row is not None else None


def active(session: Session, team_id: int, week: date) -> PlanningRun | None:
    return session.scalar(
        select(PlanningRun).where(
            PlanningRun.team_id == team_id,
            PlanningRun.week == week,
            PlanningRun.status.in_(("queued", "running")),
        )
    )


def _queue(
    session: Session, user: User, team_id: int, week: date, kind: str, params: dict[str, Any]
) -> PlanningRun:
    """A new queued run, or the active one of the week (the database keeps one)."""
    found = active(session, team_id, week)
    if found is not None:
        return found
    run = PlanningRun(
        team_id=team_id,
        week=week,
        kind=kind,
        params=params,
        requested_by_id=user.id,
        status="queued",
        progress=0,
        seconds=DEFAULT_SECONDS,
        attempts=0,
        result={},
        requested_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        # Another coordinator asked at the same moment: hers is the week's run.
        found = active(session, team_id, week)
        if found is None:
            raise
        return found
    audit.record(
        session,
        actor=user,
        action="create",
        entity_type="homecare_planning_run",
        entity_id=run.id,
        details={"week": week.isoformat(), "kind": kind},
    )
    return run


def request_plan(session: Session, user: User, week: date) -> PlanningRun:
    """Queue the optimiser for the coordinator's team and week."""
    team_id = access.team_to_manage(user, user.team_id)
    return _queue(session, user, team_id, monday_of(week), "plan", {})


def request_replan(
    session: Session, user: User, aide_id: int | None, first_day: date | None, days: int | None
) -> PlanningRun:
    """The aide is away (ill) from `first_day` for `days` days: record the absence and
    queue a re-plan of her visits of each week it touches (proposals; nothing moves yet);
    returns the first week's run."""
    team_id = access.team_to_manage(user, user.team_id)
    errors: dict[str, FieldError] = {}
    if first_day is None:
        errors["first_day"] = FieldError("required")
    if days is None or not 1 <= days <= MAX_ABSENCE_DAYS:
        errors["days"] = FieldError("out_of_range", {"min": 1, "max": MAX_ABSENCE_DAYS})
    aide = session.get(User, aide_id) if aide_id is not None else None
    if aide is None or aide.team_id != team_id or aide.role != Role.AIDE:
        errors["aide_id"] = FieldError("unknown_user")
    if errors:
        raise Invalid(errors)
    assert first_day is not None and days is not None and aide_id is not None
    starts_at = local_moment(first_day, time(0))
    ends_at = local_moment(first_day + timedelta(days=days), time(0))
    weeks = range(
        monday_of(first_day).toordinal(),
        monday_of(first_day + timedelta(days=days - 1)).toordinal() + 1,
        7,
    )
    if any(active(session, team_id, date.fromordinal(week)) for week in weeks):
        raise Invalid({"week": FieldError("planning_under_way")})
    record_absence(session, user, aide_id, starts_at=starts_at, ends_at=ends_at, reason="illness")
    params = {
        "aide_id": aide_id,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
    }
    queued = [
        _queue(session, user, team_id, date.fromordinal(week), "replan", params) for week in weeks
    ]
    return queued[0]


def run_of(session: Session, user: User, run_id: int) -> RunView:
    return view(access.run_to_read(session, user, run_id))


# --- Running (the scheduler's job) -----------------------------------------------------


def claim(session: Session) -> PlanningRun | None:
    """Take the oldest queued run (or a stale running one) and mark it running; the
    caller commits. Runs past MAX_ATTEMPTS are marked failed on the way."""
    now = clock.now()
    query = (
        select(PlanningRun)
        .where(
            or_(
                PlanningRun.status == "queued",
                (PlanningRun.status == "running") & (PlanningRun.started_at < now - STALE_AFTER),
            )
        )
        .order_by(PlanningRun.requested_at, PlanningRun.id)
        .limit(5)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    for run in session.scalars(query):
        if run.attempts >= MAX_ATTEMPTS:
            run.status, run.finished_at = "failed", now
            run.result = {"error": "timeout"}
            continue
        run.status, run.started_at = "running", now
        run.attempts += 1
        run.progress = 10
        return run
    return None


def execute(session: Session, run: PlanningRun, *, seed: int = 1) -> None:
    """Carry out a claimed run; its result and the plan are flushed together (the caller
    commits both or neither)."""
    actor = session.get(User, run.requested_by_id) if run.requested_by_id else None
    if run.kind == "plan":
        result = planning.plan_week(
            session, run.team_id, run.week, seconds=run.seconds, seed=seed, actor=actor
        )
        if result.violations:
            run.status, run.result = "failed", {"error": "violations"}
        else:
            run.status = "done"
            run.result = {"planned": result.planned, "unassigned": len(result.unassigned)}
    else:
        run.result = propose(session, run, seed=seed)
        run.status = "failed" if "error" in run.result else "done"
    run.progress = 100
    run.finished_at = clock.now()
    session.flush()


def run_pending(
    session_factory: Callable[[], Session], *, stop: Callable[[], bool] = lambda: False
) -> dict[str, int]:
    """Claim and run queued runs until none is left (the job's body)."""
    counts = {"done": 0, "failed": 0}
    while not stop():
        with session_factory() as session:
            run = claim(session)
            session.commit()
            if run is None:
                return counts
            run_id = run.id
        with session_factory() as session:
            run = session.get(PlanningRun, run_id)
            assert run is not None
            try:
                execute(session, run)
                session.commit()
                counts[run.status] += 1
            except Exception as error:
                session.rollback()
                log.error("planning run %s failed: %s", run_id, type(error).__name__)
                with session_factory() as again:
                    failed = again.get(PlanningRun, run_id)
                    if failed is not None:
                        failed.status, failed.finished_at = "failed", clock.now()
                        failed.result = {"error": "crash"}
                        again.commit()
                counts["failed"] += 1
    return counts


# --- Re-planning around an absence -----------------------------------------------------


def _at(moment: str) -> datetime:
    return clock.as_utc(datetime.fromisoformat(moment))


def propose(session: Session, run: PlanningRun, *, seed: int = 1) -> dict[str, Any]:
    """The least disruptive new plan for the absent aide's visits: every other visit kept
    as it is (locked to its aide and minute), hers first at the same time by an aide the
    household knows, then anywhere in their window; the rest flagged with a reason."""
    aide_id = int(run.params["aide_id"])
    away_from, away_until = _at(run.params["starts_at"]), _at(run.params["ends_at"])
    lock_team(session, run.team_id)
    inputs = planning.week_inputs(session, run.team_id, run.week)
    affected = [
        v
        for v in inputs.visits
        if aide_id in (v.aide_id, v.second_aide_id)
        and v.planned_start is not None
        and away_from <= clock.as_utc(v.planned_start) < away_until
    ]
    if not affected:
        return {"aide_id": aide_id, "changes": []}
    workers = {w.id for w in inputs.workers}
    affected_ids = {str(v.id) for v in affected}
    # job → (visit, worker, minute): the unchanged plan, each aide of a transfer its half;
    # of an affected transfer, the partner's half stays and only the ill aide's moves.
    kept: dict[str, tuple[Visit, str, int]] = {}
    for visit in inputs.visits:
        if visit.planned_start is None:
            continue
        minute = inputs.minute(visit.planned_start)
        for half, aide in (("", visit.aide_id), (":2", visit.second_aide_id)):
            if aide is None or str(aide) not in workers:
                continue
            if str(visit.id) in affected_ids and aide == aide_id:
                continue
            job_id = str(visit.id) + (half if str(visit.id) not in affected_ids else ":partner")
            kept[job_id] = (visit, str(aide), minute)
    # Her half of a transfer must go to another aide than the partner, who keeps hers:
    # a token every aide but the partner holds (the locked half alone would not do it,
    # the solver may drop a locked job).
    partner_of = {
        str(v.id): str(v.second_aide_id if v.aide_id == aide_id else v.aide_id)
        for v in affected
        if (v.aides or 1) == 2 and None not in (v.aide_id, v.second_aide_id)
    }
    if partner_of:
        inputs.workers = [
            replace(
                w,
                skills=w.skills
                | {f"pair:{vid}" for vid, partner in partner_of.items() if partner != w.id},
            )
            for w in inputs.workers
        ]
    known = inputs.known()
    placed: dict[str, tuple[str, int]] = {}
    reasons: dict[str, str] = {}
    seconds = max(1.0, run.seconds / 2)
    for same_time in (True, False):
        jobs: list[Job] = []
        for job_id, (visit, worker, minute) in kept.items():
            job = inputs.job(visit, windows=(Window(minute, minute),), worker=worker, job_id=job_id)
            if job is not None:
                jobs.append(job)
        for job_id, (worker, minute) in placed.items():
            visit = next(v for v in affected if str(v.id) == job_id)
            job = inputs.job(visit, windows=(Window(minute, minute),), worker=worker)
            if job is not None:
                jobs.append(job)
        free = [v for v in affected if str(v.id) not in placed]
        for visit in free:
            minute = inputs.minute(visit.planned_start)  # type: ignore[arg-type]
            # Half a transfer keeps its minute: the partner arrives then.
            fixed = same_time or (visit.aides or 1) == 2
            job = inputs.job(
                visit,
                windows=(Window(minute, minute),) if fixed else None,
            )
            if job is not None and (visit.aides or 1) == 2:
                job = replace(job, aides=1, skills=job.skills | {f"pair:{visit.id}"})
            if job is None:
                reasons[str(visit.id)] = planning.NO_LOCATION
            else:
                jobs.append(job)
        if not free or not inputs.workers:
            break
        problem = inputs.problem(jobs, known, None)
        solution = solve(problem, seconds=seconds, seed=seed)
        if check(problem, solution):
            return {"error": "violations"}
        for route in solution.routes:
            for stop in route.stops:
                if stop.kind == "job" and stop.id in affected_ids and stop.id not in placed:
                    placed[stop.id] = (route.worker, math.ceil(stop.start))
        reasons.update(
            {left.id: left.reason.value for left in solution.unassigned if left.id in affected_ids}
        )
    households = {
        b.id: b.name
        for b in session.scalars(
            select(Beneficiary).where(Beneficiary.id.in_({v.beneficiary_id for v in affected}))
        )
    }
    changes = []
    for visit in affected:
        new = placed.get(str(visit.id))
        changes.append(
            {
                "visit": str(visit.id),
                "version": visit.version,
                "household": households.get(visit.beneficiary_id, ""),
                "old_aide": aide_id,
                # Which aide of a transfer was away: the other keeps her half.
                "slot": "second" if visit.second_aide_id == aide_id else "first",
                "old_start": clock.as_utc(visit.planned_start).isoformat(),  # type: ignore[arg-type]
                "new_aide": int(new[0]) if new else None,
                "new_start": (inputs.origin + timedelta(minutes=new[1])).isoformat()
                if new
                else None,
                "reason": None if new else reasons.get(str(visit.id), "no_room_in_plan"),
            }
        )
    return {"aide_id": aide_id, "changes": changes}


@dataclass(frozen=True)
class Change:
    """One line of a proposal as the board shows it."""

    visit_id: str
    household: str
    old_aide: str
    old_start: datetime  # local
    new_aide: str | None
    new_start: datetime | None
    reason: str | None


def proposal(session: Session, user: User, run_id: int) -> tuple[RunView, list[Change]]:
    """A re-plan's proposal in words (aides' names, local times)."""
    run = access.run_to_read(session, user, run_id)
    if run.kind != "replan":
        raise Invalid({"run_id": FieldError("unknown_run")})
    names = {
        u.id: u.display_name
        for u in session.scalars(select(User).where(User.team_id == run.team_id))
    }
    lines = [
        Change(
            c["visit"],
            c["household"],
            names.get(c["old_aide"], ""),
            clock.to_local(_at(c["old_start"])),
            names.get(c["new_aide"], "") if c["new_aide"] is not None else None,
            clock.to_local(_at(c["new_start"])) if c["new_start"] else None,
            c["reason"],
        )
        for c in (run.result or {}).get("changes", [])
    ]
    return view(run), lines


def _slot_aide(visit: Visit, change: dict[str, Any]) -> int | None:
    return visit.second_aide_id if change.get("slot") == "second" else visit.aide_id


def accept_proposal(session: Session, user: User, run_id: int) -> int:
    """Apply a re-plan's proposal and tell each aide and household concerned; a visit
    changed since the proposal raises Conflict and nothing is applied. Returns the number
    of SMS put in the outbox (blocked ones included: the outbox says why)."""
    run = access.run_to_read(session, user, run_id)
    if run.kind != "replan" or run.status != "done":
        raise Invalid({"run_id": FieldError("unknown_run")})
    if run.accepted_at is not None:
        raise Invalid({"run_id": FieldError("already_accepted")})
    changes = list((run.result or {}).get("changes", []))
    visits: list[tuple[Visit, dict[str, Any]]] = []
    for change in changes:
        visit = session.get(Visit, uuid.UUID(change["visit"]))
        if (
            visit is None
            or visit.version != change["version"]
            or _slot_aide(visit, change) != change["old_aide"]
            or visit.status != "planned"
        ):
            raise Conflict({"visit": change["visit"], "household": change["household"]})
        visits.append((visit, change))
    scope = sync.team_scope(run.team_id)
    sent = 0
    for visit, change in visits:
        if change["new_aide"] is None:
            visit.aide_id, visit.second_aide_id, visit.planned_start = None, None, None
            visit.unassigned_reason = change["reason"] or "no_room_in_plan"
        elif change.get("slot") == "second":
            visit.second_aide_id = change["new_aide"]
            visit.unassigned_reason = None
        else:
            visit.aide_id = change["new_aide"]
            visit.planned_start = _at(change["new_start"])
            visit.unassigned_reason = None
        stamp_visit(session, visit, scope, user)
        if visit.aide_id is not None:
            sent += tell(session, user, visit)
    run.accepted_at, run.accepted_by_id = clock.now(), user.id
    record_week(
        session,
        user,
        run.team_id,
        run.week,
        {"replan_accepted": run.id, "changes": len(changes)},
    )
    session.flush()
    return sent


def tell(session: Session, user: User | None, visit: Visit) -> int:
    """The SMS of a visit given to a new aide or time: to the household (its language,
    its consent) and to the aide; keyed by the visit's version, so never twice."""
    assert visit.aide_id is not None and visit.planned_start is not None
    start = clock.as_utc(visit.planned_start)
    urgent = start - clock.now() < URGENT_WITHIN
    aide = session.get(User, visit.aide_id)
    household = session.get(Beneficiary, visit.beneficiary_id)
    made = 0
    key = f"homecare:visit-changed:{visit.id}:{visit.version}"
    subject = f"{SUBJECT}:{visit.id}"
    if household is not None and household.contact_id is not None:
        contact = notify.get_contact(session, household.contact_id)
        if contact is not None:
            notify.enqueue(
                session,
                key=key,
                contact=contact,
                category="service_change",
                template=VISIT_CHANGED.code,
                values={
                    **notify.moment_values(start, contact.language),
                    # First name only: an SMS may be read by someone else at home.
                    "aide": (aide.display_name.split(" ")[0] if aide else ""),
                },
                subject=subject,
                urgent=urgent,
                valid_until=start,
                actor=user,
            )
            made += 1
    # Each aide (both of a transfer) by SMS to her staff contact.
    for aide_of, suffix in ((visit.aide_id, ":aide"), (visit.second_aide_id, ":aide2")):
        contact = notify.contact_for_user(session, aide_of) if aide_of is not None else None
        if contact is None or household is None:
            continue
        notify.enqueue(
            session,
            key=f"{key}{suffix}",
            contact=contact,
            category="service_change",
            template=AIDE_VISIT.code,
            values={
                **notify.moment_values(start, contact.language),
                "household": household.name,
                "address": household.address,
            },
            subject=subject,
            urgent=urgent,
            valid_until=start,
            actor=user,
        )
        made += 1
    return made


def tell_removed(
    session: Session, user: User | None, visit: Visit, aide_id: int, start: datetime
) -> int:
    """The SMS to the aide a visit was taken from (its former time `start`), keyed by the
    visit's new version like the others, so never twice."""
    contact = notify.contact_for_user(session, aide_id)
    household = session.get(Beneficiary, visit.beneficiary_id)
    start = clock.as_utc(start)
    if contact is None or household is None or start <= clock.now():
        return 0
    notify.enqueue(
        session,
        key=f"homecare:visit-changed:{visit.id}:{visit.version}:was-aide",
        contact=contact,
        category="service_change",
        template=AIDE_VISIT_REMOVED.code,
        values={**notify.moment_values(start, contact.language), "household": household.name},
        subject=f"{SUBJECT}:{visit.id}",
        urgent=start - clock.now() < URGENT_WITHIN,
        valid_until=start,
        actor=user,
    )
    return 1
