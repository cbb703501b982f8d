"""Several CPAS in one installation (issue 15): each CPAS's holidays, language regime
and SMS replies; the migration that gives every existing team its CPAS."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from appointments import desk, setup, slots
from appointments.models import Location, Service
from core import accounts, organisations
from core.db import make_engine
from core.errors import Invalid
from core.migrations import alembic_config, upgrade
from core.roles import Role
from notifications import broadcasts, contacts
from notifications.models import Message
from tests.db.appointments_world import Agenda, at
from tests.db.slots_world import Builder, local
from tests.support import fresh_database, migrated_database, sms_text, staff_member

IRIS_DAY = date(2026, 5, 8)  # a Friday


def _team(db, code: str) -> accounts.Team:
    team = accounts.get_team(db, code)
    assert team is not None
    return team


def _place_of(db, team_code: str) -> Builder:
    world = Builder(db)
    world.plan(world.agents[0])
    world.location.team_id = _team(db, team_code).id
    db.flush()
    return world


# --- Holidays ----------------------------------------------------------------------------


def test_iris_day_is_closed_for_a_brussels_place_and_open_for_a_charleroi_place(db):
    now = local(date(2026, 4, 20), 8)
    brussels = _place_of(db, "bxl-marolles")
    charleroi = _place_of(db, "clr-dampremy")
    assert brussels.starts(IRIS_DAY, now=now) == []
    assert charleroi.starts(IRIS_DAY, now=now)[:2] == ["08:30", "09:00"]
    assert desk.closed_reason(db, brussels.location, IRIS_DAY) == "holiday"
    assert desk.closed_reason(db, charleroi.location, IRIS_DAY) is None
    # The day after is a usual Monday for both; a federal day is closed for both.
    monday = date(2026, 5, 11)
    assert brussels.starts(monday, now=now) and charleroi.starts(monday, now=now)
    ascension = date(2026, 5, 14)
    assert brussels.starts(ascension, now=now) == charleroi.starts(ascension, now=now) == []


def test_the_defaults_by_region_and_regime_each_day_marked_by_kind():
    def days(region: str, regime: str) -> dict[date, tuple[str, bool]]:
        return {
            holiday.day: (holiday.kind, holiday.closed)
            for holiday in organisations.default_holidays(region, regime, 2026)
        }

    brussels = days("brussels", "bilingual")
    assert brussels[IRIS_DAY] == ("regional", True)
    assert brussels[date(2026, 7, 21)] == ("federal", True)
    # A bilingual Brussels CPAS has both communities' days listed, open, to choose.
    assert brussels[date(2026, 9, 27)] == ("community", False)
    assert brussels[date(2026, 7, 11)] == ("community", False)
    for day in (date(2026, 11, 2), date(2026, 11, 15), date(2026, 12, 26)):
        assert brussels[day] == ("administration", True)
    assert days("brussels", "fr")[date(2026, 9, 27)] == ("community", True)
    assert date(2026, 7, 11) not in days("brussels", "fr")
    wallonia = days("wallonia", "fr")
    assert IRIS_DAY not in wallonia and date(2026, 7, 11) not in wallonia
    assert wallonia[date(2026, 9, 27)] == ("community", True)
    flanders = days("flanders", "nl")
    assert flanders[date(2026, 7, 11)] == ("community", True)
    assert IRIS_DAY not in flanders and date(2026, 9, 27) not in flanders


def test_a_cpas_edits_its_year_from_the_defaults(db):
    now = local(date(2026, 4, 20), 8)
    brussels = _place_of(db, "bxl-marolles")
    cpas_id = _team(db, "bxl-marolles").cpas_id
    assert (
        db.scalar(
            select(organisations.CpasHoliday.id).where(organisations.CpasHoliday.cpas_id == cpas_id)
        )
        is None
    )  # reading stores nothing
    organisations.set_holiday(db, cpas_id, IRIS_DAY, closed=False)
    stored = organisations.holidays_of(db, cpas_id, 2026)
    assert len(stored) == len(organisations.default_holidays("brussels", "bilingual", 2026))
    assert brussels.starts(IRIS_DAY, now=now)[:1] == ["08:30"]
    # A day of its own (a staff day out everywhere): closed, other years untouched.
    organisations.set_holiday(db, cpas_id, date(2026, 6, 5), closed=True, name_fr="Journée")
    assert brussels.starts(date(2026, 6, 5), now=now) == []
    assert organisations.seed_year(db, cpas_id, 2026) == 0
    assert date(2027, 5, 8) in organisations.closed_days(
        db, cpas_id, date(2027, 1, 1), date(2027, 12, 31)
    )
    with pytest.raises(Invalid):
        organisations.set_holiday(db, cpas_id, IRIS_DAY, closed=True, kind="party")


def test_the_calendar_page_saves_only_days_of_the_year_shown(db):
    cpas_id = _team(db, "bxl-marolles").cpas_id
    admin = staff_member(db, "cal-admin", Role.ADMIN, "bxl-marolles")
    db.commit()  # the use case rolls back to here when it refuses
    with pytest.raises(Invalid) as other_year:
        organisations.save_holiday(
            db, cpas_id, 2026, date(2027, 6, 5), add=True, name_fr="Journée", actor=admin
        )
    assert other_year.value.errors["day"].code == "invalid_date"
    with pytest.raises(Invalid) as unknown:
        organisations.save_holiday(db, cpas_id, 2026, date(2026, 6, 5), add=False, actor=admin)
    assert unknown.value.errors["day"].code == "unknown_choice"
    organisations.save_holiday(db, cpas_id, 2026, IRIS_DAY, add=False, closed=False, actor=admin)
    assert IRIS_DAY not in organisations.closed_days(
        db, cpas_id, date(2026, 1, 1), date(2026, 12, 31)
    )


def test_a_cpas_administrator_is_created_only_in_one_of_its_teams(db):
    platform = staff_member(db, "cal-platform", Role.ADMIN, "bxl-marolles")
    db.commit()  # the use case rolls back to here when it refuses
    charleroi = _team(db, "clr-dampremy").cpas
    with pytest.raises(accounts.AccountError) as wrong:
        accounts.add_cpas_admin(
            db,
            charleroi,
            team_code="bxl-marolles",
            username="clr-new-admin",
            display_name="New admin",
            password="a long enough password",
            actor=platform,
        )
    assert (wrong.value.field, wrong.value.code) == ("team", "invalid")
    assert accounts.find_user(db, "clr-new-admin") is None
    user = accounts.add_cpas_admin(
        db,
        charleroi,
        team_code="clr-dampremy",
        username="clr-new-admin",
        display_name="New admin",
        password="a long enough password",
        actor=platform,
    )
    assert (user.role, user.team.code) == (Role.ADMIN.value, "clr-dampremy")
    assert {team.id for team in accounts.grantable_teams(db, user)} == {
        team.id for team in accounts.teams_of_cpas(db, charleroi.id)
    } - {user.team_id}


def test_no_cpas_known_keeps_the_federal_days(db):
    """Every place has a team, so a CPAS (0052_cpas_place_team); where no CPAS is known
    (nothing of a team, several CPAS), the calendar is Belgium's federal days."""
    assert organisations.cpas_id_of_team(db, None) is None  # the demo has three CPAS
    closed = organisations.closed_days(db, None, date(2026, 5, 1), date(2026, 5, 31))
    assert IRIS_DAY not in closed
    assert date(2026, 5, 14) in closed and slots.is_public_holiday(date(2026, 5, 14))


# --- Language regime ---------------------------------------------------------------------


SERVICE = {
    "code": "energie-clr",
    "name_fr": "Énergie",
    "duration_minutes": "30",
    "booking_mode": "online",
    "min_notice_hours": "2",
    "max_horizon_days": "56",
    "languages": ["fr"],
}


def test_a_walloon_cpas_names_a_service_in_french_only(db):
    admin = staff_member(db, "admin-clr", Role.ADMIN, "clr-dampremy")
    service = setup.create_service(db, SERVICE, actor=admin)
    assert (service.name_fr, service.name_nl, service.name_en) == ("Énergie",) * 3
    setup.update_service(db, service, {**SERVICE, "name_fr": "Énergie et eau"}, actor=admin)
    assert service.name_fr == "Énergie et eau"


def test_a_brussels_cpas_cannot_name_a_service_in_one_language(db):
    admin = staff_member(db, "admin-bxl", Role.ADMIN, "bxl-marolles")
    with pytest.raises(Invalid) as raised:
        setup.create_service(db, {**SERVICE, "code": "energie-bxl"}, actor=admin)
    assert raised.value.errors["name_nl"].code == "required"
    assert db.scalar(select(Service.id).where(Service.code == "energie-bxl")) is None
    service = setup.create_service(
        db, {**SERVICE, "code": "energie-bxl", "name_nl": "Energie"}, actor=admin
    )
    assert service.name_nl == "Energie"


def _audience(db, team_code: str) -> accounts.Team:
    team = _team(db, team_code)
    for n, language in enumerate(("fr", None, "nl")):
        contact = contacts.create_contact(
            db,
            actor=None,
            display_name=f"Personne {n}",
            language=language,
            phones=(f"0470 98 77 0{n}",),
            team_ids=[team.id],
        )
        contacts.set_consent(
            db, contact, category="service_change", granted=True, method="form", actor=None
        )
    return team


def test_a_walloon_cpas_sends_a_broadcast_in_french_only(db):
    team = _audience(db, "clr-dampremy")
    author = staff_member(db, "coord-clr", Role.COORDINATOR, "clr-dampremy")
    french = "CPAS: l'espace citoyen est fermé vendredi."
    broadcast = broadcasts.create_broadcast(
        db,
        actor=author,
        audience="team_contacts",
        params={"team_id": str(team.id)},
        category="service_change",
        bodies={"fr": french},
    )
    assert broadcast.recipients == 3
    db.flush()
    texts = broadcasts.texts_for(broadcast.bodies)
    # Everyone gets the one text: the person of unknown language and the Dutch speaker too.
    assert texts["fr"] == texts["nl"] == texts["fr+nl"] == texts["en"] == french


def test_a_brussels_cpas_cannot_send_a_broadcast_without_both_languages(db):
    team = _audience(db, "bxl-marolles")
    author = staff_member(db, "coord-bxl", Role.COORDINATOR, "bxl-marolles")
    arguments = {
        "audience": "team_contacts",
        "params": {"team_id": str(team.id)},
        "category": "service_change",
    }
    with pytest.raises(Invalid) as raised:
        broadcasts.create_broadcast(
            db, actor=author, bodies={"fr": "CPAS: fermé vendredi."}, **arguments
        )
    assert raised.value.errors["body_nl"].code == "required"
    preview = broadcasts.preview(db, bodies={"fr": "CPAS: fermé."}, reader=author, **arguments)
    assert preview.errors["body_nl"].code == "required"
    done = broadcasts.create_broadcast(
        db,
        actor=author,
        bodies={"fr": "CPAS: fermé vendredi.", "nl": "OCMW: gesloten vrijdag."},
        **arguments,
    )
    assert (
        broadcasts.texts_for(done.bodies)["fr+nl"]
        == "CPAS: fermé vendredi.\nOCMW: gesloten vrijdag."
    )


def test_a_broadcast_never_addresses_a_team_of_another_cpas(db):
    brussels_team = _audience(db, "bxl-marolles")
    author = staff_member(db, "coord-clr3", Role.COORDINATOR, "clr-dampremy")
    arguments = {
        "audience": "team_contacts",
        "params": {"team_id": str(brussels_team.id)},
        "category": "service_change",
        "bodies": {"fr": "CPAS: fermé."},
    }
    with pytest.raises(Invalid) as raised:
        broadcasts.create_broadcast(db, actor=author, **arguments)
    assert raised.value.errors["team_id"].code == "unknown_choice"
    assert broadcasts.preview(db, reader=author, **arguments).recipients == 0


def test_the_default_language_of_an_unknown_contact_follows_the_regime(db):
    charleroi = organisations.get_cpas(db, "charleroi")
    brussels = organisations.get_cpas(db, "bruxelles")
    assert organisations.default_language(charleroi) == "fr"
    assert organisations.default_language(brussels) is None  # both, French then Dutch
    assert organisations.required_languages(charleroi) == ("fr",)
    assert organisations.required_languages(brussels) == ("fr", "nl")
    assert organisations.required_languages(None) == ("fr", "nl")


def test_a_person_of_unknown_language_gets_the_language_of_the_places_cpas(db, december):
    charleroi, brussels = Agenda(db), Agenda(db)
    charleroi.location.team_id = _team(db, "clr-dampremy").id
    brussels.location.team_id = _team(db, "bxl-marolles").id
    db.flush()
    french = charleroi.book(at(10), language=None, source="desk", actor=None)
    both = brussels.book(at(10), language=None, source="desk", actor=None)
    db.flush()
    assert (french.person.language, both.person.language) == ("fr", None)
    confirmation = db.scalar(
        select(Message).where(Message.key == f"confirmation:appointment:{french.id}")
    )
    assert confirmation.language == "fr" and "OCMW" not in sms_text(confirmation)
    bilingual = db.scalar(
        select(Message).where(Message.key == f"confirmation:appointment:{both.id}")
    )
    assert bilingual.language == "fr+nl"


# --- Replies only where the sender takes them ----------------------------------------------


def _reminders(db, appointment) -> list[Message]:
    return list(
        db.scalars(
            select(Message)
            .where(Message.key.like(f"reminder:appointment:{appointment.id}:%"))
            .order_by(Message.key)
        )
    )


@pytest.fixture()
def december(db):
    from core import clock

    with clock.frozen(datetime(2026, 12, 1, 8, 0, tzinfo=UTC)):
        yield


def test_reminders_ask_oui_non_where_the_sender_takes_replies(db, december):
    agenda = Agenda(db)
    agenda.location.team_id = _team(db, "bxl-marolles").id  # Brussels: a number, replies
    db.flush()
    appointment = agenda.book(at(10))
    db.flush()
    reminders = _reminders(db, appointment)
    assert len(reminders) == 2
    assert all("Répondez OUI pour confirmer ou NON pour annuler" in sms_text(m) for m in reminders)


def test_reminders_give_the_places_phone_where_the_sender_takes_no_replies(db, december):
    agenda = Agenda(db)
    agenda.location.team_id = _team(db, "clr-dampremy").id  # Charleroi: a name, no replies
    agenda.location.phone = "+3271233011"
    db.flush()
    appointment = agenda.book(at(10))
    db.flush()
    reminders = _reminders(db, appointment)
    assert len(reminders) == 2
    for message in reminders:
        body = sms_text(message)
        assert "OUI" not in body and "NON" not in body
        assert "Pour annuler ou déplacer, appelez le 071 23 30 11." in body
    # No phone at the place: the CPAS's; none at all: a reminder that asks nothing.
    agenda.location.phone = ""
    second = agenda.book(at(11))
    db.flush()
    assert "071 23 30 00" in sms_text(_reminders(db, second)[0])
    organisations.get_cpas(db, "charleroi").phone = ""
    third = agenda.book(at(11, 30))
    db.flush()
    plain = sms_text(_reminders(db, third)[0])
    assert plain.startswith("CPAS de Charleroi: rappel de votre rendez-vous")
    assert plain.endswith(".")
    assert "appelez" not in plain and "OUI" not in plain


# --- The migration -----------------------------------------------------------------------


def _rows(url: str, query: str) -> list[tuple]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(query)).all()]
    engine.dispose()
    return rows


def test_0034_gives_every_team_its_cpas_by_the_documented_rule(monkeypatch):
    monkeypatch.setenv("TERRAIN_DEFAULT_CPAS_CODE", "namur")
    monkeypatch.setenv("TERRAIN_DEFAULT_CPAS_NAME", "CPAS de Namur")
    monkeypatch.delenv("TWILIO_FROM", raising=False)
    with fresh_database("cpas-migration") as url:
        command.upgrade(alembic_config(url), "0021_protective_people")
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO teams (id, code, name, kind, city, postcode, address, name_nl)"
                    " VALUES (1, 'bxl-rue', 'Rue', 'street', 'Schaerbeek', '1030', '', ''),"
                    " (2, 'sch-a', 'A', 'antenne', '', '', '', ''),"
                    " (3, 'clr-b', 'B', 'antenne', '', '6041', '', ''),"
                    " (4, 'laeken', 'L', 'antenne', '', '1020', '', ''),"
                    " (5, 'saf', 'SAF', 'home_care', '', '5000', '', ''),"
                    " (6, 'other', 'O', 'antenne', '', '', '', '')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO homecare_settings (team_id, region, funder, version,"
                    " change_seq, changed_at, updated_at) VALUES"
                    " (5, 'wallonia', 'aviq', 1, 0, '2026-01-01', '2026-01-01')"
                )
            )
        engine.dispose()
        upgrade(url)
        assert _rows(
            url,
            "SELECT teams.code, cpas.code FROM teams JOIN cpas ON cpas.id = teams.cpas_id"
            " ORDER BY teams.id",
        ) == [
            ("bxl-rue", "bruxelles"),  # the code's prefix first, though it sits in 1030
            ("sch-a", "schaerbeek"),
            ("clr-b", "charleroi"),
            ("laeken", "bruxelles"),  # then the postcode
            ("saf", "namur"),  # then the default CPAS
            ("other", "namur"),
        ]
        assert _rows(
            url,
            "SELECT code, name_fr, region, language_regime, homecare_funder, sms_sender"
            " FROM cpas WHERE code = 'namur'",
        ) == [("namur", "CPAS de Namur", "wallonia", "fr", "aviq", "CPAS")]
        assert _rows(url, "SELECT language_regime FROM cpas WHERE code = 'charleroi'") == [("fr",)]
        command.downgrade(alembic_config(url), "0021_protective_people")
        assert _rows(url, "SELECT team_id, region, funder FROM homecare_settings") == [
            (5, "wallonia", "aviq")
        ]
        upgrade(url)
        assert len(_rows(url, "SELECT id FROM teams WHERE cpas_id IS NOT NULL")) == 6


def test_0034_on_an_empty_database_creates_no_cpas():
    with migrated_database("cpas-empty") as url:
        assert _rows(url, "SELECT code FROM cpas") == []


def test_demo_cpas_are_kept_apart(db):
    by_cpas: dict[str, set[str]] = {}
    for team in db.scalars(select(accounts.Team)):
        by_cpas.setdefault(team.cpas.code, set()).add(team.code)
    assert by_cpas["bruxelles"] >= {"bxl-marolles", "bxl-nord-est", "bxl-rue-nord", "bxl-saf"}
    assert by_cpas["schaerbeek"] >= {"sch-le22rogier"}
    assert by_cpas["charleroi"] >= {"clr-dampremy", "clr-gosselies", "clr-docherie", "clr-mobile"}
    # Each demo agent plans at places of the CPAS of their own team only.
    from appointments.models import WorkingPlan

    for plan in db.scalars(select(WorkingPlan)):
        user = db.get(accounts.User, plan.user_id)
        location = db.get(Location, plan.location_id)
        if user.username.startswith("as") and location.team_id is not None:
            place_cpas = db.get(accounts.Team, location.team_id).cpas_id
            assert place_cpas == user.team.cpas_id, (user.username, location.code)
    rogier = db.scalar(select(Location).where(Location.code == "sch-le22rogier"))
    assert (rogier.address, rogier.postcode, rogier.city) == (
        "Avenue Rogier 22",
        "1030",
        "Schaerbeek",
    )
    street = _team(db, "bxl-rue-nord")
    assert (street.address, street.postcode) == ("Place Liedts 8", "1030")


def test_two_cpas_claiming_one_postcode_at_once_only_one_gets_it():
    """The database decides (`cpas_postcodes`' primary key): CPAS claiming the same
    postcode at the same instant, each in its own transaction: one gets it, the others
    are told it is taken (or was just taken), nothing half-saved."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from core.db import make_session_factory
    from tests.support import postgres_url

    if postgres_url() is None:
        pytest.skip("concurrent transactions are proven on PostgreSQL (SQLite: one writer)")
    codes = [f"claim-{n}" for n in range(6)]
    with migrated_database("postcode") as url:
        engine = make_engine(url, pool_size=8)
        sessions = make_session_factory(engine)
        with sessions() as session:
            for code in codes:
                organisations.create_cpas(
                    session, code=code, name_fr=code, region="wallonia", language_regime="fr"
                )
            session.commit()
        start = threading.Barrier(len(codes))

        def claim(code: str) -> str:
            with sessions() as session:
                cpas = organisations.get_cpas(session, code)
                start.wait(timeout=30)
                try:
                    organisations.save_territory(
                        session, cpas, postcodes=["1340"], communes=[], actor=None
                    )
                except Invalid as refused:
                    return refused.errors["postcodes"].code
                return "saved"

        with ThreadPoolExecutor(max_workers=len(codes)) as pool:
            outcomes = list(pool.map(claim, codes))
        with sessions() as session:
            holders = list(
                session.scalars(
                    select(organisations.CpasPostcode.cpas_id).where(
                        organisations.CpasPostcode.postcode == "1340"
                    )
                )
            )
        engine.dispose()
    assert outcomes.count("saved") == 1, outcomes
    assert set(outcomes) <= {"saved", "postcode_taken", "postcode_conflict"}
    assert len(holders) == 1


def _scope_read_one_by_one(session, user) -> organisations.Scope:
    """The scope as it was read before it was one statement (three to four queries)."""
    several = len(list(session.scalars(select(organisations.Cpas.id).limit(2)))) > 1
    if user.team_id is None:
        found = list(session.scalars(select(organisations.Cpas.id).limit(2)))
        cpas_id = found[0] if len(found) == 1 else None
    else:
        cpas_id = session.scalar(
            select(accounts.Team.cpas_id).where(accounts.Team.id == user.team_id)
        )
    local = None
    if user.role in organisations.LOCAL_ROLES and user.team_id is not None:
        local = frozenset({user.team_id, *organisations.granted_teams(session, user.id)})
    if not several:
        return organisations.Scope(user.id, cpas_id, None, local)
    if cpas_id is None:
        return organisations.Scope(
            user.id, None, frozenset(), platform=user.role in organisations.PLATFORM_ROLES
        )
    teams = frozenset(
        session.scalars(select(accounts.Team.id).where(accounts.Team.cpas_id == cpas_id))
    )
    return organisations.Scope(user.id, cpas_id, teams, local)


def _scope_in_one_statement(session, user, engine) -> organisations.Scope:
    statements = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    session.info.clear()  # nothing read before
    event.listen(engine, "before_cursor_execute", record)
    try:
        scope = organisations.scope_of(session, user)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1, statements
    return scope


def test_the_scope_in_one_statement_is_the_scope_read_one_by_one(db):
    as3 = accounts.find_user(db, "as3")
    organisations.set_granted_teams(db, as3, [accounts.get_team(db, "clr-gosselies").id])
    db.flush()
    users = list(db.scalars(select(accounts.User)))
    assert {user.role for user in users} >= {"admin", "reception", "social_worker", "aide"}
    for user in users:
        expected = _scope_read_one_by_one(db, user)
        assert _scope_in_one_statement(db, user, db.get_bind().engine) == expected, user
    assert organisations.scope_of(db, as3).local_teams == {
        as3.team_id,
        accounts.get_team(db, "clr-gosselies").id,
    }


def test_the_scope_in_one_statement_with_no_cpas_then_one(db):
    with migrated_database("scope-one") as url:
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                nobody = accounts.create_user(
                    session,
                    username="alone",
                    display_name="Alone",
                    password="a-long-password-1",
                    role="admin",
                )
                session.flush()
                assert _scope_in_one_statement(session, nobody, engine) == organisations.Scope(
                    nobody.id, None, None
                )
                organisations.create_cpas(
                    session,
                    code="seule",
                    name_fr="CPAS seul",
                    region="brussels",
                    language_regime="fr",
                )
                team = accounts.create_team(
                    session, code="t1", name="Antenne", kind="antenne", cpas_code="seule", city="X"
                )
                desk = accounts.create_user(
                    session,
                    username="desk",
                    display_name="Desk",
                    password="a-long-password-1",
                    role="reception",
                    team=team,
                )
                session.flush()
                for user in (nobody, desk):
                    expected = _scope_read_one_by_one(session, user)
                    assert expected.teams is None and expected.cpas_id == team.cpas_id
                    assert _scope_in_one_statement(session, user, engine) == expected
        finally:
            engine.dispose()


def test_a_teams_cpas_is_read_once_per_transaction_and_again_after_a_write(db):
    team = accounts.get_team(db, "clr-mobile")
    charleroi, brussels = (
        organisations.get_cpas(db, "charleroi"),
        organisations.get_cpas(db, "bruxelles"),
    )
    db.commit()
    assert organisations.cpas_id_of_team(db, team.id) == charleroi.id
    statements = []

    def record(*args) -> None:
        statements.append(args)

    event.listen(db.get_bind().engine, "before_cursor_execute", record)
    try:
        assert organisations.cpas_id_of_team(db, team.id) == charleroi.id
    finally:
        event.remove(db.get_bind().engine, "before_cursor_execute", record)
    assert statements == []  # read once in the transaction
    team.cpas_id = brussels.id  # unflushed: the next read flushes it first
    assert organisations.cpas_id_of_team(db, team.id) == brussels.id
    db.execute(
        text("UPDATE teams SET cpas_id = :c WHERE id = :t"), {"c": charleroi.id, "t": team.id}
    )
    assert organisations.cpas_id_of_team(db, team.id) == charleroi.id
    db.rollback()
    assert organisations.cpas_id_of_team(db, team.id) == charleroi.id
