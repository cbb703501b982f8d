"""0057: each contact of no team takes the team(s) the evidence points to, by the first
rule that finds any (docs/cpas.md, "Contacts and SMS of no CPAS"); a contact no rule
places keeps none; a contact of a team or a member of staff's own is left alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import text

from core.db import make_engine
from core.migrations import alembic_config, upgrade
from tests.db.migration_rows import _insert, _rows
from tests.support import own_database

BEFORE = "0059_rounds_more"  # the revision just before 0057_cpas_contacts


@pytest.fixture(scope="module")
def before() -> Iterator[str]:
    """An empty database at BEFORE, migrated once for the module: each test copies it."""
    with own_database("contacts-before") as url:
        command.upgrade(alembic_config(url), BEFORE)
        yield url


def _world(url: str, *, cpas: int) -> None:
    """In a copy of `before`: Brussels (teams 1, 2) and Charleroi (teams 3, 4) or
    Brussels only, a place of team 1 and one of team 4 (or 2), staff of teams 1 and 4,
    and contacts of no team with their evidence."""
    engine = make_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    tables = meta.tables
    with engine.begin() as connection:

        def add(table: str, **values) -> None:
            _insert(connection, tables[table], **values)

        for cpas_id, code in ((1, "bruxelles"), (2, "charleroi"))[:cpas]:
            add(
                "cpas",
                id=cpas_id,
                code=code,
                name_fr=code,
                language_regime="fr",
                region="wallonia",
                homecare_funder="aviq",
            )
        for team_id, code, kind, cpas_id in (
            (1, "bxl-marolles", "antenne", 1),
            (2, "bxl-saf", "home_care", 1),
            (3, "clr-mobile", "mobile", 2),
            (4, "clr-dampremy", "antenne", 2),
        ):
            if cpas_id <= cpas:
                add(
                    "teams",
                    id=team_id,
                    code=code,
                    name=code,
                    kind=kind,
                    postcode="",
                    cpas_id=cpas_id,
                )
        far = 4 if cpas == 2 else 2
        add("users", id=10, username="bxl", display_name="B", role="social_worker", team_id=1)
        add("users", id=11, username="far", display_name="F", role="social_worker", team_id=far)
        add("appointment_locations", id=1, code="marolles", name="M", kind="antenne", team_id=1)
        add("appointment_locations", id=2, code="far", name="F", kind="antenne", team_id=far)
        add("appointment_services", id=1, code="accueil", booking_mode="online")
        for person_id in (1, 2):
            add("appointment_people", id=person_id, name="P", phone="+32470000001")
        start = datetime(2026, 3, 2, 9, 0)
        for appointment_id, person_id, location_id in ((1, 1, 2), (2, 2, 1)):
            add(
                "appointments",
                id=appointment_id,
                service_id=1,
                location_id=location_id,
                person_id=person_id,
                agent_id=10,
                status="booked",
                source="desk",
                start_at=start,
                end_at=datetime(2026, 3, 2, 9, 30),
                busy_until=datetime(2026, 3, 2, 9, 30),
                manage_token_hash=f"h{appointment_id}",
            )
        contacts = {
            1: "appointments.person:1",  # rule 1: its person's appointment at place 2
            2: "appointments.code:fr:abc",  # rule 1: a message about appointment 2
            3: None,  # rule 2: a message written by staff of team `far`
            4: None,  # rule 2: a message that spoke for Brussels, no author
            5: None,  # rule 3: a home-care beneficiary's, team 2
            6: None,  # nothing: stays of no team (with two CPAS)
            7: None,  # of team 1 already: untouched
            8: None,  # a member of staff's own (user 11): untouched
        }
        for contact_id, reference in contacts.items():
            add(
                "notification_contacts",
                id=contact_id,
                display_name=f"C{contact_id}",
                reference=reference,
                user_id=11 if contact_id == 8 else None,
            )
        add("notification_contact_teams", contact_id=7, team_id=1)
        messages = [
            (1, 1, 10, None, None),  # rule 2 would say team 1: rule 1 comes first
            (2, 2, None, None, "appointment:2"),
            (3, 3, 11, None, None),
            (4, 4, None, 1, None),
        ]
        for message_id, contact_id, author, cpas_id, subject in messages:
            add(
                "sms_messages",
                id=message_id,
                key=f"k{message_id}",
                contact_id=contact_id,
                created_by_id=author,
                cpas_id=cpas_id,
                subject=subject,
                language="fr",
                category="reminder",
                status="sent",
                body="x",
            )
        # SQLite stores a UUID as 32 hex digits (reflected as CHAR(32)).
        beneficiary = uuid.uuid4().hex if url.startswith("sqlite") else uuid.uuid4()
        add("homecare_beneficiaries", id=beneficiary, team_id=2, contact_id=5, name="H")
    engine.dispose()


TEAMS = "SELECT contact_id, team_id FROM notification_contact_teams ORDER BY contact_id, team_id"


def test_0057_gives_each_contact_of_no_team_the_team_of_its_evidence(before):
    with own_database("contacts-two", template=before) as url:
        _world(url, cpas=2)
        upgrade(url)
        assert _rows(url, TEAMS) == [(1, 4), (2, 1), (3, 4), (4, 1), (5, 2), (7, 1)]
        command.downgrade(alembic_config(url), BEFORE)  # the teams given stay
        assert len(_rows(url, TEAMS)) == 6


def test_0057_with_one_cpas_a_contact_of_no_evidence_takes_its_first_team(before):
    with own_database("contacts-one", template=before) as url:
        _world(url, cpas=1)
        upgrade(url)
        assert _rows(url, TEAMS) == [(1, 2), (2, 1), (3, 2), (4, 1), (5, 2), (6, 1), (7, 1)]
        engine = make_engine(url)
        with engine.connect() as connection:
            assert (
                connection.execute(
                    text("SELECT count(*) FROM notification_contact_teams WHERE contact_id = 8")
                ).scalar()
                == 0
            )
        engine.dispose()
