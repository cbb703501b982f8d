"""Proof of presence kept at the household (issue 18): a card with a short code and its
QR, printed by the coordinator and left at the household; and the proof each service
of a team asks for (none, the card's code, or a GPS fix at arrival and departure).

Codes rotate: issuing a new card replaces the household's current one, whose code then
proves nothing (a report giving it is kept, unverified, "old_code"). A code is unique in
its team, so a code typed at the wrong door names the other household ("foreign_code").
The code is random (secrets), 6 characters of an alphabet without look-alikes; the QR
encodes the code itself, so scanning and typing give the same thing.
"""

from __future__ import annotations

import io
import secrets
import uuid
from dataclasses import dataclass

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.accounts import User
from core.errors import FieldError, Invalid
from homecare import access
from homecare.models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    PROOF_MODES,
    SERVICES,
    Beneficiary,
    ProofCard,
    ProofRule,
)

RADIUS_MIN, RADIUS_MAX, RADIUS_DEFAULT = 20, 2000, 150


def normalise(code: object) -> str:
    """A code as typed: case, spaces and dashes do not count."""
    if not isinstance(code, str):
        return ""
    return "".join(char for char in code.upper() if char.isalnum())[:16]


def _new_code(session: Session, team_id: int) -> str:
    for _attempt in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        taken = session.scalar(
            select(ProofCard.id).where(ProofCard.team_id == team_id, ProofCard.code == code)
        )
        if taken is None:
            return code
    raise RuntimeError("no free proof code")  # 25^6 codes: never in practice


def current_card(session: Session, beneficiary_id: uuid.UUID) -> ProofCard | None:
    return session.scalar(
        select(ProofCard).where(
            ProofCard.beneficiary_id == beneficiary_id, ProofCard.replaced_at.is_(None)
        )
    )


def card_of(
    session: Session, user: User, beneficiary_id: uuid.UUID
) -> tuple[Beneficiary, ProofCard | None]:
    """The household and its current card, for its coordinator; Invalid when not hers."""
    beneficiary = access.beneficiary_to_change(session, user, beneficiary_id)
    return beneficiary, current_card(session, beneficiary_id)


def issue_card(session: Session, user: User, beneficiary_id: uuid.UUID) -> ProofCard:
    """A new card for the household; the current one, if any, is replaced (its row
    locked, so two coordinators printing at once leave one current card)."""
    beneficiary = access.beneficiary_to_change(session, user, beneficiary_id)
    session.scalar(select(Beneficiary.id).where(Beneficiary.id == beneficiary.id).with_for_update())
    now = clock.now()
    old = current_card(session, beneficiary.id)
    if old is not None:
        old.replaced_at = now
        session.flush()
    card = ProofCard(
        id=uuid.uuid4(),
        team_id=beneficiary.team_id,
        beneficiary_id=beneficiary.id,
        code=_new_code(session, beneficiary.team_id),
        issued_at=now,
        issued_by_id=user.id,
    )
    session.add(card)
    audit.record(
        session,
        actor=user,
        action="create",
        entity_type="homecare_proof_card",
        entity_id=card.id,
        details={"beneficiary": str(beneficiary.id), "replaces": str(old.id) if old else None},
    )
    session.flush()
    return card


def qr_svg(code: str) -> str:
    """The QR of the code, as inline SVG (drawn here: no image leaves the server)."""
    out = io.BytesIO()
    segno.make_qr(code, error="m").save(
        out, kind="svg", scale=8, border=2, xmldecl=False, svgns=True, title=code
    )
    return out.getvalue().decode()


@dataclass(frozen=True)
class CodeCheck:
    """What a code given at a visit proves: None when it is the household's current
    card, else the reason it does not."""

    reason: str | None


def check_code(session: Session, team_id: int, beneficiary_id: uuid.UUID, given: str) -> CodeCheck:
    code = normalise(given)
    if not code:
        return CodeCheck("no_code")
    card = session.scalar(
        select(ProofCard).where(ProofCard.team_id == team_id, ProofCard.code == code)
    )
    if card is None:
        if current_card(session, beneficiary_id) is None:
            return CodeCheck("no_card")
        return CodeCheck("wrong_code")
    if card.beneficiary_id != beneficiary_id:
        return CodeCheck("foreign_code")
    if card.replaced_at is not None:
        return CodeCheck("old_code")
    return CodeCheck(None)


# --- The proof each service asks for --------------------------------------------------


@dataclass(frozen=True)
class RuleFields:
    service: str
    mode: str
    radius_m: int | None


def rules_of(session: Session, user: User, team_id: int | None) -> dict[str, ProofRule]:
    """Every service's rule for the team's coordinator (none when no row)."""
    team = access.team_to_manage(user, team_id)
    found = {
        rule.service: rule
        for rule in session.scalars(select(ProofRule).where(ProofRule.team_id == team))
    }
    return {
        service: found.get(service)
        or ProofRule(team_id=team, service=service, mode="none", radius_m=RADIUS_DEFAULT)
        for service in SERVICES
    }


def set_rule(session: Session, user: User, team_id: int | None, fields: RuleFields) -> ProofRule:
    """The proof the team asks for one service; Invalid with every bad field."""
    team = access.team_to_manage(user, team_id)
    errors: dict[str, FieldError] = {}
    if fields.service not in SERVICES:
        errors["service"] = FieldError("unknown_choice")
    if fields.mode not in PROOF_MODES:
        errors["mode"] = FieldError("unknown_choice")
    radius = fields.radius_m
    if fields.mode == "gps" and radius is None:
        errors["radius_m"] = FieldError("required")
    elif radius is not None and not RADIUS_MIN <= radius <= RADIUS_MAX:
        errors["radius_m"] = FieldError("out_of_range", {"min": RADIUS_MIN, "max": RADIUS_MAX})
    if errors:
        raise Invalid(errors)
    rule = session.get(ProofRule, (team, fields.service), with_for_update=True)
    created = rule is None
    if rule is None:
        rule = ProofRule(team_id=team, service=fields.service)
        session.add(rule)
    before = (rule.mode, rule.radius_m)
    rule.mode = fields.mode
    rule.radius_m = radius if radius is not None else (rule.radius_m or RADIUS_DEFAULT)
    changed = [
        name
        for name, old, new in (
            ("mode", before[0], rule.mode),
            ("radius_m", before[1], rule.radius_m),
        )
        if created or old != new
    ]
    audit.record(
        session,
        actor=user,
        action="create" if created else "update",
        entity_type="homecare_proof_rule",
        entity_id=f"{team}:{fields.service}",
        details={"fields": changed},
    )
    session.flush()
    return rule
