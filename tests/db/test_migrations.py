"""Migrations: they build exactly the schema the models describe, and go down again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core.db import Base, make_engine
from core.migrations import alembic_config, upgrade
from tests.support import fresh_database, migrated_database
from web.domains import install


def test_migrations_match_the_models(engine):
    install()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_base_and_up_again():
    from alembic import command

    # From a copy of the run's migrated database (what `upgrade` to head makes): down to
    # base, then up again.
    with migrated_database("migrations") as url:
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


def test_0012_keeps_the_oldest_of_duplicate_waiting_entries():
    """Entries made twice for one number before the unique indexes: the oldest keeps
    its place, the later copies are withdrawn, the number is copied onto each entry."""
    from alembic import command
    from sqlalchemy import text

    with fresh_database("waiting-once") as url:
        command.upgrade(alembic_config(url), "0010_place_notes")
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO appointment_services (id, code, name_fr, name_nl, name_en,"
                    " duration_minutes, buffer_minutes, booking_mode, languages,"
                    " min_notice_hours, max_horizon_days, active, bring_fr, bring_nl, bring_en)"
                    " VALUES (1, 's', 'a', 'b', 'c', 30, 0, 'online', '[]', 2, 56, true,"
                    " '', '', '')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO appointment_locations (id, code, name, kind, address,"
                    " postcode, city, phone) VALUES (1, 'l', 'L', 'antenne', '', '', '', '')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO appointment_people (id, name, phone, created_at) VALUES"
                    " (1, 'A', '+32470000001', '2026-01-01'),"
                    " (2, 'B', '+32470000001', '2026-01-01'),"
                    " (3, 'C', '+32470000002', '2026-01-01')"
                )
            )
            rows = [
                (1, 1, "waiting", "2026-01-01"),
                (2, 1, "waiting", "2026-01-02"),  # the same number, another name
                (2, None, "waiting", "2026-01-02"),
                (1, None, "waiting", "2026-01-03"),
                (3, 1, "waiting", "2026-01-01"),
                (1, 1, "offered", "2026-01-01"),
            ]
            for n, (person, location, status, created) in enumerate(rows, start=1):
                connection.execute(
                    text(
                        "INSERT INTO appointment_waiting_list (id, service_id, location_id,"
                        " person_id, status, created_at) VALUES (:n, 1, :location, :person,"
                        " :status, :created)"
                    ),
                    {
                        "n": n,
                        "location": location,
                        "person": person,
                        "status": status,
                        "created": created,
                    },
                )
        engine.dispose()
        # Up to the revision under test: later ones need what this database lacks
        # (0052: a team for every place).
        command.upgrade(alembic_config(url), "0012_waiting_list_once")
        engine = make_engine(url)
        with engine.connect() as connection:
            after = connection.execute(
                text("SELECT id, phone, status FROM appointment_waiting_list ORDER BY id")
            ).all()
        engine.dispose()
    first, second = "+32470000001", "+32470000002"
    assert [tuple(row) for row in after] == [
        (1, first, "waiting"),
        (2, first, "withdrawn"),
        (3, first, "waiting"),
        (4, first, "withdrawn"),
        (5, second, "waiting"),
        (6, first, "offered"),
    ]
