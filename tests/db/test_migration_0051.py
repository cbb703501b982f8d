"""0051: each appointments service gets its CPAS, from its places' teams (docs/cpas.md,
"The migration (0051_cpas_setup)"), and loses it on downgrade."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy import text

from core.db import make_engine
from core.migrations import alembic_config
from tests.support import fresh_database


def _insert(connection, table: sa.Table, **given) -> None:
    """A row with `given` and a plain value for every other required column."""
    values = dict(given)
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.primary_key:
            continue
        kind = column.type
        if isinstance(kind, sa.Boolean):
            values[column.name] = True
        elif isinstance(kind, sa.Integer):
            values[column.name] = 10  # within every range check of these tables
        elif isinstance(kind, sa.JSON):
            values[column.name] = []
        else:
            values[column.name] = ""
    connection.execute(table.insert().values(**values))


def test_0051_gives_each_service_the_cpas_of_its_places():
    with fresh_database("cpas-setup") as url:
        command.upgrade(alembic_config(url), "0041_cpas_finish")
        engine = make_engine(url)
        meta = sa.MetaData()
        meta.reflect(engine)
        tables = meta.tables
        with engine.begin() as connection:
            for cpas_id, code in ((1, "bruxelles"), (2, "charleroi")):
                _insert(
                    connection,
                    tables["cpas"],
                    id=cpas_id,
                    code=code,
                    name_fr=code,
                    language_regime="fr",
                    region="wallonia",
                    homecare_funder="aviq",
                )
            for team_id, cpas_id in ((1, 1), (2, 2)):
                _insert(
                    connection,
                    tables["teams"],
                    id=team_id,
                    code=f"t{team_id}",
                    name=f"T{team_id}",
                    kind="antenne",
                    cpas_id=cpas_id,
                )
            for location_id, team_id in ((1, 1), (2, 2), (3, None)):
                _insert(
                    connection,
                    tables["appointment_locations"],
                    id=location_id,
                    code=f"l{location_id}",
                    name=f"L{location_id}",
                    kind="antenne",
                    team_id=team_id,
                )
            # 1: at Brussels' place; 2: at both CPAS's; 3: only at a place of no team.
            for service_id in (1, 2, 3):
                _insert(
                    connection,
                    tables["appointment_services"],
                    id=service_id,
                    code=f"s{service_id}",
                    booking_mode="online",
                )
            links = [(1, 1), (2, 1), (2, 2), (3, 3)]
            for service_id, location_id in links:
                connection.execute(
                    tables["appointment_service_locations"]
                    .insert()
                    .values(service_id=service_id, location_id=location_id)
                )
        engine.dispose()
        # Up to the revision under test (0052 needs a team for the place of no team).
        command.upgrade(alembic_config(url), "0051_cpas_setup")
        engine = make_engine(url)
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT id, cpas_id FROM appointment_services ORDER BY id")
            ).all()
        engine.dispose()
        # Several CPAS: no "only CPAS" for the service of no team's place: shared.
        assert [tuple(row) for row in found] == [(1, 1), (2, None), (3, None)]
        command.downgrade(alembic_config(url), "0041_cpas_finish")
        engine = make_engine(url)
        columns = {
            column["name"] for column in sa.inspect(engine).get_columns("appointment_services")
        }
        engine.dispose()
        assert "cpas_id" not in columns
