"""Consent and identity: a person stays anonymous unless they choose otherwise.

Help is "gratuite et anonyme" and given "qu'avec l'accord" of the young person
(000_c978cae824ba8598.txt:865-867); a shared record needs the
person's agreement (004_f5234723ed689768.txt:522). So a real identity
is attached only under an active consent with the scope `identity`, and only the minimum:
first and last name, optionally birth date and national register number (NISS, checked).
Withdrawing that consent erases the identity (the row is deleted, not blanked); the
consent records stay, as the proof of what was agreed and when.

Nothing here commits: the page's use case does (outreach/files.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock, sync
from core import fields as parse
from core.accounts import User
from core.errors import FieldError, Invalid
from outreach import access, services
from outreach.models import CONSENT_METHODS, CONSENT_SCOPES, PersonConsent, PersonIdentity

NAME_MAX = 80
NISS_SEPARATORS = re.compile(r"[\s.\-/]")


def niss_is_valid(niss: str) -> bool:
    """The Belgian national register number's check: 97 - (first 9 digits mod 97), the 9
    digits prefixed with 2 for people born from 2000."""
    if len(niss) != 11 or not niss.isdigit():
        return False
    base, check = int(niss[:9]), int(niss[9:])
    return check in (97 - base % 97, 97 - (2_000_000_000 + base) % 97)


def record_consent(
    session: Session, actor: User, person_id: Any, data: Mapping[str, Any]
) -> PersonConsent:
    """Record what the person agreed to: `scopes` (identity, referral_sharing), `method`
    (oral, written), `given_at` (default now)."""
    person = access.person_to_change(session, actor, person_id)
    errors: dict[str, FieldError] = {}
    scopes = parse.choices(data, "scopes", errors, choices=CONSENT_SCOPES)
    if not scopes and "scopes" not in errors:
        errors["scopes"] = FieldError("required")
    method = parse.choice(data, "method", errors, choices=CONSENT_METHODS)
    given_at = services._moment(data, "given_at", errors) if data.get("given_at") else clock.now()
    if errors:
        raise Invalid(errors)
    consent = PersonConsent(
        person_id=person.id,
        scopes=list(scopes),
        method=method,
        given_at=given_at,
        recorded_by_id=actor.id,
    )
    session.add(consent)
    session.flush()
    audit.record_change(
        session, actor, "outreach_consent", consent.id, list(scopes), action="create"
    )
    # A change of the person's file: an undo of an earlier merge must not take it back.
    sync.stamp(session, person, sync.team_scope(person.team_id), actor, None)
    return consent


def active_consents(session: Session, person_id: Any) -> list[PersonConsent]:
    return list(
        session.scalars(
            select(PersonConsent)
            .where(PersonConsent.person_id == person_id, PersonConsent.withdrawn_at.is_(None))
            .order_by(PersonConsent.given_at)
        )
    )


def consent_history(session: Session, person_id: Any) -> list[PersonConsent]:
    return list(
        session.scalars(
            select(PersonConsent)
            .where(PersonConsent.person_id == person_id)
            .order_by(PersonConsent.given_at)
        )
    )


def _birth_date(data: Mapping[str, Any], errors: dict[str, FieldError]) -> date | None:
    value = data.get("birth_date")
    if value in (None, ""):
        return None
    try:
        parsed = date.fromisoformat(str(value)) if len(str(value)) <= 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        errors["birth_date"] = FieldError("invalid_date")
    elif parsed > clock.to_local(clock.now()).date():
        errors["birth_date"] = FieldError("in_future")
    elif parsed.year < 1900:
        errors["birth_date"] = FieldError("too_old")
    return parsed


def _niss(data: Mapping[str, Any], errors: dict[str, FieldError]) -> str | None:
    value = data.get("niss")
    if value in (None, ""):
        return None
    niss = NISS_SEPARATORS.sub("", str(value)) if len(str(value)) <= 20 else ""
    if not niss_is_valid(niss):
        errors["niss"] = FieldError("invalid_niss")
        return None
    return niss


def attach_identity(
    session: Session, actor: User, person_id: Any, data: Mapping[str, Any]
) -> PersonIdentity:
    """Attach (or correct) the person's identity; needs an active consent to `identity`."""
    person = access.person_to_change(session, actor, person_id)
    if person.merged_into_id is not None:
        raise Invalid({"person_id": FieldError("merged_person")})
    consent = next(
        (c for c in reversed(active_consents(session, person.id)) if "identity" in c.scopes),
        None,
    )
    errors: dict[str, FieldError] = {}
    if consent is None:
        errors["consent"] = FieldError("consent_required")
    first_name = parse.text(data, "first_name", errors, limit=NAME_MAX, required=True)
    last_name = parse.text(data, "last_name", errors, limit=NAME_MAX, required=True)
    birth_date = _birth_date(data, errors)
    niss = _niss(data, errors)
    if errors:
        raise Invalid(errors)
    assert consent is not None
    identity = session.get(PersonIdentity, person.id)
    action = "update" if identity is not None else "create"
    if identity is None:
        identity = PersonIdentity(person_id=person.id)
        session.add(identity)
    identity.first_name, identity.last_name = first_name, last_name
    identity.birth_date, identity.niss = birth_date, niss
    identity.consent_id = consent.id
    identity.recorded_at, identity.recorded_by_id = clock.now(), actor.id
    fields = ["first_name", "last_name"] + ["birth_date"] * bool(birth_date) + ["niss"] * bool(niss)
    audit.record_change(session, actor, "outreach_identity", person.id, fields, action=action)
    sync.stamp(session, person, sync.team_scope(person.team_id), actor, None)
    session.flush()
    return identity


def withdraw_consent(
    session: Session, actor: User, consent_id: int, at: datetime | None = None
) -> PersonConsent:
    """Withdraw a consent; when no active consent covers `identity` any more, the identity
    is erased."""
    consent = session.get(PersonConsent, consent_id)
    if consent is None or consent.withdrawn_at is not None:
        raise Invalid({"consent": FieldError("unknown_consent")})
    person = access.person_to_change(session, actor, consent.person_id)
    consent.withdrawn_at, consent.withdrawn_by_id = at or clock.now(), actor.id
    session.flush()
    audit.record_change(session, actor, "outreach_consent", consent.id, ["withdrawn_at"])
    still_covered = any("identity" in c.scopes for c in active_consents(session, person.id))
    identity = session.get(PersonIdentity, person.id)
    if identity is not None and not still_covered:
        session.delete(identity)
        audit.record_change(
            session, actor, "outreach_identity", person.id, ["identity"], action="delete"
        )
        session.flush()
    return consent


def identity_of(session: Session, person_id: Any) -> PersonIdentity | None:
    """The identity (callers check access.can_read_person first)."""
    return session.get(PersonIdentity, person_id)


def is_named(session: Session, person_id: Any) -> bool:
    return session.get(PersonIdentity, person_id) is not None


def named_ids(session: Session, person_ids: list[Any]) -> set[Any]:
    """Which of `person_ids` have an identity (one query, for lists)."""
    if not person_ids:
        return set()
    return set(
        session.scalars(
            select(PersonIdentity.person_id).where(PersonIdentity.person_id.in_(person_ids))
        )
    )
