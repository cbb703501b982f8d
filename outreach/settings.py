"""The street outreach back office's use cases: which teams a user sets, a team's minors'
protective path and retention, the purge reports (no personal data on these pages), and
the forms' changes. A change is committed here (Invalid: rolled back and raised); the
record services it calls (referrals, minors, retention) never commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import organisations
from core.accounts import Team, User, teams_by_id, users_by_id
from core.db import committed
from core.ids import parse_id
from core.roles import Role
from outreach import access, minors, referrals, retention
from outreach.models import (
    OutreachPurgeReport,
    OutreachRetentionSettings,
    OutreachTeamSettings,
    ServicePartner,
)


def managed_teams(session: Session, user: User) -> list[Team]:
    """The teams whose settings the user may change: every street team of their CPAS for
    an administrator (none for the platform administrator), the coordinator's own team."""
    if user.role == Role.ADMIN:
        scope = organisations.scope_of(session, user)
        query = (
            select(Team)
            .where(Team.kind == "street", scope.teams_filter(Team.id))
            .order_by(Team.name)
        )
        return [team for team in session.scalars(query) if access.manages(session, user, team.id)]
    team = session.get(Team, user.team_id) if user.team_id is not None else None
    return [team] if team is not None and access.manages(session, user, team.id) else []


def team_to_manage(session: Session, user: User, raw: str | None) -> tuple[Team | None, list[Team]]:
    """The team a settings page or form names (`raw`, its id; none: the first the user
    manages) and the teams the user manages. A team the user does
    not manage answers None, as an unknown one; when it exists (another team, another
    CPAS's) the attempt is audited and committed."""
    teams = managed_teams(session, user)
    if raw in (None, ""):
        return (teams[0] if teams else None), teams
    team = next((team for team in teams if str(team.id) == raw), None)
    if team is None:
        team_id = parse_id(raw)
        if team_id is not None and session.get(Team, team_id) is not None:
            organisations.refuse_and_record(session, user, "team", team_id)
    return team, teams


def may_set_rules(session: Session, user: User) -> bool:
    """The retention rules are the installation's: set by an administrator who manages
    every CPAS (the only CPAS's, or the platform administrator of several)."""
    return retention.may_set_rules(session, user)


def save_partner(
    session: Session, user: User, values: Mapping[str, Any], partner_id: int | None
) -> ServicePartner:
    """A service of the directory created or changed (referrals.save_partner), committed."""
    return committed(session, lambda: referrals.save_partner(session, user, values, partner_id))


def set_protective_path(
    session: Session, user: User, team_id: int, data: Mapping[str, Any]
) -> OutreachTeamSettings:
    """A team's protective path for minors (minors.set_protective_path), committed."""
    return committed(session, lambda: minors.set_protective_path(session, user, team_id, data))


def set_team_months(
    session: Session, user: User, team_id: int, data: Mapping[str, Any]
) -> OutreachTeamSettings:
    """A team's own retention period (retention.set_team_months), committed."""
    return committed(session, lambda: retention.set_team_months(session, user, team_id, data))


def set_rules(session: Session, user: User, data: Mapping[str, Any]) -> OutreachRetentionSettings:
    """The retention rules (retention.set_rules), committed."""
    return committed(session, lambda: retention.set_rules(session, user, data))


def active_partner(session: Session, partner_id: int) -> ServicePartner | None:
    """A service of the directory that is still listed (None: unknown or removed)."""
    partner = session.get(ServicePartner, partner_id)
    return partner if partner is not None and partner.active else None


@dataclass
class TeamSettings:
    """The settings page of a team (None: the user manages no team): its protective path,
    the staff who may be named in it, and the administrator's retention rules."""

    settings: OutreachTeamSettings | None
    members: list[User]
    chosen_ids: list[int]
    rules: OutreachRetentionSettings


def of_team(session: Session, team: Team | None) -> TeamSettings:
    """What the settings page shows for `team`."""
    if team is None:
        return TeamSettings(None, [], [], retention.rules(session))
    members = session.scalars(
        select(User)
        .where(
            User.team_id == team.id,
            User.active.is_(True),
            User.role.in_(access.TEAM_ROLES),
        )
        .order_by(User.display_name)
    )
    return TeamSettings(
        settings=minors.team_settings(session, team.id),
        members=list(members),
        chosen_ids=[user.id for user in minors.protective_people(session, team.id)],
        rules=retention.rules(session),
    )


@dataclass
class PurgeReports:
    """The last purges, with the names of the teams and of who ran them."""

    reports: list[OutreachPurgeReport]
    teams: dict[str, str]
    users: dict[int, User]


def purge_reports(session: Session) -> PurgeReports:
    reports = retention.reports(session)
    return PurgeReports(
        reports=reports,
        teams={str(team_id): team.name for team_id, team in teams_by_id(session).items()},
        users=users_by_id(session, [report.ran_by_id for report in reports]),
    )
