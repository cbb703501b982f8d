"""0052: every place gets a team by the documented rule, or the migration stops naming
the places; a closure of every place becomes one per CPAS (docs/cpas.md, "The migration
(0052_cpas_place_team)"); downgrading gives each CPAS's places their closure back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import text

from core.db import make_engine
from core.migrations import alembic_config, upgrade
from tests.db.migration_rows import _insert, _rows
from tests.support import own_database

BEFORE = "0051_cpas_setup"


@pytest.fixture(scope="module")
def before() -> Iterator[str]:
    """An empty database at BEFORE, migrated once for the module: each test copies it."""
    with own_database("place-team-before") as url:
        command.upgrade(alembic_config(url), BEFORE)
        yield url


def _world(url: str, *, cpas: int, places: list[tuple[int, str, str]]) -> dict:
    """In a copy of `before`: `cpas` CPAS (Brussels 1000, Charleroi 6000), their teams,
    `places` (id, code, postcode) of no team, a minibus stop that is place 2 when there
    is one, a closure of every place and one of place 1. Returns the reflected tables."""
    engine = make_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    tables = meta.tables
    with engine.begin() as connection:
        for cpas_id, code, postcode in ((1, "bruxelles", "1000"), (2, "charleroi", "6000"))[:cpas]:
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
            _insert(connection, tables["cpas_postcodes"], postcode=postcode, cpas_id=cpas_id)
        teams = [
            (1, "bxl-marolles", "antenne", "1000", 1),
            (2, "bxl-saf", "home_care", "1000", 1),
            (3, "clr-mobile", "mobile", "", 2),
            (4, "clr-dampremy", "antenne", "6020", 2),
        ]
        for team_id, code, kind, postcode, cpas_id in teams:
            if cpas_id <= cpas:
                _insert(
                    connection,
                    tables["teams"],
                    id=team_id,
                    code=code,
                    name=code,
                    kind=kind,
                    postcode=postcode,
                    cpas_id=cpas_id,
                )
        for location_id, code, postcode in places:
            _insert(
                connection,
                tables["appointment_locations"],
                id=location_id,
                code=code,
                name=code,
                kind="antenne",
                postcode=postcode,
            )
        if cpas == 2 and any(place[0] == 2 for place in places):
            # SQLite stores a UUID as 32 hex digits (reflected as CHAR(32)).
            sqlite = url.startswith("sqlite")
            vehicle, stop = (
                (uuid.uuid4().hex, uuid.uuid4().hex) if sqlite else (uuid.uuid4(), uuid.uuid4())
            )
            _insert(connection, tables["rounds_vehicles"], id=vehicle, team_id=3, kind="minibus")
            _insert(
                connection,
                tables["rounds_stops"],
                id=stop,
                team_id=3,
                vehicle_id=vehicle,
                location_id=2,
            )
        if cpas == 2:
            # Someone waiting anywhere for a Charleroi service offered at place 3; their
            # contact of no team.
            _insert(
                connection,
                tables["appointment_services"],
                id=1,
                code="energie",
                booking_mode="online",
                cpas_id=2,
            )
            _insert(
                connection, tables["appointment_service_locations"], service_id=1, location_id=3
            )
            _insert(connection, tables["appointment_people"], id=1, name="A", phone="+32470000001")
            _insert(
                connection,
                tables["appointment_waiting_list"],
                id=1,
                service_id=1,
                location_id=None,
                person_id=1,
                phone="+32470000001",
                status="waiting",
            )
            _insert(
                connection,
                tables["notification_contacts"],
                id=1,
                display_name="A",
                reference="appointments.person:1",
            )
        closures = tables["appointment_closures"]
        connection.execute(
            closures.insert().values(
                location_id=None,
                first_day=date(2026, 12, 24),
                last_day=date(2026, 12, 24),
                reason="Fête du personnel",
            )
        )
        connection.execute(
            closures.insert().values(
                location_id=1,
                first_day=date(2026, 12, 28),
                last_day=date(2026, 12, 28),
                reason="Travaux",
            )
        )
    engine.dispose()
    return tables


PLACES = [
    (1, "bxl-marolles", "1000"),  # a team has its code
    (2, "clr-minibus-monceau", "6031"),  # a minibus stop of the mobile team is this place
    (3, "clr-charleroi-centre", "6000"),  # Charleroi serves 6000: its antenne
    (4, "bxl-annexe", "1000"),  # Brussels serves 1000: its antenne at 1000
]


def test_0052_gives_every_place_a_team_and_each_cpas_its_closure_of_every_place(before):
    with own_database("place-team", template=before) as url:
        _world(url, cpas=2, places=[*PLACES, (5, "nowhere", "9999")])
        # A place no rule places: the migration stops and names it; nothing invented.
        with pytest.raises(RuntimeError, match="nowhere"):
            upgrade(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("UPDATE appointment_locations SET team_id = 2 WHERE id = 5"))
        engine.dispose()
        upgrade(url)
        assert _rows(url, "SELECT id, team_id FROM appointment_locations ORDER BY id") == [
            (1, 1),
            (2, 3),
            (3, 4),
            (4, 1),
            (5, 2),
        ]
        # The contact waiting anywhere joined the team of Charleroi's place offering it.
        assert _rows(url, "SELECT contact_id, team_id FROM notification_contact_teams") == [(1, 4)]
        closures = _rows(
            url,
            "SELECT location_id, cpas_id, first_day, reason FROM appointment_closures"
            " ORDER BY location_id, cpas_id",
        )
        days = [(location, cpas, str(day), reason) for location, cpas, day, reason in closures]
        assert sorted(days, key=str) == sorted(
            [
                (None, 1, "2026-12-24", "Fête du personnel"),
                (None, 2, "2026-12-24", "Fête du personnel"),
                (1, None, "2026-12-28", "Travaux"),
            ],
            key=str,
        )
        # The database holds both rules from now on.
        engine = make_engine(url)
        for statement in (
            "UPDATE appointment_locations SET team_id = NULL WHERE id = 1",
            "INSERT INTO appointment_closures (location_id, cpas_id, first_day, last_day,"
            " reason) VALUES (NULL, NULL, '2027-01-04', '2027-01-04', 'x')",
        ):
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
                connection.execute(text(statement))
        engine.dispose()
        command.downgrade(alembic_config(url), BEFORE)
        # Down: each CPAS's closure of every place is a closure of each of its places.
        after = _rows(
            url,
            "SELECT location_id, first_day FROM appointment_closures"
            " WHERE reason = 'Fête du personnel' ORDER BY location_id",
        )
        assert [location for location, _day in after] == [1, 2, 3, 4, 5]
        engine = make_engine(url)
        columns = {
            column["name"]: column
            for column in sa.inspect(engine).get_columns("appointment_locations")
        }
        closure_columns = {
            column["name"] for column in sa.inspect(engine).get_columns("appointment_closures")
        }
        engine.dispose()
        assert columns["team_id"]["nullable"] is True
        assert "cpas_id" not in closure_columns


def test_0052_with_one_cpas_any_of_its_teams(before):
    with own_database("place-team-one", template=before) as url:
        _world(url, cpas=1, places=[(1, "somewhere", "9999")])
        upgrade(url)
        # Its antenne (before the home-care team), and the closure is that CPAS's.
        assert _rows(url, "SELECT team_id FROM appointment_locations") == [(1,)]
        assert _rows(url, "SELECT cpas_id FROM appointment_closures WHERE location_id IS NULL") == [
            (1,)
        ]
