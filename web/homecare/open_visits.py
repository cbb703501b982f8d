"""Open visits and timesheets (issue 18).

The coordinator offers an uncovered visit from the board to the aides who could take it
(`/aide-a-domicile/planning/visits/<id>/offre`), and withdraws the offer. The aide sees
the offers on "Ma journée" and takes one (the sync op `homecare.visit.accept_offer`,
posted here without JavaScript; the first to accept gets it). The aide reads her week's
or month's timesheet and signs it with her password; the coordinator sees who signed."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from core import clock, sync
from core.errors import Invalid
from core.roles import Permission, Role
from homecare import offers, timesheets
from web import db
from web.common import actor, field_errors, not_found
from web.homecare.board import SERVICE_LABELS
from web.homecare.hours import _month, _month_label, _month_options, sheet_state_label
from web.permissions import requires
from web.rendering import render
from web.validation import message

bp = Blueprint("homecare_open", __name__, url_prefix="/aide-a-domicile")


def reason_labels() -> dict[str, str]:
    """Why an aide cannot take an offered visit (the board's warnings that exclude)."""
    return {
        "overlap": _("Another visit at that time"),
        "missing_skill": _("Lacks a skill the visit needs"),
        "expired_skill": _("A skill the visit needs has expired"),
        "aide_absent": _("Away at that time"),
        "travel_too_tight": _("Not enough time to travel between her visits"),
        "refused_aide": _("The household asked not to have her"),
    }


def _context() -> dict[str, Any]:
    return {
        "reason_labels": reason_labels(),
        "SERVICE_LABELS": SERVICE_LABELS,
        "sheet_state_label": sheet_state_label,
        "day_label": lambda day: format_date(day, "EEEE d MMMM"),
    }


# --- The coordinator offers an uncovered visit ---------------------------------------------


def _offer_page(visit_id: uuid.UUID, *, status: int = 200, errors: dict[str, str] | None = None):
    try:
        page = offers.open_page(db.session(), actor(), visit_id)
    except Invalid:
        return not_found()
    return render(
        "homecare/open/offer.html",
        status=status,
        page=page,
        errors=errors or {},
        problem_text=message({"code": page.problem}) if page.problem else "",
        **_context(),
    )


@bp.get("/planning/visits/<uuid:visit_id>/offre")
@requires(Permission.HOMECARE_PLAN)
def offer(visit_id: uuid.UUID):
    return _offer_page(visit_id)


def _ints(values: list[str]) -> list[int]:
    found = []
    for value in values:
        try:
            found.append(int(value))
        except ValueError:
            found.append(-1)  # refused as an aide not available
    return found


@bp.post("/planning/visits/<uuid:visit_id>/offre")
@requires(Permission.HOMECARE_PLAN)
def make_offer(visit_id: uuid.UUID):
    try:
        made = offers.make_offer(
            db.session(), actor(), visit_id, _ints(request.form.getlist("aide_ids"))
        )
    except Invalid as invalid:
        if set(invalid.errors) == {"visit_id"} and invalid.errors["visit_id"].code == (
            "unknown_visit"
        ):
            return not_found()
        return _offer_page(visit_id, status=422, errors=field_errors(invalid))
    flash(_("The visit is offered. The first aide to accept it gets it."), "success")
    return redirect(url_for("homecare_open.offer", visit_id=made.visit_id))


@bp.post("/planning/offres/<uuid:offer_id>/retirer")
@requires(Permission.HOMECARE_PLAN)
def withdraw(offer_id: uuid.UUID):
    try:
        taken_back = offers.withdraw_offer(db.session(), actor(), offer_id)
    except Invalid as invalid:
        error = invalid.errors.get("offer_id")
        if error is None or error.code == "unknown_offer":
            return not_found()
        flash(message(error), "error")  # taken meanwhile: the page shows by whom
        visit_id = request.form.get("visit_id", "")
        try:
            return redirect(url_for("homecare_open.offer", visit_id=uuid.UUID(visit_id)))
        except ValueError:
            return redirect(url_for("homecare_board.index"))
    flash(_("The offer is withdrawn."), "success")
    return redirect(url_for("homecare_open.offer", visit_id=taken_back.visit_id))


# --- The aide takes an offer (without JavaScript: the same op as her outbox sends) ------------


@bp.post("/ma-journee/offres/<uuid:offer_id>/accepter")
@requires(Permission.HOMECARE_VISITS)
def accept(offer_id: uuid.UUID):
    user = actor()
    if user.role != Role.AIDE:
        return not_found()
    try:
        op_id = uuid.UUID(request.form.get("op_id", ""))
    except ValueError:
        op_id = uuid.uuid4()
    op = sync.Op(op_id, "homecare.visit.accept_offer", {"offer_id": str(offer_id)}, None, None)
    answer = sync.apply_op(db.session(), user, op)
    if answer["status"] == "rejected":
        errors = answer.get("errors") or {}
        error = errors.get("offer_id") or next(iter(errors.values()), {"code": "unknown_offer"})
        flash(message(error), "error")
    elif answer["status"] == "applied" or answer.get("original_status") == "applied":
        flash(_("The visit is yours. It is now in your day."), "success")
    return redirect(url_for("homecare_day.index"))


# --- Timesheets ------------------------------------------------------------------------------


def _day_arg(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _sheet_page(*, status: int = 200, errors: dict[str, str] | None = None):
    user = actor()
    period = request.values.get("period", "week")
    if period not in ("week", "month"):
        period = "week"
    day = _day_arg(request.values.get("day"))
    sheet = timesheets.open_sheet(db.session(), user, period, day)
    today = clock.to_local(clock.now()).date()
    earlier = sheet.first_day - timedelta(days=1)
    later = sheet.last_day + timedelta(days=1)
    return render(
        "homecare/open/timesheet.html",
        status=status,
        sheet=sheet,
        period=period,
        earlier=earlier.isoformat(),
        later=later.isoformat() if later <= today else None,
        can_sign=sheet.first_day <= today and sheet.visits > 0 and sheet.state != "signed",
        errors=errors or {},
        **_context(),
    )


@bp.get("/ma-feuille-d-heures")
@requires(Permission.HOMECARE_VISITS)
def timesheet():
    if actor().role != Role.AIDE:
        return not_found()
    return _sheet_page()


@bp.post("/ma-feuille-d-heures/signer")
@requires(Permission.HOMECARE_VISITS)
def sign():
    user = actor()
    if user.role != Role.AIDE:
        return not_found()
    try:
        timesheets.sign_sheet(
            db.session(),
            user,
            request.form.get("period"),
            _day_arg(request.form.get("day")),
            lines_hash=request.form.get("lines_hash", ""),
            password=request.form.get("password", ""),
            secret=current_app.config["SECRET_KEY"],
        )
    except Invalid as invalid:
        return _sheet_page(status=422, errors=field_errors(invalid))
    flash(_("Your timesheet is signed."), "success")
    return redirect(
        url_for(
            "homecare_open.timesheet",
            period=request.form.get("period"),
            day=request.form.get("day") or None,
        )
    )


@bp.get("/heures/feuilles")
@requires(Permission.HOMECARE_HOURS)
def signatures():
    month, errors = _month()
    try:
        lines = timesheets.team_signatures(db.session(), actor(), month)
    except Invalid:
        return not_found()
    return render(
        "homecare/open/signatures.html",
        lines=lines,
        month=month,
        month_label=_month_label(month),
        month_options=_month_options(month),
        kept={"month": f"{month:%Y-%m}"},
        errors=errors,
        **_context(),
    )
