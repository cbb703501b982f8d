"""One installation, several CPAS (issue 15): the `cpas` table and each CPAS's holiday
days; every team gets its CPAS (`teams.cpas_id`, NOT NULL); home care's stand-in
`homecare_settings` (region, funder) goes: they are the CPAS's now.

Which CPAS a team goes to (docs/cpas.md), first rule that holds:
1. its code starts with a known CPAS's prefix: `bxl-` CPAS de Bruxelles, `sch-` CPAS de
   Schaerbeek, `clr-` CPAS de Charleroi;
2. its postcode is one a known CPAS serves (Bruxelles 1000, 1020, 1120, 1130;
   Schaerbeek 1030; Charleroi 6000 … 6061);
3. otherwise the default CPAS, named from the settings TERRAIN_DEFAULT_CPAS_CODE
   (default `cpas`), TERRAIN_DEFAULT_CPAS_NAME (default `CPAS`) and
   TERRAIN_DEFAULT_CPAS_REGION (default: the region of a home-care setting of its teams,
   else `brussels`); its regime follows the region, its funder the home-care setting.
Only CPAS that receive a team are created. The SMS sender is TWILIO_FROM (default
"CPAS"); it takes replies when it is a phone number.

Revision ID: 0034_cpas
Revises: 0033_hc_hours (re-chained after merging main)
Create Date: 2026-12-06
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0034_cpas"
down_revision: str | None = "0033_hc_hours"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHARLEROI_POSTCODES = [
    "6000",
    "6001",
    "6010",
    "6020",
    "6030",
    "6031",
    "6032",
    "6040",
    "6041",
    "6042",
    "6043",
    "6044",
    "6060",
    "6061",
]
# (prefix, code, French name, Dutch name, communes, postcodes, regime, region, funder)
KNOWN = [
    (
        "bxl-",
        "bruxelles",
        "CPAS de Bruxelles",
        "OCMW van Brussel",
        ["Bruxelles"],
        ["1000", "1020", "1120", "1130"],
        "bilingual",
        "brussels",
        "iriscare",
    ),
    (
        "sch-",
        "schaerbeek",
        "CPAS de Schaerbeek",
        "OCMW van Schaarbeek",
        ["Schaerbeek"],
        ["1030"],
        "bilingual",
        "brussels",
        "iriscare",
    ),
    (
        "clr-",
        "charleroi",
        "CPAS de Charleroi",
        "OCMW van Charleroi",
        ["Charleroi"],
        CHARLEROI_POSTCODES,
        "fr",
        "wallonia",
        "aviq",
    ),
]
REGION_REGIMES = {"brussels": "bilingual", "wallonia": "fr", "flanders": "nl"}
REGION_FUNDERS = {"brussels": "iriscare", "wallonia": "aviq", "flanders": "vaph"}


def _known_for(code: str, postcode: str) -> int | None:
    """Index in KNOWN of the team's CPAS by rules 1 and 2, or None."""
    for index, known in enumerate(KNOWN):
        if code.startswith(known[0]):
            return index
    for index, known in enumerate(KNOWN):
        if (postcode or "").strip() in known[5]:
            return index
    return None


def upgrade() -> None:
    cpas = op.create_table(
        "cpas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_fr", sa.String(length=120), nullable=False),
        sa.Column("name_nl", sa.String(length=120), server_default="", nullable=False),
        sa.Column("communes", sa.JSON(), nullable=False),
        sa.Column("postcodes", sa.JSON(), nullable=False),
        sa.Column("language_regime", sa.String(length=10), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("homecare_funder", sa.String(length=20), nullable=False),
        sa.Column("sms_sender", sa.String(length=20), nullable=False),
        sa.Column("sms_replies", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "homecare_funder IN ('iriscare', 'aviq', 'vaph')", name=op.f("ck_cpas_funder_known")
        ),
        sa.CheckConstraint(
            "language_regime IN ('fr', 'nl', 'bilingual')", name=op.f("ck_cpas_regime_known")
        ),
        sa.CheckConstraint(
            "region IN ('brussels', 'wallonia', 'flanders')", name=op.f("ck_cpas_region_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpas")),
        sa.UniqueConstraint("code", name=op.f("uq_cpas_code")),
    )
    op.create_table(
        "cpas_holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cpas_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name_fr", sa.String(length=120), nullable=False),
        sa.Column("name_nl", sa.String(length=120), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('federal', 'regional', 'community', 'administration')",
            name=op.f("ck_cpas_holidays_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["cpas_id"], ["cpas.id"], name=op.f("fk_cpas_holidays_cpas_id_cpas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpas_holidays")),
        sa.UniqueConstraint("cpas_id", "day", name=op.f("uq_cpas_holidays_cpas_id_day")),
    )
    with op.batch_alter_table("cpas_holidays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpas_holidays_cpas_id"), ["cpas_id"], unique=False)

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cpas_id", sa.Integer(), nullable=True))

    bind = op.get_bind()
    teams = bind.execute(sa.text("SELECT id, code, postcode FROM teams ORDER BY id")).all()
    settings = {
        team_id: (region, funder)
        for team_id, region, funder in bind.execute(
            sa.text("SELECT team_id, region, funder FROM homecare_settings ORDER BY team_id")
        )
    }
    sender = os.environ.get("TWILIO_FROM", "").strip() or "CPAS"
    common = {
        "communes": [],
        "postcodes": [],
        "sms_sender": sender[:20],
        "sms_replies": sender.startswith("+"),
        "phone": "",
        "email": "",
        "address": "",
        "name_nl": "",
    }
    chosen: dict[int, int | None] = {
        team_id: _known_for(code, postcode) for team_id, code, postcode in teams
    }
    ids: dict[int | None, int] = {}
    for index in sorted({i for i in chosen.values() if i is not None}):
        _prefix, code, name_fr, name_nl, communes, postcodes, regime, region, funder = KNOWN[index]
        bind.execute(
            cpas.insert().values(
                {
                    **common,
                    "code": code,
                    "name_fr": name_fr,
                    "name_nl": name_nl,
                    "communes": communes,
                    "postcodes": postcodes,
                    "language_regime": regime,
                    "region": region,
                    "homecare_funder": funder,
                }
            )
        )
        ids[index] = bind.execute(
            sa.text("SELECT id FROM cpas WHERE code = :c"), {"c": code}
        ).one()[0]
    unmatched = [team_id for team_id, index in chosen.items() if index is None]
    if unmatched:
        own = [settings[team_id] for team_id in unmatched if team_id in settings]
        region = os.environ.get("TERRAIN_DEFAULT_CPAS_REGION", "").strip() or (
            own[0][0] if own else "brussels"
        )
        if region not in REGION_REGIMES:
            region = "brussels"
        funder = own[0][1] if own and own[0][1] in REGION_FUNDERS.values() else None
        code = os.environ.get("TERRAIN_DEFAULT_CPAS_CODE", "").strip().lower() or "cpas"
        if code in {known[1] for known in KNOWN}:
            code = f"{code}-default"
        bind.execute(
            cpas.insert().values(
                {
                    **common,
                    "code": code[:40],
                    "name_fr": (os.environ.get("TERRAIN_DEFAULT_CPAS_NAME", "").strip() or "CPAS")[
                        :120
                    ],
                    "language_regime": REGION_REGIMES[region],
                    "region": region,
                    "homecare_funder": funder or REGION_FUNDERS[region],
                }
            )
        )
        ids[None] = bind.execute(sa.text("SELECT id FROM cpas WHERE code = :c"), {"c": code}).one()[
            0
        ]
    for team_id, index in chosen.items():
        bind.execute(
            sa.text("UPDATE teams SET cpas_id = :cpas WHERE id = :team"),
            {"cpas": ids[index], "team": team_id},
        )

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.alter_column("cpas_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f("ix_teams_cpas_id"), ["cpas_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_teams_cpas_id_cpas"), "cpas", ["cpas_id"], ["id"]
        )

    op.drop_table("homecare_settings")


def downgrade() -> None:
    settings = op.create_table(
        "homecare_settings",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("funder", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "region IN ('brussels', 'wallonia', 'flanders')",
            name=op.f("ck_homecare_settings_region_known"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_homecare_settings_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_homecare_settings_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_homecare_settings")),
    )
    bind = op.get_bind()
    # Home-care teams keep their CPAS's region and funder as their own setting.
    rows = bind.execute(
        sa.text(
            "SELECT teams.id, cpas.region, cpas.homecare_funder FROM teams"
            " JOIN cpas ON cpas.id = teams.cpas_id WHERE teams.kind = 'home_care'"
        )
    ).all()
    if rows:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        bind.execute(
            settings.insert(),
            [
                {
                    "team_id": team_id,
                    "region": region,
                    "funder": funder,
                    "version": 1,
                    "change_seq": 0,
                    "changed_at": now,
                    "updated_at": now,
                    "changed_by_id": None,
                }
                for team_id, region, funder in rows
            ],
        )
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_teams_cpas_id_cpas"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_teams_cpas_id"))
        batch_op.drop_column("cpas_id")
    with op.batch_alter_table("cpas_holidays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cpas_holidays_cpas_id"))
    op.drop_table("cpas_holidays")
    op.drop_table("cpas")
