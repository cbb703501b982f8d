"""Street outreach pages: recent encounters, record an encounter, change one; on the
phone also the maraude (start, end, summary) and the team's places with their visits.

The forms work offline: static/js/offline.js saves them as ops in the phone's outbox
and sends them through /api/sync. Without JavaScript they post here, and the view
sends the very same op through the same engine (so a double tap is applied once; the
engine commits). The pages' audited reads are committed by outreach/street.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from core import clock, sync
from core.errors import FieldError, Invalid
from core.ids import parse_id, parse_uuid, uuid7
from core.roles import Permission
from outreach import maraudes, minors, services, street
from web import db
from web.outreach.labels import CHOICES, LABELS
from web.permissions import requires
from web.rendering import render
from web.validation import message

bp = Blueprint("outreach", __name__, url_prefix="/outreach")

MULTIPLE = ("needs", "given", "member_ids")


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
    for name in ("needs", "given"):
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
        "ethos": "unknown",
        "maraude_id": "",
    }


def _as_form_values(record: dict[str, Any]) -> dict[str, Any]:
    values = dict(record)
    if values.get("occurred_at"):
        moment = clock.to_local(sync.parse_client_time(values["occurred_at"]) or clock.now())
        values["occurred_at"] = moment.strftime("%Y-%m-%dT%H:%M")
    values["place_id"] = values.get("place_id") or ""
    values["maraude_id"] = values.get("maraude_id") or ""
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
    if op_type.startswith("outreach.maraude."):
        return _render_maraude(template_values, op_type, errors or {}, status)
    if op_type.startswith("outreach.place."):
        return _render_place(template_values, base_version, errors or {}, server_record, status)
    if op_type.endswith(".create") and not template_values.get("maraude_id") and status == 200:
        running = maraudes.current(session, current_user._get_current_object())
        template_values["maraude_id"] = str(running.id) if running else ""
    return render(
        "outreach/encounter_form.html",
        **_phone_context(session, team_id),
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
        return _after_applied(op_type, answer)
    if status == "conflict":
        if op_type.startswith("outreach.maraude."):
            errors = {"form": _("Somebody else changed this maraude meanwhile.")}
        elif op_type.startswith("outreach.place."):
            errors = {"form": _("Somebody else changed this place meanwhile.")}
        else:
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
    encounters = street.recent_encounters(session, current_user, team_id)
    # Kept by the service worker for this user (wiped at logout), like the data feed.
    return _offline_page(
        render(
            "outreach/index.html",
            **_phone_context(session, team_id),
            encounters=encounters,
            labels=LABELS,
        )
    )


@bp.route("/encounters/new", methods=["GET", "POST"])
@requires(Permission.OUTREACH_RECORD)
def new_encounter():
    if request.method == "POST":
        data = _form_data()
        try:
            minors.require_path(db.session(), _team_id(), data)
        except Invalid as invalid:
            # Refused before anything is stored; the form comes back with all typed.
            return _render_form(
                data,
                op_type="outreach.encounter.create",
                op_id=str(uuid7()),
                base_version=None,
                errors={name: message(error) for name, error in invalid.errors.items()},
                status=422,
            )
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
    if request.method == "POST":
        if parsed is None or services.get_encounter(session, _team_id(), parsed) is None:
            abort(404)
        version = request.form.get("base_version", "")
        return _send("outreach.encounter.update", parse_id(version))
    encounter = (
        street.encounter_to_change(session, current_user, _team_id(), parsed) if parsed else None
    )
    if encounter is None:
        abort(404)
    record = services.serialize_encounter(encounter)
    return _render_form(
        _as_form_values(record),
        op_type="outreach.encounter.update",
        op_id=str(uuid7()),
        base_version=encounter.version,
    )


# --- On the phone: the maraude banner, the maraude, the places (issue 8) ---------------


def _minor_notice(state: street.PhoneState) -> str:
    """What the form says when the person met is a minor: exactly who is told, and how."""
    if not state.has_path:
        return message(minors_refusal())
    parts = [_("A minor.")]
    for user, by_sms in state.told:
        if by_sms:
            parts.append(_("%(name)s will be told in Terrain and by SMS.", name=user.display_name))
        else:
            parts.append(_("%(name)s will be told in Terrain.", name=user.display_name))
    if state.protective_contact:
        parts.append(
            _(
                "The alert asks the team to contact %(contact)s.",
                contact=state.protective_contact,
            )
        )
    return " ".join(parts)


def minors_refusal() -> Any:
    """The error of a minor's encounter while the team has no protective path."""
    return FieldError("no_protective_path")


def _banner(state: street.PhoneState) -> dict[str, Any] | None:
    """The maraude under way for the current user, for the banner of the outreach pages."""
    if state.running is None:
        return None
    return {
        "id": str(state.running.id),
        "started_at": state.running.started_at,
        "contacts": state.contacts,
    }


def _phone_texts() -> dict[str, str]:
    """Sentences of the outreach part of static/js/offline.js ({n}, {time} filled in)."""
    return {
        "maraude_running": _(
            "Maraude in progress since %(time)s. Contacts: %(count)s", time="{time}", count="{n}"
        ),
        "no_match": _("Nobody matches. Choose “A new person”."),
        "nearby_none": _("No known place with coordinates nearby."),
        "distance_m": _("%(distance)s m", distance="{n}"),
        "distance_km": _("%(distance)s km", distance="{n}"),
        "summary_local": _("Counted on this phone; the server completes it once sent."),
        "last_visit": _("Last visit: %(time)s", time="{time}"),
        "never": _("No visit yet"),
        "not_sent": _("On this phone, not sent yet"),
        "start_maraude": _("Start the maraude"),
        "end_maraude": _("End the maraude"),
    }


def _phone_context(session: Any, team_id: int) -> dict[str, Any]:
    state = street.phone_state(session, current_user._get_current_object(), team_id)
    return {
        "maraude_banner": _banner(state),
        "phone_data": {
            "texts": _phone_texts(),
            "minor_notice": _minor_notice(state),
            # Read offline too (the page is kept): the form refuses before queuing.
            "minor_path": state.has_path,
            "minor_refused": message(minors_refusal()),
        },
    }


def duration_text(minutes: float) -> str:
    """A time out in hours and minutes ("1 h 05", "25 min"), as offline.js writes it."""
    whole = max(0, round(minutes))
    hours, rest = divmod(whole, 60)
    if not hours:
        return _("%(minutes)s min", minutes=rest)
    return _("%(hours)s h %(minutes)s", hours=hours, minutes=f"{rest:02d}")


def km_text(km: float | None) -> str:
    """Kilometres as the page's language writes them ("1,3 km" in French)."""
    if km is None:
        return ""
    return _("%(distance)s km", distance=format_decimal(km, format="#,##0.#"))


def _after_applied(op_type: str, answer: dict[str, Any]):
    if op_type == "outreach.maraude.start":
        flash(_("The maraude has started."), "success")
        return redirect(url_for("outreach.new_encounter"))
    if op_type == "outreach.maraude.end":
        flash(_("The maraude has ended."), "success")
        return redirect(url_for("outreach.maraude_summary", maraude_id=answer["record"]["id"]))
    if op_type == "outreach.place.update":
        flash(_("Place saved."), "success")
        return redirect(url_for("outreach.place", place_id=answer["record"]["id"]))
    flash(_("Encounter saved."), "success")
    return redirect(url_for("outreach.index"))


def _maraude_values(session: Any, running: Any) -> dict[str, Any]:
    me = current_user._get_current_object()
    now = clock.to_local(clock.now()).strftime("%Y-%m-%dT%H:%M")
    return {
        "id": str(running.id) if running else str(uuid7()),
        "area": "",
        "member_ids": [str(member) for member in maraudes.usual_members(session, me)],
        "started_at": now,
        "ended_at": now,
        "km": "",
        "incidents": "",
    }


def _render_maraude(
    posted: dict[str, Any] | None, op_type: str | None, errors: dict[str, str], status: int
):
    """The maraude page: the start form when none is under way, else the end form."""
    team_id = _team_id()
    session = db.session()
    running = maraudes.current(session, current_user._get_current_object())
    values = _maraude_values(session, running)
    if posted is not None:
        values.update(posted)
        values["member_ids"] = [str(item) for item in posted.get("member_ids") or []]
    ending = op_type == "outreach.maraude.end" if op_type else running is not None
    return render(
        "outreach/maraude.html",
        **_phone_context(session, team_id),
        values=values,
        errors=errors,
        ending=ending,
        running=running,
        members=maraudes.team_members(session, team_id),
        me=current_user,
        start_op_id=str(uuid7()),
        end_op_id=str(uuid7()),
        status=status,
    )


@bp.route("/maraude", methods=["GET", "POST"])
@requires(Permission.OUTREACH_RECORD)
def maraude():
    if request.method == "POST":
        return _send("outreach.maraude.start", None)
    # Kept offline: the phone's script shows the form that fits what the phone knows.
    return _offline_page(_render_maraude(None, None, {}, 200))


@bp.route("/maraude/end", methods=["POST"])
@requires(Permission.OUTREACH_RECORD)
def end_maraude():
    return _send("outreach.maraude.end", None)


@bp.route("/maraudes/<maraude_id>")
@requires(Permission.OUTREACH_RECORD)
def maraude_summary(maraude_id: str):
    parsed = parse_uuid(maraude_id)
    session = db.session()
    shown = street.maraude_summary(session, current_user, _team_id, parsed) if parsed else None
    if shown is None:
        abort(404)
    found = shown.maraude
    return render(
        "outreach/maraude_summary.html",
        **_phone_context(session, found.team_id),
        **vars(shown),
        time_out=duration_text((found.ended_at - found.started_at).total_seconds() / 60)
        if found.ended_at
        else "",
        km_text=km_text(found.km),
    )


@bp.route("/places/")
@requires(Permission.OUTREACH_RECORD)
def places():
    team_id = _team_id()
    session = db.session()
    found = street.places(session, current_user, team_id)
    return _offline_page(
        render("outreach/places.html", **_phone_context(session, team_id), places=found)
    )


def _render_place(
    posted: dict[str, Any] | None,
    base_version: int | None,
    errors: dict[str, str],
    server_record: dict[str, Any] | None,
    status: int,
):
    """A place page: its notes, the form that changes it, its visits."""
    team_id = _team_id()
    session = db.session()
    parsed = parse_uuid(str((posted or {}).get("id") or request.view_args.get("place_id", "")))
    found = services.get_place(session, team_id, parsed) if parsed else None
    if found is None:
        abort(404)
    return render(
        "outreach/place.html",
        **_phone_context(session, team_id),
        place=found,
        visits=services.place_visits(session, team_id, found.id),
        labels=LABELS,
        values=posted if posted is not None else services.serialize_place(found),
        errors=errors,
        op_id=str(uuid7()),
        base_version=base_version,
        server_record=server_record,
        status=status,
    )


@bp.route("/places/<place_id>", methods=["GET", "POST"])
@requires(Permission.OUTREACH_RECORD)
def place(place_id: str):
    team_id = _team_id()
    parsed = parse_uuid(place_id)
    session = db.session()
    if request.method == "POST":
        found = services.get_place(session, team_id, parsed) if parsed else None
        if found is None or request.form.get("id") != str(found.id):
            abort(404)
        version = request.form.get("base_version", "")
        return _send("outreach.place.update", parse_id(version))
    found = street.place(session, current_user, team_id, parsed)
    if found is None:
        abort(404)
    # Kept offline once seen (nicknames only: no person file is read here).
    return _offline_page(_render_place(None, found.version, {}, None, 200))
