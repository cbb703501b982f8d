"""Who may see and change rounds: the one place that decides.

- The active coordinator of a mobile team (team kind "mobile"): every record of her team.
- The active crew member of a mobile team (role crew): her team's dated rounds and their
  stops, to read and to record their progress; not the templates, orders nor rides' forms.
- Linking a minibus stop to its appointments place: the coordinator of the stop's team,
  or an administrator of its CPAS (an admin placed in one of the CPAS's teams).
- Anybody else: nothing.

Unknown and forbidden answer alike (Invalid here, 404 in the pages).
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from core import organisations
from core.accounts import Team, User
from core.errors import FieldError, Invalid
from core.roles import Role

MOBILE_KIND = "mobile"

Record = TypeVar("Record")


def coordinates(user: User, team_id: int | None) -> bool:
    """The active coordinator of this mobile team."""
    return (
        team_id is not None
        and user.active
        and user.role == Role.COORDINATOR
        and user.team_id == team_id
        and user.team is not None
        and user.team.kind == MOBILE_KIND
    )


def crews(user: User, team_id: int | None) -> bool:
    """An active crew member of this mobile team."""
    return (
        team_id is not None
        and user.active
        and user.role == Role.CREW
        and user.team_id == team_id
        and user.team is not None
        and user.team.kind == MOBILE_KIND
    )


def team_to_follow(user: User, team_id: int | None) -> int:
    """The mobile team whose dated rounds `user` may read and record (its coordinator or
    crew); Invalid otherwise."""
    if team_id is None or not (coordinates(user, team_id) or crews(user, team_id)):
        raise Invalid({"team_id": FieldError("unknown_team")})
    return team_id


def followed_team(user: User) -> int | None:
    """The user's own mobile team if she coordinates it or is of its crew, else None."""
    team_id = user.team_id
    return team_id if coordinates(user, team_id) or crews(user, team_id) else None


def team_to_manage(user: User, team_id: int | None) -> int:
    """The mobile team `user` coordinates; Invalid otherwise."""
    if team_id is None or not coordinates(user, team_id):
        raise Invalid({"team_id": FieldError("unknown_team")})
    return team_id


def own_team(user: User) -> int:
    """The user's own mobile team, if she coordinates it; Invalid otherwise."""
    return team_to_manage(user, user.team_id)


def record_of_team(
    session: Session,
    model: type[Record],
    record_id: uuid.UUID | None,
    team_id: int,
    *,
    field: str,
    code: str,
) -> Record:
    """A record of the team; Invalid alike when unknown or another team's."""
    record = session.get(model, record_id) if record_id else None
    if record is None or record.team_id != team_id:  # type: ignore[attr-defined]
        raise Invalid({field: FieldError(code)})
    return record


def _cpas_admin_of(session: Session, user: User, team_id: int | None) -> bool:
    """An active administrator of the CPAS of this mobile team (not the platform's)."""
    if team_id is None or not user.active or user.role != Role.ADMIN or user.team_id is None:
        return False
    team = session.get(Team, team_id)
    cpas_id = organisations.cpas_id_of_team(session, user.team_id)
    return team is not None and team.kind == MOBILE_KIND and team.cpas_id == cpas_id


def team_to_link(session: Session, user: User, team_id: int | None) -> int:
    """The mobile team whose stops `user` may link to their places (its coordinator, or
    its CPAS's administrator); Invalid otherwise."""
    if team_id is None or not (
        coordinates(user, team_id) or _cpas_admin_of(session, user, team_id)
    ):
        raise Invalid({"team_id": FieldError("unknown_team")})
    return team_id


def links_from_menu(session: Session, user: User) -> bool:
    """The links page has a menu entry for her: a CPAS administrator whose CPAS has a
    mobile team (a coordinator reaches it from the rounds' pages; nobody else may link)."""
    return not coordinates(user, user.team_id) and bool(teams_to_link(session, user))


def teams_to_link(session: Session, user: User) -> list[Team]:
    """The mobile teams `user` may link stops of: her own (coordinator) or her CPAS's."""
    if coordinates(user, user.team_id):
        return [user.team]  # type: ignore[list-item]
    if not user.active or user.role != Role.ADMIN or user.team_id is None:
        return []
    # Her team's CPAS in the same statement (the menu asks on every page she opens).
    own = aliased(Team)
    cpas_id = select(own.cpas_id).where(own.id == user.team_id).scalar_subquery()
    return list(
        session.scalars(
            select(Team)
            .where(Team.kind == MOBILE_KIND, Team.cpas_id == cpas_id)
            .order_by(Team.name, Team.id)
        )
    )
