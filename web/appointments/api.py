"""The appointments API (shared/ARCHITECTURE.md, "Public contracts"), JSON under
/api/appointments:

- `GET /api/appointments/services?cpas=` (or `?postcode=`) (public): the bookable
  services of one CPAS and its locations offering them, names in the request's language;
- `GET /api/appointments/slots?cpas=&service=&location=&from=YYYY-MM-DD&days=n`
  (public): the free starts at a location of that CPAS, ISO 8601 with the Brussels
  offset, and how many more bookings each can take; lightly rate-limited per client
  address. `cpas` (a code) or `postcode` (a postcode or a commune, as the booking's
  first step) is required when the installation serves several CPAS: a public list
  never mixes CPAS (docs/appointments.md, "The API per CPAS");
- `POST /api/appointments` (staff session + X-CSRFToken): book a start for a person →
  201, 409 `slot_taken` with the next free starts, or 422 with field errors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from appointments import desk, online
from appointments import services as appointments
from appointments.booking import LANGUAGES, NAME_MAX
from appointments.models import Appointment
from core import clock
from core.accounts import get_user
from core.errors import FieldError, Invalid
from core.roles import Permission
from web import db, throttling
from web.common import page_language, public_base_url
from web.errors import api_error
from web.openapi import (
    BAD_REQUEST,
    CSRF_HEADER,
    ERROR,
    INVALID,
    INVALID_BODY,
    NOT_LOGGED_IN,
    RATE_LIMITED,
    TOO_LARGE,
    Answer,
    Body,
    Schema,
    api_operation,
    query,
)
from web.permissions import public, requires
from web.validation import errors_json

bp = Blueprint("appointments_api", __name__, url_prefix="/api/appointments")

MAX_DAYS = 56
DEFAULT_DAYS = 7
STAFF_SOURCES = ("phone", "desk")

# --- What /api/openapi.json says of these endpoints -------------------------------------

MOMENT = {"type": "string", "format": "date-time", "description": "Brussels offset"}
SLOT = Schema(
    "AppointmentSlot",
    {
        "type": "object",
        "required": ["start", "end", "free"],
        "properties": {
            "start": MOMENT,
            "end": MOMENT,
            "free": {"type": "integer", "minimum": 1, "description": "Bookings it can take"},
        },
    },
)
SERVICES = Schema(
    "AppointmentServices",
    {
        "type": "object",
        "properties": {
            "services": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "name", "locations"],
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "booking_mode": {"enum": ["online", "phone"]},
                        "duration_minutes": {"type": "integer"},
                        "locations": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "code": {"type": "string"},
                                    "name": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            }
        },
    },
)
SLOTS = Schema(
    "AppointmentSlots",
    {"type": "object", "properties": {"slots": {"type": "array", "items": SLOT}}},
)
BOOKING = Schema(
    "AppointmentRequest",
    {
        "type": "object",
        "required": ["service", "location", "start", "person"],
        "properties": {
            "service": {"type": "string", "example": "permanence-sociale"},
            "location": {"type": "string", "example": "bxl-marolles"},
            "start": {
                "type": "string",
                "format": "date-time",
                "description": "A start from the slots; without offset: Brussels time.",
            },
            "person": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "maxLength": NAME_MAX},
                    "phone": {
                        "type": "string",
                        "example": "0470 12 34 56",
                        "description": (
                            "Optional: without a number (a person without a phone) "
                            "nothing is sent; print the slip at /accueil."
                        ),
                    },
                    "language": {"enum": [*LANGUAGES, None]},
                },
            },
            "source": {"enum": list(STAFF_SOURCES), "default": "desk"},
            "agent_id": {"type": "integer", "description": "Only this agent."},
            "sms_consent": {
                "type": "boolean",
                "default": False,
                "description": (
                    "true: the person agreed to SMS about this appointment (confirmation, "
                    "reminders). Absent: no consent. Anything but true or false: 422."
                ),
            },
        },
    },
)
BOOKED = Schema(
    "AppointmentBooked",
    {
        "type": "object",
        "properties": {
            "appointment": {
                "type": "object",
                "required": ["id", "start", "end"],
                "properties": {
                    "id": {"type": "integer"},
                    "start": MOMENT,
                    "end": MOMENT,
                    "service": {"type": "string"},
                    "location": {"type": "string"},
                    "agent": {"type": ["object", "null"]},
                    "status": {"type": "string"},
                    "source": {"type": "string"},
                    "person": {"type": "object"},
                },
            }
        },
    },
)
SLOT_TAKEN = Schema(
    "AppointmentSlotTaken",
    {
        "type": "object",
        "required": ["error", "message", "next_slots"],
        "properties": {
            "error": {"const": "slot_taken"},
            "message": {"type": "string"},
            "next_slots": {"type": "array", "items": SLOT},
        },
    },
)


def _language() -> str:
    return page_language()


def slot_json(slot: appointments.Slot) -> dict[str, Any]:
    return {
        "start": clock.to_local(slot.start).isoformat(),
        "end": clock.to_local(slot.end).isoformat(),
        "free": slot.free,
    }


def _invalid(errors: dict[str, FieldError]):
    return api_error(
        422,
        "invalid",
        _("Some fields need a correction. Nothing was saved."),
        errors=errors_json({name: error.as_json() for name, error in errors.items()}),
    )


def _rate_limited():
    return throttling.api_refusal(
        "slots", request.remote_addr or "unknown", online.SEARCHES_PER_MINUTE
    )


CPAS_PARAMETERS = [
    query(
        "cpas",
        "The CPAS's code (e.g. charleroi); this or postcode is required when the "
        "installation serves several CPAS",
        required=False,
    ),
    query(
        "postcode",
        "Where the person lives, a postcode or a commune (French or Dutch name): its "
        "competent CPAS; ignored when cpas is given",
        required=False,
    ),
]


def _cpas_of_request(session):
    """The CPAS the request names (online.api_cpas); Invalid when it names none."""
    return online.api_cpas(session, request.args.get("cpas"), request.args.get("postcode"))


@bp.route("/services")
@public
@api_operation(
    "Bookable services of one CPAS and its locations offering them (public)",
    parameters=CPAS_PARAMETERS,
    responses={
        200: Answer("The services", SERVICES),
        422: Answer("No CPAS named, an unknown one, or a place no CPAS here serves", INVALID),
    },
)
def services():
    language = _language()
    session = db.session()
    try:
        cpas = _cpas_of_request(session)
    except Invalid as error:
        return _invalid(error.errors)
    offered = online.services_of_cpas(session, cpas, appointments.list_services(session))
    return jsonify(
        {
            "services": [
                {
                    "code": item.service.code,
                    "name": item.service.name(language),
                    "booking_mode": item.service.booking_mode,
                    "duration_minutes": item.service.duration_minutes,
                    "locations": [
                        {"code": location.code, "name": location.name}
                        for location in item.locations
                    ],
                }
                for item in offered
            ]
        }
    )


@bp.route("/slots")
@public
@api_operation(
    "Free starts of a service at a location of one CPAS (public)",
    parameters=[
        *CPAS_PARAMETERS,
        query("service", "A service code"),
        query("location", "A location code"),
        query("from", "First day (Brussels), default today", required=False, format="date"),
        query(
            "days",
            "How many days",
            required=False,
            type="integer",
            minimum=1,
            maximum=MAX_DAYS,
            default=DEFAULT_DAYS,
        ),
    ],
    responses={
        200: Answer("The free starts, in time order", SLOTS),
        422: Answer(
            "No CPAS named, unknown service or location (another CPAS's), bad days", INVALID
        ),
        429: RATE_LIMITED,
    },
)
def slots():
    limited = _rate_limited()
    if limited is not None:
        return limited
    session = db.session()
    errors: dict[str, FieldError] = {}
    try:
        cpas = _cpas_of_request(session)
    except Invalid as error:
        errors.update(error.errors)
        cpas = None
    service = appointments.get_service(session, request.args.get("service", ""))
    location = appointments.get_location(session, request.args.get("location", ""))
    if location is not None and not errors and not online.in_cpas(session, location, cpas):
        location = None  # another CPAS's place: as an unknown one
    if service is None or not service.active:
        errors["service"] = FieldError(
            "required" if not request.args.get("service") else "unknown_choice"
        )
    elif service.booking_mode == "walk_in":
        errors["service"] = FieldError("walk_in_only")
    if location is None:
        errors["location"] = FieldError(
            "required" if not request.args.get("location") else "unknown_choice"
        )
    elif (
        service is not None
        and "service" not in errors
        and not appointments.offers(session, service, location)
    ):
        errors["location"] = FieldError("not_offered")
    raw_from = request.args.get("from", "")
    first_day = clock.parse_day(raw_from) if raw_from else clock.to_local(clock.now()).date()
    if first_day is None:
        errors["from"] = FieldError("invalid_date")
    raw_days = request.args.get("days", "")
    try:
        days = int(raw_days) if raw_days else DEFAULT_DAYS
    except ValueError:
        errors["days"] = FieldError("not_a_number")
    else:
        if not 1 <= days <= MAX_DAYS:
            errors["days"] = FieldError("out_of_range", {"min": 1, "max": MAX_DAYS})
    if errors:
        return _invalid(errors)
    assert service is not None and location is not None
    found = appointments.free_slots(
        session, service=service, location=location, first_day=first_day, days=days
    )
    return jsonify({"slots": [slot_json(slot) for slot in found]})


def _parse_start(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if clock.FIRST_YEAR <= moment.year <= clock.LAST_YEAR else None


def appointment_json(session, appointment: Appointment) -> dict[str, Any]:
    agent = get_user(session, appointment.agent_id) if appointment.agent_id else None
    return {
        "id": appointment.id,
        "start": clock.to_local(appointment.start_at).isoformat(),
        "end": clock.to_local(appointment.end_at).isoformat(),
        "service": appointment.service.code,
        "location": appointment.location.code,
        "agent": {"id": agent.id, "name": agent.display_name} if agent else None,
        "status": appointment.status,
        "source": appointment.source,
        "person": {"name": appointment.person.name, "phone": appointment.person.phone},
    }


@bp.route("", methods=["POST"])
@requires(Permission.APPOINTMENTS_BOOK)
@api_operation(
    "Book a start for a person (staff)",
    parameters=[CSRF_HEADER],
    request=Body(BOOKING),
    responses={
        201: Answer("Booked", BOOKED),
        400: BAD_REQUEST,
        401: NOT_LOGGED_IN,
        403: Answer("Your role may not book", ERROR),
        409: Answer("The start was just taken", SLOT_TAKEN),
        413: TOO_LARGE,
        422: Answer(
            "Field errors (error: invalid), or a body that is not a JSON "
            "object (error: invalid_body); nothing was booked",
            {"oneOf": [INVALID, INVALID_BODY]},
        ),
    },
)
def book():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(
            422,
            "invalid_body",
            _('Send a JSON object with "service", "location", "start" and "person".'),
        )
    person = body.get("person") if isinstance(body.get("person"), dict) else {}
    errors: dict[str, FieldError] = {}
    start = _parse_start(body.get("start"))
    if start is None:
        errors["start"] = FieldError("required" if not body.get("start") else "invalid_datetime")
    source = body.get("source") or "desk"
    if source not in STAFF_SOURCES:
        errors["source"] = FieldError("unknown_choice")
    texts = {name: person.get(name) for name in ("name", "phone", "language")}
    for name in ("name", "phone"):
        if texts[name] is not None and not isinstance(texts[name], str):
            errors[name] = FieldError("not_text")
    language = texts["language"] or None
    if language is not None and not isinstance(language, str):
        errors["language"] = FieldError("unknown_choice")
    # Consent is a JSON true; absent means none. 0, "false" or null are not an answer.
    sms_consent = body.get("sms_consent", False)
    if not isinstance(sms_consent, bool):
        errors["sms_consent"] = FieldError("not_true_or_false")
    agent_id = body.get("agent_id")
    if agent_id is not None and (not isinstance(agent_id, int) or isinstance(agent_id, bool)):
        errors["agent_id"] = FieldError("not_a_number")
    session = db.session()
    settings = current_app.config["TERRAIN_SETTINGS"]
    try:
        if errors:
            raise Invalid(errors)
        assert start is not None
        appointment = desk.book_by_codes(
            session,
            service_code=str(body.get("service") or ""),
            location_code=str(body.get("location") or ""),
            start=start,
            person_name=texts["name"] or "",
            phone=texts["phone"] or "",
            language=language,
            source=source,
            actor=current_user._get_current_object(),
            agent_id=agent_id,
            sms_consent=sms_consent is True,
            link_base=public_base_url(),
            secret_key=settings.secret_key,
        )
    except Invalid as invalid:
        merged = {**invalid.errors, **errors}
        return _invalid(merged)
    except appointments.SlotTaken as taken:
        return api_error(
            409,
            "slot_taken",
            _("This slot was just taken."),
            next_slots=[slot_json(slot) for slot in taken.next_slots],
        )
    response = jsonify({"appointment": appointment_json(session, appointment)})
    response.status_code = 201
    return response
