"""What the public booking pages (/rendez-vous) ask of appointments, without Flask:

- `cpas_of_location()`, `services_of_cpas()`, `in_cpas()`: the public booking is per
  CPAS (the CPAS of the commune where the person lives is competent): a place belongs
  to the CPAS of its team; the services a CPAS offers are those of its places;
- `places_for()`: the locations offering a service, nearest first when the person gave
  a position (haversine distance to `Location.latitude/longitude`, computed here: no
  external service) or a postcode (same postcode, then same first two digits, then the
  same first digit: a guess from postcodes, and the page says so);
- `week_of_slots()`: the free starts of one week, grouped by Brussels day;
- `book_verified()`: book with a number proved by an SMS code (`verification`), once
  per check: a second submit returns the first booking;
- `join_waiting_list()`: the same, for the waiting list of a service;
- what the public pages show of a place (`place_lines`, `opening_lines`, `call_box`)
  and how a chosen time travels in a form (`start_value`, `parse_start`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from babel.dates import get_day_names
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from appointments import booking, slots, verification
from appointments.models import (
    Appointment,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WaitingEntry,
)
from core import audit, clock, organisations
from core.accounts import Team
from core.db import committed
from core.errors import FieldError, Invalid
from notifications import services as notify

EARTH_RADIUS_KM = 6371.0
POSTCODE = re.compile(r"^[1-9]\d{3}$")  # Belgian postcodes: 1000 … 9999
WEEK_DAYS = 7
T = TypeVar("T")
# Slot searches per client address and minute, the API's and the booking pages' alike:
# a person browsing makes a few dozen.
SEARCHES_PER_MINUTE = 300
# The calendar file's name, per language.
ICS_FILENAMES = {"fr": "rendez-vous.ics", "nl": "afspraak.ics", "en": "appointment.ics"}


# --- Places -----------------------------------------------------------------------------


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


@dataclass(frozen=True)
class Place:
    location: Location
    distance_km: float | None = None  # from the person's position
    # How the postcode matched: "same" postcode, "area" (first two digits), "region"
    # (first digit), "other"; None when no postcode was given.
    match: str | None = None


def read_position(raw_latitude: str, raw_longitude: str) -> tuple[float, float]:
    """A position sent by the browser, or Invalid({"position": …})."""
    try:
        latitude, longitude = float(raw_latitude), float(raw_longitude)
    except (TypeError, ValueError):
        raise Invalid({"position": FieldError("not_a_number")}) from None
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise Invalid({"position": FieldError("not_a_number")})
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Invalid({"position": FieldError("out_of_range", {"min": -180, "max": 180})})
    return latitude, longitude


def read_postcode(raw: str) -> str:
    postcode = "".join((raw or "").split())
    if not postcode:
        raise Invalid({"postcode": FieldError("required")})
    if not POSTCODE.match(postcode):
        raise Invalid({"postcode": FieldError("invalid_postcode")})
    return postcode


def _postcode_match(theirs: str, wanted: str) -> str:
    if theirs == wanted:
        return "same"
    if theirs[:2] == wanted[:2]:
        return "area"
    if theirs[:1] == wanted[:1]:
        return "region"
    return "other"


MATCH_ORDER = {"same": 0, "area": 1, "region": 2, "other": 3}


# --- The CPAS of the public booking -------------------------------------------------------


def several_cpas(session: Session) -> bool:
    """Does this installation serve more than one CPAS (the booking then asks which)?"""
    return len(list(session.scalars(select(organisations.Cpas.id).limit(2)))) > 1


def cpas_id_of_location(session: Session, location: Location) -> int | None:
    """The place's CPAS id: its team's (every place has a team: 0052_cpas_place_team)."""
    return organisations.cpas_id_of_team(session, location.team_id)


def cpas_of_location(session: Session, location: Location) -> organisations.Cpas | None:
    cpas_id = cpas_id_of_location(session, location)
    return session.get(organisations.Cpas, cpas_id) if cpas_id is not None else None


def in_cpas(session: Session, location: Location, cpas: organisations.Cpas | None) -> bool:
    """May the booking of `cpas` show this place? Only a place of that very CPAS; with no
    CPAS chosen (an installation without any), every place."""
    return cpas is None or cpas_id_of_location(session, location) == cpas.id


# The page languages a CPAS's public pages offer: its regime's, English always (to read).
REGIME_LANGUAGES = {"fr": ("fr", "en"), "nl": ("nl", "en"), "bilingual": ("fr", "nl", "en")}


def page_languages(cpas: organisations.Cpas | None) -> tuple[str, ...]:
    """The languages offered on `cpas`'s public pages (all three when none is known)."""
    regime = cpas.language_regime if cpas is not None else "bilingual"
    return REGIME_LANGUAGES.get(regime, REGIME_LANGUAGES["bilingual"])


def find_cpas(session: Session, raw: str) -> organisations.Cpas | None:
    """The CPAS competent for what the person typed: a postcode, or a commune's name in
    French or Dutch ("Schaarbeek", "Sint-Joost-ten-Node"; case, accents and hyphens
    aside: `organisations.cpas_for_commune`); None when no CPAS here serves it."""
    typed = " ".join((raw or "").split())
    if POSTCODE.match(typed):
        return organisations.cpas_for_postcode(session, typed)
    return organisations.cpas_for_commune(session, typed)


def api_cpas(session: Session, code: str | None, where: str | None) -> organisations.Cpas | None:
    """The CPAS a public API request is about (`/api/appointments/services`, `/slots`):
    the one named by its code, else the one competent for a postcode or commune (as the
    booking's step 0); with a single CPAS (or none) in the installation, that one. Invalid
    when several CPAS are served and neither is given (`cpas`: required), or the code is
    unknown (`cpas`: unknown_choice), or no CPAS here serves the place (`postcode`:
    not_served): a public list never mixes CPAS."""
    code, where = (code or "").strip(), " ".join((where or "").split())
    if code:
        found = organisations.get_cpas(session, code)
        if found is None:
            raise Invalid({"cpas": FieldError("unknown_choice")})
        return found
    if where:
        found = find_cpas(session, where[:80])
        if found is None:
            raise Invalid({"postcode": FieldError("not_served")})
        return found
    if several_cpas(session):
        raise Invalid({"cpas": FieldError("required")})
    every = organisations.list_cpas(session)
    return every[0] if every else None


def code_values(session: Session, location: Location, language: str | None) -> dict[str, str]:
    """The values of the code's SMS: the name of the CPAS of the place being booked."""
    cpas = cpas_of_location(session, location)
    return notify.cpas_values(booking.cpas_names(cpas), language)


def services_of_cpas(
    session: Session, cpas: organisations.Cpas | None, offered: list[Any]
) -> list[Any]:
    """`offered` (appointments' OfferedService) kept to the places of `cpas`: a service
    none of its places offers is left out. No CPAS (an installation without any): all."""
    if cpas is None:
        return offered
    kept = []
    for item in offered:
        if item.service.cpas_id not in (None, cpas.id):
            continue  # another CPAS's service (its places are its own anyway)
        places = [location for location in item.locations if in_cpas(session, location, cpas)]
        if places:
            kept.append(type(item)(item.service, places))
    return kept


def places_for(
    session: Session,
    service: Service,
    *,
    position: tuple[float, float] | None = None,
    postcode: str | None = None,
    cpas: organisations.Cpas | None = None,
) -> list[Place]:
    """The locations of `cpas` offering `service`: by name, or nearest first."""
    locations = [
        location
        for location in session.scalars(
            select(Location)
            .join(ServiceLocation, ServiceLocation.location_id == Location.id)
            .where(ServiceLocation.service_id == service.id)
            .order_by(Location.name, Location.code)
        )
        if in_cpas(session, location, cpas)
    ]
    if position is not None:
        places = [
            Place(
                location,
                distance_km=None
                if location.latitude is None or location.longitude is None
                else haversine_km(*position, location.latitude, location.longitude),
            )
            for location in locations
        ]
        # Places without coordinates last, in name order.
        return sorted(
            places, key=lambda place: (place.distance_km is None, place.distance_km or 0.0)
        )
    if postcode is not None:
        places = [
            Place(location, match=_postcode_match(location.postcode or "", postcode))
            for location in locations
        ]
        return sorted(places, key=lambda place: MATCH_ORDER[place.match or "other"])
    return [Place(location) for location in locations]


# --- Slots of a week ----------------------------------------------------------------------


@dataclass
class Day:
    day: date
    slots: list[slots.Slot] = field(default_factory=list)


@dataclass(frozen=True)
class Week:
    first_day: date
    days: list[Day]  # only days with free starts
    previous: date | None  # the first day of the week before, when it can hold slots
    next: date | None
    first_free: slots.Slot | None  # when this week is empty: the next free start


def today() -> date:
    return clock.to_local(clock.now()).date()


def week_of_slots(
    session: Session, service: Service, location: Location, first_day: date | None = None
) -> Week:
    """The free starts of the 7 days from `first_day` (today at the earliest)."""
    start = max(first_day or today(), today())
    last_day = today() + timedelta(days=service.max_horizon_days)
    start = min(start, last_day)
    found = slots.free_slots(
        session, service=service, location=location, first_day=start, days=WEEK_DAYS
    )
    days: dict[date, Day] = {}
    for slot in found:
        day = clock.to_local(slot.start).date()
        days.setdefault(day, Day(day)).slots.append(slot)
    previous = start - timedelta(days=WEEK_DAYS) if start > today() else None
    if previous is not None and previous < today():
        previous = today()
    following = start + timedelta(days=WEEK_DAYS)
    first_free = None
    if not found:
        after = datetime.combine(following, datetime.min.time(), clock.BRUSSELS)
        upcoming = slots.next_free_slots(
            session, service=service, location=location, after=clock.as_utc(after), limit=1
        )
        first_free = upcoming[0] if upcoming else None
    return Week(
        first_day=start,
        days=sorted(days.values(), key=lambda day: day.day),
        previous=previous,
        next=following if following <= last_day else None,
        first_free=first_free,
    )


def is_free(session: Session, service: Service, location: Location, start: datetime) -> bool:
    """Can `start` be booked now (a start of the grid with an agent free)?"""
    return bool(slots.agents_free_at(session, service=service, location=location, start=start))


# --- Booking with a verified number ------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    token: str | None  # the manage token; None when this check had booked already
    again: bool = False


def check_person(name: str, raw_phone: str, language: str | None) -> str:
    """Name, mobile number and SMS language as `book()` will judge them; the number in
    E.164, or Invalid with every field's error."""
    errors, number = booking.check_person(name, raw_phone, language, source="online")
    if errors:
        raise Invalid(errors)
    assert number is not None
    return number.e164


def _verified(
    session: Session,
    check_id: object,
    proof: object,
    secret: str,
    person_name: str,
    phone: str,
    language: str | None,
) -> tuple[str, verification.PhoneCheck]:
    """The number (E.164) and its verified check, locked for the final step."""
    e164 = check_person(person_name, phone, language)
    return e164, verification.confirmed(session, check_id, proof, e164, secret=secret, lock=True)


def _unused(check: verification.PhoneCheck) -> None:
    if check.used_at is not None:  # used for the other purpose: a code is for one thing
        raise Invalid({"phone": FieldError("not_verified")})


def book_verified(
    session: Session,
    *,
    check_id: object,
    proof: object,
    secret: str,
    service: Service | None,
    location: Location | None,
    start: datetime,
    person_name: str,
    phone: str,
    language: str | None,
    link_base: str | None = None,
) -> Booked:
    """Book once per verified check: Invalid, SlotTaken (the caller rolls back) or the
    booking; the same check again returns the same appointment (no double booking)."""
    e164, check = _verified(session, check_id, proof, secret, person_name, phone, language)
    if check.appointment_id is not None:
        done = session.get(Appointment, check.appointment_id)
        assert done is not None
        return Booked(done, None, again=True)
    _unused(check)
    appointment = booking.book(
        session,
        service=service,
        location=location,
        start=start,
        person_name=person_name,
        phone=e164,
        language=language,
        source="online",
        link_base=link_base,
        secret_key=secret,
    )
    verification.mark_used(check, appointment_id=appointment.id)
    return Booked(appointment, booking.issued_token(appointment))


@dataclass
class Joined:
    """The outcome of `join_waiting_list()`."""

    entry: WaitingEntry
    # The number was on this list already (another code, another name, another tab):
    # nothing was added, and the page says so.
    already: bool = False
    again: bool = False  # this check had joined already (a second tap)


def anywhere_teams(session: Session, service: Service) -> tuple[int | None, list[int]]:
    """A waiting list "anywhere" (no place chosen) is the service's CPAS's: that CPAS and
    the teams of its places offering the service (the contact joins them, so that CPAS's
    staff see it and no other CPAS does). A shared service among several CPAS has no
    such CPAS: (None, [])."""
    cpas_id = service.cpas_id
    if cpas_id is None and not several_cpas(session):
        cpas_id = organisations.cpas_id_of_team(session, None)
    if cpas_id is None:
        return None, []
    teams = session.scalars(
        select(Team.id)
        .join(Location, Location.team_id == Team.id)
        .join(ServiceLocation, ServiceLocation.location_id == Location.id)
        .where(ServiceLocation.service_id == service.id, Team.cpas_id == cpas_id)
        .distinct()
        .order_by(Team.id)
    )
    return cpas_id, list(teams)


def _waiting_entry(
    session: Session, e164: str, service_id: int, location_id: int | None
) -> WaitingEntry | None:
    return session.scalar(
        select(WaitingEntry).where(
            WaitingEntry.phone == e164,
            WaitingEntry.service_id == service_id,
            WaitingEntry.status == "waiting",
            WaitingEntry.location_id.is_(None)
            if location_id is None
            else WaitingEntry.location_id == location_id,
        )
    )


def join_waiting_list(
    session: Session,
    *,
    check_id: object,
    proof: object,
    secret: str,
    service: Service | None,
    location: Location | None,
    person_name: str,
    phone: str,
    language: str | None,
) -> Joined:
    """Put a person with a verified number on a service's waiting list (at a location,
    or anywhere when None); once per check, and once per number, service and place
    (unique indexes: two concurrent requests make one entry)."""
    errors: dict[str, FieldError] = {}
    if service is None or not service.active or service.booking_mode != "online":
        errors["service"] = FieldError("unknown_choice")
    elif location is not None and not booking.offers(session, service, location):
        errors["location"] = FieldError("not_offered")
    elif location is None and not anywhere_teams(session, service)[1]:
        # "Anywhere" is within the service's CPAS; a service shared by several CPAS (or
        # offered nowhere) has none: a place is required (docs/cpas.md).
        errors["location"] = FieldError("required")
    if errors:
        raise Invalid(errors)
    assert service is not None
    e164, check = _verified(session, check_id, proof, secret, person_name, phone, language)
    if check.waiting_id is not None:
        done = session.get(WaitingEntry, check.waiting_id)
        assert done is not None
        return Joined(done, again=True)
    _unused(check)
    location_id = location.id if location is not None else None
    entry = _waiting_entry(session, e164, service.id, location_id)
    already = entry is not None
    if entry is None:
        person = booking.person_for(session, person_name, e164, language)
        entry = WaitingEntry(
            service_id=service.id,
            location_id=location_id,
            person_id=person.id,
            phone=e164,
            status="waiting",
            created_at=clock.now(),
        )
        try:
            with session.begin_nested():
                session.add(entry)
                session.flush()
        except IntegrityError:
            # Another request put this number on the list a moment ago: theirs stands.
            entry = _waiting_entry(session, e164, service.id, location_id)
            if entry is None:
                raise
            already = True
        else:
            # At a place: the contact joins its team (so its CPAS: docs/cpas.md);
            # anywhere: the teams of the service's CPAS's places offering it.
            contact = booking.contact_for(session, person, location=location)
            if location is None:
                for team_id in anywhere_teams(session, service)[1]:
                    notify.join_team(session, contact, team_id)
            # The offer of a freed slot is a service change: consent stated on the form.
            booking.record_consent(session, contact, source="online", actor=None)
            audit.record(
                session,
                actor=None,
                action="create",
                entity_type="appointment_waiting_entry",
                entity_id=entry.id,
                details={
                    "service": service.code,
                    "location": location.code if location else None,
                },
            )
    verification.mark_used(check, waiting_id=entry.id)
    return Joined(entry, already=already)


def find_location_offering(
    session: Session, service: Service, code: str, cpas: organisations.Cpas | None = None
) -> Location | None:
    """The location with this code when it offers `service` and belongs to `cpas` (another
    CPAS's place is unknown here, as a place that does not exist)."""
    location = session.scalar(select(Location).where(Location.code == (code or "").strip()))
    if location is None or not booking.offers(session, service, location):
        return None
    if not in_cpas(session, location, cpas):
        return None
    return location


def get_waiting_entry(session: Session, entry_id: object) -> WaitingEntry | None:
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        return None
    return session.get(WaitingEntry, entry_id)


def antennes(session: Session) -> list[Location]:
    """Every antenne (not the minibus stops), by name: whom to call when the page cannot
    know which place is the person's."""
    return list(
        session.scalars(
            select(Location)
            .where(Location.kind == "antenne")
            .options(selectinload(Location.opening_hours))
            .order_by(Location.name)
        )
    )


def confirmation_state(session: Session, appointment: Appointment) -> notify.MessageState | None:
    """Where the appointment's confirmation SMS stands (the done page says when it comes)."""
    return notify.message_state(session, f"confirmation:{booking.subject_of(appointment)}")


# --- What the public pages show of a place, and how a time travels in a form -------------


def ics_filename(language: str) -> str:
    return ICS_FILENAMES.get(language, ICS_FILENAMES["fr"])


def place_lines(location: Location, language: str) -> tuple[str, str]:
    """The place's name, and its address with postcode and town, in `language` (the
    Dutch street name in Dutch, where there is one)."""
    parts = (location.street(language), location.town(language))
    return location.display_name(language), ", ".join(part for part in parts if part)


def opening_lines(hours: list[OpeningHours], language: str) -> list[tuple[str, str]]:
    """("Monday", "08:30–12:00, 13:00–16:00"), … in `language`."""
    names = get_day_names("wide", locale=language)
    by_day: dict[int, list[str]] = {}
    for row in hours:
        span = f"{row.opens.strftime('%H:%M')}–{row.closes.strftime('%H:%M')}"
        by_day.setdefault(row.weekday, []).append(span)
    # Days in a row with the same hours are one line: "Monday – Friday".
    lines: list[tuple[list[int], str]] = []
    for day, spans in sorted(by_day.items()):
        text = ", ".join(spans)
        if lines and lines[-1][1] == text and lines[-1][0][-1] == day - 1:
            lines[-1][0].append(day)
        else:
            lines.append(([day], text))
    return [
        (
            names[days[0]].capitalize()
            if len(days) == 1
            else f"{names[days[0]].capitalize()} – {names[days[-1]]}",
            text,
        )
        for days, text in lines
    ]


def call_box(location: Location, language: str) -> dict[str, object]:
    """A place's name, address, phone number and opening hours: what a person needs to
    call or come instead (templates/appointments/public/_call_us.html)."""
    name, address = place_lines(location, language)
    return {
        "name": name,
        "address": address,
        "phone": location.phone,
        "hours": opening_lines(location.opening_hours, language),
    }


def places_to_call(session: Session, language: str) -> list[dict[str, object]]:
    """Every antenne with its phone number and hours, for a page that cannot know which
    one is the person's (an unknown link)."""
    return [call_box(location, language) for location in antennes(session)]


def parse_start(raw: str | None) -> datetime | None:
    """A start as the time buttons post it (ISO 8601 with offset), in UTC."""
    try:
        moment = datetime.fromisoformat((raw or "").strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=clock.BRUSSELS)
        return clock.as_utc(moment)
    except (ValueError, OverflowError):  # not a time, or out of range once in UTC
        return None


def start_value(moment: datetime) -> str:
    """A start as the time buttons post it: Brussels time, ISO 8601 with offset."""
    return clock.to_local(moment).isoformat()


def week_links(
    session: Session,
    service: Service,
    location: Location,
    first_day: date | None,
    *,
    page_url: Callable[[date], str],
) -> dict[str, object]:
    """The slot picker's data (templates/appointments/public/_slots.html): the week and
    the addresses of the weeks around it, `page_url(first day)` giving a week's."""
    week = week_of_slots(session, service, location, first_day)
    return {
        "week": week,
        "previous_url": page_url(week.previous) if week.previous else None,
        "next_url": page_url(week.next) if week.next else None,
        "first_free_url": (
            page_url(clock.to_local(week.first_free.start).date()) if week.first_free else None
        ),
        "start_value": start_value,
    }


# --- The public pages' use cases: one call per step, the transaction included -------------
# Each commits what it did and, refused, rolls back (or commits what must count, as a
# refused or wrong code) and raises: a view calls one of these and renders.


def send_code(
    session: Session,
    *,
    location: Location | None = None,
    service: Service | None = None,
    **start_args: Any,
) -> verification.PhoneCheck:
    """`verification.start`, committed: RateLimited commits (the refused attempt counts)
    and raises; Invalid rolls back and raises. `location`: the place being booked, whose
    CPAS's SMS sender the code leaves with; none ("anywhere"): the `service`'s CPAS."""
    if location is not None:
        start_args["cpas_id"] = cpas_id_of_location(session, location)
        start_args["team_id"] = location.team_id  # the contact joins the place's team
    elif service is not None:
        # Anywhere: the service's CPAS and the teams of its places offering it.
        start_args["cpas_id"], start_args["team_ids"] = anywhere_teams(session, service)
    try:
        check = verification.start(session, **start_args)
    except verification.RateLimited:
        session.commit()  # the refused attempt counts
        raise
    except Invalid:
        session.rollback()
        raise
    session.commit()
    return check


def check_code(session: Session, check: verification.PhoneCheck, code: str, *, secret: str) -> str:
    """`verification.verify`, committed: the proof; a wrong try counts (committed) and
    raises Invalid."""
    try:
        proof = verification.verify(session, check, code, secret=secret)
    except Invalid:
        session.commit()  # a wrong try counts
        raise
    session.commit()
    return proof


def finish_waiting(session: Session, **join_args: Any) -> Joined:
    """`join_waiting_list`, committed; Invalid rolled back."""
    return committed(session, lambda: join_waiting_list(session, **join_args))


def finish_booking(session: Session, **book_args: Any) -> Booked:
    """`book_verified`, committed; Invalid or SlotTaken rolled back."""
    return committed(session, lambda: book_verified(session, **book_args))


@dataclass(frozen=True)
class WaitingDone:
    entry: WaitingEntry
    service: Service
    location: Location | None


def waiting_done(session: Session, entry_id: object) -> WaitingDone | None:
    """A waiting-list entry with its service and place (the confirmation page)."""
    entry = get_waiting_entry(session, entry_id)
    if entry is None:
        return None
    service = session.get(Service, entry.service_id)
    assert service is not None
    location = session.get(Location, entry.location_id) if entry.location_id else None
    return WaitingDone(entry=entry, service=service, location=location)


def cancel_by_person(session: Session, appointment: Appointment) -> Appointment:
    """The person cancels from the page their SMS links to, committed."""
    return committed(session, lambda: booking.cancel(session, appointment, by="person"))


def move_by_person(
    session: Session, appointment: Appointment, start: datetime, *, link_base: str, secret_key: str
) -> str | None:
    """The person moves it from that page, committed: the new appointment's link token;
    SlotTaken (the next free starts) or Invalid with nothing changed."""

    def run() -> str | None:
        moved = booking.reschedule(
            session, appointment, start, by="person", link_base=link_base, secret_key=secret_key
        )
        return booking.issued_token(moved)

    return committed(session, run)


# --- The calendar file (iCalendar, RFC 5545, written by hand) -----------------------------

ICS_LINE_OCTETS = 75


def ics_escape(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma escaped; newlines as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def ics_fold(line: str) -> str:
    """Lines longer than 75 octets folded (CRLF + one space), never inside a UTF-8
    character."""
    data = line.encode()
    parts: list[bytes] = []
    limit = ICS_LINE_OCTETS
    while len(data) > limit:
        cut = limit
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # a continuation byte
            cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
        limit = ICS_LINE_OCTETS - 1  # the leading space counts
    parts.append(data)
    return "\r\n ".join(part.decode() for part in parts)


def _ics_utc(moment: datetime) -> str:
    return clock.as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def calendar_file(
    session: Session, appointment: Appointment, *, language: str, host: str, description: str
) -> str:
    """The appointment as an iCalendar file, in `language`; `host` names its UID."""
    name, address = place_lines(appointment.location, language)
    status = "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED"
    history = booking.history_of(session, appointment)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Terrain//Appointments//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        # The first booking's id: a moved appointment's file replaces the entry the
        # calendar already has instead of adding a second one.
        f"UID:appointment-{(history or [appointment])[0].id}@{host}",
        # How many times it moved: a calendar keeps the newest version of the entry.
        f"SEQUENCE:{len(history)}",
        f"DTSTAMP:{_ics_utc(clock.now())}",
        f"DTSTART:{_ics_utc(appointment.start_at)}",
        f"DTEND:{_ics_utc(appointment.end_at)}",
        f"SUMMARY:{ics_escape(appointment.service.name(language))}",
        f"LOCATION:{ics_escape(', '.join(part for part in (name, address) if part))}",
        f"DESCRIPTION:{ics_escape(description)}",
        f"STATUS:{status}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(ics_fold(line) + "\r\n" for line in lines)
