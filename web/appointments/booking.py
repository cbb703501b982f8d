"""The public booking pages, /rendez-vous: a person books an appointment from a phone,
without an account, in French, Dutch or English.

0. `GET /rendez-vous`: with several CPAS in the installation, the postcode or commune
   where the person lives first (the CPAS of that commune is competent: law of 2 April
   1965), or the list of CPAS; `GET /rendez-vous/<cpas>` is each CPAS's own entry. From
   there on the flow keeps to that CPAS: its services, its places, its name on the pages;
   a place of another CPAS (a code changed in the address) answers as unknown;
1. `GET /rendez-vous/<cpas>` (or `/rendez-vous` with one CPAS): the services; those
   booked by phone say "call your antenne", those without appointment say where and
   when to come;
2. `GET /rendez-vous/<service>`: the places offering it; `POST …/nearest` sorts them
   by a postcode or by the phone's position ("use my position", a small script);
3. `GET /rendez-vous/<service>/<place>?from=YYYY-MM-DD`: the free times of a week;
   `POST` there chooses one; `POST …/waiting` joins the waiting list instead;
4. `GET|POST /rendez-vous/details`: name, mobile number, language of the SMS, and the
   consent sentence; the POST sends a one-time code by SMS;
5. `GET|POST /rendez-vous/code`: the code; right → the booking is made (or the waiting
   list joined), once per code (`appointments.online.book_verified`);
   `POST /rendez-vous/code/new` sends a new one (after 60 s);
6. `GET /rendez-vous/done`: the confirmation, with the /r/ link and the .ics.

Plain forms and links: everything works without JavaScript, and the pages are not
boosted by htmx (each step is a whole page). The choices travel in the signed session
cookie between steps, never in a URL (only service and place codes, and dates, are);
the name and number leave the session once the booking is made. Every POST carries
the CSRF token. A time taken meanwhile sends the person back to the times with the
next free ones.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from appointments import online, verification
from appointments import services as appointments
from appointments.booking import LANGUAGES, SlotTaken
from appointments.models import Location, OpeningHours, Service
from appointments.online import parse_start
from core import clock, organisations
from core.errors import FieldError, Invalid
from web import db, throttling
from web.common import page_language, public_base_url
from web.i18n import LANGUAGE_NAMES
from web.permissions import public
from web.rendering import render
from web.validation import message as error_message

bp = Blueprint("appointments_booking", __name__, url_prefix="/rendez-vous")

FLOW = "booking"  # the session's key for the choices so far
DONE = "booking_done"  # what the confirmation page shows
TAKEN = "booking_taken"  # the next free starts after a time was taken meanwhile
STEPS = 5  # service, place, time, you, code


# --- Helpers ------------------------------------------------------------------------------


def language() -> str:
    return page_language()


def ics_filename() -> str:
    return online.ics_filename(language())


def _flow() -> dict[str, Any]:
    return dict(session.get(FLOW) or {})


def _save(**values: Any) -> None:
    flow = _flow()
    flow.update(values)
    session[FLOW] = {name: value for name, value in flow.items() if value is not None}


def _cpas() -> organisations.Cpas | None:
    """The CPAS this booking is with: the one chosen (by postcode, commune, or its own
    address), else the installation's only CPAS; None when there is none or several
    and none was chosen yet."""
    session_db = db.session()
    code = _flow().get("cpas")
    if code:
        chosen = organisations.get_cpas(session_db, code)
        if chosen is not None:
            return chosen
    cpas_list = organisations.list_cpas(session_db)
    return cpas_list[0] if len(cpas_list) == 1 else None


def _must_choose() -> bool:
    """No CPAS chosen while the installation serves several: ask the postcode first."""
    return _cpas() is None and online.several_cpas(db.session())


def _page(template: str, status: int = 200, **context: Any) -> Response:
    cpas = context.pop("cpas", None) or _cpas()
    body, code = render(
        template,
        status=status,
        steps=STEPS,
        cpas_name=cpas.label(language()) if cpas is not None else "",
        offered_languages=online.page_languages(cpas),
        **context,
    )
    response = current_app.make_response((body, code))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _errors(invalid: Invalid) -> dict[str, str]:
    return {name: error_message(error) for name, error in invalid.errors.items()}


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _address() -> str:
    return request.remote_addr or "unknown"


def _service(code: str) -> Service | None:
    service = appointments.get_service(db.session(), code)
    return service if service is not None and service.active else None


def _unknown(what: str) -> Response:
    return _page("appointments/public/unknown.html", 404, what=what)


def place_lines(location: Location) -> tuple[str, str]:
    """The place's name and address in the page's language."""
    return online.place_lines(location, language())


def opening_lines(hours: list[OpeningHours]) -> list[tuple[str, str]]:
    """A place's opening hours, day by day, in the page's language."""
    return online.opening_lines(hours, language())


def call_box(location: Location) -> dict[str, Any]:
    return online.call_box(location, language())


def parse_day(raw: str | None) -> date | None:
    return clock.parse_day(raw) if raw else None


def week_context(
    service: Service, location: Location, first_day: date | None, *, page_url
) -> dict[str, Any]:
    return online.week_links(db.session(), service, location, first_day, page_url=page_url)


def _chosen(flow: dict[str, Any]) -> tuple[Service | None, Location | None]:
    service = _service(flow.get("service", ""))
    if service is None:
        return None, None
    location = online.find_location_offering(
        db.session(), service, flow.get("location", ""), _cpas()
    )
    return service, location


def _start_url() -> str:
    """The first page: the chosen CPAS's services, else the postcode step."""
    cpas = _cpas()
    if cpas is not None and online.several_cpas(db.session()):
        return url_for("appointments_booking.places", service_code=cpas.code)
    return url_for("appointments_booking.services")


def _restart() -> Response:
    flash(_("Let us start again: choose a service."), "warning")
    return redirect(_start_url())


# --- 1. Services --------------------------------------------------------------------------


def _choose_page(
    *, typed: str = "", error: str = "", unserved: bool = False, status: int = 200
) -> Response:
    """Step 0: where does the person live? (and every CPAS of the installation)."""
    return _page(
        "appointments/public/cpas.html",
        status=status,
        cpas_list=organisations.list_cpas(db.session()),
        typed=typed,
        error=error,
        unserved=unserved,
        language=language(),
    )


@bp.route("")
@bp.route("/")
@public
def services():
    session_db = db.session()
    if not online.several_cpas(session_db):
        return _services_page(_cpas())
    if "where" not in request.args:
        return _choose_page()
    typed = request.args.get("where", "")[:80].strip()
    if not typed:
        return _choose_page(error=_("Type your postcode or your commune."), status=422)
    found = online.find_cpas(session_db, typed)
    if found is None:
        return _choose_page(typed=typed, unserved=True)
    return redirect(url_for("appointments_booking.places", service_code=found.code))


def _services_page(cpas: organisations.Cpas | None) -> Response:
    offered = appointments.list_services(db.session(), bookable_only=False)
    groups: dict[str, list] = {"online": [], "phone": [], "walk_in": []}
    for item in online.services_of_cpas(db.session(), cpas, offered):
        groups[item.service.booking_mode].append(item)
    return _page(
        "appointments/public/services.html",
        cpas=cpas,
        several=online.several_cpas(db.session()),
        groups=groups,
        language=language(),
        place_lines=place_lines,
        opening_lines=opening_lines,
    )


# --- 2. Places ----------------------------------------------------------------------------


def _places_page(
    service: Service,
    *,
    near: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    posted: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    session_db = db.session()
    near = near or {}
    position = (near["lat"], near["lon"]) if "lat" in near else None
    postcode = near.get("postcode")
    places = online.places_for(
        session_db, service, position=position, postcode=postcode, cpas=_cpas()
    )
    return _page(
        "appointments/public/places.html",
        status=status,
        service=service,
        service_name=service.name(language()),
        places=places,
        near=near,
        errors=errors or {},
        posted=posted or {},
        place_lines=place_lines,
        opening_lines=opening_lines,
    )


def _offered_here(service: Service | None) -> Service | None:
    """The service when the chosen CPAS offers it at one of its places at least."""
    if service is None:
        return None
    cpas = _cpas()
    if cpas is None:
        return service
    places = online.places_for(db.session(), service, cpas=cpas)
    return service if places else None


@bp.get("/<service_code>")
@public
def places(service_code: str):
    # A CPAS's own entry point: its code in the address (a CPAS's code comes first).
    cpas = organisations.get_cpas(db.session(), service_code)
    if cpas is not None:
        if _flow().get("cpas") != cpas.code:
            session[FLOW] = {"cpas": cpas.code}  # another CPAS: the choices so far go
        return _services_page(cpas)
    service = _offered_here(_service(service_code))
    if service is None:
        return _unknown("service")
    if service.booking_mode != "online":
        return redirect(f"{_start_url()}#s-{service.code}")
    if _must_choose():
        return redirect(url_for("appointments_booking.services"))
    flow = _flow()
    near = flow.get("near") if flow.get("service") == service.code else None
    return _places_page(service, near=near)


@bp.post("/<service_code>/nearest")
@public
def nearest(service_code: str):
    service = _offered_here(_service(service_code))
    if service is None or service.booking_mode != "online":
        return _unknown("service")
    if _must_choose():
        return redirect(url_for("appointments_booking.services"))
    form = request.form
    try:
        if form.get("how") == "position":
            latitude, longitude = online.read_position(form.get("lat", ""), form.get("lon", ""))
            # Two decimals (about a kilometre) are enough to sort places.
            near: dict[str, Any] = {"lat": round(latitude, 2), "lon": round(longitude, 2)}
        else:
            near = {"postcode": online.read_postcode(form.get("postcode", ""))}
    except Invalid as invalid:
        posted = {"postcode": form.get("postcode", "")[:10]}
        return _places_page(service, errors=_errors(invalid), posted=posted, status=422)
    _save(service=service.code, near=near)
    return redirect(url_for("appointments_booking.places", service_code=service.code))


# --- 3. Times -----------------------------------------------------------------------------


def _times_page(
    service: Service,
    location: Location,
    first_day: date | None,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    def page_url(day: date) -> str:
        return url_for(
            "appointments_booking.times",
            service_code=service.code,
            location_code=location.code,
            **{"from": day.isoformat()},
        )

    taken = [parse_start(value) for value in session.pop(TAKEN, [])]
    name, address = place_lines(location)
    return _page(
        "appointments/public/times.html",
        status=status,
        service=service,
        service_name=service.name(language()),
        location=location,
        place_name=name,
        place_address=address,
        taken=[moment for moment in taken if moment is not None],
        errors=errors or {},
        action=url_for(
            "appointments_booking.times", service_code=service.code, location_code=location.code
        ),
        **week_context(service, location, first_day, page_url=page_url),
    )


def _service_and_place(
    service_code: str, location_code: str
) -> tuple[Service | None, Location | None]:
    service = _service(service_code)
    if service is None or service.booking_mode != "online":
        return None, None
    location = online.find_location_offering(db.session(), service, location_code, _cpas())
    return service, location


def _keep_cpas(location: Location) -> None:
    """From the chosen place on, the booking is with the place's CPAS (a link straight to
    a place's times chooses it)."""
    cpas = online.cpas_of_location(db.session(), location)
    if cpas is not None:
        _save(cpas=cpas.code)


@bp.route("/<service_code>/<location_code>", methods=["GET", "POST"])
@public
def times(service_code: str, location_code: str):
    # The same slot search as the API's: the same limit per address.
    if throttling.wait_seconds("slots", _address(), online.SEARCHES_PER_MINUTE):
        abort(429)
    service, location = _service_and_place(service_code, location_code)
    if service is None:
        return _unknown("service")
    if location is None:
        return _unknown("place")
    if request.method == "GET":
        return _times_page(service, location, parse_day(request.args.get("from")))
    start = parse_start(request.form.get("start"))
    if start is None:
        error = FieldError("unknown_choice")
    elif start <= clock.now():
        error = FieldError("in_past")
    elif not online.is_free(db.session(), service, location, start):
        error = FieldError("not_a_slot")
    else:
        error = None
    if error is not None:
        first_day = clock.to_local(start).date() if start is not None else None
        return _times_page(
            service, location, first_day, errors={"start": error_message(error)}, status=422
        )
    _keep_cpas(location)
    _save(service=service.code, location=location.code, start=start.isoformat(), mode="book")
    return redirect(url_for("appointments_booking.details"))


@bp.post("/<service_code>/<location_code>/waiting")
@public
def waiting(service_code: str, location_code: str):
    service, location = _service_and_place(service_code, location_code)
    if service is None:
        return _unknown("service")
    if location is None:
        return _unknown("place")
    flow = _flow()
    flow.pop("start", None)
    session[FLOW] = flow
    _keep_cpas(location)
    _save(service=service.code, location=location.code, mode="waiting")
    return redirect(url_for("appointments_booking.details"))


# --- 4. Name and number -------------------------------------------------------------------


def _summary(flow: dict[str, Any]) -> dict[str, Any] | None:
    """What was chosen (service, place, time), or None when the flow is incomplete."""
    service, location = _chosen(flow)
    if service is None or location is None:
        return None
    waiting_list = flow.get("mode") == "waiting"
    start = parse_start(flow.get("start"))
    if not waiting_list and start is None:
        return None
    name, address = place_lines(location)
    return {
        "service": service,
        "location": location,
        "service_name": service.name(language()),
        "place_name": name,
        "place_address": address,
        "start": start,
        "waiting_list": waiting_list,
        "times_url": url_for(
            "appointments_booking.times", service_code=service.code, location_code=location.code
        ),
    }


def _details_page(
    summary: dict[str, Any],
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    retry_after: int | None = None,
    call: dict[str, Any] | None = None,
) -> Response:
    return _page(
        "appointments/public/details.html",
        status=status,
        summary=summary,
        values=values,
        errors=errors or {},
        languages=LANGUAGES,
        language_names=LANGUAGE_NAMES,
        retry_after=retry_after,
        call=call,
    )


def _code_values(location: Location, sms_language: str) -> dict[str, str]:
    """The code's SMS names the CPAS of the place being booked."""
    return online.code_values(db.session(), location, sms_language)


def _rate_limited_message(limited: verification.RateLimited) -> str:
    if limited.scope == "resend":
        return _(
            "A code was sent less than a minute ago. Wait %(seconds)s seconds, then ask again.",
            seconds=limited.retry_after,
        )
    if limited.scope == "slow":
        if limited.retry_after < 120:
            return _(
                "Many codes were asked from here just now. Wait %(seconds)s seconds, "
                "then try again, or call your antenne.",
                seconds=limited.retry_after,
            )
        return _(
            "Many codes were asked from here just now. Wait %(minutes)s minutes, "
            "then try again, or call your antenne.",
            minutes=(limited.retry_after + 59) // 60,
        )
    if limited.scope == "number":
        return _(
            "Too many codes were sent to this number. Try again in an hour, or call your antenne."
        )
    if limited.scope == "all":
        return _("We cannot send more codes for now. Try again later, or call your antenne.")
    return _("Too many codes were asked from here. Try again in an hour, or call your antenne.")


def _call_instead(limited: verification.RateLimited, location: Location) -> dict[str, Any] | None:
    """What the refusal page shows so the person can book by phone instead: the place's
    name, address, phone number and opening hours (None for "wait a minute")."""
    if limited.scope == "resend":
        return None
    return call_box(location)


def _refused(response: Response, limited: verification.RateLimited) -> Response:
    response.headers["Retry-After"] = str(limited.retry_after)
    return response


@bp.route("/details", methods=["GET", "POST"])
@public
def details():
    flow = _flow()
    summary = _summary(flow)
    if summary is None:
        return _restart()
    if request.method == "GET":
        values = {
            "name": flow.get("name", ""),
            "phone": flow.get("phone_typed", ""),
            "sms_language": flow.get("sms_language") or language(),
        }
        return _details_page(summary, values)
    values = {
        "name": request.form.get("name", "")[:200],
        "phone": request.form.get("phone", "")[:40],
        "sms_language": request.form.get("sms_language", ""),
    }
    try:
        e164 = online.check_person(values["name"], values["phone"], values["sms_language"])
    except Invalid as invalid:
        return _details_page(summary, values, errors=_errors(invalid), status=422)
    same_number = flow.get("phone") == e164
    _save(
        name=values["name"].strip(),
        phone=e164,
        phone_typed=values["phone"].strip(),
        sms_language=values["sms_language"],
    )
    if same_number and flow.get("proof"):
        # Checked a moment ago (a time was taken meanwhile): no second code.
        return _finish()
    values_language = values["sms_language"]
    try:
        check = online.send_code(
            db.session(),
            raw_phone=e164,
            language=values["sms_language"],
            address=_address(),
            secret=_secret(),
            purpose="waiting" if summary["waiting_list"] else "booking",
            values=_code_values(summary["location"], values_language),
            location=summary["location"],
        )
    except verification.RateLimited as limited:
        response = _details_page(
            summary,
            values,
            errors={"form": _rate_limited_message(limited)},
            status=429,
            retry_after=limited.retry_after,
            call=_call_instead(limited, summary["location"]),
        )
        return _refused(response, limited)
    except Invalid as invalid:
        return _details_page(summary, values, errors=_errors(invalid), status=422)
    flow = _flow()
    flow.pop("proof", None)
    session[FLOW] = {**flow, "check": check.id}
    return redirect(url_for("appointments_booking.code"))


# --- 5. The code, and the booking ----------------------------------------------------------


def _code_page(
    flow: dict[str, Any],
    summary: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    expired: bool = False,
    call: dict[str, Any] | None = None,
) -> Response:
    check = verification.get_check(db.session(), flow.get("check"))
    wait = verification.resend_wait(check) if check is not None else 0
    return _page(
        "appointments/public/code.html",
        status=status,
        summary=summary,
        phone_shown=_shown_number(flow.get("phone", "")),
        errors=errors or {},
        resend_wait=wait,
        expired=expired,
        call=call,
    )


def _shown_number(e164: str) -> str:
    """The number as the person knows it, with only the last 2 digits: enough to spot a
    typo, not enough to read it over a shoulder."""
    digits = e164.removeprefix("+32")
    return f"0{digits[:3]} … … {digits[-2:]}" if len(digits) >= 5 else ""


@bp.route("/code", methods=["GET", "POST"])
@public
def code():
    flow = _flow()
    summary = _summary(flow)
    if summary is None or not flow.get("check") or not flow.get("phone"):
        return _restart()
    if request.method == "GET":
        return _code_page(flow, summary)
    session_db = db.session()
    check = verification.get_check(session_db, flow.get("check"))
    if check is None:
        return _restart()
    try:
        proof = online.check_code(
            session_db, check, request.form.get("code", "")[:20], secret=_secret()
        )
    except Invalid as invalid:
        codes = {error.code for error in invalid.errors.values()}
        return _code_page(
            flow,
            summary,
            errors=_errors(invalid),
            status=422,
            expired=bool(codes & {"code_expired", "too_many_tries"}),
        )
    _save(proof=proof)
    return _finish()


def _finish() -> Response:
    """Book (or join the waiting list) with the verified number; once per check."""
    flow = _flow()
    summary = _summary(flow)
    if summary is None:
        return _restart()
    session_db = db.session()
    person = {
        "person_name": flow.get("name", ""),
        "phone": flow.get("phone", ""),
        "language": flow.get("sms_language"),
    }
    proof = {"check_id": flow.get("check"), "proof": flow.get("proof"), "secret": _secret()}
    try:
        if summary["waiting_list"]:
            joined = online.finish_waiting(
                session_db,
                **proof,
                **person,
                service=summary["service"],
                location=summary["location"],
            )
            done: dict[str, Any] = {
                "kind": "waiting",
                "id": joined.entry.id,
                "already": joined.already,
            }
            if joined.again and session.get(DONE, {}).get("id") == joined.entry.id:
                done = session[DONE]  # a second tap: keep what the first one said
        else:
            booked = online.finish_booking(
                session_db,
                **proof,
                **person,
                service=summary["service"],
                location=summary["location"],
                start=summary["start"],
                link_base=public_base_url(),
            )
            done = {"kind": "appointment", "id": booked.appointment.id, "token": booked.token}
            if booked.again and session.get(DONE, {}).get("id") == booked.appointment.id:
                done = session[DONE]  # a second tap: keep the link the first one got
    except SlotTaken as taken:
        session[TAKEN] = [slot.start.isoformat() for slot in taken.next_slots]
        flash(_("This time was just taken by someone else. Choose another time."), "error")
        return redirect(summary["times_url"])
    except Invalid as invalid:
        errors = _errors(invalid)
        if "phone" in invalid.errors and invalid.errors["phone"].code == "not_verified":
            flow.pop("proof", None)
            flow.pop("check", None)
            session[FLOW] = flow
        if "start" in invalid.errors:
            flash(errors["start"], "error")
            return redirect(summary["times_url"])
        values = {
            "name": flow.get("name", ""),
            "phone": flow.get("phone_typed", ""),
            "sms_language": flow.get("sms_language") or language(),
        }
        return _details_page(summary, values, errors=errors, status=422)
    session[DONE] = done
    # The name and the number are not needed any more: out of the cookie.
    session[FLOW] = {
        key: value for key, value in flow.items() if key in ("cpas", "service", "location", "near")
    }
    return redirect(url_for("appointments_booking.done"))


@bp.post("/code/new")
@public
def new_code():
    flow = _flow()
    summary = _summary(flow)
    if summary is None or not flow.get("phone"):
        return _restart()
    values_language = flow.get("sms_language") or language()
    try:
        check = online.send_code(
            db.session(),
            raw_phone=flow["phone"],
            language=values_language,
            address=_address(),
            secret=_secret(),
            purpose="waiting" if summary["waiting_list"] else "booking",
            values=_code_values(summary["location"], values_language),
            location=summary["location"],
        )
    except verification.RateLimited as limited:
        response = _code_page(
            flow,
            summary,
            errors={"form": _rate_limited_message(limited)},
            status=429,
            call=_call_instead(limited, summary["location"]),
        )
        return _refused(response, limited)
    flow.pop("proof", None)
    session[FLOW] = {**flow, "check": check.id}
    flash(_("A new code is on its way."), "success")
    return redirect(url_for("appointments_booking.code"))


# --- 6. Done ------------------------------------------------------------------------------


@bp.get("/done")
@public
def done():
    finished = session.get(DONE) or {}
    session_db = db.session()
    if finished.get("kind") == "waiting":
        waited = online.waiting_done(session_db, finished.get("id"))
        if waited is None:
            return _restart()
        service, location = waited.service, waited.location
        return _page(
            "appointments/public/done.html",
            cpas=online.cpas_of_location(session_db, location) if location else None,
            waiting_list=True,
            already=bool(finished.get("already")),
            service_name=service.name(language()),
            place_name=place_lines(location)[0] if location else "",
        )
    appointment = None
    if isinstance(finished.get("id"), int):
        appointment = appointments.get_appointment(session_db, finished["id"])
    if appointment is None:
        return _restart()
    name, address = place_lines(appointment.location)
    sms = online.confirmation_state(session_db, appointment)
    return _page(
        "appointments/public/done.html",
        cpas=online.cpas_of_location(session_db, appointment.location),
        waiting_list=False,
        appointment=appointment,
        sms_status=sms.status if sms is not None else None,
        # Later than a minute from now: the page says when the SMS will arrive.
        sms_later=(
            sms.not_before
            if sms is not None
            and sms.status == "pending"
            and sms.not_before > clock.now() + timedelta(minutes=1)
            else None
        ),
        token=finished.get("token"),
        service_name=appointment.service.name(language()),
        place_name=name,
        place_address=address,
        place_phone=appointment.location.phone,
        ics_filename=ics_filename(),
    )
