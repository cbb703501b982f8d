"""The mobile team coordinator's pages: the minibus's stops and this week's permanences,
meal orders and rides of a day with their forms, the day's plan per vehicle and running it.

Only the coordinator of a mobile team sees them (rounds.access); anybody else with the
permission hears the same 404 as for an unknown page. Views parse the request, call one
service and render; a refusal becomes sentences next to the fields and nothing is saved.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from core import clock
from core.errors import Conflict, Invalid
from core.roles import Permission
from rounds import services
from rounds.models import DIETS
from web import charts, db
from web.common import Tab, actor, desk_day_url, field_errors, not_found, visible_tabs
from web.exports import csv_response, xlsx_response
from web.permissions import requires
from web.rendering import render
from web.rounds.scope import Scope, coordinated

bp = Blueprint("rounds", __name__, url_prefix="/tournees")

TABS = (
    Tab("rounds.index", _l("Minibus stops"), Permission.ROUNDS_MANAGE),
    Tab("rounds.meals", _l("Meal orders"), Permission.ROUNDS_MANAGE),
    Tab("rounds.rides", _l("Rides"), Permission.ROUNDS_MANAGE),
    Tab("rounds.plan", _l("Day's plan"), Permission.ROUNDS_MANAGE),
    Tab("rounds.templates", _l("Round templates"), Permission.ROUNDS_MANAGE),
    Tab("rounds.rounds", _l("Dated rounds"), Permission.ROUNDS_MANAGE),
    Tab("rounds.weekly", _l("Weekly meals"), Permission.ROUNDS_MANAGE),
    Tab("rounds.kitchen", _l("Kitchen"), Permission.ROUNDS_MANAGE),
    Tab("rounds.indicators", _l("Indicators"), Permission.ROUNDS_MANAGE),
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
ORDER_DAYS = 14  # the weekly orders' button makes the coming two weeks' orders


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
@coordinated
def index(scope: Scope):
    team_id = scope.team_id
    session = db.session()
    return _page(
        "rounds/index.html",
        day=scope.day,
        monday=scope.monday,
        previous=scope.previous_week,
        following=scope.following_week,
        stops=services.stops(session, team_id),
        vehicles=services.vehicles(session, team_id),
        week=services.week_permanences(session, team_id, scope.monday),
    )


def _form_page(scope: Scope, kind: str, template: str, create, listed, success: str):
    team_id = scope.team_id
    session = db.session()
    day = scope.day
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
        cutoff=clock.to_local(services.cutoff_of(session, team_id, day)),
    )


@bp.route("/repas", methods=["GET", "POST"], endpoint="meals")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def meals(scope: Scope):
    return _form_page(
        scope,
        "meals",
        "rounds/meals.html",
        services.save_meal_order,
        services.meal_orders,
        _("Meal order saved."),
    )


@bp.route("/transports", methods=["GET", "POST"], endpoint="rides")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def rides(scope: Scope):
    return _form_page(
        scope,
        "rides",
        "rounds/rides.html",
        services.save_ride,
        services.rides,
        _("Ride saved."),
    )


@bp.get("/plan", endpoint="plan")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def plan(scope: Scope):
    team_id = scope.team_id
    return _page("rounds/plan.html", view=services.day_view(db.session(), team_id, scope.day))


@bp.post("/plan", endpoint="run_plan")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def run_plan(scope: Scope):
    team_id = scope.team_id
    session = db.session()
    day = clock.parse_day(request.form.get("jour") or "") or scope.day
    done = services.plan_and_store(session, team_id, day, seconds=PLAN_SECONDS, actor=actor())
    flash(
        _("Day planned: %(placed)s placed, %(unplaced)s left out.",
          placed=done.placed, unplaced=done.unplaced),
        "success",
    )  # fmt: skip
    return redirect(url_for("rounds.plan", jour=day.isoformat()))


# --- Records: vehicles, stops, templates, orders and rides, each with its form -------------

UNKNOWN = {
    "unknown_vehicle",
    "unknown_stop",
    "unknown_template",
    "unknown_round",
    "unknown_order",
    "unknown_ride",
    "unknown_permanence",
    "unknown_team",
}
WEEKDAY_LABELS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
ROUND_KIND_LABELS = {"minibus": _l("Minibus"), "meals": _l("Meals"), "rides": _l("Rides")}
VEHICLE_KIND_LABELS = {"minibus": _l("Minibus"), "van": _l("Van"), "car": _l("Car")}
STATUS_LABELS = {
    "planned": _l("Planned"),
    "started": _l("Started"),
    "finished": _l("Finished"),
    "cancelled": _l("Cancelled"),
    "skipped": _l("Skipped"),
    "moved": _l("Moved"),
    "arrived": _l("Arrived"),
    "left": _l("Left"),
}
STOP_KIND_LABELS = {
    "public_stop": _l("Public stop"),
    "household": _l("Meals"),
    "pickup": _l("Pick-up"),
    "dropoff": _l("Drop-off"),
}
REOPTIMISE_SECONDS = 1.0
GENERATE_WEEKS = 4


def _unknown(invalid: Invalid) -> bool:
    """A refusal that means "no such record of yours": the page answers 404."""
    return any(error.code in UNKNOWN for error in invalid.errors.values())


def _values(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A record's fields as the form shows them (times as HH:MM)."""
    values: dict[str, Any] = {}
    for name in names:
        value = getattr(record, name)
        if hasattr(value, "strftime") and not isinstance(value, date):
            value = value.strftime("%H:%M")
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = "1" if value else ""
        elif value is None:
            value = ""
        values[name] = str(value)
    return values


VEHICLE_FIELDS = (
    "name", "kind", "plate", "driver_name", "seats", "meal_capacity", "depot_address",
    "day_start", "day_end", "active",
)  # fmt: skip
STOP_FIELDS = (
    "vehicle_id", "name", "address", "postcode", "city", "latitude", "longitude", "active",
)  # fmt: skip
TEMPLATE_FIELDS = (
    "vehicle_id", "name", "kind", "weekday", "starts", "ends", "active_from", "active_until",
)  # fmt: skip
ORDER_FIELDS = (
    "day", "household", "address", "postcode", "city", "latitude", "longitude", "meals",
    "diet", "instructions", "window_start", "window_end",
)  # fmt: skip
RIDE_FIELDS = (
    "day", "person", "phone", "pickup_address", "pickup_latitude", "pickup_longitude",
    "dropoff_address", "dropoff_latitude", "dropoff_longitude", "pickup_from",
    "pickup_until", "seats", "wheelchair", "notes",
)  # fmt: skip


def _record_page(
    scope: Scope,
    *,
    kind: str,
    record_id: Any,
    load,
    save,
    names: tuple[str, ...],
    title: str,
    success: str,
    back: str,
    extra_values=None,
    context=None,
):
    """The form of one record (new when `record_id` is None): GET shows it, POST saves;
    a refusal shows sentences next to the fields and saves nothing; not the user's
    record: 404."""
    team_id = scope.team_id
    session = db.session()
    errors: dict[str, str] = {}
    status = 200
    record = None
    if record_id is not None:
        record = load(session, team_id, record_id)
        if record is None:
            return not_found()
    values = _values(record, names) if record is not None else {}
    if record is not None and extra_values:
        values |= extra_values(record)
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            save(session, actor(), record_id, values)
        except Invalid as invalid:
            if _unknown(invalid) and not set(invalid.errors) <= set(names):
                return not_found()
            errors, status = field_errors(invalid), 422
        else:
            flash(success, "success")
            return redirect(back)
    return _page(
        "rounds/record.html",
        status=status,
        kind=kind,
        title=title,
        record=record,
        values=values,
        errors=errors,
        **_form_options(session, team_id, record if kind == "template" else None),
        **(context(session, team_id, record) if context and record is not None else {}),
    )


def _form_options(session, team_id: int, template) -> dict[str, Any]:
    """The choices of the record forms; a template's stops and the stops it may add."""
    stops = services.stops(session, team_id)
    options: dict[str, Any] = {
        "vehicle_options": [(str(v.id), v.name) for v in services.vehicles(session, team_id)],
        "weekday_options": [(str(i), label) for i, label in enumerate(WEEKDAY_LABELS)],
        "round_kind_labels": ROUND_KIND_LABELS,
        "vehicle_kind_labels": VEHICLE_KIND_LABELS,
        "permanences": [],
        "stop_options": [],
        "stop_names": {s.id: s.name for s in stops},
    }
    if template is not None:
        options["permanences"] = services.permanences_of(session, template.id)
        options["stop_options"] = [
            (str(s.id), s.name) for s in stops if s.vehicle_id == template.vehicle_id
        ]
    return options


def _of_team(model):
    def load(session, team_id: int, record_id):
        record = session.get(model, record_id)
        return record if record is not None and record.team_id == team_id else None

    return load


@bp.route("/vehicules/nouveau", methods=["GET", "POST"], endpoint="new_vehicle")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def new_vehicle(scope: Scope):
    return _record_page(scope,
        kind="vehicle", record_id=None, load=None, save=services.save_vehicle,
        names=VEHICLE_FIELDS, title=_("New vehicle"), success=_("Vehicle saved."),
        back=url_for("rounds.index"),
    )  # fmt: skip


@bp.route("/vehicules/<uuid:vehicle_id>", methods=["GET", "POST"], endpoint="vehicle")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def vehicle(scope: Scope, vehicle_id):
    return _record_page(scope,
        kind="vehicle", record_id=vehicle_id, load=_of_team(services.Vehicle),
        save=services.save_vehicle, names=VEHICLE_FIELDS, title=_("Vehicle"),
        success=_("Vehicle saved."), back=url_for("rounds.index"),
        extra_values=lambda v: {"latitude": str(v.depot_latitude),
                                "longitude": str(v.depot_longitude)},
    )  # fmt: skip


@bp.route("/arrets/nouveau", methods=["GET", "POST"], endpoint="new_stop")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def new_stop(scope: Scope):
    return _record_page(scope,
        kind="stop", record_id=None, load=None, save=services.save_stop, names=STOP_FIELDS,
        title=_("New stop"), success=_("Stop saved."), back=url_for("rounds.index"),
    )  # fmt: skip


@bp.route("/arrets/<uuid:stop_id>", methods=["GET", "POST"], endpoint="stop")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def stop(scope: Scope, stop_id):
    return _record_page(scope,
        kind="stop", record_id=stop_id, load=_of_team(services.Stop), save=services.save_stop,
        names=STOP_FIELDS, title=_("Stop"), success=_("Stop saved."),
        back=url_for("rounds.index"),
        context=lambda session, team_id, record: {
            "subscribers": services.stop_subscribers(session, team_id, record.id)},
    )  # fmt: skip


@bp.route("/modeles", methods=["GET"], endpoint="templates")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def templates(scope: Scope):
    team_id = scope.team_id
    session = db.session()
    return _page(
        "rounds/templates.html",
        found=services.templates(session, team_id),
        vehicles={v.id: v for v in services.vehicles(session, team_id)},
        weekday_labels=WEEKDAY_LABELS,
        round_kind_labels=ROUND_KIND_LABELS,
    )


@bp.route("/modeles/nouveau", methods=["GET", "POST"], endpoint="new_template")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def new_template(scope: Scope):
    return _record_page(scope,
        kind="template", record_id=None, load=None, save=services.save_template,
        names=TEMPLATE_FIELDS, title=_("New round template"),
        success=_("Round template saved."), back=url_for("rounds.templates"),
    )  # fmt: skip


LEFT_LABELS = {
    "started": _l("it has started"),
    "finished": _l("it is finished"),
    "cancelled": _l("it is cancelled"),
    "own_hours": _l("it has its own hours or vehicle"),
}


@bp.route("/modeles/<uuid:template_id>", methods=["GET", "POST"], endpoint="template")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def template(scope: Scope, template_id):
    """A template changed, and its dated rounds with it (services.change_template); a
    form started from another version answers 409 with the template as it is now."""
    session = db.session()
    found = _of_team(services.RoundTemplate)(session, scope.team_id, template_id)
    if found is None:
        return not_found()
    names = (*TEMPLATE_FIELDS, "version")
    values = _values(found, names)
    errors: dict[str, str] = {}
    status, conflict = 200, False
    if request.method == "POST":
        data = request.form.to_dict()
        if not data.get("cancel_reason", "").strip():
            data["cancel_reason"] = _("The round's day or period changed.")
        try:
            done = services.save_template_change(session, actor(), template_id, data)
        except Conflict:
            session.refresh(found)
            values, status, conflict = _values(found, names), 409, True
        except Invalid as invalid:
            values = request.form.to_dict() | {"version": str(found.version)}
            errors, status = field_errors(invalid), 422
        else:
            _template_followed(done)
            return redirect(url_for("rounds.template", template_id=template_id))
    return _page(
        "rounds/record.html",
        status=status,
        kind="template",
        title=_("Round template"),
        record=found,
        values=values,
        errors=errors,
        conflict=conflict,
        **_form_options(session, scope.team_id, found),
    )


def _template_followed(done: services.TemplateFollowed) -> None:
    """Say what a template's change did to its dated rounds from today on."""
    flash(_("Round template saved."), "success")
    if done.followed:
        flash(
            ngettext(
                "%(num)d dated round not started yet follows the change.",
                "%(num)d dated rounds not started yet follow the change.",
                done.followed,
            ),
            "info",
        )
    if done.cancelled:
        flash(
            ngettext(
                "%(num)d dated round no longer falls on the round's days: it is cancelled, "
                "and the people following its stops are told.",
                "%(num)d dated rounds no longer fall on the round's days: they are cancelled, "
                "and the people following their stops are told.",
                done.cancelled,
            ),
            "info",
        )
    if done.made:
        flash(
            ngettext(
                "%(num)d dated round made for the round's new days.",
                "%(num)d dated rounds made for the round's new days.",
                done.made,
            ),
            "info",
        )
    if done.clashes:
        flash(
            ngettext(
                "%(num)d new day has no round: the vehicle already has another round then.",
                "%(num)d new days have no round: the vehicle already has another round then.",
                done.clashes,
            ),
            "warning",
        )
    if done.left:
        flash(
            _(
                "Left as they are: %(rounds)s.",
                rounds="; ".join(
                    f"{item.day:%d/%m/%Y} {item.name} ({LEFT_LABELS[item.why]})"
                    for item in done.left
                ),
            ),
            "warning",
        )
    if done.stranded:
        moments = sorted({clock.to_local(item.start_at) for item in done.stranded})
        flash(
            ngettext(
                "%(num)d booked appointment is at a stop this change closes or no longer "
                "covers: %(moments)s. Move it or call the person from the reception desk.",
                "%(num)d booked appointments are at stops this change closes or no longer "
                "covers: %(moments)s. Move them or call the people from the reception desk.",
                len(done.stranded),
                moments=", ".join(moment.strftime("%d/%m/%Y %H:%M") for moment in moments),
            ),
            "warning",
        )


@bp.post("/modeles/<uuid:template_id>/arrets", endpoint="add_permanence")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def add_permanence(scope: Scope, template_id):
    team_id = scope.team_id
    session = db.session()
    found = _of_team(services.RoundTemplate)(session, team_id, template_id)
    if found is None:
        return not_found()
    values = request.form.to_dict() | {"template_id": str(template_id)}
    try:
        done = services.save_permanence(session, actor(), team_id, values)
    except Invalid as invalid:
        return _page(
            "rounds/record.html",
            status=422,
            kind="template",
            title=_("Round template"),
            record=found,
            values=_values(found, (*TEMPLATE_FIELDS, "version")),
            errors={},
            stop_values=values,
            stop_errors=field_errors(invalid),
            **_form_options(session, team_id, found),
        )
    _followed(_("Stop added to the round."), done)
    return redirect(url_for("rounds.template", template_id=template_id))


def _followed(saved: str, done: services.StopsFollowed) -> None:
    """Say what a change of a template's stop did: how many dated rounds followed, and
    the booked appointments its place's new hours leave out (when and how many)."""
    flash(saved, "success")
    flash(
        ngettext(
            "%(num)d dated round not started yet follows the change.",
            "%(num)d dated rounds not started yet follow the change.",
            done.rounds,
        ),
        "info",
    )
    if done.stranded:
        moments = sorted({clock.to_local(item.start_at) for item in done.stranded})
        flash(
            ngettext(
                "%(num)d booked appointment no longer fits the stop's hours: %(moments)s. "
                "Move it or call the person from the reception desk.",
                "%(num)d booked appointments no longer fit the stop's hours: %(moments)s. "
                "Move them or call the people from the reception desk.",
                len(done.stranded),
                moments=", ".join(moment.strftime("%d/%m/%Y %H:%M") for moment in moments),
            ),
            "warning",
        )


@bp.post("/permanences/<uuid:permanence_id>/retirer", endpoint="remove_permanence")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def remove_permanence(scope: Scope, permanence_id):
    team_id = scope.team_id
    session = db.session()
    found = _of_team(services.Permanence)(session, team_id, permanence_id)
    if found is None:
        return not_found()
    template_id = found.template_id
    done = services.remove_permanence_and_store(session, actor(), permanence_id)
    _followed(_("Stop removed from the round."), done)
    return redirect(url_for("rounds.template", template_id=template_id))


PERMANENCE_FIELDS = ("stop_id", "starts", "ends", "topic", "version")


@bp.route("/permanences/<uuid:permanence_id>", methods=["GET", "POST"], endpoint="permanence")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def permanence(scope: Scope, permanence_id):
    """A template's stop changed in place (stop, times, topic); a form started from
    another version answers 409 with the stop as it is now."""
    session = db.session()
    found = _of_team(services.Permanence)(session, scope.team_id, permanence_id)
    if found is None:
        return not_found()
    template = session.get(services.RoundTemplate, found.template_id)
    values = _values(found, PERMANENCE_FIELDS)
    errors: dict[str, str] = {}
    status, conflict = 200, False
    if request.method == "POST":
        try:
            done = services.save_permanence_change(session, actor(), permanence_id, request.form)
        except Conflict:
            session.refresh(found)
            values, status, conflict = _values(found, PERMANENCE_FIELDS), 409, True
        except Invalid as invalid:
            values = request.form.to_dict() | {"version": str(found.version)}
            errors, status = field_errors(invalid), 422
        else:
            _followed(_("Stop of the round saved."), done)
            return redirect(url_for("rounds.template", template_id=found.template_id))
    return _page(
        "rounds/record.html",
        status=status,
        kind="permanence",
        title=_("Stop of %(round)s", round=template.name if template else ""),
        record=found,
        values=values,
        errors=errors,
        conflict=conflict,
        **_form_options(session, scope.team_id, template),
    )


@bp.route("/repas/<uuid:order_id>", methods=["GET", "POST"], endpoint="meal")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def meal(scope: Scope, order_id):
    return _record_page(scope,
        kind="meal", record_id=order_id, load=_of_team(services.MealOrder),
        save=services.save_order_change, names=ORDER_FIELDS, title=_("Meal order"),
        success=_("Meal order saved."), back=url_for("rounds.meal", order_id=order_id),
    )  # fmt: skip


@bp.route("/transports/<uuid:ride_id>", methods=["GET", "POST"], endpoint="ride")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def ride(scope: Scope, ride_id):
    return _record_page(scope,
        kind="ride", record_id=ride_id, load=_of_team(services.Ride),
        save=services.save_ride_change, names=RIDE_FIELDS, title=_("Ride"),
        success=_("Ride saved."), back=url_for("rounds.ride", ride_id=ride_id),
    )  # fmt: skip


def _cancel_record(
    scope: Scope, model, record_id, cancel, endpoint: str, argument: str, success: str
):
    team_id = scope.team_id
    session = db.session()
    found = _of_team(model)(session, team_id, record_id)
    if found is None:
        return not_found()
    try:
        cancel(session, actor(), record_id, request.form.to_dict())
    except Invalid as invalid:
        for sentence in field_errors(invalid).values():
            flash(sentence, "error")
    else:
        flash(success, "success")
    return redirect(url_for(endpoint, **{argument: record_id}))


@bp.post("/repas/<uuid:order_id>/annuler", endpoint="cancel_meal")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def cancel_meal(scope: Scope, order_id):
    """The one cancellation of a meal order, from its page or the day's list (`retour=jour`
    goes back to the list), under the team's cut-off rule; after it: the sentence with the
    cut-off, nothing changed; another team's or an unknown order: 404."""
    session = db.session()
    back_to_day = request.values.get("retour") == "jour"
    try:
        order = services.cancel_and_store_order(session, actor(), order_id)
    except Invalid as invalid:
        if _unknown(invalid):
            return not_found()
        for sentence in field_errors(invalid).values():
            flash(sentence, "error")
        order = session.get(services.MealOrder, order_id)
    else:
        flash(_("Order cancelled: the kitchen will not prepare it."), "success")
    if back_to_day:
        return redirect(url_for("rounds.meals", jour=order.day.isoformat()))
    return redirect(url_for("rounds.meal", order_id=order_id))


@bp.post("/transports/<uuid:ride_id>/annuler", endpoint="cancel_ride")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def cancel_ride(scope: Scope, ride_id):
    return _cancel_record(scope,
        services.Ride, ride_id, services.cancel_ride_and_store, "rounds.ride", "ride_id",
        _("Ride cancelled."),
    )  # fmt: skip


# --- Dated rounds ------------------------------------------------------------------------


@bp.get("/dates", endpoint="rounds")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def dated_rounds(scope: Scope):
    team_id = scope.team_id
    day = scope.day
    monday = day - timedelta(days=day.weekday())
    session = db.session()
    return _page(
        "rounds/rounds.html",
        monday=monday,
        previous=monday - timedelta(days=7),
        following=monday + timedelta(days=7),
        found=services.rounds_between(session, team_id, monday, monday + timedelta(days=6)),
        vehicles={v.id: v for v in services.vehicles(session, team_id)},
        weeks=GENERATE_WEEKS,
        round_kind_labels=ROUND_KIND_LABELS,
        status_labels=STATUS_LABELS,
    )


@bp.post("/dates/generer", endpoint="generate")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def generate(scope: Scope):
    team_id = scope.team_id
    first = clock.parse_day(request.form.get("jour") or "") or scope.day
    first = first - timedelta(days=first.weekday())
    done = services.generate_and_store(db.session(), actor(), team_id, first, GENERATE_WEEKS)
    flash(
        _("%(created)s rounds made, %(holidays)s of them cancelled for a holiday.",
          created=done.created, holidays=done.holidays),
        "success",
    )  # fmt: skip
    return redirect(url_for("rounds.rounds", jour=first.isoformat()))


def _hhmm(moment) -> str:
    """A moment as the Brussels wall-clock time (HH:MM)."""
    return clock.to_local(moment).strftime("%H:%M") if moment else ""


def _round_page(round_id, status: int = 200, **context: Any):
    session = db.session()
    try:
        found = services.round_to_follow(session, actor(), round_id)
    except Invalid:
        return not_found()
    return _page(
        "rounds/round.html",
        status=status,
        round=found,
        vehicle=session.get(services.Vehicle, found.vehicle_id),
        lines=services.round_lines(session, found),
        etas=services.round_etas(session, found, clock.now()),
        now=clock.now(),
        hhmm=_hhmm,
        round_kind_labels=ROUND_KIND_LABELS,
        status_labels=STATUS_LABELS,
        stop_kind_labels=STOP_KIND_LABELS,
        errors=context.pop("errors", {}),
        values=context.pop("values", {}),
        **context,
    )


@bp.get("/dates/<uuid:round_id>", endpoint="round")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def dated_round(scope: Scope, round_id):
    return _round_page(round_id)


@bp.get("/dates/<uuid:round_id>/heures", endpoint="round_etas")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def round_etas(scope: Scope, round_id):
    """The round's expected times alone: what its page polls (the forms stay as they are)."""
    session = db.session()
    try:
        found = services.round_to_follow(session, actor(), round_id)
    except Invalid:
        return not_found()
    now = clock.now()
    return render(
        "rounds/_round_etas.html",
        round=found,
        lines=services.round_lines(session, found),
        etas=services.round_etas(session, found, now),
        now=now,
        hhmm=_hhmm,
        status_labels=STATUS_LABELS,
    )


def _exception(scope: Scope, round_id, stop_id, change, success: str):
    """Cancel a round, skip or move a stop: refused → the round's page with the
    sentences (422), nothing saved; another team's → 404."""
    session = db.session()
    values = request.form.to_dict()
    try:
        change(session, actor(), stop_id or round_id, values)
    except Conflict:
        return _round_page(round_id, status=409, conflict=True)
    except Invalid as invalid:
        if _unknown(invalid):
            return not_found()
        return _round_page(
            round_id, status=422, errors=field_errors(invalid), values=values, failed=stop_id
        )
    flash(success, "success")
    return redirect(url_for("rounds.round", round_id=round_id))


@bp.post("/dates/<uuid:round_id>/annuler", endpoint="cancel_round")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def cancel_round(scope: Scope, round_id):
    return _exception(scope, round_id, None, services.cancel_and_store, _("Round cancelled."))


@bp.post("/dates/<uuid:round_id>/arrets/<uuid:stop_id>/sauter", endpoint="skip_stop")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def skip_stop(scope: Scope, round_id, stop_id):
    return _exception(scope, round_id, stop_id, services.skip_and_store, _("Stop skipped."))


@bp.post("/dates/<uuid:round_id>/arrets/<uuid:stop_id>/deplacer", endpoint="move_stop")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def move_stop(scope: Scope, round_id, stop_id):
    return _exception(scope, round_id, stop_id, services.move_and_store, _("Stop moved."))


@bp.post("/dates/<uuid:round_id>/arrets/<uuid:stop_id>/retablir", endpoint="restore_stop")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def restore_stop(scope: Scope, round_id, stop_id):
    """A skipped stop put back; a stale page (someone changed the stop since): 409."""
    session = db.session()
    try:
        services.restore_and_store(session, actor(), stop_id, request.form)
    except Conflict:
        return _round_page(round_id, status=409, conflict=True)
    except Invalid as invalid:
        if _unknown(invalid):
            return not_found()
        return _round_page(round_id, status=422, errors=field_errors(invalid), failed=stop_id)
    flash(_("Stop restored."), "success")
    return redirect(url_for("rounds.round", round_id=round_id))


ROUND_FIELDS = ("vehicle_id", "name", "kind", "day", "starts", "ends")


@bp.route("/dates/nouveau", methods=["GET", "POST"], endpoint="new_round")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def new_round(scope: Scope):
    """A one-off dated round made by hand (no template): a vehicle, a day, its hours."""
    session = db.session()
    values: dict[str, Any] = {"day": scope.day.isoformat(), "kind": "minibus"}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            made = services.make_round(session, actor(), scope.team_id, values)
        except Invalid as invalid:
            errors, status = field_errors(invalid), 422
        else:
            flash(_("Round made."), "success")
            return redirect(url_for("rounds.round", round_id=made.id))
    return _page(
        "rounds/record.html",
        status=status,
        kind="round",
        title=_("New one-off round"),
        record=None,
        values=values,
        errors=errors,
        **_form_options(session, scope.team_id, None),
    )


@bp.post("/dates/<uuid:round_id>/reoptimiser", endpoint="reoptimise")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def reoptimise(scope: Scope, round_id):
    session = db.session()
    try:
        done = services.reoptimise_and_store(session, actor(), round_id, seconds=REOPTIMISE_SECONDS)
    except Invalid as invalid:
        if _unknown(invalid):
            return not_found()
        return _round_page(round_id, status=422, errors=field_errors(invalid))
    return _round_page(round_id, reoptimised=done)


# --- Meals: weekly orders, the cut-off rule, cancelling, the kitchen, delivery sheets --------


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


@bp.route("/repas/semaine", methods=["GET", "POST"], endpoint="weekly")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def weekly(scope: Scope):
    """Households' weekly orders with their form, and the cut-off rule with its form."""
    team_id = scope.team_id
    session = db.session()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"starts_on": scope.day.isoformat(), "meals": "1"}
    rule_errors: dict[str, str] = {}
    rule_values: dict[str, Any] = {"applies_from": (scope.day + timedelta(days=2)).isoformat()}
    status = 200
    if request.method == "POST":
        form = request.form.to_dict()
        form["weekdays"] = request.form.getlist("weekdays")
        try:
            if request.form.get("form") == "rule":
                rule_values = form
                services.save_meal_rule(session, actor(), team_id, form)
                flash(_("Cut-off rule saved."), "success")
            else:
                values = form
                services.save_weekly(session, actor(), team_id, form)
                flash(_("Weekly order saved."), "success")
        except Invalid as invalid:
            status = 422
            if request.form.get("form") == "rule":
                rule_errors = field_errors(invalid)
            else:
                errors = field_errors(invalid)
        else:
            return redirect(url_for("rounds.weekly"))
    return _page(
        "rounds/weekly.html",
        status=status,
        day=scope.day,
        values=values,
        errors=errors,
        rule_values=rule_values,
        rule_errors=rule_errors,
        weekly=services.weekly_orders(session, team_id),
        rules=services.rules(session, team_id),
        rule=services.rule_for(session, team_id, scope.day),
        weekday_labels=WEEKDAY_LABELS,
        weekday_options=[(str(n), label) for n, label in enumerate(WEEKDAY_LABELS)],
        order_days=ORDER_DAYS,
    )


WEEKLY_FIELDS = (
    "household", "address", "postcode", "city", "latitude", "longitude", "meals", "diet",
    "instructions", "window_start", "window_end", "starts_on", "ends_on",
)  # fmt: skip


def _weekly_page(scope: Scope, weekly_id, *, status=200, values=None, errors=None, **context):
    session = db.session()
    try:
        found = services.weekly_of(session, actor(), weekly_id)
    except Invalid:
        return not_found()
    shown = _values(found, WEEKLY_FIELDS) | {"weekdays": found.weekdays.split(",")}
    return _page(
        "rounds/weekly_order.html",
        status=status,
        weekly=found,
        pauses=services.pauses_of(session, found.team_id).get(found.id, []),
        values=values if values is not None else shown,
        errors=errors or {},
        end_values=context.pop("end_values", {"ends_on": (found.ends_on or scope.day).isoformat()}),
        end_errors=context.pop("end_errors", {}),
        conflict=context.pop("conflict", False),
        weekday_options=[(str(n), label) for n, label in enumerate(WEEKDAY_LABELS)],
    )


def _followed_message(done) -> str:
    return _(
        "Saved. Orders already made: %(changed)s changed, %(cancelled)s cancelled, "
        "%(kept)s kept (past their cut-off).",
        changed=done.changed,
        cancelled=done.cancelled,
        kept=done.kept,
    )


@bp.route("/repas/semaine/<uuid:weekly_id>", methods=["GET", "POST"], endpoint="weekly_order")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def weekly_order(scope: Scope, weekly_id):
    """A weekly order's page: change it (a stale form: 409) or end it."""
    if request.method == "GET":
        return _weekly_page(scope, weekly_id)
    form = request.form.to_dict()
    form["weekdays"] = request.form.getlist("weekdays")
    try:
        _saved, done = services.save_weekly_change(db.session(), actor(), weekly_id, form)
    except Conflict:
        return _weekly_page(scope, weekly_id, status=409, conflict=True)
    except Invalid as invalid:
        if _unknown(invalid):
            return not_found()
        return _weekly_page(scope, weekly_id, status=422, values=form, errors=field_errors(invalid))
    flash(_followed_message(done), "success")
    return redirect(url_for("rounds.weekly_order", weekly_id=weekly_id))


@bp.post("/repas/semaine/<uuid:weekly_id>/fin", endpoint="end_weekly")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def end_weekly(scope: Scope, weekly_id):
    form = request.form.to_dict()
    try:
        _saved, done = services.end_and_store_weekly(db.session(), actor(), weekly_id, form)
    except Conflict:
        return _weekly_page(scope, weekly_id, status=409, conflict=True)
    except Invalid as invalid:
        if _unknown(invalid):
            return not_found()
        return _weekly_page(
            scope, weekly_id, status=422, end_values=form, end_errors=field_errors(invalid)
        )
    flash(_followed_message(done), "success")
    return redirect(url_for("rounds.weekly_order", weekly_id=weekly_id))


@bp.post("/repas/commandes", endpoint="make_orders")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def make_orders(scope: Scope):
    team_id = scope.team_id
    first = clock.parse_day(request.form.get("jour") or "") or scope.day
    done = services.make_and_store_orders(db.session(), actor(), team_id, first, ORDER_DAYS)
    flash(
        _("Orders made: %(created)s new, %(existing)s already there.",
          created=done.created, existing=done.existing),
        "success",
    )  # fmt: skip
    return redirect(url_for("rounds.weekly"))


@bp.post("/repas/commandes/<order_id>/annuler", endpoint="cancel_order")
@requires(Permission.ROUNDS_MANAGE)
def cancel_order(order_id: str):
    """The former address of the meals list's Cancel button: the same POST goes on to the
    one cancellation (308 keeps the method and the form), back to the day's list."""
    found = _uuid(order_id)
    if found is None:
        return not_found()
    return redirect(url_for("rounds.cancel_meal", order_id=found, retour="jour"), code=308)


@bp.get("/cuisine", endpoint="kitchen")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def kitchen(scope: Scope):
    """The kitchen's production list of a delivery day by diet, and the day's meal rounds
    with their delivery sheets."""
    team_id = scope.team_id
    session = db.session()
    day = scope.day
    return _page(
        "rounds/kitchen.html",
        day=day,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        kitchen=services.kitchen_list(session, team_id, day),
        cutoff_local=clock.to_local(services.cutoff_of(session, team_id, day)),
        meal_rounds=services.meal_rounds(session, team_id, day),
    )


@bp.get("/repas/feuille/<round_id>", endpoint="delivery_sheet")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def delivery_sheet(scope: Scope, round_id: str):
    """A meal round's printable delivery sheet (names and addresses: the crew's paper)."""
    try:
        dated, lines = services.delivery_sheet(db.session(), actor(), _uuid(round_id))
    except Invalid:
        return not_found()
    orders = {o.id: o for o in services.meal_orders(db.session(), dated.team_id, dated.day)}
    return _page("rounds/sheet.html", dated=dated, lines=lines, orders=orders)


# --- Indicators and the meals delivered per household (billing) ----------------------------


def _month() -> date:
    raw = request.args.get("mois") or ""
    today = clock.to_local(clock.now()).date()
    return clock.parse_month(raw) or today.replace(day=1)


def _drill_day() -> date | None:
    """The day of the indicators' drill-down (`?jour=`), None for the whole month."""
    return clock.parse_day(request.args.get("jour") or "")


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def _indicator_table(lines, first: str = "") -> tuple[list[str], list[list[Any]]]:
    header = [
        first or _("Round"),
        _("Rounds held"),
        _("Rounds cancelled"),
        _("Stops held"),
        _("Stops skipped"),
        _("People seen"),
        _("People per stop"),
        *[str(DIET_LABELS[diet]) for diet in DIETS],
        _("Meals delivered"),
        _("Rides done"),
        _("No-shows"),
        _("Median lateness (min)"),
        _("Worst lateness (min)"),
        _("Kilometres"),
        _("Appointments kept at the stops"),
        _("Appointment no-shows"),
        _("Appointments cancelled"),
    ]
    rows = [
        [
            line.name,
            line.rounds_held,
            line.rounds_cancelled,
            line.stops_held,
            line.stops_skipped,
            line.people_seen,
            line.people_per_stop,
            *[line.meals_by_diet.get(diet, 0) for diet in DIETS],
            line.meals,
            line.rides_done,
            line.no_shows,
            line.lateness_median,
            line.lateness_worst,
            line.km,
            line.appointments.kept,
            line.appointments.no_show,
            line.appointments.cancelled,
        ]
        for line in lines
    ]
    return header, rows


@bp.get("/indicateurs", endpoint="indicators")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def indicators(scope: Scope):
    """A month's indicators per round and its days (each a link to the day's lines), or
    one day's lines (`?jour=`, the drill-down)."""
    team_id = scope.team_id
    session = db.session()
    drill = _drill_day()
    month = drill.replace(day=1) if drill else _month()
    lines, daily = services.indicators_view(session, team_id, month, drill)
    header, rows = _indicator_table(lines)
    period = f"{drill:%d/%m/%Y}" if drill else f"{month:%m/%Y}"
    title = _("Meals delivered per round, %(month)s", month=period)
    chart = charts.bars("chart-rounds-meals", title, [(line.name, line.meals) for line in lines])
    late_title = _("Worst lateness per round (minutes), %(month)s", month=period)
    late_chart = charts.bars(
        "chart-rounds-lateness",
        late_title,
        [(line.name, line.lateness_worst or 0) for line in lines],
    )
    days_header, day_rows = _indicator_table(daily, _("Day"))
    days = [(date.fromisoformat(line.name), row) for line, row in zip(daily, day_rows, strict=True)]
    return _page(
        "rounds/indicators.html",
        month=month,
        drill=drill,
        period=period,
        previous=(month - timedelta(days=1)).replace(day=1),
        following=(month + timedelta(days=32)).replace(day=1),
        header=header,
        rows=rows,
        days_header=days_header,
        days=days,
        chart=chart,
        late_chart=late_chart,
        number=_number,
        current_tab="rounds.indicators",
    )


@bp.get("/indicateurs.<extension>", endpoint="indicators_file")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def indicators_file(scope: Scope, extension: str):
    """The indicators as CSV or XLSX, of the month or of the drill-down's day (`?jour=`)
    (figures only, no person named: not audited)."""
    if extension not in ("csv", "xlsx"):
        return not_found()
    team_id = scope.team_id
    drill = _drill_day()
    month = drill.replace(day=1) if drill else _month()
    lines = services.month_indicators(db.session(), team_id, month, day=drill)
    header, rows = _indicator_table(lines)
    period = f"{drill:%Y-%m-%d}" if drill else f"{month:%Y-%m}"
    name = f"terrain-tournees-indicateurs-{period}.{extension}"
    if extension == "csv":
        return csv_response(name, header, rows)
    return xlsx_response(name, header, rows, title=period)


@bp.get("/repas/livres.<extension>", endpoint="delivered_file")
@requires(Permission.ROUNDS_MANAGE)
@coordinated
def delivered_file(scope: Scope, extension: str):
    """Meals delivered per household in a month, for billing: it names households, so the
    download is audited."""
    if extension not in ("csv", "xlsx"):
        return not_found()
    team_id = scope.team_id
    month = _month()
    session = db.session()
    lines = services.export_meals_delivered(session, actor(), team_id, month, extension)
    header = [
        _("Household"),
        _("Address"),
        *[str(DIET_LABELS[diet]) for diet in DIETS],
        _("Meals delivered"),
        _("Deliveries"),
    ]
    rows = [
        [
            line.household,
            line.address,
            *[line.by_diet.get(diet, 0) for diet in DIETS],
            line.meals,
            line.deliveries,
        ]
        for line in lines
    ]
    name = f"terrain-repas-livres-{month:%Y-%m}.{extension}"
    if extension == "csv":
        return csv_response(name, header, rows)
    return xlsx_response(name, header, rows, title=f"{month:%Y-%m}")


# --- A minibus stop and its appointments place (coordinator, or the CPAS's administrator) --


def _places_page(status: int = 200, **context: Any):
    """The stops the user may link, each with its place; none (another team, another
    role): 404 like an unknown page."""
    found = services.stop_places(db.session(), actor())
    if not found:
        return not_found()
    return render(
        "rounds/places.html",
        status=status,
        tabs=visible_tabs(TABS),
        found=found,
        errors=context.pop("errors", {}),
        values=context.pop("values", {}),
        **context,
    )


@bp.get("/lieux", endpoint="places")
@requires(Permission.APPOINTMENTS_SETUP)
def stop_places():
    return _places_page()


def _place_change(change, success: str):
    """Link or unlink: refused → the page with the sentence next to the stop (422),
    nothing saved; a stop out of reach → 404."""
    values = request.form.to_dict()
    try:
        done = change(db.session(), actor(), values)
    except Invalid as invalid:
        if _unknown(invalid) or "team_id" in invalid.errors:
            return not_found()
        return _places_page(
            422, errors=field_errors(invalid), values=values, failed=values.get("stop_id")
        )
    if isinstance(done, list) and done:  # linked, and the new hours leave bookings out
        return _places_page(
            saved=success, stranded=_stranded_lines(done), linked=values.get("stop_id")
        )
    flash(success, "success")
    return redirect(url_for("rounds.places"))


def _stranded_lines(stranded) -> list[dict[str, Any]]:
    """Each stranded appointment as its local moment and its desk day's link, in time
    order; never who."""
    return [
        {
            "moment": clock.to_local(item.start_at),
            "url": desk_day_url(item.location_code, item.day),
        }
        for item in sorted(stranded, key=lambda item: item.start_at)
    ]


@bp.post("/lieux/lier", endpoint="link_place")
@requires(Permission.APPOINTMENTS_SETUP)
def link_place():
    return _place_change(services.link_and_store, _("The stop is now its appointments place."))


@bp.post("/lieux/delier", endpoint="unlink_place")
@requires(Permission.APPOINTMENTS_SETUP)
def unlink_place():
    return _place_change(
        services.unlink_and_store, _("The stop is no longer an appointments place.")
    )
