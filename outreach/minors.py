"""Minors met in the street: flagged, and the person the team chose is alerted.

Street teams work with young people (Schaerbeek's with 18-25 year-olds,
001_21a2639a7274e3d4.txt:300); a younger one met on a round must reach
the team's protective path (a named colleague, or a service such as an SAJ / the MADO
youth house, 000_c978cae824ba8598.txt:857-867). Each encounter with a
minor records an alert for that person, shown on their pages, and an audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock, sync, text
from core.accounts import User
from core.ids import parse_id
from core.sync import FieldError, Invalid
from outreach import access, services
from outreach.models import Encounter, MinorAlert, OutreachTeamSettings, Person

CONTACT_MAX = 200


def team_settings(session: Session, team_id: int) -> OutreachTeamSettings:
    """The team's settings row (a new, unsaved one with the defaults when missing)."""
    settings = session.get(OutreachTeamSettings, team_id)
    return settings or OutreachTeamSettings(
        team_id=team_id, protective_user_id=None, protective_contact=""
    )


def set_protective_path(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> OutreachTeamSettings:
    """Who the team alerts about a minor: `user_id` (a user of the team) and/or `contact`
    (free text, e.g. "SAJ Bruxelles, 02 …")."""
    if not access.manages(actor, team_id):
        raise Invalid({"team": FieldError("not_allowed")})
    errors: dict[str, FieldError] = {}
    contact = data.get("contact") or ""
    if not isinstance(contact, str):
        errors["contact"] = FieldError("not_text")
        contact = ""
    contact = text.single_line(contact).strip()
    if len(contact) > CONTACT_MAX:
        errors["contact"] = FieldError("too_long", {"max": CONTACT_MAX})
    user_id = data.get("user_id")
    alert_user = None
    if user_id not in (None, ""):
        alert_user = session.get(User, parse_id(user_id) or -1)
        if alert_user is None or alert_user.team_id != team_id or not alert_user.active:
            errors["user_id"] = FieldError("unknown_user")
    if errors:
        raise Invalid(errors)
    settings = team_settings(session, team_id)
    settings.protective_user_id = alert_user.id if alert_user else None
    settings.protective_contact = contact
    session.add(settings)
    services.audit_change(
        session, actor, "update", "outreach_settings", team_id, ["protective_path"]
    )
    session.flush()
    return settings


def alert_for(
    session: Session, actor: User, person: Person, encounter: Encounter
) -> MinorAlert | None:
    """Record the alert of an encounter with a minor (None when the person is not one)."""
    if not person.is_minor:
        return None
    settings = team_settings(session, person.team_id)
    alert = MinorAlert(
        team_id=person.team_id,
        person_id=person.id,
        encounter_id=encounter.id,
        alert_user_id=settings.protective_user_id,
        alert_contact=settings.protective_contact,
        created_at=clock.now(),
    )
    session.add(alert)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="outreach_minor_alert",
        entity_id=alert.id,
        details={"to_user": alert.alert_user_id, "to_contact": bool(alert.alert_contact)},
    )
    return alert


def open_alerts(session: Session, user: User) -> list[MinorAlert]:
    """Alerts not yet acknowledged that `user` should see: those sent to them, and their
    team's when they work with the team."""
    query = select(MinorAlert).where(MinorAlert.acknowledged_at.is_(None))
    if user.team_id is not None and user.role in access.TEAM_ROLES:
        query = query.where(
            (MinorAlert.alert_user_id == user.id) | (MinorAlert.team_id == user.team_id)
        )
    else:
        query = query.where(MinorAlert.alert_user_id == user.id)
    return list(session.scalars(query.order_by(MinorAlert.created_at)))


def acknowledge(session: Session, actor: User, alert_id: int) -> MinorAlert:
    alert = session.get(MinorAlert, alert_id)
    if alert is None or alert not in open_alerts(session, actor):
        raise Invalid({"alert": FieldError("unknown_alert")})
    alert.acknowledged_at = clock.now()
    alert.acknowledged_by_id = actor.id
    services.audit_change(
        session, actor, "update", "outreach_minor_alert", alert.id, ["acknowledged_at"]
    )
    session.flush()
    return alert


def set_minor(session: Session, actor: User, person_id: Any, minor: bool) -> Person:
    """Flag (or unflag) a person as a minor, whatever their age band says."""
    person = access.person_to_change(session, actor, person_id)
    if person.minor != minor:
        person.minor = minor
        sync.stamp(session, person, sync.team_scope(person.team_id), actor, None)
        services.audit_change(session, actor, "update", "outreach_person", person.id, ["minor"])
    session.flush()
    return person
