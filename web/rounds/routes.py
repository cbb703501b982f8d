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

from core import clock
from core.errors import Invalid
from core.roles import Permission
from rounds import access, services
from rounds.models import DIETS
from web import charts, db
from web.common import Tab, actor, field_errors, not_found, visible_tabs
from web.exports import csv_response, xlsx_response
from web.permissions import requires
from web.rendering import render

bp = Blueprint("rounds", __name__, url_prefix="/tournees")

TABS = (
    Tab("rounds.index", _l("Minibus stops"), Permission.ROUNDS_MANAGE),
    Tab("rounds.meals", _l("Meal orders"), Permission.ROUNDS_MANAGE),
    Tab("rounds.rides", _l("Rides"), Permission.ROUNDS_MANAGE),
    Tab("rounds.plan", _l("Day's plan"), Permission.ROUNDS_MANAGE),
    Tab("rounds.weekly", _l("Weekly meals"), Permission.ROUNDS_MANAGE),
    Tab("rounds.kitchen", _l("Kitchen"), Permission.ROUNDS_MANAGE),
    Tab("rounds.indicators", _l("Indicators"), Permission.ROUNDS_MANAGE),
)
ORDER_DAYS = 14  # the weekly orders' button makes the coming two weeks' orders
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


# --- Meals: weekly orders, the cut-off rule, cancelling, the kitchen, delivery sheets --------


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


@bp.route("/repas/semaine", methods=["GET", "POST"], endpoint="weekly")
@requires(Permission.ROUNDS_MANAGE)
def weekly():
    """Households' weekly orders with their form, and the cut-off rule with its form."""
    team_id = _team()
    if team_id is None:
        return not_found()
    session = db.session()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"starts_on": _day().isoformat(), "meals": "1"}
    rule_errors: dict[str, str] = {}
    rule_values: dict[str, Any] = {"applies_from": (_day() + timedelta(days=2)).isoformat()}
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
        day=_day(),
        values=values,
        errors=errors,
        rule_values=rule_values,
        rule_errors=rule_errors,
        weekly=services.weekly_orders(session, team_id),
        rules=services.rules(session, team_id),
        rule=services.rule_for(session, team_id, _day()),
        weekday_labels=WEEKDAY_LABELS,
        weekday_options=[(str(n), label) for n, label in enumerate(WEEKDAY_LABELS)],
        order_days=ORDER_DAYS,
    )


WEEKDAY_LABELS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


@bp.post("/repas/commandes", endpoint="make_orders")
@requires(Permission.ROUNDS_MANAGE)
def make_orders():
    team_id = _team()
    if team_id is None:
        return not_found()
    first = clock.parse_day(request.form.get("jour") or "") or _day()
    done = services.make_and_store_orders(db.session(), actor(), team_id, first, ORDER_DAYS)
    flash(
        _("Orders made: %(created)s new, %(existing)s already there.",
          created=done.created, existing=done.existing),
        "success",
    )  # fmt: skip
    return redirect(url_for("rounds.weekly"))


@bp.post("/repas/<order_id>/annuler", endpoint="cancel_order")
@requires(Permission.ROUNDS_MANAGE)
def cancel_order(order_id: str):
    if _team() is None:
        return not_found()
    session = db.session()
    try:
        order = services.cancel_and_store_order(session, actor(), _uuid(order_id))
    except Invalid as invalid:
        if invalid.errors.get("order") and invalid.errors["order"].code == "unknown_order":
            return not_found()
        for sentence in field_errors(invalid).values():
            flash(sentence, "error")
        day = request.form.get("jour") or ""
        return redirect(url_for("rounds.meals", jour=day) if day else url_for("rounds.meals"))
    flash(_("Order cancelled: the kitchen will not prepare it."), "success")
    return redirect(url_for("rounds.meals", jour=order.day.isoformat()))


@bp.get("/cuisine", endpoint="kitchen")
@requires(Permission.ROUNDS_MANAGE)
def kitchen():
    """The kitchen's production list of a delivery day by diet, and the day's meal rounds
    with their delivery sheets."""
    team_id = _team()
    if team_id is None:
        return not_found()
    session = db.session()
    day = _day()
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
def delivery_sheet(round_id: str):
    """A meal round's printable delivery sheet (names and addresses: the crew's paper)."""
    if _team() is None:
        return not_found()
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


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def _indicator_table(lines) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("Round"),
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
        ]
        for line in lines
    ]
    return header, rows


@bp.get("/indicateurs", endpoint="indicators")
@requires(Permission.ROUNDS_MANAGE)
def indicators():
    team_id = _team()
    if team_id is None:
        return not_found()
    month = _month()
    lines = services.month_indicators(db.session(), team_id, month)
    header, rows = _indicator_table(lines)
    title = _("Meals delivered per round, %(month)s", month=f"{month:%m/%Y}")
    chart = charts.bars("chart-rounds-meals", title, [(line.name, line.meals) for line in lines])
    late_title = _("Worst lateness per round (minutes), %(month)s", month=f"{month:%m/%Y}")
    late_chart = charts.bars(
        "chart-rounds-lateness",
        late_title,
        [(line.name, line.lateness_worst or 0) for line in lines],
    )
    return _page(
        "rounds/indicators.html",
        month=month,
        previous=(month - timedelta(days=1)).replace(day=1),
        following=(month + timedelta(days=32)).replace(day=1),
        header=header,
        rows=rows,
        chart=chart,
        late_chart=late_chart,
        number=_number,
        current_tab="rounds.indicators",
    )


@bp.get("/indicateurs.<extension>", endpoint="indicators_file")
@requires(Permission.ROUNDS_MANAGE)
def indicators_file(extension: str):
    """The indicators as CSV or XLSX (figures only, no person named: not audited)."""
    team_id = _team()
    if team_id is None or extension not in ("csv", "xlsx"):
        return not_found()
    month = _month()
    header, rows = _indicator_table(services.month_indicators(db.session(), team_id, month))
    name = f"terrain-tournees-indicateurs-{month:%Y-%m}.{extension}"
    if extension == "csv":
        return csv_response(name, header, rows)
    return xlsx_response(name, header, rows, title=f"{month:%Y-%m}")


@bp.get("/repas/livres.<extension>", endpoint="delivered_file")
@requires(Permission.ROUNDS_MANAGE)
def delivered_file(extension: str):
    """Meals delivered per household in a month, for billing: it names households, so the
    download is audited."""
    team_id = _team()
    if team_id is None or extension not in ("csv", "xlsx"):
        return not_found()
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
