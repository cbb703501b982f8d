"""The coordinator's live day (issue 18): today's visits of her team by where they stand,
refreshing itself (an htmx fragment every 30 s while the tab is visible), the late SMS
to a household, and the review queue of unverified reports. Views parse, call one use
case of homecare/live.py (it ends the transaction), render."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import clock
from core.errors import Conflict, Invalid
from core.roles import Permission
from homecare import live
from web import db
from web.common import actor, field_errors, not_found
from web.homecare.board import SERVICE_LABELS, day_label
from web.homecare.hours import done_form
from web.permissions import requires
from web.rendering import render

bp = Blueprint("homecare_live", __name__, url_prefix="/aide-a-domicile")

STATE_LABELS = {
    "problem": _l("Problems"),
    "late": _l("Late"),
    "unverified": _l("To review"),
    "in_progress": _l("In progress"),
    "to_come": _l("To come"),
    "unassigned": _l("Without an aide"),
    "done": _l("Done"),
    "rejected": _l("Report rejected"),
}
OUTCOME_LABELS = {
    "normal": _l("Visit made"),
    "nobody_answered": _l("Nobody answered"),
    "refused": _l("Visit refused"),
    "hospital": _l("Household in hospital"),
    "incident": _l("Incident or danger"),
}
UNVERIFIED_LABELS = {
    "times_missing": _l("Arrival or departure missing"),
    "no_fix": _l("No GPS position"),
    "no_household_position": _l("The household has no coordinates"),
    "outside_radius": _l("Position too far from the household"),
    "not_hers": _l("Visit no longer hers (reassigned or cancelled while she was offline)"),
}
AIDE_REASON_LABELS = {
    "no_signal": _l("No signal"),
    "gps_refused": _l("GPS refused on the phone"),
    "other": _l("Other reason"),
}
REVIEW_LABELS = {
    "accepted": _l("Accepted"),
    "corrected": _l("Corrected"),
    "rejected": _l("Rejected"),
}


def hhmm(moment) -> str:
    """A moment as the Brussels wall-clock time (HH:MM)."""
    return f"{clock.to_local(moment):%H:%M}" if moment else ""


def _context() -> dict[str, Any]:
    return {
        "STATE_LABELS": STATE_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "UNVERIFIED_LABELS": UNVERIFIED_LABELS,
        "AIDE_REASON_LABELS": AIDE_REASON_LABELS,
        "REVIEW_LABELS": REVIEW_LABELS,
        "SERVICE_LABELS": SERVICE_LABELS,
        "day_label": day_label,
        "hhmm": hhmm,
    }


def _day_page(status: int = 200, **extra: Any):
    day = live.open_day(db.session(), actor())
    return render(
        "homecare/live/index.html",
        "homecare/live/_day.html",
        status=status,
        live_day=day,
        **extra,
        **_context(),
    )


@bp.get("/aujourdhui")
@requires(Permission.HOMECARE_PLAN)
def index():
    """The live day; an htmx request (the page's own polling) gets the fragment only."""
    try:
        return _day_page()
    except Invalid:
        return not_found()


@bp.post("/aujourdhui/visites/<uuid:visit_id>/retard")
@requires(Permission.HOMECARE_PLAN)
def tell_late(visit_id: uuid.UUID):
    session = db.session()
    try:
        notice = live.send_late_notice(session, actor(), visit_id)
    except Invalid as invalid:
        error = invalid.errors.get("visit_id")
        if error is None or error.code == "unknown_visit":
            return not_found()
        try:
            return _day_page(status=422, error=field_errors(invalid)["visit_id"])
        except Invalid:
            return not_found()
    when = hhmm(notice.message.not_before)
    if notice.sent:
        flash(
            _("The household will get the SMS: its aide is late (leaves at %(time)s).", time=when),
            "success",
        )
    else:
        flash(_("This household was already told its aide is late. No new SMS is sent."), "info")
    return redirect(url_for("homecare_live.index"))


# --- The review queue -------------------------------------------------------------------


@bp.get("/a-verifier")
@requires(Permission.HOMECARE_PLAN)
def queue():
    try:
        items = live.open_queue(db.session(), actor())
    except Invalid:
        return not_found()
    return render("homecare/live/queue.html", items=items, **_context())


def _report_page(report_id: uuid.UUID, *, status: int = 200, **extra: Any):
    item = live.open_report(db.session(), actor(), report_id)
    report, visit = item.report, item.visit
    start = report.arrived_at or visit.planned_start or visit.earliest_start
    end = report.left_at or start
    defaults = {
        "day": clock.to_local(start).date().isoformat(),
        "start": hhmm(start),
        "end": hhmm(end),
        "reason": "",
    }
    return render(
        "homecare/live/report.html",
        status=status,
        item=item,
        kept=extra.pop("kept", None) or defaults,
        errors=extra.pop("errors", {}),
        **extra,
        **_context(),
    )


@bp.get("/a-verifier/<uuid:report_id>")
@requires(Permission.HOMECARE_PLAN)
def report(report_id: uuid.UUID):
    try:
        return _report_page(report_id)
    except Invalid:
        return not_found()


@bp.post("/a-verifier/<uuid:report_id>")
@requires(Permission.HOMECARE_PLAN)
def save_review(report_id: uuid.UUID):
    session = db.session()
    form = request.form
    decision = form.get("decision", "")
    kept = {key: form.get(key, "") for key in ("day", "start", "end", "reason")}
    try:
        version = int(form.get("version", ""))
    except ValueError:
        version = -1
    times: dict[str, Any] = {}
    try:
        if decision == "corrected":
            values, errors = done_form(form)
            if errors:
                raise Invalid(errors)
            times = {"started_at": values["started_at"], "ended_at": values["ended_at"]}
        live.save_review(
            session, actor(), report_id, version, decision, reason=form.get("reason", ""), **times
        )
    except Conflict:
        try:
            return _report_page(report_id, status=409, conflict=True, kept=kept)
        except Invalid:
            return not_found()
    except Invalid as invalid:
        error = invalid.errors.get("report_id")
        if error is not None and error.code == "unknown_report":
            return not_found()
        try:
            return _report_page(report_id, status=422, errors=field_errors(invalid), kept=kept)
        except Invalid:
            return not_found()
    flash(
        {
            "accepted": _("Report accepted: the visit counts."),
            "corrected": _("Times corrected: the visit counts with them."),
            "rejected": _("Report rejected: the visit does not count."),
        }[decision],
        "success",
    )
    return redirect(url_for("homecare_live.queue"))
