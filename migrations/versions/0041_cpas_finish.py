"""Several CPAS, finished (issue 15): one SMS sender per CPAS and replies kept to it
(`sms_messages.cpas_id`, `sms_inbound.cpas_id`), and the postcodes a CPAS serves as rows
of `cpas_postcodes`, whose primary key refuses a postcode served by two CPAS (they were
a JSON list on `cpas`).

Existing messages get the CPAS of their contact's teams when those are all of one CPAS
(else none: they leave with the installation's sender, as before).

Revision ID: 0041_cpas_finish
Revises: 0044_hc_open
Create Date: 2026-12-06
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041_cpas_finish"
down_revision: str | None = "0044_hc_open"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json(raw: object) -> list[str]:
    if isinstance(raw, list):
        return [str(value) for value in raw]
    if isinstance(raw, str) and raw:
        return [str(value) for value in json.loads(raw)]
    return []


def upgrade() -> None:
    op.create_table(
        "cpas_postcodes",
        sa.Column("postcode", sa.String(length=4), nullable=False),
        sa.Column("cpas_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cpas_id"], ["cpas.id"], name=op.f("fk_cpas_postcodes_cpas_id_cpas")
        ),
        sa.PrimaryKeyConstraint("postcode", name=op.f("pk_cpas_postcodes")),
    )
    op.create_index(op.f("ix_cpas_postcodes_cpas_id"), "cpas_postcodes", ["cpas_id"])
    bind = op.get_bind()
    cpas = sa.table("cpas", sa.column("id"), sa.column("postcodes"))
    rows, seen = [], set()
    for cpas_id, postcodes in bind.execute(sa.select(cpas.c.id, cpas.c.postcodes).order_by("id")):
        for postcode in _json(postcodes):
            if postcode not in seen:  # the first CPAS keeps a postcode listed twice
                seen.add(postcode)
                rows.append({"postcode": postcode, "cpas_id": cpas_id})
    if rows:
        op.bulk_insert(
            sa.table("cpas_postcodes", sa.column("postcode"), sa.column("cpas_id")), rows
        )
    with op.batch_alter_table("cpas", schema=None) as batch_op:
        batch_op.drop_column("postcodes")

    for table in ("sms_messages", "sms_inbound"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("cpas_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_cpas_id_cpas"), "cpas", ["cpas_id"], ["id"]
            )
            batch_op.create_index(batch_op.f(f"ix_{table}_cpas_id"), ["cpas_id"], unique=False)
    # A message's CPAS: its contact's teams', when they are all of one CPAS.
    op.execute(
        """
        UPDATE sms_messages SET cpas_id = (
            SELECT MIN(teams.cpas_id) FROM notification_contact_teams AS ct
            JOIN teams ON teams.id = ct.team_id
            WHERE ct.contact_id = sms_messages.contact_id
            HAVING COUNT(DISTINCT teams.cpas_id) = 1
        )
        """
    )


def downgrade() -> None:
    for table in ("sms_inbound", "sms_messages"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_cpas_id"))
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_cpas_id_cpas"), type_="foreignkey")
            batch_op.drop_column("cpas_id")
    with op.batch_alter_table("cpas", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("postcodes", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    bind = op.get_bind()
    codes = sa.table("cpas_postcodes", sa.column("postcode"), sa.column("cpas_id"))
    served: dict[int, list[str]] = {}
    for postcode, cpas_id in bind.execute(
        sa.select(codes.c.postcode, codes.c.cpas_id).order_by(codes.c.postcode)
    ):
        served.setdefault(cpas_id, []).append(postcode)
    cpas = sa.table("cpas", sa.column("id"), sa.column("postcodes", sa.JSON()))
    for cpas_id, postcodes in served.items():
        bind.execute(sa.update(cpas).where(cpas.c.id == cpas_id).values(postcodes=postcodes))
    op.drop_index(op.f("ix_cpas_postcodes_cpas_id"), table_name="cpas_postcodes")
    op.drop_table("cpas_postcodes")
