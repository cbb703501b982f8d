"""The reception desk ("Accueil", /accueil) and the agent's own list (/mes-rendez-vous).

The desk: a location and a day (the user's team's location by default, remembered in
the session), every agent's agenda side by side, the walk-in buttons, the queue with the
expected wait (refreshed every 30 s), and the actions on each appointment. Each action
is a POST form: with htmx it answers the board fragment (updated in place), without it
a redirect back with a flash; bad input answers 422 with the sentence and changes
nothing. Booking for a caller or a person at the desk: /accueil/book (service → free
slots grouped by day → name and, optionally, number; `?referral=<id>` from a person's
outreach file pre-fills the person and links the appointment to the referral). Without
a number nothing is sent: /accueil/appointments/<id>/slip is the printable slip.
Moving: /accueil/appointments/<id>/move (a form; a taken
start answers with the next free ones).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from appointments import booking, desk
from appointments import services as appointments
from appointments.models import Appointment, Location
from core import clock, organisations
from core.accounts import User
from core.errors import FieldError, Invalid
from core.ids import parse_id, parse_uuid
from core.roles import Permission, can
from outreach import files, referrals
from web import db
from web.common import public_base_url
from web.permissions import requires
from web.rendering import render, wants_partial
from web.validation import message as error_message

bp = Blueprint("appointments_desk", __name__)

LOCATION_KEY = "desk_location"
STAFF_SOURCES = ("phone", "desk")

STATE_LABELS = {
    "booked": _l("Booked"),
    "waiting": _l("Arrived, waiting"),
    "with_agent": _l("With the agent"),
    "done": _l("Done"),
    "no_show": _l("Did not come"),
    "cancelled": _l("Cancelled"),
    "absent": _l("Absent"),
}
SOURCE_LABELS = {
    "online": _l("Booked online"),
    "phone": _l("Booked by phone"),
    "desk": _l("Booked at the desk"),
    "walk_in": _l("Without appointment"),
}
CLOSED_LABELS = {
    "holiday": _l("Public holiday: no appointments today."),
    "closure": _l("This place is closed on this day."),
}


def state_of(appointment: Appointment) -> str:
    if appointment.status == "checked_in":
        return "with_agent" if appointment.called_at else "waiting"
    return appointment.status


def person_label(appointment: Appointment, ticket: int | None = None) -> str:
    """The name, else the walk-in's ticket number, else a neutral word."""
    name = (appointment.person.name or "").strip() if appointment.person else ""
    if name:
        return name
    if ticket is not None:
        return _("Walk-in no. %(number)d", number=ticket)
    return _("A person")


def day_label(day: date) -> str:
    return format_date(day, "full")


@bp.app_template_filter("local_day_iso")
def local_day_iso(moment: datetime) -> str:
    """The Brussels date of a moment, as YYYY-MM-DD (for links to a day)."""
    return clock.to_local(moment).date().isoformat()


@bp.app_template_filter("local_iso")
def local_iso(moment: datetime) -> str:
    """A moment as ISO 8601 with the Brussels offset (the value of a slot's button)."""
    return clock.to_local(moment).isoformat()


@bp.app_context_processor
def _desk_context() -> dict[str, Any]:
    return {
        "DESK_STATE_LABELS": STATE_LABELS,
        "DESK_SOURCE_LABELS": SOURCE_LABELS,
        "desk_state_of": state_of,
        "desk_person": person_label,
        "desk_day": day_label,
        "timedelta": timedelta,
    }


# --- Helpers ---------------------------------------------------------------------------


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _language() -> str:
    return current_user.language or "fr"


def _errors(invalid: Invalid) -> dict[str, str]:
    return {name: error_message(error) for name, error in invalid.errors.items()}


def _today() -> date:
    return clock.to_local(clock.now()).date()


def _pick_location(raw: str | None) -> tuple[Location | None, dict[str, str]]:
    """The location asked for, else the remembered one, else the team's, else the first."""
    sess = db.session()
    code = (raw or "").strip()
    if code:
        location = appointments.scoped_location(sess, _actor(), code)
        if location is None:
            return None, {"location": error_message(FieldError("unknown_choice"))}
        session[LOCATION_KEY] = location.code
        return location, {}
    remembered = session.get(LOCATION_KEY)
    location = appointments.scoped_location(sess, _actor(), remembered) if remembered else None
    location = location or desk.location_for_team(sess, current_user.team)
    if location is None:
        locations = appointments.visible_locations(sess, _actor())
        location = locations[0] if locations else None
    return location, {}


def _parse_day(raw: str | None) -> tuple[date | None, dict[str, str]]:
    raw = (raw or "").strip()
    if not raw:
        return _today(), {}
    day = clock.parse_day(raw)
    if day is None:
        return None, {"day": error_message(FieldError("invalid_date"))}
    return day, {}


def _desk_url(location: Location | None, day: date | None) -> str:
    args: dict[str, str] = {}
    if location is not None:
        args["location"] = location.code
    if day is not None and day != _today():
        args["day"] = day.isoformat()
    return url_for("appointments_desk.index", **args)


def _board(
    location: Location,
    day: date,
    *,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
    partial: str = "appointments/desk/_board.html",
    oob: bool = False,
):
    """The desk page, or the board fragment (htmx), for a location and a day."""
    board = desk.open_board(db.session(), location, day, reader=_actor())
    agenda = board.agenda
    return render(
        "appointments/desk/index.html",
        partial=partial,
        agenda=agenda,
        location=location,
        day=day,
        today=_today(),
        locations=board.locations,
        errors=errors or {},
        notice=notice,
        closed_label=CLOSED_LABELS.get(agenda.closed or "", ""),
        may_book=can(current_user.role, Permission.APPOINTMENTS_BOOK),
        oob=oob,
        language=_language(),
        status=status,
    )


def _ticket(appointment: Appointment) -> int | None:
    """The walk-in's number of the day, as the queue shows it."""
    return desk.ticket_of(db.session(), appointment)


def _label(appointment: Appointment) -> str:
    """The person as the desk shows them: the name, else "Walk-in no. 3"."""
    return person_label(appointment, _ticket(appointment))


def _done(appointment: Appointment, message: str, **params: str):
    """After a successful action: the board (htmx) or back to the desk with a flash.
    `message` names the person with %(person)s."""
    location = appointment.location
    day = clock.to_local(appointment.start_at).date()
    if wants_partial():
        return _board(location, day, notice=message % {"person": _label(appointment), **params})
    # A flash travels in the session cookie (signed, not encrypted): no name in it, but
    # a walk-in's number is no name.
    ticket = _ticket(appointment)
    if ticket is not None:
        text = message % {"person": _("Walk-in no. %(number)d", number=ticket), **params}
    else:
        text = _(
            "Done for %(time)s: the agenda below is up to date.",
            time=clock.to_local(appointment.start_at).strftime("%H:%M"),
        )
    flash(text, "success")
    return redirect(_desk_url(location, day))


def _refused(appointment_id: int, invalid: Invalid):
    """Nothing changed (the service rolled back): the board or the page again, 422,
    with the reason."""
    found = appointments.scoped_appointment(db.session(), _actor(), appointment_id)
    assert found is not None
    day = clock.to_local(found.start_at).date()
    return _board(found.location, day, errors=_errors(invalid), status=422)


def _appointment_or_404(appointment_id: int) -> Appointment | None:
    return appointments.scoped_appointment(db.session(), _actor(), appointment_id)


def _not_found():
    abort(404)


# --- The desk ----------------------------------------------------------------------------


@bp.get("/accueil/", endpoint="index")
@requires(Permission.APPOINTMENTS_DESK)
def index():
    location, errors = _pick_location(request.args.get("location"))
    day, day_errors = _parse_day(request.args.get("day"))
    errors.update(day_errors)
    if errors:
        location = location or _pick_location(None)[0]
        day = day or _today()
    if location is None:
        return render("appointments/desk/no_location.html")
    assert day is not None
    return _board(location, day, errors=errors, status=422 if errors else 200)


@bp.get("/accueil/queue", endpoint="queue")
@requires(Permission.APPOINTMENTS_DESK)
def queue_fragment():
    """The queue alone, polled every 30 s by the desk page."""
    location, errors = _pick_location(request.args.get("location"))
    day, day_errors = _parse_day(request.args.get("day"))
    if errors or day_errors or location is None or day is None:
        return render(
            "appointments/desk/_queue_error.html",
            message={**errors, **day_errors}.get("location")
            or {**errors, **day_errors}.get("day", ""),
            status=422,
        )
    return _board(location, day, partial="appointments/desk/_queue.html", oob=True)


@bp.post("/accueil/walk-in", endpoint="walk_in")
@requires(Permission.APPOINTMENTS_DESK)
def walk_in():
    form = request.form
    try:
        appointment = desk.walk_in(
            db.session(),
            location_code=form.get("location", ""),
            service_code=form.get("service", ""),
            name=form.get("name", "")[:200],
            phone_number=form.get("phone", "")[:40],
            actor=_actor(),
        )
    except Invalid as invalid:
        location = appointments.scoped_location(db.session(), _actor(), form.get("location", ""))
        fallback = location or _pick_location(None)[0]
        if fallback is None:
            abort(404)
        return _board(fallback, _today(), errors=_errors(invalid), status=422)
    return _done(appointment, _("%(person)s joined the queue."))


def _transition(appointment_id: int, change, message: str):
    try:
        acted = desk.act(db.session(), appointment_id, change, actor=_actor())
    except Invalid as invalid:
        return _refused(appointment_id, invalid)
    if acted is None:
        return _not_found()
    return _done(acted[0], message)


@bp.post("/accueil/appointments/<int:appointment_id>/check-in", endpoint="check_in")
@requires(Permission.APPOINTMENTS_DESK)
def check_in(appointment_id: int):
    return _transition(appointment_id, booking.check_in, _("%(person)s has arrived."))


@bp.post("/accueil/appointments/<int:appointment_id>/no-show", endpoint="no_show")
@requires(Permission.APPOINTMENTS_DESK)
def no_show(appointment_id: int):
    return _transition(appointment_id, booking.mark_no_show, _("%(person)s did not come."))


@bp.post("/accueil/appointments/<int:appointment_id>/done", endpoint="done")
@requires(Permission.APPOINTMENTS_DESK)
def done(appointment_id: int):
    return _transition(
        appointment_id, desk.finish, _("%(person)s: done. You can undo it for a while.")
    )


@bp.post("/accueil/appointments/<int:appointment_id>/left", endpoint="left")
@requires(Permission.APPOINTMENTS_DESK)
def left(appointment_id: int):
    return _transition(
        appointment_id, desk.leave, _("%(person)s left the queue. You can undo it for a while.")
    )


@bp.post("/accueil/appointments/<int:appointment_id>/undo", endpoint="undo")
@requires(Permission.APPOINTMENTS_DESK)
def undo(appointment_id: int):
    try:
        acted = desk.act(db.session(), appointment_id, desk.undo, actor=_actor())
    except Invalid as invalid:
        return _refused(appointment_id, invalid)
    if acted is None:
        return _not_found()
    appointment, was = acted
    if was == "cancelled":
        return _done(appointment, _("Undone: %(person)s is waiting again."))
    return _done(appointment, _("Undone: %(person)s is with the agent again."))


@bp.post("/accueil/appointments/<int:appointment_id>/cancel", endpoint="cancel")
@requires(Permission.APPOINTMENTS_BOOK)
def cancel(appointment_id: int):
    def staff_cancel(sess, appointment, *, actor):
        return booking.cancel(
            sess, appointment, by="staff", actor=actor, link_base=public_base_url()
        )

    return _transition(appointment_id, staff_cancel, _("Appointment of %(person)s cancelled."))


@bp.post("/accueil/appointments/<int:appointment_id>/call", endpoint="call")
@requires(Permission.APPOINTMENTS_DESK)
def call(appointment_id: int):
    try:
        called = desk.call_in(
            db.session(), appointment_id, request.form.get("agent", ""), actor=_actor()
        )
    except Invalid as invalid:
        return _refused(appointment_id, invalid)
    if called is None:
        return _not_found()
    appointment, called_by = called
    return _done(
        appointment,
        _("%(person)s is called in by %(agent)s."),
        agent=called_by.display_name if called_by else "",
    )


# --- Moving ---------------------------------------------------------------------------------


def _parse_start(form) -> tuple[datetime | None, dict[str, FieldError]]:
    """`start` (ISO, a proposed slot), or `day` + `time` (Brussels wall clock)."""
    raw = (form.get("start") or "").strip()
    if raw:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            moment = None
        if moment is None or not clock.FIRST_YEAR <= moment.year <= clock.LAST_YEAR:
            return None, {"start": FieldError("invalid_datetime")}
        return moment, {}
    errors: dict[str, FieldError] = {}
    day = at = None
    day = clock.parse_day(form.get("day") or "")
    if day is None:
        errors["day"] = FieldError("required" if not form.get("day") else "invalid_date")
    try:
        at = time.fromisoformat((form.get("time") or "").strip())
    except ValueError:
        errors["time"] = FieldError("required" if not form.get("time") else "invalid_time")
    if errors:
        return None, errors
    assert day is not None and at is not None
    return datetime.combine(day, at.replace(second=0, microsecond=0), clock.BRUSSELS), {}


@bp.route(
    "/accueil/appointments/<int:appointment_id>/move", methods=["GET", "POST"], endpoint="move"
)
@requires(Permission.APPOINTMENTS_BOOK)
def move(appointment_id: int):
    sess = db.session()
    appointment = _appointment_or_404(appointment_id)
    if appointment is None:
        return _not_found()
    agents = desk.agents_for(sess, appointment.service, appointment.location)
    local = clock.to_local(appointment.start_at)
    values = {
        "day": request.form.get("day", local.date().isoformat()),
        "time": request.form.get("time", local.strftime("%H:%M")),
        "agent": request.form.get("agent", ""),
    }
    context = {"appointment": appointment, "agents": agents, "values": values}
    if request.method == "GET":
        return render("appointments/desk/move.html", errors={}, next_slots=[], **context)
    start, problems = _parse_start(request.form)
    raw_agent = values["agent"]
    agent_id = parse_id(raw_agent)
    if raw_agent and agent_id not in {agent.id for agent in agents}:
        problems["agent"] = FieldError("unknown_choice")
    try:
        if problems:
            raise Invalid(problems)
        assert start is not None
        moved = desk.move(
            sess,
            appointment,
            start,
            agent_id=agent_id,
            actor=_actor(),
            link_base=public_base_url(),
            secret_key=current_app.config["SECRET_KEY"],
        )
    except Invalid as invalid:
        return render(
            "appointments/desk/move.html",
            errors=_errors(invalid),
            next_slots=[],
            status=422,
            **context,
        )
    except booking.SlotTaken as taken:
        return render(
            "appointments/desk/move.html",
            errors={"start": _("This time is taken. Choose one of the next free times.")},
            next_slots=taken.next_slots,
            status=409,
            **context,
        )
    flash(
        _(
            "Appointment moved to %(when)s.",
            when=clock.to_local(moved.start_at).strftime("%d/%m %H:%M"),
        ),
        "success",
    )
    return redirect(_desk_url(moved.location, clock.to_local(moved.start_at).date()))


# --- Booking for a caller or a person at the desk --------------------------------------------


def _linked_referral(raw: str | None) -> tuple[referrals.BookingReferral | None, dict[str, str]]:
    """The outreach referral the booking is for (`?referral=<id>`, from a person's file):
    None and no error when none is given; an error when the user may not see it or it
    is closed (the same sentence for one that does not exist)."""
    raw = (raw or "").strip()
    if not raw:
        return None, {}
    linked = files.booking_referral(db.session(), _actor(), parse_uuid(raw))
    if linked is None:
        return None, {"referral": error_message(FieldError("referral_not_bookable"))}
    return linked, {}


def _slots_by_day(found: list[appointments.Slot]) -> list[tuple[date, list[appointments.Slot]]]:
    """The free starts grouped by their Brussels day, in order."""
    days: dict[date, list[appointments.Slot]] = {}
    for slot in found:
        days.setdefault(clock.to_local(slot.start).date(), []).append(slot)
    return list(days.items())


@bp.route("/accueil/book", methods=["GET", "POST"], endpoint="book")
@requires(Permission.APPOINTMENTS_BOOK)
def book():
    sess = db.session()
    source = request.values
    location, errors = _pick_location(source.get("location"))
    if location is None and errors:
        return _not_found()  # an unknown place, or another CPAS's: the same answer
    if location is None:
        return render("appointments/desk/no_location.html")
    linked, referral_errors = _linked_referral(source.get("referral"))
    errors.update(referral_errors)
    day, day_errors = _parse_day(source.get("day"))
    day = day or _today()
    form = desk.booking_form(sess, location, source.get("service") or "", day, viewer=_actor())
    service = form.service
    if form.unknown_service:
        errors["service"] = error_message(FieldError("unknown_choice"))
    errors.update(day_errors)
    values = {
        "name": request.form.get("name", linked.name if linked else ""),
        "phone": request.form.get("phone", ""),
        "language": request.form.get("language", (linked.language or "") if linked else ""),
        "source": request.form.get("source", "desk" if linked else "phone"),
        "start": request.form.get("start", ""),
    }
    context = {
        "location": location,
        "locations": form.locations,
        "services": form.services,
        "service": service,
        "day": day,
        "slots": form.free_starts,
        "slot_days": _slots_by_day(form.free_starts),
        "values": values,
        "language": _language(),
        "linked": linked,
    }
    if request.method == "GET" or errors:
        return render(
            "appointments/desk/book.html",
            errors=errors,
            status=422 if errors else 200,
            **context,
        )
    start, problems = _parse_start(request.form)
    if values["source"] not in STAFF_SOURCES:
        problems["source"] = FieldError("unknown_choice")
    if not values["start"]:
        problems = {"start": FieldError("required"), **problems}
    try:
        if problems:
            raise Invalid(problems)
        assert start is not None
        made = desk.book_for(
            sess,
            service=service,
            location=location,
            start=start,
            person_name=values["name"][:200],
            phone=values["phone"][:40],
            language=values["language"] or None,
            source=values["source"],
            actor=_actor(),
            link_base=public_base_url(),
            secret_key=current_app.config["SECRET_KEY"],
            referral_id=linked.referral.id if linked else None,
        )
    except Invalid as invalid:
        return render("appointments/desk/book.html", errors=_errors(invalid), status=422, **context)
    except booking.SlotTaken as taken:
        context["slots"] = taken.next_slots
        context["slot_days"] = _slots_by_day(taken.next_slots)
        return render(
            "appointments/desk/book.html",
            errors={"start": _("This time was just taken. Choose one of the next free times.")},
            status=409,
            **context,
        )
    when = clock.to_local(made.start_at).strftime("%d/%m %H:%M")
    if not made.person.phone:
        # No number, no SMS: the person leaves with the printed slip.
        flash(
            _(
                "Appointment booked on %(when)s. No SMS without a number: print the slip.",
                when=when,
            ),
            "success",
        )
        return redirect(url_for("appointments_desk.slip", appointment_id=made.id))
    flash(_("Appointment booked on %(when)s. An SMS confirms it.", when=when), "success")
    if linked is not None:
        return redirect(
            url_for(
                "outreach_files.person",
                person_id=linked.person.id,
                _anchor=f"referral-{linked.referral.id}",
            )
        )
    return redirect(_desk_url(location, clock.to_local(made.start_at).date()))


# --- The printable slip (people without a mobile phone) -----------------------------------


@bp.get("/accueil/appointments/<int:appointment_id>/slip", endpoint="slip")
@requires(Permission.APPOINTMENTS_BOOK)
def slip(appointment_id: int):
    """One A4 page for the person: when, where, what to bring, whom to call, in their
    language (`?lang=`, else the language given at booking, else the user's). It holds
    no personal data but the name staff typed."""
    appointment = _appointment_or_404(appointment_id)
    if appointment is None or appointment.status == "cancelled":
        return _not_found()
    chosen = request.args.get("lang", "")
    if chosen not in booking.LANGUAGES:
        chosen = appointment.person.language or _language()
    service, location = appointment.service, appointment.location
    cpas = organisations.cpas_of_team(db.session(), location.team_id)
    with force_locale(chosen):
        return render(
            "appointments/desk/slip.html",
            appointment=appointment,
            service_name=service.name(chosen),
            location=location,
            bring=[line for line in service.what_to_bring(chosen).splitlines() if line.strip()],
            # The place's CPAS names the slip; its phone stands in for a place without one.
            cpas_name=cpas.label(chosen) if cpas is not None else None,
            phone=location.phone or (cpas.phone if cpas is not None else ""),
            slip_language=chosen,
        )


# --- The agent's own list -----------------------------------------------------------------


@bp.get("/mes-rendez-vous", endpoint="mine")
@requires(Permission.APPOINTMENTS_MINE)
def mine():
    result = desk.open_my_appointments(db.session(), _actor())
    by_day: dict[date, list[Appointment]] = {}
    for appointment in result.mine:
        by_day.setdefault(clock.to_local(appointment.start_at).date(), []).append(appointment)
    return render(
        "appointments/desk/mine.html",
        result=result,
        by_day=by_day,
        today=_today(),
        tomorrow=_today() + timedelta(days=1),
        language=_language(),
        days=desk.MY_DAYS,
    )
