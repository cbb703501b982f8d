"""The aide's day, at /aide-a-domicile/ma-journee: her visits of today and the next 2
days in order, with what she needs at each door, and one tap to arrive, one to leave,
a short report (issue 18). Only an aide. The records are those her phone's feed holds
(homecare/sync.py); the taps are the sync ops homecare.visit.*, saved in the phone's
outbox when offline (static/js/homecare/offline.js) and posted here without JavaScript,
applied exactly once either way (the op id comes from the form)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, make_response, redirect, request, url_for

from core import audit, clock, sync
from core.roles import Permission, Role
from homecare import offers as open_visits
from homecare import reports
from homecare import sync as homecare_sync
from web import db
from web.common import actor, not_found
from web.homecare.board import SERVICE_LABELS, day_label
from web.homecare.offline import aide_reason_labels, outcome_labels, variance_labels
from web.permissions import requires
from web.rendering import render

bp = Blueprint("homecare_day", __name__, url_prefix="/aide-a-domicile")
STEPS = ("checkin", "checkout", "report")
# The camera for this page only (scanning the household's card); every other page keeps
# web/rendering.py's camera=().
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(self)"


def _local(value: str | None) -> datetime | None:
    return clock.to_local(datetime.fromisoformat(value)) if value else None


def _hhmm(value: datetime | None) -> str:
    return clock.to_local(value).strftime("%H:%M") if value else ""


@bp.get("/ma-journee")
@requires(Permission.HOMECARE_VISITS)
def index() -> Any:
    user = actor()
    if user.role != Role.AIDE:
        return not_found()
    session = db.session()
    entries = homecare_sync.day_of(session, user)
    if entries:
        # Households' files read: logged as any read of a personal file.
        audit.record(
            session,
            actor=user,
            action="read",
            entity_type="homecare_visit",
            entity_id=user.id,
            details={"day_page": len(entries)},
        )
        session.commit()
    made = reports.reports_of(session, user, [uuid.UUID(visit["id"]) for visit, _ in entries])
    days: dict[str, list[dict[str, Any]]] = {}
    for visit, household in entries:
        start = _local(visit["planned_start"]) or _local(visit["earliest_start"])
        assert start is not None
        report = made.get(visit["id"])
        days.setdefault(visit["day"], []).append(
            {
                "visit": visit,
                "household": household,
                "start": start.strftime("%H:%M"),
                "latest": (_local(visit["latest_start"]) or start).strftime("%H:%M"),
                "report_id": str(reports.report_id_for(uuid.UUID(visit["id"]), user.id)),
                "report": report,
                "arrived": _hhmm(report.arrived_at) if report else "",
                "left": _hhmm(report.left_at) if report else "",
            }
        )
    response = make_response(
        render(
            "homecare/day/index.html",
            days=days,
            # The QR decoder is kept offline with the page when a visit asks for a code.
            needs_decoder=any(
                item["visit"]["proof"]["mode"] == "code"
                for items in days.values()
                for item in items
            ),
            outcomes=outcome_labels(),
            aide_reasons=aide_reason_labels(),
            variance_reasons=variance_labels(),
            new_op_id=lambda: str(uuid.uuid4()),
            refused=request.args.get("refused") is not None,
            # When it was drawn (the phone compares it with its own clock's time of its
            # last download, then redraws the list from its records).
            drawn_at=int(clock.now().timestamp() * 1000),
            service_labels={code: str(label) for code, label in SERVICE_LABELS.items()},
            **_offers_context(session, user),
        )
    )
    response.headers["Permissions-Policy"] = PERMISSIONS_POLICY
    # An offline view: the service worker keeps it for this aide (templates/pwa/sw.js).
    response.headers["X-Terrain-Offline"] = "page"
    return response


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _offers_context(session: Any, user: Any) -> dict[str, Any]:
    """The open visits offered to her (templates/homecare/day/_offers.html)."""

    def start(offer: dict[str, Any]) -> datetime:
        moment = _local(offer["start"])
        assert moment is not None
        return moment

    return {
        "offers": open_visits.offers_for(session, user),
        "offer_day": lambda offer: day_label(start(offer).date()),
        "offer_time": lambda offer: start(offer).strftime("%H:%M"),
        "offer_service": lambda offer: SERVICE_LABELS.get(offer["service"], offer["service"]),
    }


@bp.post("/ma-journee/<step>")
@requires(Permission.HOMECARE_VISITS)
def step(step: str) -> Any:
    """A tap without JavaScript: the same op as the phone's outbox sends."""
    user = actor()
    if user.role != Role.AIDE:
        return not_found()
    if step not in STEPS:
        abort(404)
    form = request.form
    data: dict[str, Any] = {"id": form.get("id", ""), "visit_id": form.get("visit_id", "")}
    if step == "report":
        data["outcome"] = form.get("outcome", "normal")
        data["note"] = form.get("note", "")
        data["tasks_done"] = form.getlist("tasks_done")
        for name in ("unverified_reason", "variance_reason", "proof_code"):
            if form.get(name):
                data[name] = form.get(name)
        data["variance_note"] = form.get("variance_note", "")
    else:
        data["at"] = form.get("at") or clock.now().isoformat()
        if form.get("code"):
            data["code"] = form.get("code")
        latitude, longitude = _number(form.get("latitude")), _number(form.get("longitude"))
        if latitude is not None and longitude is not None:
            data["latitude"], data["longitude"] = latitude, longitude
    try:
        op_id = uuid.UUID(form.get("op_id", ""))
    except ValueError:
        op_id = uuid.uuid4()
    op = sync.Op(op_id, f"homecare.visit.{step}", data, None, None)
    answer = sync.apply_op(db.session(), user, op)
    if answer["status"] == "rejected":
        return redirect(url_for("homecare_day.index", refused=1))
    return redirect(url_for("homecare_day.index"))
