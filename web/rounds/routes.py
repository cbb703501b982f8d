"""The mobile team coordinator's pages: the minibus's stops and this week's permanences,
meal orders and rides of a day with their forms, the day's plan per vehicle and running it.

Only the coordinator of a mobile team sees them (rounds.access); anybody else with the
permission hears the same 404 as for an unknown page. Views parse the request, call one
service and render; a refusal becomes sentences next to the fields and nothing is saved.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import clock
from core.errors import Invalid
from core.roles import Permission
from rounds import access, services
from rounds.models import DIETS
from web import db
from web.common import Tab, actor, field_errors, not_found, visible_tabs
from web.permissions import requires
from web.rendering import render

bp = Blueprint("rounds", __name__, url_prefix="/tournees")

TABS = (
    Tab("rounds.index", _l("Minibus stops"), Permission.ROUNDS_MANAGE),
    Tab("rounds.meals", _l("Meal orders"), Permission.ROUNDS_MANAGE),
    Tab("rounds.rides", _l("Rides"), Permission.ROUNDS_MANAGE),
    Tab("rounds.plan", _l("Day's plan"), Permission.ROUNDS_MANAGE),
)
PLAN_SECONDS = 2.0
DIET_LABELS = {
    "normal": _l("Normal"),
    "diabetic": _l("Diabetic"),
    "no_salt": _l("No salt"),
    "mixed_texture": _l("Mixed texture"),
}
TOPIC_LABELS = {
    "social": _l("Social permanence"),
    "jobs": _l("Jobs"),
    "housing": _l("Housing"),
    "digital": _l("Digital help"),
    "other": _l("Other"),
}
KIND_LABELS = {"meal": _l("Meals"), "pickup": _l("Pick-up"), "dropoff": _l("Drop-off")}
REASON_LABELS = {
    "no_vehicle": _l("No vehicle that day"),
    "no_worker_with_skills": _l("No suitable vehicle"),
    "over_capacity": _l("Over the vehicles' meals or seats"),
    "over_contract_hours": _l("Over the drivers' hours"),
    "window_unreachable": _l("Its time window cannot be reached"),
    "no_room_in_plan": _l("No room left in the drivers' day"),
    "continuity_cap": _l("No room left in the drivers' day"),
    "no_two_aides_at_once": _l("No room left in the drivers' day"),
}


def _team() -> int | None:
    """The team the signed-in user coordinates rounds for, None otherwise."""
    user = actor()
    return user.team_id if access.coordinates(user, user.team_id) else None


def _day() -> date:
    """The day asked for (?jour=YYYY-MM-DD), today when absent or unreadable."""
    return clock.parse_day(request.args.get("jour") or "") or clock.to_local(clock.now()).date()


def _page(template: str, status: int = 200, **context: Any):
    return render(
        template,
        status=status,
        tabs=visible_tabs(TABS),
        diet_labels=DIET_LABELS,
        topic_labels=TOPIC_LABELS,
        kind_labels=KIND_LABELS,
        reason_labels=REASON_LABELS,
        **context,
    )


@bp.get("/", endpoint="index")
@requires(Permission.ROUNDS_MANAGE)
def index():
    team_id = _team()
    if team_id is None:
        return not_found()
    day = _day()
    monday = day - timedelta(days=day.weekday())
    session = db.session()
    return _page(
        "rounds/index.html",
        day=day,
        monday=monday,
        previous=monday - timedelta(days=7),
        following=monday + timedelta(days=7),
        stops=services.stops(session, team_id),
        vehicles=services.vehicles(session, team_id),
        week=services.week_permanences(session, team_id, monday),
    )


def _form_page(kind: str, template: str, create, listed, success: str):
    team_id = _team()
    if team_id is None:
        return not_found()
    session = db.session()
    day = _day()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"day": day.isoformat()}
    status = 200
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            saved = create(session, actor(), team_id, values)
        except Invalid as invalid:
            errors, status = field_errors(invalid), 422
        else:
            flash(success, "success")
            return redirect(url_for(f"rounds.{kind}", jour=saved.day.isoformat()))
    return _page(
        template,
        status=status,
        day=day,
        values=values,
        errors=errors,
        found=listed(session, team_id, day),
        diets=DIETS,
    )


@bp.route("/repas", methods=["GET", "POST"], endpoint="meals")
@requires(Permission.ROUNDS_MANAGE)
def meals():
    return _form_page(
        "meals",
        "rounds/meals.html",
        services.save_meal_order,
        services.meal_orders,
        _("Meal order saved."),
    )


@bp.route("/transports", methods=["GET", "POST"], endpoint="rides")
@requires(Permission.ROUNDS_MANAGE)
def rides():
    return _form_page(
        "rides",
        "rounds/rides.html",
        services.save_ride,
        services.rides,
        _("Ride saved."),
    )


@bp.get("/plan", endpoint="plan")
@requires(Permission.ROUNDS_MANAGE)
def plan():
    team_id = _team()
    if team_id is None:
        return not_found()
    return _page("rounds/plan.html", view=services.day_view(db.session(), team_id, _day()))


@bp.post("/plan", endpoint="run_plan")
@requires(Permission.ROUNDS_MANAGE)
def run_plan():
    team_id = _team()
    if team_id is None:
        return not_found()
    session = db.session()
    day = clock.parse_day(request.form.get("jour") or "") or _day()
    done = services.plan_and_store(session, team_id, day, seconds=PLAN_SECONDS, actor=actor())
    flash(
        _("Day planned: %(placed)s placed, %(unplaced)s left out.",
          placed=done.placed, unplaced=done.unplaced),
        "success",
    )  # fmt: skip
    return redirect(url_for("rounds.plan", jour=day.isoformat()))
