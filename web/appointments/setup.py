"""Appointment settings (back office) and the monthly indicators, at /parametres/rendez-vous.

Tabs: services, places (antennes and stops, opening hours), working plans, closures,
absences, indicators (with CSV and XLSX downloads). Every form posts to the view that
shows it; on a field error the page comes back with status 422, the sentences next to
the fields and nothing saved. A change that leaves booked appointments outside an
agent's time is saved, and the page that follows lists those appointments per day and
place with a link to the reception desk: nothing is cancelled silently. The rules are
in appointments/setup.py and appointments/indicators.py; these views only parse and
render.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from babel.dates import get_day_names
from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import format_date, format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from appointments import indicators, scope, setup, sharing
from appointments.models import (
    BOOKING_MODES,
    LOCATION_KINDS,
    Location,
    Service,
)
from core import clock
from core.accounts import User
from core.errors import FieldError, Invalid
from core.roles import Permission
from web import db
from web.common import Tab, desk_day_url, national, visible_tabs
from web.exports import csv_response, xlsx_response
from web.permissions import requires
from web.rendering import render
from web.validation import message as error_message

bp = Blueprint("appointments_setup", __name__, url_prefix="/parametres/rendez-vous")

BOOKING_MODE_LABELS = {
    "online": _l("Online, by phone or at the desk"),
    "phone": _l("By phone or at the desk only"),
    "walk_in": _l("Without appointment (walk-in only)"),
}
KIND_LABELS = {"antenne": _l("Antenne sociale"), "mobile_stop": _l("Stop of the mobile service")}
ABSENCE_LABELS = {
    "leave": _l("Leave"),
    "training": _l("Training"),
    "illness": _l("Illness"),
    "other": _l("Other"),
}
# Each language in its own name (the page marks them with lang="…").
SERVICE_LANGUAGE_NAMES = {
    "fr": "Français",
    "nl": "Nederlands",
    "en": "English",
    "de": "Deutsch",
    "ar": "العربية",
    "tr": "Türkçe",
    "es": "Español",
    "pt": "Português",
    "it": "Italiano",
    "ro": "Română",
    "pl": "Polski",
    "ru": "Русский",
    "uk": "Українська",
}


TABS = [
    Tab("appointments_setup.services", _l("Services"), Permission.APPOINTMENTS_SETUP),
    Tab("appointments_setup.locations", _l("Places"), Permission.APPOINTMENTS_SETUP),
    Tab("appointments_setup.plans", _l("Working plans"), Permission.APPOINTMENTS_SETUP),
    Tab("appointments_setup.closures", _l("Closures"), Permission.APPOINTMENTS_SETUP),
    Tab("appointments_setup.absences", _l("Absences"), Permission.APPOINTMENTS_SETUP),
    Tab("appointments_setup.indicators", _l("Indicators"), Permission.APPOINTMENTS_REPORTS),
]


def setup_tabs() -> list[Tab]:
    return visible_tabs(TABS)


def weekday_names() -> dict[int, str]:
    names = get_day_names("wide", locale=str(get_locale()))
    return {day: str(names[day]).capitalize() for day in range(7)}


@bp.app_template_filter("plain_date")
def plain_date(day: date | None, format: str = "full") -> str:
    """A calendar day (no time, no zone) in the page's language."""
    return "" if day is None else format_date(day, format)


@bp.app_context_processor
def _setup_context() -> dict[str, Any]:
    return {
        "setup_tabs": setup_tabs,
        "BOOKING_MODE_LABELS": BOOKING_MODE_LABELS,
        "KIND_LABELS": KIND_LABELS,
        "ABSENCE_LABELS": ABSENCE_LABELS,
        "SERVICE_LANGUAGE_NAMES": SERVICE_LANGUAGE_NAMES,
    }


# --- Helpers ---------------------------------------------------------------------------------


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _errors(invalid: Invalid) -> dict[str, str]:
    return {name: error_message(error) for name, error in invalid.errors.items()}


def _not_found():
    return render("errors/error.html", status=404, code=404)


MULTIPLE = ("languages", "locations", "agents", "weekdays")  # the form's checkbox lists


MAX_FORM_TEXT = 4000


def _form() -> dict[str, Any]:
    """The posted form: lists for the multiple choices. Text is cut only far beyond every
    field's limit (MAX_FORM_TEXT), so too long a text is refused with a message, never
    silently shortened."""
    values: dict[str, Any] = {}
    for name in request.form:
        if name == "csrf_token":
            continue
        items = [value[:MAX_FORM_TEXT] for value in request.form.getlist(name)]
        values[name] = (
            items if name in ("languages", "locations", "agents", "weekdays") else items[0]
        )
    return values


def _after_change(stranded: list[setup.Stranded], back: str, saved: str):
    """Saved: go back with a flash, or list the stranded appointments."""
    session = db.session()
    if not stranded:
        flash(saved, "success")
        return redirect(back)
    names = {location.code: location.name for location in setup.list_locations(session, _actor())}
    per_day = Counter((item.location_code, item.day) for item in stranded)
    groups = [
        {
            "location": names.get(code, code),
            "day": day,
            "count": count,
            "url": desk_day_url(code, day),
        }
        for (code, day), count in sorted(per_day.items(), key=lambda pair: (pair[0][1], pair[0][0]))
    ]
    return render(
        "appointments/setup/stranded.html",
        saved=saved,
        total=len(stranded),
        groups=groups,
        back=back,
    )


# --- Services --------------------------------------------------------------------------------


@bp.get("/", endpoint="index")
@requires(Permission.APPOINTMENTS_SETUP)
def index():
    return redirect(url_for("appointments_setup.services"))


@bp.get("/services", endpoint="services")
@requires(Permission.APPOINTMENTS_SETUP)
def services_page():
    overview = setup.services_overview(db.session(), _actor())
    services = [item.service for item in overview]
    offers = {
        item.service.id: {"locations": item.locations, "agents": item.agents} for item in overview
    }
    return render("appointments/setup/services.html", services=services, offers=offers)


def _service_values(service: Service | None) -> dict[str, Any]:
    if service is None:
        return {
            "code": "",
            "name_fr": "",
            "name_nl": "",
            "name_en": "",
            "duration_minutes": "30",
            "buffer_minutes": "0",
            "booking_mode": "online",
            "languages": ["fr", "nl"],
            "min_notice_hours": "2",
            "max_horizon_days": "56",
            "reminder_day_before_at": "17:00",
            "reminder_hours_before": "2",
            "active": "1",
            "bring_fr": "",
            "bring_nl": "",
            "bring_en": "",
        }
    return {
        "code": service.code,
        "name_fr": service.name_fr,
        "name_nl": service.name_nl,
        "name_en": "" if service.name_en == service.name_fr else service.name_en,
        "duration_minutes": str(service.duration_minutes),
        "buffer_minutes": str(service.buffer_minutes),
        "booking_mode": service.booking_mode,
        "languages": list(service.languages or []),
        "min_notice_hours": str(service.min_notice_hours),
        "max_horizon_days": str(service.max_horizon_days),
        "reminder_day_before_at": (
            f"{service.reminder_day_before_at:%H:%M}" if service.reminder_day_before_at else ""
        ),
        "reminder_hours_before": (
            "" if service.reminder_hours_before is None else str(service.reminder_hours_before)
        ),
        "active": "1" if service.active else "",
        "bring_fr": service.bring_fr,
        "bring_nl": service.bring_nl,
        "bring_en": service.bring_en,
    }


def _service_form(service: Service | None, values, *, errors=None, offer=None, status=200):
    page = setup.service_form_page(db.session(), service, actor=_actor())
    if offer is None and service is not None:
        offer = {
            "locations": [str(i) for i in page.offer_location_ids or []],
            "agents": [str(i) for i in page.offer_agent_ids or []],
        }
    return render(
        "appointments/setup/service_form.html",
        service=service,
        values=values,
        offer=offer or {"locations": [], "agents": []},
        errors=errors or {},
        mode_options=[(mode, BOOKING_MODE_LABELS[mode]) for mode in BOOKING_MODES],
        language_options=[
            (code, SERVICE_LANGUAGE_NAMES[code], code) for code in setup.SERVICE_LANGUAGES
        ],
        location_options=[(location.id, location.name, None) for location in page.locations],
        agent_options=[(user.id, user.display_name, None) for user in page.agents],
        # The languages the CPAS's regime requires for the name (docs/cpas.md).
        name_languages=page.name_languages,
        status=status,
    )


@bp.route("/services/nouveau", methods=["GET", "POST"])
@requires(Permission.APPOINTMENTS_SETUP)
def new_service():
    if request.method == "GET":
        return _service_form(None, _service_values(None))
    values = {"active": "", **_form()}
    try:
        service = setup.committed(db.session(), setup.create_service, values, actor=_actor())
    except Invalid as invalid:
        return _service_form(None, values, errors=_errors(invalid), status=422)
    flash(_("Service created. Now choose where it is offered and who delivers it."), "success")
    return redirect(url_for("appointments_setup.edit_service", service_id=service.id) + "#offer")


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@requires(Permission.APPOINTMENTS_SETUP)
def edit_service(service_id: int):
    session = db.session()
    service = setup.service_by_id(session, service_id, _actor())
    if service is None:
        return _not_found()
    if request.method == "GET":
        return _service_form(service, _service_values(service))
    values = {"active": "", **_form(), "code": service.code}
    try:
        stranded = setup.committed(session, setup.update_service, service, values, actor=_actor())
    except Invalid as invalid:
        service = setup.service_by_id(session, service_id, _actor())
        return _service_form(service, values, errors=_errors(invalid), status=422)
    back = url_for("appointments_setup.services")
    return _after_change(stranded, back, _("Service saved."))


@bp.post("/services/<int:service_id>/offre")
@requires(Permission.APPOINTMENTS_SETUP)
def service_offer(service_id: int):
    session = db.session()
    service = setup.service_by_id(session, service_id, _actor())
    if service is None:
        return _not_found()
    offer = {
        "locations": request.form.getlist("locations"),
        "agents": request.form.getlist("agents"),
    }
    try:
        stranded = setup.committed(
            session,
            setup.set_service_offer,
            service,
            location_ids=offer["locations"],
            agent_ids=offer["agents"],
            actor=_actor(),
        )
    except Invalid as invalid:
        service = setup.service_by_id(session, service_id, _actor())
        return _service_form(
            service, _service_values(service), errors=_errors(invalid), offer=offer, status=422
        )
    back = url_for("appointments_setup.edit_service", service_id=service_id)
    return _after_change(stranded, back, _("Places and agents saved."))


@bp.post("/services/<int:service_id>/supprimer")
@requires(Permission.APPOINTMENTS_SETUP)
def remove_service(service_id: int):
    session = db.session()
    service = setup.service_by_id(session, service_id, _actor())
    if service is None:
        return _not_found()
    try:
        outcome = setup.committed(session, setup.remove_service, service, actor=_actor())
    except Invalid as invalid:  # a shared service: not this CPAS's to remove
        flash(" ".join(_errors(invalid).values()), "error")
        return redirect(url_for("appointments_setup.edit_service", service_id=service_id))
    if outcome == "deleted":
        flash(_("Service deleted."), "success")
    else:
        flash(
            _("This service has appointments: it is deactivated, its history is kept."),
            "warning",
        )
    return redirect(url_for("appointments_setup.services"))


# --- Shared services (of no CPAS): the platform administrator gives or splits them -------


def _shared_page(errors: dict[int, str] | None = None, status: int = 200):
    page = sharing.shared_services(db.session(), _actor())
    if page is None:
        return _not_found()
    return render(
        "appointments/setup/shared_services.html",
        page=page,
        errors=errors or {},
        status=status,
    )


@bp.get("/services-partages", endpoint="shared_services")
@requires(Permission.APPOINTMENTS_SETUP)
def shared_services_page():
    return _shared_page()


def _share(service_id: int, change, *args: Any, done: str):
    session = db.session()
    service = sharing.shared_service(session, service_id, _actor())
    if service is None:
        return _not_found()
    try:
        setup.committed(session, change, service, *args, actor=_actor())
    except Invalid as invalid:
        return _shared_page({service_id: " ".join(_errors(invalid).values())}, status=422)
    flash(done, "success")
    return redirect(url_for("appointments_setup.shared_services"))


@bp.post("/services-partages/<int:service_id>/cpas")
@requires(Permission.APPOINTMENTS_SETUP)
def give_shared_service(service_id: int):
    cpas_code = request.form.get("cpas", "")[:40]
    return _share(
        service_id, sharing.give_cpas, cpas_code, done=_("The service is its CPAS's now.")
    )


@bp.post("/services-partages/<int:service_id>/scinder")
@requires(Permission.APPOINTMENTS_SETUP)
def split_shared_service(service_id: int):
    return _share(
        service_id,
        sharing.split_service,
        done=_(
            "The service is split: each CPAS has its own copy, with its places, agents "
            "and appointments."
        ),
    )


# --- Places ---------------------------------------------------------------------------------


@bp.get("/lieux", endpoint="locations")
@requires(Permission.APPOINTMENTS_SETUP)
def locations_page():
    session = db.session()
    locations = scope.visible_locations(session, _actor())
    return render(
        "appointments/setup/locations.html",
        locations=locations,
        hours={location.id: setup.opening_hours(location) for location in locations},
        weekdays=weekday_names(),
        format_stretches=setup.format_stretches,
    )


def _location_values(location: Location | None) -> dict[str, Any]:
    if location is None:
        values = {
            name: ""
            for name in (
                "code",
                "name",
                "name_nl",
                "address",
                "address_nl",
                "city_nl",
                "postcode",
                "city",
                "phone",
                "latitude",
                "longitude",
            )
        }
        values.update({"kind": "antenne", "team_id": ""})
        values.update({f"hours_{day}": "" for day in range(7)})
        return values
    hours = setup.opening_hours(location)
    return {
        "code": location.code,
        "name": location.name,
        "name_nl": location.name_nl,
        "kind": location.kind,
        "address": location.address,
        "address_nl": location.address_nl,
        "postcode": location.postcode,
        "city": location.city,
        "city_nl": location.city_nl,
        "phone": national(location.phone) if location.phone else "",
        "latitude": "" if location.latitude is None else str(location.latitude),
        "longitude": "" if location.longitude is None else str(location.longitude),
        "team_id": "" if location.team_id is None else str(location.team_id),
        **{f"hours_{day}": setup.format_stretches(hours[day]) for day in range(7)},
    }


def _location_form(location: Location | None, values, *, errors=None, status=200):
    return render(
        "appointments/setup/location_form.html",
        location=location,
        values=values,
        errors=errors or {},
        kind_options=[(kind, KIND_LABELS[kind]) for kind in LOCATION_KINDS],
        team_options=[(team.id, team.name) for team in scope.teams_offered(db.session(), _actor())],
        weekdays=weekday_names(),
        status=status,
    )


def _check_team(values: dict[str, Any]) -> None:
    """A team of another CPAS is refused as an unknown one."""
    raw = str(values.get("team_id") or "").strip()
    offered = {str(team.id) for team in scope.teams_offered(db.session(), _actor())}
    if raw and raw not in offered:
        raise Invalid({"team_id": FieldError("unknown_choice")})


@bp.route("/lieux/nouveau", methods=["GET", "POST"])
@requires(Permission.APPOINTMENTS_SETUP)
def new_location():
    if request.method == "GET":
        return _location_form(None, _location_values(None))
    values = _form()
    try:
        _check_team(values)
        setup.committed(db.session(), setup.create_location, values, actor=_actor())
    except Invalid as invalid:
        return _location_form(None, values, errors=_errors(invalid), status=422)
    flash(_("Place created. Offer services there from the Services tab."), "success")
    return redirect(url_for("appointments_setup.locations"))


@bp.route("/lieux/<int:location_id>", methods=["GET", "POST"])
@requires(Permission.APPOINTMENTS_SETUP)
def edit_location(location_id: int):
    session = db.session()
    location = scope.scoped_location_by_id(session, _actor(), location_id)
    if location is None:
        return _not_found()
    if request.method == "GET":
        return _location_form(location, _location_values(location))
    values = {**_form(), "code": location.code}
    try:
        _check_team(values)
        stranded = setup.committed(session, setup.update_location, location, values, actor=_actor())
    except Invalid as invalid:
        location = setup.location_by_id(session, location_id)
        return _location_form(location, values, errors=_errors(invalid), status=422)
    return _after_change(stranded, url_for("appointments_setup.locations"), _("Place saved."))


# --- Working plans --------------------------------------------------------------------------


def _plans_page(values=None, *, errors=None, status=200):
    today = clock.to_local(clock.now()).date()
    page = setup.plans_page(db.session(), today, _actor())
    return render(
        "appointments/setup/plans.html",
        grouped=page.plans,
        names={location.id: location.name for location in page.locations},
        location_choices=[(location.id, location.name) for location in page.locations],
        agent_choices=[(user.id, user.display_name) for user in page.agents],
        weekdays=weekday_names(),
        weekday_options=[(day, name, None) for day, name in weekday_names().items()],
        values=values
        or {
            "user_id": "",
            "location_id": "",
            "weekdays": [],
            "starts": "",
            "ends": "",
            "valid_from": today.isoformat(),
            "valid_until": "",
        },
        errors=errors or {},
        status=status,
    )


@bp.route("/plannings", methods=["GET", "POST"], endpoint="plans")
@requires(Permission.APPOINTMENTS_SETUP)
def plans_page():
    if request.method == "GET":
        return _plans_page()
    values = {"weekdays": [], **_form()}
    try:
        setup.committed(db.session(), setup.add_plan, values, actor=_actor())
    except Invalid as invalid:
        return _plans_page(values, errors=_errors(invalid), status=422)
    flash(_("Working plan added."), "success")
    return redirect(url_for("appointments_setup.plans"))


@bp.route("/plannings/<int:plan_id>/fin", methods=["GET", "POST"])
@requires(Permission.APPOINTMENTS_SETUP)
def end_plan(plan_id: int):
    session = db.session()
    details = setup.plan_details(session, plan_id, _actor())
    if details is None:
        return _not_found()
    today = clock.to_local(clock.now()).date()
    errors: dict[str, str] = {}
    last_day = request.form.get("last_day", "")[:20] if request.method == "POST" else ""
    if request.method == "POST":
        try:
            stranded = setup.committed(
                session, setup.end_plan, details.plan, last_day, actor=_actor()
            )
        except Invalid as invalid:
            errors = _errors(invalid)
            details = setup.plan_details(session, plan_id, _actor())
            assert details is not None
        else:
            return _after_change(
                stranded, url_for("appointments_setup.plans"), _("Working plan ended.")
            )
    return render(
        "appointments/setup/plan_end.html",
        plan=details.plan,
        agent=details.agent,
        location=details.location,
        weekdays=weekday_names(),
        last_day=last_day or today.isoformat(),
        errors=errors,
        status=422 if errors else 200,
    )


# --- Closures and absences ------------------------------------------------------------------


def _closures_page(values=None, *, errors=None, status=200):
    page = setup.closures_page(db.session(), _actor())
    return render(
        "appointments/setup/closures.html",
        closures=page.closures,
        names={location.id: location.name for location in page.locations},
        location_choices=[(location.id, location.name) for location in page.locations],
        values=values or {"location_id": "", "first_day": "", "last_day": "", "reason": ""},
        errors=errors or {},
        status=status,
    )


def _add_then_back(add: Any, page: Any, endpoint: str, done: str):
    """A closure's or an absence's form posted: added (with the appointments it strands
    listed), or the page again with the errors and nothing saved."""
    values = _form()
    try:
        _record, stranded = setup.committed(db.session(), add, values, actor=_actor())
    except Invalid as invalid:
        return page(values, errors=_errors(invalid), status=422)
    return _after_change(stranded, url_for(endpoint), done)


def _remove_then_back(find: Any, record_id: int, remove: Any, endpoint: str, done: str):
    session = db.session()
    record = find(session, record_id, _actor())
    if record is None:
        return _not_found()
    setup.committed(session, remove, record, actor=_actor())
    flash(done, "success")
    return redirect(url_for(endpoint))


@bp.route("/fermetures", methods=["GET", "POST"], endpoint="closures")
@requires(Permission.APPOINTMENTS_SETUP)
def closures_page():
    if request.method == "GET":
        return _closures_page()
    return _add_then_back(
        setup.add_closure, _closures_page, "appointments_setup.closures", _("Closure added.")
    )


@bp.post("/fermetures/<int:closure_id>/supprimer")
@requires(Permission.APPOINTMENTS_SETUP)
def remove_closure(closure_id: int):
    return _remove_then_back(
        setup.closure_by_id,
        closure_id,
        setup.remove_closure,
        "appointments_setup.closures",
        _("Closure removed: the days can be booked again."),
    )


def _absences_page(values=None, *, errors=None, status=200):
    page = setup.absences_page(db.session(), _actor())
    return render(
        "appointments/setup/absences.html",
        absences=page.absences,
        names={user.id: user.display_name for user in page.agents},
        agent_choices=[(user.id, user.display_name) for user in page.agents],
        reason_choices=[(reason, ABSENCE_LABELS[reason]) for reason in setup.ABSENCE_REASONS],
        values=values or {"user_id": "", "starts": "", "ends": "", "reason": "leave"},
        errors=errors or {},
        status=status,
    )


@bp.route("/absences", methods=["GET", "POST"], endpoint="absences")
@requires(Permission.APPOINTMENTS_SETUP)
def absences_page():
    if request.method == "GET":
        return _absences_page()
    return _add_then_back(
        setup.add_absence, _absences_page, "appointments_setup.absences", _("Absence added.")
    )


@bp.post("/absences/<int:absence_id>/supprimer")
@requires(Permission.APPOINTMENTS_SETUP)
def remove_absence(absence_id: int):
    return _remove_then_back(
        setup.absence_by_id,
        absence_id,
        setup.remove_absence,
        "appointments_setup.absences",
        _("Absence removed."),
    )


# --- Indicators -----------------------------------------------------------------------------


def _indicators() -> tuple[indicators.IndicatorsPage, dict[str, str], dict[str, str]]:
    """The month and filters from the query string, their figures, and their errors."""
    args = request.args
    errors: dict[str, str] = {}
    today = clock.to_local(clock.now()).date()
    month = today.replace(day=1)
    raw = args.get("month", "")
    if raw:
        parsed = clock.parse_month(raw)
        if parsed is None:
            errors["month"] = _("Choose a month like 2026-11.")
        else:
            month = parsed
    page = indicators.indicators_page(
        db.session(),
        month,
        viewer=_actor(),
        location_code=args.get("location", ""),
        service_code=args.get("service", ""),
    )
    for name in ("location", "service"):
        if name in page.unknown:
            errors[name] = error_message({"code": "unknown_choice"})
    kept = {
        "month": f"{month:%Y-%m}",
        "location": page.location.code if page.location else "",
        "service": page.service.code if page.service else "",
    }
    return page, errors, kept


def _minutes(value: float | None) -> str:
    return "—" if value is None else format_decimal(round(value, 1))


def _percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value)


@bp.get("/indicateurs", endpoint="indicators")
@requires(Permission.APPOINTMENTS_REPORTS)
def indicators_page():
    page, errors, kept = _indicators()
    result = page.result
    months = [(f"{month:%Y-%m}", format_date(month, "MMMM y")) for month in page.months]
    if kept["month"] not in {value for value, _label in months}:
        months.append((kept["month"], format_date(result.first_day, "MMMM y")))
    return render(
        "appointments/setup/indicators.html",
        result=result,
        errors=errors,
        kept=kept,
        months=months,
        month_label=format_date(result.first_day, "MMMM y"),
        location_options=[(location.code, location.name) for location in page.locations],
        service_options=[
            (service.code, service.name(str(get_locale()))) for service in page.services
        ],
        language=str(get_locale()),
        minutes=_minutes,
        percent=_percent,
        status=422 if errors else 200,
    )


def _table(result: indicators.MonthIndicators) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("Month"),
        _("Service"),
        _("Place"),
        _("Booked online"),
        _("Booked by phone"),
        _("Booked at the desk"),
        _("Booked"),
        _("Walk-ins"),
        _("Attended"),
        _("No-shows"),
        _("Cancelled by the person"),
        _("Cancelled by staff"),
        _("Cancelled by SMS reply"),
        _("Calls recorded"),
        _("Average wait (minutes)"),
        _("With a delivered reminder: attendance recorded"),
        _("With a delivered reminder: no-shows"),
        _("With a delivered reminder: no-show rate"),
        _("Without a reminder: attendance recorded"),
        _("Without a reminder: no-shows"),
        _("Without a reminder: no-show rate"),
    ]
    language = str(get_locale())
    month = f"{result.first_day:%Y-%m}"
    lines = [(row.service.name(language), row.location.name, row.figures) for row in result.rows]
    lines.append((_("Total"), "", result.total))
    rows = []
    for service_name, location_name, figures in lines:
        rows.append(
            [
                month,
                service_name,
                location_name,
                figures.booked_online,
                figures.booked_phone,
                figures.booked_desk,
                figures.booked,
                figures.walk_ins,
                figures.attended,
                figures.no_shows,
                figures.cancelled_person,
                figures.cancelled_staff,
                figures.cancelled_sms,
                figures.waits,
                _round(figures.average_wait, 1),
                figures.reminded_recorded,
                figures.reminded_no_shows,
                _round(figures.no_show_rate_reminded, 3),
                figures.unreminded_recorded,
                figures.unreminded_no_shows,
                _round(figures.no_show_rate_unreminded, 3),
            ]
        )
    return header, rows


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _filename(kept: dict[str, str], extension: str) -> str:
    parts = ["terrain-rendez-vous", kept["month"], kept["location"], kept["service"]]
    return "-".join(part for part in parts if part) + "." + extension


@bp.get("/indicateurs.csv")
@requires(Permission.APPOINTMENTS_REPORTS)
def indicators_csv():
    page, _errors_found, kept = _indicators()
    header, rows = _table(page.result)
    return csv_response(_filename(kept, "csv"), header, rows)


@bp.get("/indicateurs.xlsx")
@requires(Permission.APPOINTMENTS_REPORTS)
def indicators_xlsx():
    page, _errors_found, kept = _indicators()
    header, rows = _table(page.result)
    return xlsx_response(_filename(kept, "xlsx"), header, rows, title=kept["month"])
