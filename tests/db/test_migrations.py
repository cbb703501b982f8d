"""Migrations: they build exactly the schema the models describe, and go down again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core.db import Base, import_all_models, make_engine
from core.migrations import alembic_config, upgrade
from tests.support import fresh_database


def test_migrations_match_the_models(engine):
    import_all_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_base_and_up_again():
    from alembic import command

    with fresh_database("migrations") as url:
        upgrade(url)
        command.downgrade(alembic_config(url), "base")
        engine = make_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        upgrade(url)
        engine = make_engine(url)
        assert {"users", "teams", "audit_entries", "throttle_entries"} <= set(
            inspect(engine).get_table_names()
        )
        engine.dispose()
