"""Street outreach pages: recent encounters, record an encounter, change one.

The forms work offline: static/js/offline.js saves them as ops in the phone's outbox
and sends them through /api/sync. Without JavaScript they post here, and the view
sends the very same op through the same engine (so a double tap is applied once).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, clock, sync
from core.ids import parse_uuid, uuid7
from core.roles import Permission
from outreach import services
from web import db
from web.outreach_labels import CHOICES, LABELS
from web.permissions import requires
from web.rendering import render
from web.validation import message

bp = Blueprint("outreach", __name__, url_prefix="/outreach")

MULTIPLE = ("needs", "given")


def _team_id() -> int:
    if current_user.team_id is None:
        abort(403)
    return current_user.team_id


def _form_data() -> dict[str, Any]:
    """The posted form as an op's data (the same shape offline.js sends)."""
    data: dict[str, Any] = {}
    for name in request.form:
        if name in ("csrf_token", "op_id", "base_version"):
            continue
        data[name] = request.form.getlist(name) if name in MULTIPLE else request.form.get(name)
    for name in MULTIPLE:
        data.setdefault(name, [])
    return data


def _blank(encounter_id: str | None = None) -> dict[str, Any]:
    local_now = clock.to_local(clock.now())
    return {
        "id": encounter_id or str(uuid7()),
        "person_id": "",
        "place_id": "",
        "occurred_at": local_now.strftime("%Y-%m-%dT%H:%M"),
        "contact_type": "conversation",
        "needs": [],
        "given": [],
        "note": "",
    }


def _as_form_values(record: dict[str, Any]) -> dict[str, Any]:
    values = dict(record)
    if values.get("occurred_at"):
        moment = clock.to_local(sync.parse_client_time(values["occurred_at"]) or clock.now())
        values["occurred_at"] = moment.strftime("%Y-%m-%dT%H:%M")
    values["place_id"] = values.get("place_id") or ""
    return values


def _render_form(
    template_values: dict[str, Any],
    *,
    op_type: str,
    op_id: str,
    base_version: int | None,
    errors: dict[str, str] | None = None,
    server_record: dict[str, Any] | None = None,
    status: int = 200,
):
    team_id = _team_id()
    session = db.session()
    return render(
        "outreach/encounter_form.html",
        values=template_values,
        errors=errors or {},
        op_type=op_type,
        op_id=op_id,
        base_version=base_version,
        new_person_id=str(uuid7()),
        new_place_id=str(uuid7()),
        people=services.team_people(session, team_id),
        places=services.team_places(session, team_id),
        labels=LABELS,
        choices=CHOICES,
        server_record=server_record,
        status=status,
    )


def _send(op_type: str, base_version: int | None):
    """Apply the posted form as one op: the same path as an op from the outbox."""
    op_id = parse_uuid(request.form.get("op_id", "")) or uuid7()
    data = _form_data()
    op = sync.Op(op_id, op_type, data, base_version, clock.now())
    answer = sync.apply_op(db.session(), current_user._get_current_object(), op)
    status = answer.get("original_status", answer["status"])
    if status == "applied":
        flash(_("Encounter saved."), "success")
        return redirect(url_for("outreach.index"))
    if status == "conflict":
        errors = {"form": _("Somebody else changed this encounter meanwhile.")}
        return _render_form(
            data,
            op_type=op_type,
            op_id=str(uuid7()),
            base_version=answer["record"]["version"],
            errors=errors,
            server_record=answer["record"],
            status=409,
        )
    errors = {name: message(error) for name, error in answer.get("errors", {}).items()}
    # Nothing is lost: the form comes back with everything typed, and a new op id
    # (the rejected op stays rejected).
    return _render_form(
        data,
        op_type=op_type,
        op_id=str(uuid7()),
        base_version=base_version,
        errors=errors,
        status=422,
    )


def _offline_page(response_value: Any):
    """Mark a page the service worker may keep for this user's offline use."""
    response = current_app.make_response(response_value)
    response.headers["X-Terrain-Offline"] = "page"
    return response


@bp.route("/")
@requires(Permission.OUTREACH_RECORD)
def index():
    team_id = _team_id()
    session = db.session()
    encounters = services.recent_encounters(session, team_id)
    audit.record_read(session, current_user, "outreach_team", team_id)
    session.commit()
    # Kept by the service worker for this user (wiped at logout), like the data feed.
    return _offline_page(render("outreach/index.html", encounters=encounters, labels=LABELS))


@bp.route("/encounters/new", methods=["GET", "POST"])
@requires(Permission.OUTREACH_RECORD)
def new_encounter():
    if request.method == "POST":
        return _send("outreach.encounter.create", None)
    return _offline_page(
        _render_form(
            _blank(), op_type="outreach.encounter.create", op_id=str(uuid7()), base_version=None
        )
    )


@bp.route("/encounters/<encounter_id>/edit", methods=["GET", "POST"])
@requires(Permission.OUTREACH_RECORD)
def edit_encounter(encounter_id: str):
    parsed = parse_uuid(encounter_id)
    session = db.session()
    encounter = services.get_encounter(session, _team_id(), parsed) if parsed else None
    if encounter is None:
        abort(404)
    if request.method == "POST":
        version = request.form.get("base_version", "")
        return _send("outreach.encounter.update", int(version) if version.isdigit() else None)
    audit.record_read(session, current_user, "outreach_encounter", encounter.id)
    session.commit()
    record = services.serialize_encounter(encounter)
    return _render_form(
        _as_form_values(record),
        op_type="outreach.encounter.update",
        op_id=str(uuid7()),
        base_version=encounter.version,
    )
