"""Rounds (issue 19): each minibus stop gets a public slug, the address of its public
page and poster (/arret/<slug>); the existing stops get one made from their name. A stop
may be an appointments place of kind mobile stop (`location_id`).

Revision ID: 0049_rounds_public
Revises: 0048_rounds_live
Create Date: 2026-12-06
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0049_rounds_public"
down_revision: str | None = "0048_rounds_live"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _slug(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:60] or "arret"


def upgrade() -> None:
    with op.batch_alter_table("rounds_stops") as batch:
        batch.add_column(sa.Column("public_slug", sa.String(length=80), nullable=True))
        batch.create_unique_constraint("uq_rounds_stops_public_slug", ["public_slug"])
        batch.add_column(sa.Column("location_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_rounds_stops_location_id", ["location_id"])
        batch.create_foreign_key(
            "fk_rounds_stops_location_id_appointment_locations",
            "appointment_locations",
            ["location_id"],
            ["id"],
        )
    connection = op.get_bind()
    taken: set[str] = set()
    for stop_id, name in connection.execute(
        sa.text("SELECT id, name FROM rounds_stops ORDER BY name, id")
    ):
        base = _slug(name)
        slug, number = base, 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        taken.add(slug)
        connection.execute(
            sa.text("UPDATE rounds_stops SET public_slug = :slug WHERE id = :id"),
            {"slug": slug, "id": stop_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds_stops") as batch:
        batch.drop_constraint(
            "fk_rounds_stops_location_id_appointment_locations", type_="foreignkey"
        )
        batch.drop_constraint("uq_rounds_stops_location_id", type_="unique")
        batch.drop_column("location_id")
        batch.drop_constraint("uq_rounds_stops_public_slug", type_="unique")
        batch.drop_column("public_slug")
