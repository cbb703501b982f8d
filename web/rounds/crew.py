"""The crew's round on the phone, at /tournees/ma-tournee (issue 19): the team's rounds of
today and tomorrow, each stop in order with what the crew needs there and its ETA; one
tap to start, to arrive and to leave each stop (with its outcome), an incident button,
the kilometres at the end. The taps are the sync ops rounds.* (rounds/live_sync.py),
saved in the phone's outbox when offline (static/js/rounds/offline.js) and posted here
without JavaScript, applied exactly once either way (the op id comes from the form).

And /tournees/suivi: the coordinator's live view of the team's rounds of a
day, each stop with its status, planned time and ETA (rounds.live.followed_day).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from core import clock, sync
from core.db import committed
from core.errors import Invalid
from core.roles import Permission, Role
from rounds import live
from rounds import live_sync as rounds_sync
from web import db
from web.common import actor, field_errors, not_found, visible_tabs
from web.permissions import requires
from web.rendering import render
from web.rounds.offline import outcome_labels
from web.rounds.routes import DIET_LABELS, TABS
from web.rounds.scope import asked_day

bp = Blueprint("rounds_crew", __name__, url_prefix="/tournees")
STEPS = {
    "start": "rounds.round.start",
    "incident": "rounds.round.incident",
    "finish": "rounds.round.finish",
    "arrive": "rounds.stop.arrive",
    "leave": "rounds.stop.leave",
}
FIELDS = ("id", "round_id", "round_stop_id", "km_start", "km_end", "note", "outcome")


def _hhmm(value: datetime | None) -> str:
    return clock.to_local(value).strftime("%H:%M") if value else ""


@bp.get("/ma-tournee")
@requires(Permission.ROUNDS_CREW)
def crew() -> Any:
    user = actor()
    if user.role != Role.CREW:
        return not_found()
    rounds = rounds_sync.crew_page(db.session(), user, clock.now())
    # Kept by the service worker for this user's offline use (X-Terrain-Offline).
    response = current_app.make_response(
        render(
            "rounds/crew.html",
            rounds=rounds,
            outcomes=outcome_labels(),
            diets=DIET_LABELS,
            hhmm=_hhmm,
            new_op_id=lambda: str(uuid.uuid4()),
            refused=request.args.get("refused") is not None,
        )
    )
    response.headers["X-Terrain-Offline"] = "page"
    return response


@bp.post("/ma-tournee/<step>")
@requires(Permission.ROUNDS_CREW)
def step(step: str) -> Any:
    """A tap without JavaScript: the same op as the phone's outbox sends."""
    user = actor()
    if user.role != Role.CREW:
        return not_found()
    if step not in STEPS:
        abort(404)
    form = request.form
    data: dict[str, Any] = {name: form[name] for name in FIELDS if form.get(name)}
    data["at"] = form.get("at") or clock.now().isoformat()
    if form.get("people_seen"):
        data["people_seen"] = form["people_seen"]
    try:
        op_id = uuid.UUID(form.get("op_id", ""))
    except ValueError:
        op_id = uuid.uuid4()
    answer = sync.apply_op(db.session(), user, sync.Op(op_id, STEPS[step], data, None, None))
    if answer["status"] == "rejected":
        return redirect(url_for("rounds_crew.crew", refused=1))
    return redirect(url_for("rounds_crew.crew"))


@bp.route("/suivi", methods=["GET", "POST"])
@requires(Permission.ROUNDS_MANAGE)
def follow() -> Any:
    """The team's rounds of a day followed live (?jour=YYYY-MM-DD, today by default),
    and the team's lateness setting (posted here)."""
    user = actor()
    session = db.session()
    day = asked_day()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            committed(session, lambda: live.set_late_minutes(session, user, request.form))
        except Invalid as invalid:
            errors, status = field_errors(invalid), 422
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("rounds_crew.follow", jour=day.isoformat()))
    now = clock.now()
    try:
        rounds = live.followed_day(session, user, day, now)
    except Invalid:
        return not_found()
    return render(
        "rounds/follow.html",
        "rounds/_follow_day.html",  # the page's own polling asks for the rounds only
        status=status,
        now=now,
        rounds=rounds,
        day=day,
        hhmm=_hhmm,
        statuses=status_labels(),
        tabs=visible_tabs(TABS),
        late_minutes=request.form.get("late_minutes")
        or live.late_minutes(session, user.team_id or 0),
        errors=errors,
    )


def status_labels() -> dict[str, str]:
    return {
        "planned": _("To come"),
        "moved": _("Moved"),
        "arrived": _("There"),
        "left": _("Done"),
        "skipped": _("Cancelled"),
        "cancelled": _("Cancelled"),
    }
