"""0018: a walk-in's empty number becomes NULL (and back), with appointments that
reference the people kept (SQLite copies the table to change the column)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from core.db import make_engine
from core.migrations import alembic_config
from tests.support import fresh_database


def _phones(url: str) -> list[tuple]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.id, p.phone, a.id FROM appointment_people p"
                " JOIN appointments a ON a.person_id = p.id ORDER BY p.id"
            )
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_0018_empty_numbers_become_null_and_appointments_keep_their_people():
    with fresh_database("no-phone") as url:
        command.upgrade(alembic_config(url), "0017_public_pages")
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
                    " (1, 'A', '', '2026-01-01'), (2, 'B', '+32470000001', '2026-01-01')"
                )
            )
            for n in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO appointments (id, service_id, location_id, person_id,"
                        " start_at, end_at, busy_until, status, source, created_at) VALUES"
                        " (:n, 1, 1, :n, '2026-01-02 09:00:00', '2026-01-02 09:30:00',"
                        " '2026-01-02 09:30:00', 'booked', 'walk_in', '2026-01-01')"
                    ),
                    {"n": n},
                )
        engine.dispose()
        # Up to the revision under test (0052 needs a team for every place).
        command.upgrade(alembic_config(url), "0018_booking_without_phone")
        assert _phones(url) == [(1, None, 1), (2, "+32470000001", 2)]
        command.downgrade(alembic_config(url), "0017_public_pages")
        assert _phones(url) == [(1, "", 1), (2, "+32470000001", 2)]
