"""The home-care planning board: the week by aide and day, generating and optimising it
(a background run with a progress fragment), changing one visit (form or drag, warnings
before saving, versions against silent overwrites), an aide falling ill (absence,
re-plan proposal, acceptance). Views parse, call one use case of homecare/board.py (it
ends the transaction), render."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from babel.dates import format_date
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import clock
from core.errors import Conflict, Invalid
from core.roles import Permission
from homecare import board, runs
from homecare.calendar import local_moment, monday_of
from web import db
from web.common import actor, field_errors, not_found
from web.permissions import requires
from web.rendering import render

bp = Blueprint("homecare_board", __name__, url_prefix="/aide-a-domicile")

SERVICE_LABELS = {
    "family_aide": _l("Family aide"),
    "home_help": _l("Home help"),
    "day_care": _l("Day sitting"),
    "night_care": _l("Night sitting"),
}
REASON_LABELS = {
    "no_worker_with_skills": _l("No aide available has the skills it needs."),
    "continuity_cap": _l("Only aides beyond the household's limit of different aides fit."),
    "over_capacity": _l("Over an aide's capacity."),
    "over_contract_hours": _l("Longer than what any aide's contract hours leave."),
    "window_unreachable": _l("No aide works during its time window."),
    "no_two_aides_at_once": _l("Needs two aides at once and fewer are available."),
    "no_room_in_plan": _l("Possible alone, but the aides' days are full."),
    "no_location": _l("The household has no coordinates yet."),
    "no_aide_available": _l("No aide works this week."),
}
RUN_STATUS_LABELS = {
    "queued": _l("waiting for the planner"),
    "running": _l("planning"),
    "done": _l("done"),
    "failed": _l("failed"),
}


def warning_text(warning: board.Warning) -> str:
    """A warning of a change as a sentence."""
    p = warning.params
    texts = {
        "overlap": _(
            "Overlaps her visit at %(household)s at %(time)s.",
            household=p.get("household", ""),
            time=p.get("time", ""),
        ),
        "missing_skill": _(
            "She lacks a skill this visit needs: %(skill)s.", skill=p.get("skill", "")
        ),
        "expired_skill": _(
            "Her qualification has expired for a skill this visit needs: %(skill)s.",
            skill=p.get("skill", ""),
        ),
        "over_contract": _(
            "She would work %(hours)s h this week, over her contract of %(contract)s h.",
            hours=p.get("hours", ""),
            contract=p.get("contract", ""),
        ),
        "travel_too_tight": _(
            "Travel too tight: %(needed)s min needed between two visits, %(gap)s min left.",
            needed=p.get("needed", ""),
            gap=p.get("gap", ""),
        ),
        "refused_aide": _("The household refused this aide."),
        "outside_window": _(
            "Outside the visit's window (start between %(earliest)s and %(latest)s).",
            earliest=p.get("earliest", ""),
            latest=p.get("latest", ""),
        ),
        "aide_absent": _("She is absent at that time."),
    }
    return texts.get(warning.code, warning.code)


def _week_arg(raw: str | None) -> date:
    day = clock.parse_day(raw) if raw else None
    return monday_of(day or clock.to_local(clock.now()).date())


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None  # type: ignore[arg-type]
    except ValueError:
        return None


def _start(day_raw: str | None, time_raw: str | None) -> datetime | None:
    day = clock.parse_day(day_raw) if day_raw else None
    try:
        moment = time.fromisoformat(time_raw or "") if time_raw else None
    except ValueError:
        moment = None
    return local_moment(day, moment) if day and moment else None


def day_label(day: date, pattern: str = "EEEE d MMMM") -> str:
    """A day as the page's language writes it."""
    return format_date(day, pattern, locale=get_locale())


def _context() -> dict[str, Any]:
    return {
        "day_label": day_label,
        "SERVICE_LABELS": SERVICE_LABELS,
        "REASON_LABELS": REASON_LABELS,
        "RUN_STATUS_LABELS": RUN_STATUS_LABELS,
        "warning_text": warning_text,
    }


def _back(week: date):
    return redirect(url_for("homecare_board.index", week=week.isoformat()))


# --- The week --------------------------------------------------------------------------


@bp.get("/planning")
@requires(Permission.HOMECARE_PLAN)
def index():
    session = db.session()
    try:
        week = board.open_week(session, actor(), _week_arg(request.args.get("week")))
    except Invalid:
        return not_found()
    return render(
        "homecare/board/index.html",
        board=week,
        prev_week=week.week - timedelta(days=7),
        next_week=week.week + timedelta(days=7),
        **_context(),
    )


@bp.post("/planning/generate")
@requires(Permission.HOMECARE_PLAN)
def generate():
    session = db.session()
    week = _week_arg(request.form.get("week"))
    try:
        made = board.generate_week(session, actor(), week)
    except Invalid:
        return not_found()
    flash(
        _(
            "Visits of the week: %(created)d new, %(updated)d updated, %(cancelled)d cancelled.",
            created=made.created,
            updated=made.updated,
            cancelled=made.cancelled,
        ),
        "success",
    )
    return _back(week)


@bp.post("/planning/optimise")
@requires(Permission.HOMECARE_PLAN)
def optimise():
    session = db.session()
    week = _week_arg(request.form.get("week"))
    try:
        board.plan_week(session, actor(), week)
    except Invalid:
        return not_found()
    flash(_("The planner is working on the week. The board updates when it is done."), "success")
    return _back(week)


@bp.get("/planning/runs/<int:run_id>")
@requires(Permission.HOMECARE_PLAN)
def progress(run_id: int):
    session = db.session()
    try:
        run = runs.run_of(session, actor(), run_id)
    except Invalid:
        return not_found()
    finished = run.status in ("done", "failed")
    body, status = render("homecare/board/_progress.html", run=run, **_context())
    headers = {"HX-Refresh": "true"} if finished and request.args.get("poll") else {}
    return body, status, headers


# --- One visit ---------------------------------------------------------------------------


def _change_page(visit_id: uuid.UUID, *, status: int = 200, **extra: Any):
    session = db.session()
    form = board.change_form(session, actor(), visit_id)
    values = {
        "aide_id": form.aide_id,
        "day": form.start.date().isoformat() if form.start else "",
        "time": form.start.strftime("%H:%M") if form.start else "",
    }
    values.update(extra.pop("values", {}))
    return render(
        "homecare/board/change.html",
        "homecare/board/_change_form.html",
        status=status,
        form=form,
        values=values,
        warnings=extra.pop("warnings", []),
        errors=extra.pop("errors", {}),
        **extra,
        **_context(),
    )


@bp.get("/planning/visits/<uuid:visit_id>")
@requires(Permission.HOMECARE_PLAN)
def change(visit_id: uuid.UUID):
    """The change form; with ?aide=&day=&time= (a drop on the board) it shows the
    warnings of that change at once."""
    session = db.session()
    aide_id = _int(request.args.get("aide"))
    values: dict[str, Any] = {}
    warnings: list[board.Warning] = []
    errors: dict[str, str] = {}
    try:
        if aide_id is not None:
            start = _start(request.args.get("day"), request.args.get("time"))
            values = {
                "aide_id": aide_id,
                "day": request.args.get("day", ""),
                "time": request.args.get("time", ""),
            }
            try:
                warnings = board.preview_change(
                    session, actor(), visit_id, aide_id=aide_id, start=start
                )
            except Invalid as invalid:
                if "visit_id" in invalid.errors:
                    raise
                errors = field_errors(invalid)
        return _change_page(visit_id, values=values, warnings=warnings, errors=errors)
    except Invalid:
        return not_found()


@bp.get("/planning/visits/<uuid:visit_id>/warnings")
@requires(Permission.HOMECARE_PLAN)
def warnings(visit_id: uuid.UUID):
    """The warnings fragment the form refreshes when the aide or the time changes."""
    session = db.session()
    try:
        found = board.preview_change(
            session,
            actor(),
            visit_id,
            aide_id=_int(request.args.get("aide_id")),
            start=_start(request.args.get("day"), request.args.get("time")),
        )
    except Invalid as invalid:
        if "visit_id" in invalid.errors:
            return not_found()
        return render("homecare/board/_warnings.html", warnings=[], errors=field_errors(invalid))
    return render("homecare/board/_warnings.html", warnings=found, errors={}, **_context())


@bp.post("/planning/visits/<uuid:visit_id>")
@requires(Permission.HOMECARE_PLAN)
def save_change(visit_id: uuid.UUID):
    session = db.session()
    values = {
        "aide_id": _int(request.form.get("aide_id")),
        "day": request.form.get("day", ""),
        "time": request.form.get("time", ""),
    }
    try:
        outcome = board.save_change(
            session,
            actor(),
            visit_id,
            aide_id=values["aide_id"],
            start=_start(values["day"], values["time"]),
            version=_int(request.form.get("version")),
            confirmed=request.form.get("confirmed") == "1",
        )
    except Conflict as conflict:
        try:
            return _change_page(visit_id, status=409, conflict=conflict.record)
        except Invalid:
            return not_found()
    except Invalid as invalid:
        if "visit_id" in invalid.errors and len(invalid.errors) == 1:
            try:
                return _change_page(visit_id, status=422, errors=field_errors(invalid))
            except Invalid:
                return not_found()
        return _change_page(visit_id, status=422, values=values, errors=field_errors(invalid))
    if not outcome.saved:
        return _change_page(visit_id, values=values, warnings=outcome.warnings, confirm=True)
    flash(_("The visit is changed."), "success")
    return _back(outcome.visit.day)


# --- An aide falls ill ----------------------------------------------------------------------


def _absence_page(status: int = 200, **extra: Any):
    session = db.session()
    aides = board.team_aides(session, actor())
    values = {"aide_id": None, "first_day": clock.to_local(clock.now()).date().isoformat()}
    values.update(extra.pop("values", {}))
    return render(
        "homecare/board/absence.html",
        status=status,
        aides=aides,
        values=values,
        errors=extra.pop("errors", {}),
    )


@bp.get("/planning/absence")
@requires(Permission.HOMECARE_PLAN)
def absence():
    try:
        return _absence_page(values={"days": 3})
    except Invalid:
        return not_found()


@bp.post("/planning/absence")
@requires(Permission.HOMECARE_PLAN)
def record_absence():
    session = db.session()
    values = {
        "aide_id": _int(request.form.get("aide_id")),
        "first_day": request.form.get("first_day", ""),
        "days": request.form.get("days", ""),
    }
    first_day = clock.parse_day(values["first_day"]) if values["first_day"] else None
    try:
        run = board.report_absence(
            session, actor(), values["aide_id"], first_day, _int(values["days"])
        )
    except Invalid as invalid:
        try:
            return _absence_page(status=422, values=values, errors=field_errors(invalid))
        except Invalid:
            return not_found()
    flash(
        _("The absence is recorded. The planner is looking for other aides; review its proposal."),
        "success",
    )
    return _back(run.week)


@bp.get("/planning/runs/<int:run_id>/proposal")
@requires(Permission.HOMECARE_PLAN)
def proposal(run_id: int):
    session = db.session()
    try:
        run, lines = runs.proposal(session, actor(), run_id)
    except Invalid:
        return not_found()
    return render("homecare/board/proposal.html", run=run, lines=lines, **_context())


@bp.post("/planning/runs/<int:run_id>/accept")
@requires(Permission.HOMECARE_PLAN)
def accept(run_id: int):
    session = db.session()
    try:
        sent = board.accept_replan(session, actor(), run_id)
    except Conflict as conflict:
        run, lines = runs.proposal(session, actor(), run_id)
        return render(
            "homecare/board/proposal.html",
            status=409,
            run=run,
            lines=lines,
            conflict=conflict.record,
            **_context(),
        )
    except Invalid as invalid:
        if "run_id" in invalid.errors and invalid.errors["run_id"].code == "unknown_run":
            return not_found()
        run, lines = runs.proposal(session, actor(), run_id)
        return render(
            "homecare/board/proposal.html",
            status=422,
            run=run,
            lines=lines,
            errors=field_errors(invalid),
            **_context(),
        )
    flash(
        _(
            "The new plan is saved. %(count)d SMS are in the outbox for the aides and "
            "households concerned.",
            count=sent,
        ),
        "success",
    )
    return _back(runs.run_of(session, actor(), run_id).week)
