"""What rounds register with notifications, at import time (rounds/domain.py `hooks`):
the broadcast audience "stop_subscribers", the people who asked on a stop's public page
for SMS about it (confirmed, not left). Notifications never imports rounds: it only
knows the audience through its registry."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.errors import FieldError, Invalid
from core.ids import parse_uuid
from notifications import services as notify
from rounds.models import Stop, StopSubscription


def _stop_choices(session: Session) -> list[tuple[str, str]]:
    return [
        (str(stop_id), name)
        for stop_id, name in session.execute(
            select(Stop.id, Stop.name).where(Stop.active).order_by(Stop.name, Stop.id)
        )
    ]


def _stop_team(session: Session, value: str) -> int | None:
    """The team a stop choice belongs to (an unknown one: none, seen by nobody)."""
    try:
        stop_id = parse_uuid(value)
    except ValueError:
        return None
    return session.scalar(select(Stop.team_id).where(Stop.id == stop_id))


def _stop(session: Session, params: Mapping[str, str]) -> Stop:
    try:
        stop_id = parse_uuid(str(params.get("stop") or ""))
    except ValueError:
        stop_id = None
    stop = session.get(Stop, stop_id) if stop_id is not None else None
    if stop is None:
        raise Invalid({"stop": FieldError("unknown_choice")})
    return stop


def stop_subscribers(session: Session, params: Mapping[str, str]) -> Select:
    stop = _stop(session, params)
    return select(StopSubscription.contact_id).where(
        StopSubscription.stop_id == stop.id,
        StopSubscription.confirmed_at.is_not(None),
        StopSubscription.stopped_at.is_(None),
    )


def _describe(session: Session, params: Mapping[str, str]) -> str:
    return f"SMS subscribers of the minibus stop {_stop(session, params).name}"


notify.register_audience(
    notify.Audience(
        code="stop_subscribers",
        label="Subscribers of a minibus stop",
        params=(
            notify.AudienceParam("stop", "Minibus stop", choices=_stop_choices, team_of=_stop_team),
        ),
        contact_ids=stop_subscribers,
        describe=_describe,
    )
)
