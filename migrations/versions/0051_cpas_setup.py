"""Several CPAS, appointment setup (issue 15): each service of a CPAS
(`appointment_services.cpas_id`).

An existing service gets, by the first rule that holds: the CPAS of its places' teams
when they are all of one CPAS; else (no place of a team) the installation's only CPAS;
else none: the service stays the installation's, shared by the CPAS whose places offer
it (docs/cpas.md, "The migration (0051_cpas_setup)").

Revision ID: 0051_cpas_setup
Revises: 0050_rounds_meals
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0051_cpas_setup"
down_revision: str | None = "0050_rounds_meals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointment_services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cpas_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_appointment_services_cpas_id"), ["cpas_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_services_cpas_id_cpas"), "cpas", ["cpas_id"], ["id"]
        )
    bind = op.get_bind()
    services = sa.table("appointment_services", sa.column("id"), sa.column("cpas_id"))
    links = sa.table(
        "appointment_service_locations", sa.column("service_id"), sa.column("location_id")
    )
    locations = sa.table("appointment_locations", sa.column("id"), sa.column("team_id"))
    teams = sa.table("teams", sa.column("id"), sa.column("cpas_id"))
    cpas = sa.table("cpas", sa.column("id"))
    every_cpas = list(bind.scalars(sa.select(cpas.c.id).order_by(cpas.c.id).limit(2)))
    only = every_cpas[0] if len(every_cpas) == 1 else None
    of_service: dict[int, set[int]] = {}
    rows = bind.execute(
        sa.select(links.c.service_id, teams.c.cpas_id)
        .join(locations, locations.c.id == links.c.location_id)
        .join(teams, teams.c.id == locations.c.team_id)
    )
    for service_id, cpas_id in rows:
        of_service.setdefault(service_id, set()).add(cpas_id)
    for service_id in list(bind.scalars(sa.select(services.c.id))):
        found = of_service.get(service_id, set())
        chosen = next(iter(found)) if len(found) == 1 else (only if not found else None)
        if chosen is not None:
            bind.execute(
                services.update().where(services.c.id == service_id).values(cpas_id=chosen)
            )


def downgrade() -> None:
    with op.batch_alter_table("appointment_services", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_services_cpas_id_cpas"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_appointment_services_cpas_id"))
        batch_op.drop_column("cpas_id")
