"""0021: the team's one protective person moves to outreach_protective_people (and
back to one column on downgrade)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from core.db import make_engine
from core.migrations import alembic_config, upgrade
from tests.support import fresh_database


def _rows(url: str, query: str) -> list[tuple]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(query)).all()]
    engine.dispose()
    return rows


def test_0021_moves_the_named_person_into_the_new_table_and_back():
    with fresh_database("protective-people") as url:
        command.upgrade(alembic_config(url), "0020_homecare")
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO teams (id, code, name, kind, city, postcode, address) VALUES"
                    " (1, 'rue', 'Rue', 'street', '', '', ''),"
                    " (2, 'rue2', 'Rue 2', 'street', '', '', '')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO users (id, username, display_name, password_hash, role,"
                    " team_id, active, created_at, password_changed_at) VALUES"
                    " (7, 'lotte', 'Lotte', 'x', 'street_educator', 1, true,"
                    " '2026-01-01', '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO outreach_team_settings (team_id, protective_user_id,"
                    " protective_contact) VALUES (1, 7, 'SAJ'), (2, NULL, 'AMO')"
                )
            )
        engine.dispose()
        upgrade(url)
        assert _rows(url, "SELECT team_id, user_id FROM outreach_protective_people") == [(1, 7)]
        assert _rows(
            url, "SELECT team_id, protective_contact FROM outreach_team_settings ORDER BY team_id"
        ) == [(1, "SAJ"), (2, "AMO")]
        command.downgrade(alembic_config(url), "0020_homecare")
        assert _rows(
            url, "SELECT team_id, protective_user_id FROM outreach_team_settings ORDER BY team_id"
        ) == [(1, 7), (2, None)]
