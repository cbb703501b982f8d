"""Contacts of no team get the team(s) the evidence points to (docs/cpas.md, "Contacts
and SMS of no CPAS"): from then on, with several CPAS, a contact of no team is no CPAS's
and only the platform administrator sees that it exists (notifications.orphans).

A contact of no team (and no member of staff's own) takes, by the first rule that finds
any team:
1. the teams of the places of its appointments and waiting entries (its person's, by its
   reference `appointments.person:<id>`, and those its messages are about,
   `appointment:<id>`);
2. the teams of the members of staff who wrote its messages; else, for each CPAS its
   messages spoke for (`sms_messages.cpas_id`), that CPAS's first team (lowest id);
3. the team of the record it is the contact of: a home-care beneficiary, a subscription
   to a minibus stop;
4. with one CPAS only in the installation, that CPAS's first team.
A contact none of these rules places keeps no team and is listed for the platform
administrator. Downgrading changes nothing: the teams given stay (nothing is lost, and
before this revision a contact of no team was every CPAS's anyway).

Revision ID: 0057_cpas_contacts
Revises: 0059_rounds_more
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0057_cpas_contacts"
down_revision: str | None = "0059_rounds_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CPAS = sa.table("cpas", sa.column("id"))
_TEAMS = sa.table("teams", sa.column("id"), sa.column("cpas_id"))
_USERS = sa.table("users", sa.column("id"), sa.column("team_id"))
_CONTACTS = sa.table(
    "notification_contacts", sa.column("id"), sa.column("reference"), sa.column("user_id")
)
_CONTACT_TEAMS = sa.table(
    "notification_contact_teams", sa.column("contact_id"), sa.column("team_id")
)
_MESSAGES = sa.table(
    "sms_messages",
    sa.column("contact_id"),
    sa.column("created_by_id"),
    sa.column("cpas_id"),
    sa.column("subject"),
)
_LOCATIONS = sa.table("appointment_locations", sa.column("id"), sa.column("team_id"))
_APPOINTMENTS = sa.table(
    "appointments", sa.column("id"), sa.column("person_id"), sa.column("location_id")
)
_WAITING = sa.table("appointment_waiting_list", sa.column("person_id"), sa.column("location_id"))
_BENEFICIARIES = sa.table("homecare_beneficiaries", sa.column("contact_id"), sa.column("team_id"))
_SUBSCRIPTIONS = sa.table(
    "rounds_stop_subscriptions", sa.column("contact_id"), sa.column("team_id")
)
PERSON = "appointments.person:"
APPOINTMENT = "appointment:"


def _ids(values: Sequence[object]) -> set[int]:
    return {int(value) for value in values if value is not None}


def _first_team(bind, cpas_id: int) -> int | None:
    return bind.scalar(
        sa.select(_TEAMS.c.id).where(_TEAMS.c.cpas_id == cpas_id).order_by(_TEAMS.c.id).limit(1)
    )


def _of_places(bind, contact_id: int, reference: str | None) -> set[int]:
    """Rule 1: the teams of the places of its appointments and waiting entries."""
    appointment_ids: set[int] = set()
    for subject in bind.scalars(
        sa.select(_MESSAGES.c.subject).where(
            _MESSAGES.c.contact_id == contact_id, _MESSAGES.c.subject.like(f"{APPOINTMENT}%")
        )
    ):
        tail = subject[len(APPOINTMENT) :]
        if tail.isdigit():
            appointment_ids.add(int(tail))
    places: set[int] = set()
    if appointment_ids:
        places |= _ids(
            bind.scalars(
                sa.select(_APPOINTMENTS.c.location_id).where(
                    _APPOINTMENTS.c.id.in_(sorted(appointment_ids))
                )
            ).all()
        )
    if reference and reference.startswith(PERSON) and reference[len(PERSON) :].isdigit():
        person_id = int(reference[len(PERSON) :])
        places |= _ids(
            bind.scalars(
                sa.select(_APPOINTMENTS.c.location_id).where(_APPOINTMENTS.c.person_id == person_id)
            ).all()
        )
        places |= _ids(
            bind.scalars(
                sa.select(_WAITING.c.location_id).where(_WAITING.c.person_id == person_id)
            ).all()
        )
    if not places:
        return set()
    return _ids(
        bind.scalars(
            sa.select(_LOCATIONS.c.team_id).where(_LOCATIONS.c.id.in_(sorted(places)))
        ).all()
    )


def _of_messages(bind, contact_id: int) -> set[int]:
    """Rule 2: its messages' authors' teams; else a first team of the CPAS they spoke for."""
    authors = _ids(
        bind.scalars(
            sa.select(_USERS.c.team_id)
            .join(_MESSAGES, _MESSAGES.c.created_by_id == _USERS.c.id)
            .where(_MESSAGES.c.contact_id == contact_id)
            .distinct()
        ).all()
    )
    if authors:
        return authors
    spoken_for = _ids(
        bind.scalars(
            sa.select(_MESSAGES.c.cpas_id).where(_MESSAGES.c.contact_id == contact_id).distinct()
        ).all()
    )
    return _ids([_first_team(bind, cpas_id) for cpas_id in sorted(spoken_for)])


def _of_records(bind, contact_id: int) -> set[int]:
    """Rule 3: the team of the home-care beneficiary or stop subscription it is of."""
    found: set[int] = set()
    for table in (_BENEFICIARIES, _SUBSCRIPTIONS):
        found |= _ids(
            bind.scalars(
                sa.select(table.c.team_id).where(table.c.contact_id == contact_id).distinct()
            ).all()
        )
    return found


def teams_for_contact(
    bind, contact_id: int, reference: str | None, only_team: int | None
) -> set[int]:
    """The teams the first rule that finds any gives the contact (empty: none)."""
    for rule in (
        lambda: _of_places(bind, contact_id, reference),
        lambda: _of_messages(bind, contact_id),
        lambda: _of_records(bind, contact_id),
    ):
        found = rule()
        if found:
            return found
    return {only_team} if only_team is not None else set()


def upgrade() -> None:
    bind = op.get_bind()
    every_cpas = list(bind.scalars(sa.select(_CPAS.c.id).order_by(_CPAS.c.id)))
    only_team = _first_team(bind, every_cpas[0]) if len(every_cpas) == 1 else None
    orphans = bind.execute(
        sa.select(_CONTACTS.c.id, _CONTACTS.c.reference)
        .where(
            _CONTACTS.c.user_id.is_(None),
            ~sa.exists().where(_CONTACT_TEAMS.c.contact_id == _CONTACTS.c.id),
        )
        .order_by(_CONTACTS.c.id)
    ).all()
    for contact_id, reference in orphans:
        for team_id in sorted(teams_for_contact(bind, contact_id, reference, only_team)):
            bind.execute(_CONTACT_TEAMS.insert().values(contact_id=contact_id, team_id=team_id))


def downgrade() -> None:
    """Nothing to undo: the teams given stay (see the module's docstring)."""
