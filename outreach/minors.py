"""Minors met in the street: flagged, and the person the team chose is alerted.

Street teams work with young people (Schaerbeek's with 18-25 year-olds,
001_21a2639a7274e3d4.txt:300); a younger one met on a round must reach
the team's protective path (named colleagues, and/or a service such as an SAJ / the MADO
youth house, 000_c978cae824ba8598.txt:857-867). Each encounter with a
minor records an alert for those people, shown on their pages (and texted to those who
asked), and an audit entry.

Nothing here commits: the page's use case does (outreach/files.py and settings.py; an
encounter's alert is made inside the sync engine's transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

import notifications.services as notify
from core import audit, clock, sync
from core import fields as parse
from core.accounts import User
from core.errors import FieldError, Invalid
from core.ids import parse_id, parse_uuid
from outreach import access
from outreach.models import (
    Encounter,
    MinorAlert,
    MinorAlertRecipient,
    OutreachTeamSettings,
    Person,
    ProtectivePerson,
)
from outreach.records import resolve_merged

CONTACT_MAX = 200

# The SMS to the named colleague says only that something waits in Terrain: no name,
# age, place or time of the minor ever leaves by SMS (docs/outreach.md, "Minors").
SMS_TEMPLATE = "outreach_minor_alert"
# A colleague "wishes" these SMS when their contact (SMS > Contacts, linked to their
# account) consents to the category "service_change": work news, not reminders.
SMS_CATEGORY = "service_change"
# Not urgent: quiet hours apply. Immediate danger is for 112 on the spot; the alert is
# for the follow-up, and it waits in Terrain for the whole team meanwhile.
SMS_URGENT = False

# Declared in outreach/domain.py.
SMS_KIND = notify.TemplateKind(
    code=SMS_TEMPLATE,
    category=SMS_CATEGORY,
    placeholders=(),
    defaults={
        "fr": "Terrain: une alerte vous attend. Ouvrez Terrain pour la voir.",
        "nl": "Terrain: er wacht een melding op u. Open Terrain om ze te zien.",
        "en": "Terrain: an alert is waiting for you. Open Terrain to see it.",
    },
)


def team_settings(session: Session, team_id: int) -> OutreachTeamSettings:
    """The team's settings row (a new, unsaved one with the defaults when missing)."""
    settings = session.get(OutreachTeamSettings, team_id)
    return settings or OutreachTeamSettings(team_id=team_id, protective_contact="")


def protective_people(session: Session, team_id: int) -> list[User]:
    """The staff the team's protective path names, by name."""
    return list(
        session.scalars(
            select(User)
            .join(ProtectivePerson, ProtectivePerson.user_id == User.id)
            .where(ProtectivePerson.team_id == team_id)
            .order_by(User.display_name, User.id)
        )
    )


def has_path(session: Session, settings: OutreachTeamSettings) -> bool:
    """Whether the team named somebody to tell about a minor."""
    if settings.protective_contact:
        return True
    return (
        session.scalar(
            select(ProtectivePerson.user_id).where(ProtectivePerson.team_id == settings.team_id)
        )
        is not None
    )


def names_a_minor(session: Session, team_id: int, data: Mapping[str, Any]) -> bool:
    """Whether an encounter's data (a form, an op) is about a minor, before it is saved:
    a known person of the team who is one, or a new person under 18 or flagged."""
    person_id = parse_uuid(str(data.get("person_id") or ""))
    person = session.get(Person, person_id) if person_id else None
    if person is not None and person.team_id == team_id:
        return resolve_merged(session, person).is_minor
    return data.get("age_band") == "under_18" or data.get("minor") in (True, "true", "1", "on")


def require_path(session: Session, team_id: int, data: Mapping[str, Any]) -> None:
    """Refuse a new encounter with a minor while the team has nobody to tell (the form's
    rule; an op already queued on a phone is stored anyway, see `alert_for`)."""
    if names_a_minor(session, team_id, data) and not has_path(
        session, team_settings(session, team_id)
    ):
        raise Invalid({"minor_path": FieldError("no_protective_path")})


def wants_sms(session: Session, user_id: int) -> bool:
    """Whether this colleague asked for the alerts by SMS (consent of their contact)."""
    contact = notify.contact_for_user(session, user_id)
    if contact is None:
        return False
    return notify.reachability(session, contact, SMS_CATEGORY).reason not in (
        "no_consent",
        "withdrawn",
    )


def alert_subject(alert: MinorAlert) -> str:
    """The outbox subject of an alert's SMS (to cancel them once it is dealt with)."""
    return f"outreach_minor_alert:{alert.id}"


def text_alert(session: Session, actor: User | None, alert: MinorAlert) -> list[Any]:
    """The SMS telling each named colleague who asked for them that an alert waits (once
    per alert and colleague: the key)."""
    sent = []
    for user_id in alert.alert_user_ids:
        if not wants_sms(session, user_id):
            continue
        contact = notify.contact_for_user(session, user_id)
        assert contact is not None
        sent.append(
            notify.enqueue(
                session,
                key=f"outreach:minor-alert:{alert.id}:{user_id}",
                contact=contact,
                category=SMS_CATEGORY,
                template=SMS_TEMPLATE,
                values={},
                subject=alert_subject(alert),
                urgent=SMS_URGENT,
                actor=actor,
            )
        )
    return sent


def _staff_of(session: Session, team_id: int, raw: Any) -> list[User] | None:
    """The team's active coordinator and street educators chosen (None: one is not)."""
    values = raw if isinstance(raw, list | tuple) else [] if raw in (None, "") else [raw]
    chosen: dict[int, User] = {}
    for value in values:
        if value in (None, ""):
            continue
        user = session.get(User, parse_id(value) or -1)
        if (
            user is None
            or user.team_id != team_id
            or not user.active
            or user.role not in access.TEAM_ROLES
        ):
            return None
        chosen[user.id] = user
    return list(chosen.values())


def set_protective_path(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> OutreachTeamSettings:
    """Who the team alerts about a minor: `user_ids` (its coordinator or street educators,
    one or more) and/or `contact` (free text, e.g. "SAJ Bruxelles, 02 …")."""
    if not access.manages(session, actor, team_id):
        raise Invalid({"team": FieldError("not_allowed")})
    return _store_protective_path(session, actor, team_id, data)


def seed_protective_path(
    session: Session, team_id: int, data: Mapping[str, Any]
) -> OutreachTeamSettings:
    """The demo's protective path, set by the installation itself (no one's account)."""
    return _store_protective_path(session, None, team_id, data)


def _store_protective_path(
    session: Session, actor: User | None, team_id: int, data: Mapping[str, Any]
) -> OutreachTeamSettings:
    errors: dict[str, FieldError] = {}
    contact = parse.text(data, "contact", errors, limit=CONTACT_MAX)
    people = _staff_of(session, team_id, data.get("user_ids"))
    if people is None:
        errors["user_ids"] = FieldError("unknown_user")
    if errors:
        raise Invalid(errors)
    settings = team_settings(session, team_id)
    settings.protective_contact = contact
    session.add(settings)
    session.execute(delete(ProtectivePerson).where(ProtectivePerson.team_id == team_id))
    session.add_all(ProtectivePerson(team_id=team_id, user_id=user.id) for user in people or [])
    audit.record_change(session, actor, "outreach_settings", team_id, ["protective_path"])
    session.flush()
    return settings


def alert_for(
    session: Session, actor: User, person: Person, encounter: Encounter
) -> MinorAlert | None:
    """Record the alert of an encounter with a minor (None when the person is not one) and
    text the named colleagues. Without a protective path the alert is still recorded (an
    op queued on a phone before the path was removed is never lost): it says "nobody to
    tell" to the team and its coordinator."""
    if not person.is_minor:
        return None
    settings = team_settings(session, person.team_id)
    alert = MinorAlert(
        team_id=person.team_id,
        person_id=person.id,
        encounter_id=encounter.id,
        alert_contact=settings.protective_contact,
        created_at=clock.now(),
        recipients=[
            MinorAlertRecipient(user_id=user.id)
            for user in protective_people(session, person.team_id)
        ],
    )
    session.add(alert)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="outreach_minor_alert",
        entity_id=alert.id,
        details={"to_users": alert.alert_user_ids, "to_contact": bool(alert.alert_contact)},
    )
    text_alert(session, actor, alert)
    return alert


def forget_open_alerts(session: Session, encounter_id: Any) -> None:
    """Delete an encounter's alerts not yet dealt with, and the SMS still waiting for them."""
    waiting = session.scalars(
        select(MinorAlert).where(
            MinorAlert.encounter_id == encounter_id, MinorAlert.acknowledged_at.is_(None)
        )
    ).all()
    for alert in waiting:
        notify.cancel_for_subject(session, alert_subject(alert), reason="alert_handled")
        session.delete(alert)
    session.flush()


def _open_alerts_query(user: User, query: Any) -> Any:
    query = query.where(MinorAlert.acknowledged_at.is_(None))
    # Each named person sees the alerts sent to them (even after moving to another team).
    told = MinorAlert.id.in_(
        select(MinorAlertRecipient.alert_id).where(MinorAlertRecipient.user_id == user.id)
    )
    if user.team_id is not None and user.role in access.TEAM_ROLES:
        return query.where(told | (MinorAlert.team_id == user.team_id))
    return query.where(told)


def count_open_alerts(session: Session, user: User) -> int:
    """How many alerts wait for `user` (the menu's badge)."""
    return session.scalar(_open_alerts_query(user, select(func.count(MinorAlert.id)))) or 0


def open_alerts(session: Session, user: User) -> list[MinorAlert]:
    """Alerts not yet acknowledged that `user` should see: those sent to them, and their
    team's when they work with the team."""
    query = _open_alerts_query(user, select(MinorAlert))
    return list(session.scalars(query.order_by(MinorAlert.created_at)))


def acknowledge(session: Session, actor: User, alert_id: int) -> MinorAlert:
    """Mark an alert dealt with; its SMS still waiting (quiet hours) no longer leave."""
    alert = session.get(MinorAlert, alert_id)
    if alert is None or alert not in open_alerts(session, actor):
        raise Invalid({"alert": FieldError("unknown_alert")})
    alert.acknowledged_at = clock.now()
    alert.acknowledged_by_id = actor.id
    audit.record_change(session, actor, "outreach_minor_alert", alert.id, ["acknowledged_at"])
    notify.cancel_for_subject(session, alert_subject(alert), reason="alert_handled")
    session.flush()
    return alert


def set_minor(session: Session, actor: User, person_id: Any, minor: bool) -> Person:
    """Flag (or unflag) a person as a minor, whatever their age band says."""
    person = access.person_to_change(session, actor, person_id)
    if person.minor != minor:
        person.minor = minor
        sync.stamp(session, person, sync.team_scope(person.team_id), actor, None)
        audit.record_change(session, actor, "outreach_person", person.id, ["minor"])
    session.flush()
    return person
