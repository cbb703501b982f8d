"""Several CPAS, what the setup left (issue 15): every place of a team
(`appointment_locations.team_id` NOT NULL), a closure "of every place" of one CPAS
(`appointment_closures.cpas_id`).

A place without a team gets, by the first rule that holds: the team whose code is the
place's code; the team of the minibus stop that is this place; a team of the CPAS
serving the place's postcode (one at that postcode first, an antenne first, then by
code); with one CPAS only, a team of that CPAS (same order). None: the migration stops
and names the places (a team is never invented). A closure of every place becomes one
closure of every place per CPAS; with no CPAS at all it stops and says so. The contact
of a person waiting "anywhere" for a service of a CPAS, still of no team, joins the teams
of that CPAS's places offering the service (docs/cpas.md, "The migration
(0052_cpas_place_team)").

Revision ID: 0052_cpas_place_team
Revises: 0051_cpas_setup
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0052_cpas_place_team"
down_revision: str | None = "0051_cpas_setup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOCATIONS = sa.table(
    "appointment_locations",
    sa.column("id"),
    sa.column("code"),
    sa.column("postcode"),
    sa.column("team_id"),
)
_TEAMS = sa.table(
    "teams",
    sa.column("id"),
    sa.column("code"),
    sa.column("kind"),
    sa.column("postcode"),
    sa.column("cpas_id"),
)
_STOPS = sa.table("rounds_stops", sa.column("team_id"), sa.column("location_id"))
_POSTCODES = sa.table("cpas_postcodes", sa.column("postcode"), sa.column("cpas_id"))
_CPAS = sa.table("cpas", sa.column("id"))
_CLOSURES = sa.table(
    "appointment_closures",
    sa.column("id"),
    sa.column("location_id"),
    sa.column("cpas_id"),
    sa.column("first_day"),
    sa.column("last_day"),
    sa.column("reason"),
)


def _team_of_cpas(teams: list, cpas_id: int, postcode: str) -> int | None:
    """A team of the CPAS: one at the place's postcode first, an antenne first, by code."""
    mine = [team for team in teams if team.cpas_id == cpas_id]
    mine.sort(key=lambda team: (team.postcode != postcode, team.kind != "antenne", team.code))
    return mine[0].id if mine else None


def team_for_place(bind, place, teams: list, only_cpas: int | None) -> int | None:
    """The team a place without one gets (the module's rules), or None."""
    for team in teams:
        if team.code == place.code:
            return team.id
    stop_team = bind.scalar(
        sa.select(_STOPS.c.team_id).where(_STOPS.c.location_id == place.id).limit(1)
    )
    if stop_team is not None:
        return stop_team
    postcode = (place.postcode or "").strip()
    serving = bind.scalar(sa.select(_POSTCODES.c.cpas_id).where(_POSTCODES.c.postcode == postcode))
    if serving is not None:
        found = _team_of_cpas(teams, serving, postcode)
        if found is not None:
            return found
    if only_cpas is not None:
        return _team_of_cpas(teams, only_cpas, postcode)
    return None


_SERVICES = sa.table("appointment_services", sa.column("id"), sa.column("cpas_id"))
_OFFERS = sa.table(
    "appointment_service_locations", sa.column("service_id"), sa.column("location_id")
)
_WAITING = sa.table(
    "appointment_waiting_list",
    sa.column("service_id"),
    sa.column("location_id"),
    sa.column("person_id"),
    sa.column("status"),
)
_CONTACTS = sa.table("notification_contacts", sa.column("id"), sa.column("reference"))
_CONTACT_TEAMS = sa.table(
    "notification_contact_teams", sa.column("contact_id"), sa.column("team_id")
)


def _anywhere_contacts(bind) -> None:
    """A person waiting anywhere for a CPAS's service: their contact of no team joins
    the teams of that CPAS's places offering it (so that CPAS's staff see it)."""
    rows = bind.execute(
        sa.select(_WAITING.c.person_id, _SERVICES.c.id, _SERVICES.c.cpas_id)
        .join(_SERVICES, _SERVICES.c.id == _WAITING.c.service_id)
        .where(
            _WAITING.c.location_id.is_(None),
            _WAITING.c.status.in_(("waiting", "offered")),
            _SERVICES.c.cpas_id.is_not(None),
        )
    ).all()
    for person_id, service_id, cpas_id in rows:
        contact_id = bind.scalar(
            sa.select(_CONTACTS.c.id).where(
                _CONTACTS.c.reference == f"appointments.person:{person_id}"
            )
        )
        if contact_id is None or bind.scalar(
            sa.select(_CONTACT_TEAMS.c.team_id).where(_CONTACT_TEAMS.c.contact_id == contact_id)
        ):
            continue
        teams = bind.scalars(
            sa.select(_TEAMS.c.id)
            .distinct()
            .join(_LOCATIONS, _LOCATIONS.c.team_id == _TEAMS.c.id)
            .join(_OFFERS, _OFFERS.c.location_id == _LOCATIONS.c.id)
            .where(_OFFERS.c.service_id == service_id, _TEAMS.c.cpas_id == cpas_id)
        ).all()
        for team_id in teams:
            bind.execute(_CONTACT_TEAMS.insert().values(contact_id=contact_id, team_id=team_id))


def upgrade() -> None:
    bind = op.get_bind()
    every_cpas = list(bind.scalars(sa.select(_CPAS.c.id).order_by(_CPAS.c.id)))
    only_cpas = every_cpas[0] if len(every_cpas) == 1 else None
    teams = list(
        bind.execute(
            sa.select(
                _TEAMS.c.id, _TEAMS.c.code, _TEAMS.c.kind, _TEAMS.c.postcode, _TEAMS.c.cpas_id
            ).order_by(_TEAMS.c.id)
        )
    )
    places = list(
        bind.execute(
            sa.select(_LOCATIONS.c.id, _LOCATIONS.c.code, _LOCATIONS.c.postcode)
            .where(_LOCATIONS.c.team_id.is_(None))
            .order_by(_LOCATIONS.c.code)
        )
    )
    unplaced = []
    for place in places:
        team_id = team_for_place(bind, place, teams, only_cpas)
        if team_id is None:
            unplaced.append(place.code)
            continue
        bind.execute(_LOCATIONS.update().where(_LOCATIONS.c.id == place.id).values(team_id=team_id))
    if unplaced:
        raise RuntimeError(
            "0052_cpas_place_team: no team found for the appointment places "
            + ", ".join(unplaced)
            + " (no team has their code, no minibus stop is them, no CPAS serves their"
            " postcode and there is not one CPAS only). Give each a team in"
            " appointment_locations.team_id, then migrate again."
        )
    with op.batch_alter_table("appointment_locations", schema=None) as batch_op:
        batch_op.alter_column("team_id", existing_type=sa.Integer(), nullable=False)
    _anywhere_contacts(bind)

    with op.batch_alter_table("appointment_closures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cpas_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_appointment_closures_cpas_id"), ["cpas_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_closures_cpas_id_cpas"), "cpas", ["cpas_id"], ["id"]
        )
    every_place = list(
        bind.execute(
            sa.select(
                _CLOSURES.c.id, _CLOSURES.c.first_day, _CLOSURES.c.last_day, _CLOSURES.c.reason
            )
            .where(_CLOSURES.c.location_id.is_(None))
            .order_by(_CLOSURES.c.id)
        )
    )
    if every_place and not every_cpas:
        raise RuntimeError(
            "0052_cpas_place_team: closures of every place (ids "
            + ", ".join(str(row.id) for row in every_place)
            + ") but no CPAS: create one (terrain cpas create) or remove them, then migrate"
            " again."
        )
    for closure in every_place:
        # The row itself is the first CPAS's; a copy for each other CPAS.
        first, *others = every_cpas
        bind.execute(_CLOSURES.update().where(_CLOSURES.c.id == closure.id).values(cpas_id=first))
        for cpas_id in others:
            bind.execute(
                _CLOSURES.insert().values(
                    location_id=None,
                    cpas_id=cpas_id,
                    first_day=closure.first_day,
                    last_day=closure.last_day,
                    reason=closure.reason,
                )
            )
    with op.batch_alter_table("appointment_closures", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_appointment_closures_place_or_cpas"),
            "(location_id IS NULL) <> (cpas_id IS NULL)",
        )


def downgrade() -> None:
    bind = op.get_bind()
    # A closure of every place of one CPAS closes those places, as a closure of each.
    copies = list(
        bind.execute(
            sa.select(
                _CLOSURES.c.id,
                _CLOSURES.c.cpas_id,
                _CLOSURES.c.first_day,
                _CLOSURES.c.last_day,
                _CLOSURES.c.reason,
            ).where(_CLOSURES.c.cpas_id.is_not(None))
        )
    )
    for closure in copies:
        places = bind.scalars(
            sa.select(_LOCATIONS.c.id)
            .join(_TEAMS, _TEAMS.c.id == _LOCATIONS.c.team_id)
            .where(_TEAMS.c.cpas_id == closure.cpas_id)
        )
        for location_id in places:
            bind.execute(
                _CLOSURES.insert().values(
                    location_id=location_id,
                    cpas_id=None,
                    first_day=closure.first_day,
                    last_day=closure.last_day,
                    reason=closure.reason,
                )
            )
        bind.execute(_CLOSURES.delete().where(_CLOSURES.c.id == closure.id))
    with op.batch_alter_table("appointment_closures", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_appointment_closures_place_or_cpas"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_closures_cpas_id_cpas"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_appointment_closures_cpas_id"))
        batch_op.drop_column("cpas_id")
    with op.batch_alter_table("appointment_locations", schema=None) as batch_op:
        batch_op.alter_column("team_id", existing_type=sa.Integer(), nullable=True)
