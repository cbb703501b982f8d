"""What every outreach service shares: the record a merged person now is (here so that
services and minors need not import each other)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from outreach.models import Person


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
