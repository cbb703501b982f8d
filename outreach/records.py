"""What every outreach service shares: the record a merged person now is, and the audit
entry of a change (here so that services and minors need not import each other)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core import audit
from core.accounts import User
from outreach.models import Person


def audit_change(
    session: Session,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: object,
    fields: list[str],
    client_at: datetime | None = None,
) -> None:
    """The audit entry of a change: which fields, never their values."""
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details={"fields": fields},
        client_at=client_at,
    )


def resolve_merged(session: Session, person: Person) -> Person:
    """The record `person` was merged into (itself when it was not merged)."""
    seen = {person.id}
    while person.merged_into_id is not None:
        survivor = session.get(Person, person.merged_into_id)
        if survivor is None or survivor.id in seen:
            break
        seen.add(survivor.id)
        person = survivor
    return person
