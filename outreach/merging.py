"""Two anonymous records that turn out to be one person: merge them, keeping both
histories, and undo the merge if it was a mistake.

The merge moves the merged record's encounters, referrals, consents and minors' alerts
to the survivor, widens the survivor's first/last seen (and fills its unknown fields
from the merged record), and keeps the merged record as it was, marked `merged_into`
the survivor, with a merge row holding a snapshot of what moved and what changed.
Phones that still name the merged record are redirected to the survivor
(records.resolve_merged).

Undo restores exactly: the moved records go back, the survivor's fields get their
values of before the merge, first/last seen are recomputed from the encounters each
record holds. It is refused when the survivor changed since the merge in a way the undo
would lose or contradict — decided by the survivor's version: a merge stamps the
survivor, and any later edit, flag or other merge into it raises the version again.
New encounters recorded on the survivor after the merge do not raise it (they are not
edits of the person) and stay with the survivor. It is also refused when a moved record
no longer belongs to the survivor (purged, or moved again).

Named records (with an identity) are not merged: two real identities, or one, need a
person's check at the desk, not a street decision.

Nothing here commits: the page's use case does (outreach/files.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit, clock, sync
from core.accounts import User
from core.errors import FieldError, Invalid
from core.ids import parse_uuid
from outreach import access, services
from outreach.models import (
    Encounter,
    MinorAlert,
    Person,
    PersonConsent,
    PersonIdentity,
    PersonMerge,
    Referral,
)

# The survivor's fields a merge may fill from the merged record (restored by the undo).
FILLED_FIELDS = ("nickname", "description", "age_band", "gender", "language", "minor")
MOVED = (
    ("encounters", Encounter),
    ("referrals", Referral),
    ("consents", PersonConsent),
    ("alerts", MinorAlert),
)


def _lock(session: Session, *person_ids: Any) -> None:
    """Lock both records (ascending ids: two merges never wait on each other in a cycle),
    so two merges of one record, or opposite merges, run one after the other and the
    second sees the first's `merged_into`; an encounter synced meanwhile waits too."""
    ids = sorted(
        {
            value if isinstance(value, uuid.UUID) else parse_uuid(str(value))
            for value in person_ids
            if value is not None
        }
        - {None}
    )
    if ids:
        session.execute(
            select(Person.id).where(Person.id.in_(ids)).order_by(Person.id).with_for_update()
        )
        for person_id in ids:
            person = session.get(Person, person_id)
            if person is not None:
                session.refresh(person)


def _check(
    session: Session, actor: User, survivor_id: Any, merged_id: Any
) -> tuple[Person, Person]:
    if survivor_id is not None and survivor_id == merged_id:
        raise Invalid({"merged_id": FieldError("same_person")})
    _lock(session, survivor_id, merged_id)
    survivor = access.person_to_change(session, actor, survivor_id)
    merged = session.get(Person, merged_id) if merged_id is not None else None
    if merged is None:
        raise Invalid({"merged_id": FieldError("unknown_person")})
    if merged.team_id != survivor.team_id:
        raise Invalid({"merged_id": FieldError("other_team")})
    for name, person in (("survivor_id", survivor), ("merged_id", merged)):
        if person.merged_into_id is not None:
            raise Invalid({name: FieldError("already_merged")})
        if session.get(PersonIdentity, person.id) is not None:
            raise Invalid({name: FieldError("named_person")})
    return survivor, merged


def merge(session: Session, actor: User, survivor_id: Any, merged_id: Any) -> PersonMerge:
    """Merge `merged_id` into `survivor_id` (both anonymous, same team)."""
    survivor, merged = _check(session, actor, survivor_id, merged_id)
    scope = sync.team_scope(survivor.team_id)
    moved: dict[str, list[str]] = {}
    for key, model in MOVED:
        ids = list(session.scalars(select(model.id).where(model.person_id == merged.id)))
        moved[key] = [str(value) for value in ids]
        if ids:
            session.execute(
                update(model)
                .where(model.id.in_(ids))
                .values(person_id=survivor.id)
                .execution_options(synchronize_session="fetch")
            )
    for encounter in session.scalars(select(Encounter).where(Encounter.person_id == survivor.id)):
        if str(encounter.id) in moved["encounters"]:
            sync.touch(session, encounter, scope)  # phones must hear the new person
    before = {name: getattr(survivor, name) for name in FILLED_FIELDS}
    if not survivor.nickname:
        survivor.nickname = merged.nickname
    if not survivor.description:
        survivor.description = merged.description
    for name in ("age_band", "gender", "language"):
        if getattr(survivor, name) == "unknown":
            setattr(survivor, name, getattr(merged, name))
    survivor.minor = survivor.minor or merged.minor
    survivor.first_seen_at = min(survivor.first_seen_at, merged.first_seen_at)
    survivor.last_seen_at = max(survivor.last_seen_at, merged.last_seen_at)
    merged.merged_into_id = survivor.id
    sync.stamp(session, survivor, scope, actor, None)
    sync.stamp(session, merged, scope, actor, None)
    session.flush()
    record = PersonMerge(
        team_id=survivor.team_id,
        survivor_id=survivor.id,
        merged_id=merged.id,
        snapshot={
            "merged": services.serialize_person(merged) | {"merged_into": None},
            "survivor_before": before,
            "survivor_version": survivor.version,
            "merged_version": merged.version,
            "moved": moved,
        },
        merged_at=clock.now(),
        merged_by_id=actor.id,
    )
    session.add(record)
    session.flush()
    _audit(session, actor, "create", record, {k: len(v) for k, v in moved.items()})
    return record


def _audit(session: Session, actor: User, action: str, record: PersonMerge, counts: dict) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="outreach_merge",
        entity_id=record.id,
        details={"survivor": str(record.survivor_id), "merged": str(record.merged_id), **counts},
    )


def undo(session: Session, actor: User, merge_id: int) -> PersonMerge:
    """Undo a merge (see the module's docstring for when it is refused)."""
    record = session.get(PersonMerge, merge_id)
    if record is None or not access.works_with(actor, record.team_id):
        raise Invalid({"merge": FieldError("unknown_merge")})
    if record.undone_at is not None:
        raise Invalid({"merge": FieldError("already_undone")})
    _lock(session, record.survivor_id, record.merged_id)
    survivor = session.get(Person, record.survivor_id)
    merged = session.get(Person, record.merged_id)
    snapshot = record.snapshot
    if survivor is None or merged is None or merged.merged_into_id != survivor.id:
        raise Invalid({"merge": FieldError("records_changed")})
    if survivor.merged_into_id is not None or survivor.version != snapshot["survivor_version"]:
        raise Invalid({"merge": FieldError("survivor_changed")})
    if session.get(PersonIdentity, survivor.id) is not None:
        # An identity was attached after the merge, maybe under a consent that came
        # with the merged record: taking the consent back would leave a name without it.
        raise Invalid({"merge": FieldError("survivor_changed")})
    for key, model in MOVED:
        ids = [_id_of(model, value) for value in snapshot["moved"][key]]
        if not ids:
            continue
        still = session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.id.in_(ids), model.person_id == survivor.id)
        )
        if still != len(ids):
            raise Invalid({"merge": FieldError("records_changed")})
        session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(person_id=merged.id)
            .execution_options(synchronize_session="fetch")
        )
    scope = sync.team_scope(survivor.team_id)
    for encounter in session.scalars(select(Encounter).where(Encounter.person_id == merged.id)):
        sync.touch(session, encounter, scope)
    for name, value in snapshot["survivor_before"].items():
        setattr(survivor, name, value)
    merged.merged_into_id = None
    for person in (survivor, merged):
        _reseen(session, person)
        sync.stamp(session, person, scope, actor, None)
    record.undone_at, record.undone_by_id = clock.now(), actor.id
    session.flush()
    _audit(session, actor, "update", record, {"undone": 1})
    return record


def _id_of(model: Any, value: str) -> Any:
    return uuid.UUID(value) if model in (Encounter, Referral) else int(value)


def _reseen(session: Session, person: Person) -> None:
    """First and last seen from the encounters the person holds (kept when none)."""
    first, last = session.execute(
        select(func.min(Encounter.occurred_at), func.max(Encounter.occurred_at)).where(
            Encounter.person_id == person.id
        )
    ).one()
    if first is not None:
        person.first_seen_at, person.last_seen_at = first, last


def merges_of(session: Session, person_id: Any) -> list[PersonMerge]:
    """Merges the person took part in, newest first (for the undo button)."""
    return list(
        session.scalars(
            select(PersonMerge)
            .where((PersonMerge.survivor_id == person_id) | (PersonMerge.merged_id == person_id))
            .order_by(PersonMerge.merged_at.desc())
        )
    )
