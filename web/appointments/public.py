"""The page the confirmation SMS links to (`<public url>/r/<token>`), for a person
without an account, on any phone:

- `GET /r/<token>` (public): the appointment (service, date and time in Brussels,
  place, status); while booked and to come, "Cancel this appointment" (`?confirm=1`
  asks "Are you sure?", then a POST) and "Add to my calendar (.ics)";
- `POST /r/<token>/cancel` (public, CSRF): cancels (`by="person"`); idempotent;
- `GET /r/<token>/appointment.ics` (public): an RFC 5545 calendar file;
- `GET /r/<token>/move?from=YYYY-MM-DD` (public): the free times of the same service at
  the same place (the booking pages' slot picker); `POST` a time asks "Move it to …?",
  `POST` with `confirm=1` moves it (`booking.reschedule(by="person")`) and redirects to
  the new appointment's page (a new link: the old one now shows it cancelled).

An unknown or expired token hears a friendly 404 that says nothing about anyone. Every
lookup counts against the client address (`LOOKUPS_PER_MINUTE`): guessing tokens is
slowed to a crawl, a person never notices. No name or phone number is shown: only what
the SMS already said.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, redirect, request, url_for
from flask_babel import gettext as _

from appointments import booking, online
from appointments.models import Appointment
from core import clock
from core.errors import FieldError, Invalid
from web import db, throttling
from web.common import page_language, public_base_url
from web.i18n import prefer_language
from web.permissions import public
from web.rendering import render
from web.validation import message as error_message

bp = Blueprint("appointments_public", __name__, url_prefix=booking.MANAGE_PATH.rstrip("/"))

# Lookups per client address and minute: a person opens the page a few times.
LOOKUPS_PER_MINUTE = 60


def _language() -> str:
    return page_language()


def ics_filename() -> str:
    return online.ics_filename(_language())


def _page(state: str, status: int = 200, **context) -> Response:
    if state in ("gone", "busy") and not context.get("call"):
        context["call_places"] = online.places_to_call(db.session(), _language())
    body, code = render(
        "appointments/manage.html",
        state=state,
        status=status,
        ics_filename=ics_filename(),
        **context,
    )
    response = current_app.make_response((body, code))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _too_many() -> Response | None:
    wait = throttling.wait_seconds(
        "manage-link", request.remote_addr or "unknown", LOOKUPS_PER_MINUTE
    )
    if not wait:
        return None
    response = _page("busy", 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _lookup(token: str) -> tuple[Appointment | None, Response | None]:
    """The appointment the link holds now (after a move: the new one), or the answer to
    give instead (429, or the friendly 404). The page speaks the SMS's language."""
    refused = _too_many()
    if refused is not None:
        return None, refused
    session = db.session()
    appointment = booking.find_by_token(session, token)
    if appointment is None:
        # An expired link of a known place gives that place's phone and hours.
        place = booking.token_place(session, token)
        call = online.call_box(place, _language()) if place is not None else None
        return None, _page("gone", 404, call=call)
    current = booking.latest(session, appointment)
    prefer_language(current.person.language)
    g.link_appointment = appointment
    return current, None


def _parse_day(raw: str | None) -> date | None:
    return clock.parse_day(raw) if raw else None


def _cancellable(appointment: Appointment) -> bool:
    return appointment.status == "booked" and clock.now() < appointment.start_at


def _place(appointment: Appointment) -> tuple[str, str]:
    return online.place_lines(appointment.location, _language())


def _details(token: str, appointment: Appointment) -> dict:
    name, address = _place(appointment)
    session = db.session()
    # Opened with the link of an appointment that was moved since: this one replaced it.
    opened = g.get("link_appointment")
    moved_from = opened if opened is not None and opened.id != appointment.id else None
    previous = booking.previous_of(session, appointment)
    service = appointment.service
    cpas = online.cpas_of_location(session, appointment.location)
    return {
        "token": token,
        "appointment": appointment,
        # The place's CPAS: its name on the page, its regime's languages offered.
        "cpas_name": cpas.label(_language()) if cpas is not None else "",
        "offered_languages": online.page_languages(cpas),
        "service_name": service.name(_language()),
        "place_name": name,
        "place_address": address,
        "place_phone": appointment.location.phone,
        "cancellable": _cancellable(appointment),
        "moved_from": moved_from,
        "previous": previous,
        "book_again_url": (
            url_for("appointments_booking.places", service_code=service.code)
            if service.active and service.booking_mode == "online"
            else url_for("appointments_booking.services")
        ),
    }


@bp.route("/<token>")
@public
def manage(token: str):
    appointment, refused = _lookup(token)
    if refused is not None:
        return refused
    assert appointment is not None
    details = _details(token, appointment)
    confirming = request.args.get("confirm") == "1" and details["cancellable"]
    moved = request.args.get("moved") == "1"
    if confirming:
        state = "confirm"
    elif details["moved_from"] is not None:
        state = "moved_away"  # the old link: "moved to …", and the new one's details
    else:
        state = "show"
    return _page(state, moved=moved, **details)


@bp.route("/<token>/cancel", methods=["POST"])
@public
def cancel(token: str):
    appointment, refused = _lookup(token)
    if refused is not None:
        return refused
    assert appointment is not None
    if appointment.status == "cancelled":
        return _page("already_cancelled", **_details(token, appointment))
    if not _cancellable(appointment):
        # Started, or already checked in at the desk: nothing to cancel online.
        return _page("show", 409, **_details(token, appointment))
    online.cancel_by_person(db.session(), appointment)
    return _page("cancelled", **_details(token, appointment))


# --- Moving -------------------------------------------------------------------------------


def _move_page(
    token: str,
    appointment: Appointment,
    first_day: date | None,
    *,
    start: datetime | None = None,
    error: str | None = None,
    next_slots: list | None = None,
    status: int = 200,
) -> Response:
    def page_url(day: date) -> str:
        return url_for("appointments_public.move", token=token, **{"from": day.isoformat()})

    week = online.week_links(
        db.session(), appointment.service, appointment.location, first_day, page_url=page_url
    )
    return _page(
        "move_confirm" if start is not None and error is None else "move",
        status,
        **_details(token, appointment),
        new_start=start,
        error=error,
        next_slots=next_slots or [],
        action=url_for("appointments_public.move", token=token),
        **week,
    )


@bp.route("/<token>/move", methods=["GET", "POST"])
@public
def move(token: str):
    appointment, refused = _lookup(token)
    if refused is not None:
        return refused
    assert appointment is not None
    if not _cancellable(appointment):
        return _page(
            "show", 409 if request.method == "POST" else 200, **_details(token, appointment)
        )
    if request.method == "GET":
        return _move_page(token, appointment, _parse_day(request.args.get("from")))
    start = online.parse_start(request.form.get("start"))
    if start is None:
        return _move_page(
            token, appointment, None, error=error_message(FieldError("unknown_choice")), status=422
        )
    if request.form.get("confirm") != "1":
        return _move_page(token, appointment, None, start=start)
    try:
        new_token = online.move_by_person(
            db.session(),
            appointment,
            start,
            link_base=public_base_url(),
            secret_key=current_app.config["SECRET_KEY"],
        )
    except booking.SlotTaken as taken:
        return _move_page(
            token,
            appointment,
            clock.to_local(start).date(),
            error=_("This time was just taken by someone else. Choose another time."),
            next_slots=[slot.start for slot in taken.next_slots],
            status=409,
        )
    except Invalid as invalid:
        first = next(iter(invalid.errors.values()))
        return _move_page(
            token, appointment, clock.to_local(start).date(), error=error_message(first), status=422
        )
    return redirect(url_for("appointments_public.manage", token=new_token, moved=1))


# --- iCalendar (RFC 5545) ------------------------------------------------------------------


def _host() -> str:
    public_url = current_app.config["TERRAIN_SETTINGS"].public_url
    host = urlsplit(public_url).hostname if public_url else None
    return host or request.host.split(":")[0] or "terrain"


@bp.route("/<token>/appointment.ics")
@public
def calendar(token: str):
    appointment, refused = _lookup(token)
    if refused is not None:
        return refused
    assert appointment is not None
    body = online.calendar_file(
        db.session(),
        appointment,
        language=_language(),
        host=_host(),
        description=_("CPAS appointment"),
    )
    response = Response(body.encode(), content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{ics_filename()}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
