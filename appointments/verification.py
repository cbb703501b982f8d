"""One-time SMS codes: the public pages prove that the person holds the mobile number
they book with, without an account.

`start()` makes a check: a 6-digit code (random: derived from a random seed with the
application's key, `notifications.masking`), sent through the notifications
outbox (template `verification_code`, key `phone-check:<id>`, category `verification`:
no consent needed, no quiet hours). `verify()` compares the code the person typed; the
answer is a proof (an HMAC of the check with the application's secret) that the page
keeps in its session, never in a URL. `confirmed()` accepts a proof only for a verified,
recent check of the same number; `appointments.online` then books or puts the person on
the waiting list, once per check (`mark_used()`).

Limits, counted in the database so that every web worker counts together:

- a code is valid `CODE_VALID` (10 minutes) and may be tried `MAX_TRIES` (5) times; a
  try is counted with one conditional UPDATE, so two workers never grant a sixth;
- a new code for the same number only `RESEND_AFTER` (60 s) after the previous one;
- from one client address (an IPv6 client: its /64) at most `CODES_PER_ADDRESS` codes
  an hour, with growing waits between them after the first few (`ADDRESS_PACE`), and
  from its network (IPv4 /24, IPv6 /56) at most `CODES_PER_PREFIX`, paced too
  (`PREFIX_PACE`): many addresses of one network count together (`core.throttle.pace`);
- at most `CODES_PER_NUMBER` codes per number in an hour (`core.throttle.consume`);
- the site sends at most `CODES_PER_HOUR_ALL` codes an hour, of which
  `CODES_KEPT_FOR_KNOWN` only to numbers that already booked here (`known_number()`):
  a script with fresh numbers cannot take the whole ceiling from the people who have
  an appointment to move;
- a verified number is good for `VERIFIED_VALID` (30 minutes) of booking.

All keys are hashed (`throttle.hashed_key`), so no address or number is kept in clear.

What is stored: no number, no address, no code in clear. A check holds keyed hashes
(HMAC-SHA-256 with the secret) of the number and of the code, its times, its tries and
what it was used for. Checks are deleted a day after they were made (`purge()`, a job
of `appointments.jobs`). The outbox row that sends the code keeps it masked
(`••••••`) with the seed, never the code; the dispatcher derives it again at send time.
It is made under a contact for the number alone (`appointments.code:<language>:<hash>`),
which holds no name.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import ForeignKey, Index, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from appointments.models import Appointment, BookingPerson, WaitingEntry
from core import clock, phone, throttle
from core.db import Base
from core.errors import FieldError, Invalid
from notifications import services as notify

CODE_DIGITS = 6
CODE_VALID = timedelta(minutes=10)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)
CODES_PER_NUMBER = 5  # per hour
CODES_PER_ADDRESS = 20  # per hour: a family, a social worker's office, a public computer
# Per hour from one network (IPv4 /24, IPv6 /56): a script rotating the addresses of
# one network meets this long before the site's ceiling; a mobile operator's shared
# addresses (carrier-grade NAT) still leave room for many people at once.
CODES_PER_PREFIX = 40
# Growing waits between codes, as for wrong passwords (core.throttle.Policy): from one
# address the first 5 codes of the hour go at once, then 15 s, 30 s, 60 s, then 2 minutes
# before each next one; from one network the first 10, then 5 s, 10 s … 60 s.
ADDRESS_PACE = throttle.Policy(free_failures=5, first_delay_seconds=15, max_delay_seconds=120)
PREFIX_PACE = throttle.Policy(free_failures=10, first_delay_seconds=5, max_delay_seconds=60)
# Every code of the site per hour: a ceiling on what a script rotating numbers and
# addresses could make the CPAS pay ("SMS pumping"); far above a busy day's bookings.
CODES_PER_HOUR_ALL = 300
# Of which kept for numbers that already booked here (moving, a new appointment): a
# script using fresh numbers stops at CODES_PER_HOUR_ALL - CODES_KEPT_FOR_KNOWN.
CODES_KEPT_FOR_KNOWN = 60
KNOWN_FOR = timedelta(days=365)  # an appointment made within a year makes a number known
# Codes go to mobile numbers of Belgium and its neighbours only (no premium ranges abroad).
CODE_COUNTRIES = ("BE", "FR", "NL", "LU", "DE")
WINDOW_SECONDS = 3600
VERIFIED_VALID = timedelta(minutes=30)
KEEP_FOR = timedelta(days=1)
# What a code is for: a booking, a place on a waiting list, SMS about a minibus stop.
PURPOSES = ("booking", "waiting", "stop_sms")
LANGUAGES = ("fr", "nl", "en")
CONTACT_NAME = "SMS code (online booking)"  # a contact for the number alone: no name


class PhoneCheck(Base):
    """A code sent to a number; only keyed hashes of the number and the code are kept."""

    __tablename__ = "appointment_phone_checks"
    __table_args__ = (
        Index("ix_appointment_phone_checks_phone_created", "phone_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(10), default="booking")
    tries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    # What the verified number was used for (once): the final step is idempotent.
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    waiting_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment_waiting_list.id", ondelete="SET NULL")
    )


class RateLimited(Exception):
    """Too many codes: `scope` is "resend" (wait a minute), "slow" (codes asked too fast
    from this address or network: wait `retry_after`), "number", "address", "prefix"
    (this network) or "all" (the site's hourly ceiling)."""

    def __init__(self, scope: str, retry_after: int):
        super().__init__(scope)
        self.scope = scope
        self.retry_after = max(1, retry_after)


def _keyed(kind: str, value: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()


def phone_hash(e164: str, secret: str) -> str:
    return _keyed("phone-check-number", e164, secret)


def _code_hash(check_id: int, code: str, secret: str) -> str:
    return _keyed("phone-check-code", f"{check_id}:{code}", secret)


def _proof(check: PhoneCheck, secret: str) -> str:
    """Recomputable from the row and the secret, so the row stores no proof; it changes
    with every new check."""
    return _keyed("phone-check-proof", f"{check.id}:{check.code_hash}", secret)[:43]


def read_mobile(raw: str) -> phone.PhoneNumber:
    """The number as E.164, or Invalid: codes go to mobile numbers only."""
    if not (raw or "").strip():
        raise Invalid({"phone": FieldError("required")})
    try:
        number = phone.normalize(raw)
    except phone.InvalidPhoneNumber:
        raise Invalid({"phone": FieldError("invalid_phone")}) from None
    if not number.is_mobile:
        raise Invalid({"phone": FieldError("not_mobile")})
    if phonenumbers.region_code_for_number(phonenumbers.parse(number.e164)) not in CODE_COUNTRIES:
        raise Invalid({"phone": FieldError("country_not_served")})
    return number


def address_key(address: str) -> str:
    """An IPv6 client counts by its /64 (one line hands out a whole /64), IPv4 by itself."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def prefix_key(address: str) -> str:
    """The client's network: IPv4 by its /24, IPv6 by its /56 (a home's or an office's
    allocation); an address that does not parse counts as itself."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    length = 56 if parsed.version == 6 else 24
    return str(ipaddress.ip_network(f"{parsed}/{length}", strict=False))


def known_number(session: Session, e164: str) -> bool:
    """Whether this number booked here (an appointment made within `KNOWN_FOR`, or a
    place on a waiting list): it may use the part of the ceiling kept for such numbers."""
    since = clock.now() - KNOWN_FOR
    booked = (
        select(Appointment.id)
        .join(BookingPerson, BookingPerson.id == Appointment.person_id)
        .where(BookingPerson.phone == e164, Appointment.created_at >= since)
        .limit(1)
    )
    waiting = (
        select(WaitingEntry.id)
        .where(WaitingEntry.phone == e164, WaitingEntry.status.in_(("waiting", "offered")))
        .limit(1)
    )
    return session.scalar(booked) is not None or session.scalar(waiting) is not None


def _contact(
    session: Session,
    number: phone.PhoneNumber,
    language: str,
    secret: str,
    team_ids: Sequence[int] = (),
):
    """The contact the code is sent to; with the place being booked (`team_ids`: its
    team; "anywhere": the teams of the CPAS's places offering the service), it belongs
    to them, so to their CPAS (docs/cpas.md, "Scoping")."""
    reference = f"appointments.code:{language}:{phone_hash(number.e164, secret)[:40]}"
    contact = notify.contact_by_reference(session, reference)
    if contact is None:
        contact = notify.create_contact(
            session,
            actor=None,
            display_name=CONTACT_NAME,
            language=language,
            phones=[number.e164],
            reference=reference,
            team_ids=list(team_ids),
        )
    else:
        for team_id in team_ids:
            notify.join_team(session, contact, team_id)
    return contact


def _check_limits(session: Session, number_hash: str, e164: str, address: str, secret: str):
    now = clock.now()
    latest = session.scalar(
        select(PhoneCheck.created_at)
        .where(PhoneCheck.phone_hash == number_hash, PhoneCheck.created_at > now - RESEND_AFTER)
        .order_by(PhoneCheck.created_at.desc())
        .limit(1)
    )
    if latest is not None:
        raise RateLimited("resend", int((latest + RESEND_AFTER - now).total_seconds() + 0.999))
    # The address before its network: one address asking too fast is refused before it
    # uses up any of its neighbours' codes (a shared operator network).
    for scope, value, policy, limit in (
        ("address", address_key(address), ADDRESS_PACE, CODES_PER_ADDRESS),
        ("prefix", prefix_key(address), PREFIX_PACE, CODES_PER_PREFIX),
    ):
        key = throttle.hashed_key(f"phone-code-{scope}", value, secret)
        paced = throttle.pace(session, key, policy, limit, WINDOW_SECONDS)
        if paced.wait:
            raise RateLimited(scope if paced.limit_reached else "slow", paced.wait)
    key = throttle.hashed_key("phone-code-number", e164, secret)
    wait = throttle.consume(session, key, CODES_PER_NUMBER, WINDOW_SECONDS)
    if wait:
        raise RateLimited("number", wait)
    ordinary = CODES_PER_HOUR_ALL - CODES_KEPT_FOR_KNOWN
    key = throttle.hashed_key("phone-code-all", "all", secret)
    wait = throttle.consume(session, key, ordinary, WINDOW_SECONDS)
    if wait and known_number(session, e164):
        key = throttle.hashed_key("phone-code-all", "known", secret)
        wait = throttle.consume(session, key, CODES_KEPT_FOR_KNOWN, WINDOW_SECONDS)
    if wait:
        raise RateLimited("all", wait)


def start(
    session: Session,
    *,
    raw_phone: str,
    language: str,
    address: str,
    secret: str,
    purpose: str = "booking",
    values: Mapping[str, str] | None = None,
    cpas_id: int | None = None,
    team_id: int | None = None,
    team_ids: Sequence[int] = (),
) -> PhoneCheck:
    """Make a check and put its code in the outbox; Invalid (the number) or RateLimited.
    `values`: the text's other values (the CPAS's name, `notify.cpas_values`);
    `cpas_id`: the CPAS being booked, whose SMS sender the code leaves with;
    `team_id` / `team_ids`: the teams the contact joins (the place's, or "anywhere" the
    teams of the CPAS's places offering the service).

    The caller commits (also after RateLimited: the refused attempt counts)."""
    number = read_mobile(raw_phone)
    if language not in LANGUAGES:
        raise Invalid({"language": FieldError("unknown_choice")})
    if purpose not in PURPOSES:
        raise Invalid({"purpose": FieldError("unknown_choice")})
    number_hash = phone_hash(number.e164, secret)
    _check_limits(session, number_hash, number.e164, address or "unknown", secret)
    now = clock.now()
    check = PhoneCheck(
        phone_hash=number_hash,
        code_hash="",
        purpose=purpose,
        created_at=now,
        expires_at=now + CODE_VALID,
    )
    session.add(check)
    session.flush()
    # Derived from a random seed and the key: the outbox keeps "••••••" and the seed,
    # the dispatcher derives the code again when it sends (notifications.masking).
    code = notify.new_secret(secret, "digits", CODE_DIGITS)
    check.code_hash = _code_hash(check.id, code.value, secret)
    notify.enqueue(
        session,
        key=f"phone-check:{check.id}",
        contact=_contact(
            session, number, language, secret, [*([team_id] if team_id else []), *team_ids]
        ),
        category="verification",
        template="verification_code",
        values=dict(values or {}),
        secrets={"code": code},
        valid_until=check.expires_at,
        urgent=True,
        cpas_id=cpas_id,
    )
    session.flush()
    return check


def get_check(session: Session, check_id: object) -> PhoneCheck | None:
    if not isinstance(check_id, int) or isinstance(check_id, bool):
        return None
    return session.get(PhoneCheck, check_id)


def resend_wait(check: PhoneCheck) -> int:
    """Seconds before a new code may be asked for this number (0: now)."""
    remaining = (check.created_at + RESEND_AFTER - clock.now()).total_seconds()
    return max(0, int(remaining + 0.999))


def tries_left(check: PhoneCheck) -> int:
    return max(0, MAX_TRIES - check.tries)


def _clean(code: str) -> str:
    return "".join((code or "").split())


def verify(session: Session, check: PhoneCheck, code: str, *, secret: str) -> str:
    """The proof when `code` is the check's code; Invalid({"code": …}) otherwise:
    `required`, `code_format` (not 6 digits: not counted as a try), `code_expired`,
    `too_many_tries`, `wrong_code` (with `left`). Typing the right code again (a second
    tap) gives the same proof. The caller commits in every case: a wrong try counts."""
    typed = _clean(code)
    if not typed:
        raise Invalid({"code": FieldError("required")})
    if len(typed) != CODE_DIGITS or not typed.isascii() or not typed.isdigit():
        raise Invalid({"code": FieldError("code_format", {"digits": CODE_DIGITS})})
    now = clock.now()
    matches = hmac.compare_digest(check.code_hash, _code_hash(check.id, typed, secret))
    if check.verified_at is not None:
        if matches:
            return _proof(check, secret)
        raise Invalid({"code": FieldError("wrong_code", {"left": 0})})
    if now >= check.expires_at:
        raise Invalid({"code": FieldError("code_expired")})
    # One try, counted in the database: concurrent tries never get past MAX_TRIES.
    counted = session.execute(
        update(PhoneCheck)
        .where(PhoneCheck.id == check.id, PhoneCheck.tries < MAX_TRIES)
        .values(tries=PhoneCheck.tries + 1)
        .returning(PhoneCheck.tries)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    session.refresh(check)
    if counted is None:
        raise Invalid({"code": FieldError("too_many_tries")})
    if not matches:
        left = MAX_TRIES - counted
        if left <= 0:
            raise Invalid({"code": FieldError("too_many_tries")})
        raise Invalid({"code": FieldError("wrong_code", {"left": left})})
    check.verified_at = now
    session.flush()
    return _proof(check, secret)


def confirmed(
    session: Session, check_id: object, proof: object, e164: str, *, secret: str, lock: bool = False
) -> PhoneCheck:
    """The verified check this proof stands for, for this number and still fresh; else
    Invalid({"phone": not_verified}). `lock`: hold the row (the final, idempotent step)."""
    refused = Invalid({"phone": FieldError("not_verified")})
    if not isinstance(check_id, int) or isinstance(check_id, bool) or not isinstance(proof, str):
        raise refused
    query = select(PhoneCheck).where(PhoneCheck.id == check_id)
    if lock:
        query = query.with_for_update()
    check = session.scalar(query)
    if check is None or check.verified_at is None:
        raise refused
    if not hmac.compare_digest(_proof(check, secret), proof):
        raise refused
    if not hmac.compare_digest(check.phone_hash, phone_hash(e164, secret)):
        raise refused  # the number was changed after it was checked
    if check.used_at is None and clock.now() >= check.verified_at + VERIFIED_VALID:
        raise refused
    return check


def mark_used(
    check: PhoneCheck, *, appointment_id: int | None = None, waiting_id: int | None = None
) -> None:
    check.used_at = clock.now()
    check.appointment_id = appointment_id
    check.waiting_id = waiting_id


def purge(session: Session, *, now: datetime | None = None) -> int:
    """Delete the checks made more than a day ago; returns how many."""
    cutoff = (now or clock.now()) - KEEP_FOR
    result = session.execute(
        delete(PhoneCheck)
        .where(PhoneCheck.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
