"""What the CPAS setup left, closed (docs/cpas.md): a closure of every place is one
CPAS's, a shared service given its CPAS or split by the platform administrator only
(page and command line), a waiting list "anywhere" kept to the service's CPAS. Every
other CPAS's role is answered 404 (403 where its role may not use the page), audited,
and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from appointments import desk, online, setup, slots
from appointments.models import (
    AgentService,
    Appointment,
    BookingPerson,
    Closure,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WaitingEntry,
    WorkingPlan,
)
from core import accounts, clock, organisations
from core.audit import AuditEntry
from core.db import make_engine, make_session_factory
from core.roles import Role
from notifications import scope as contact_scope
from notifications.models import Contact
from tests.db.appointments_world import NOW, THURSDAY, Agenda, at, mobile
from tests.db.phone_codes import SECRET, verified
from tests.support import cpas_admin, demo_template, own_database, staff_member, text_of
from web.cli import main

BASE = "/parametres/rendez-vous"


@pytest.fixture()
def now() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def _refusals(db, entity_type: str, entity_id: object) -> int:
    return db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "refused",
            AuditEntry.entity_type == entity_type,
            AuditEntry.entity_id == str(entity_id),
        )
    )


# --- A closure of every place is one CPAS's ------------------------------------------------


def test_a_closure_of_every_place_closes_only_its_cpas_places(login, db, now):
    brussels = Agenda(db)  # at Antenne Marolles' team (CPAS de Bruxelles)
    dampremy = db.scalar(select(Location).where(Location.code == "clr-dampremy"))
    staff_member(db, "clr-coord-left", Role.COORDINATOR, "clr-dampremy")
    charleroi = login("clr-coord-left")
    made = charleroi.post(
        f"{BASE}/fermetures", {"first_day": THURSDAY.isoformat(), "reason": "Fête du personnel"}
    )
    assert made.status_code in (200, 302)
    closure = db.scalar(select(Closure).where(Closure.reason == "Fête du personnel"))
    assert closure.location_id is None
    assert closure.cpas_id == organisations.get_cpas(db, "charleroi").id
    # Charleroi's place is closed that day, Brussels' is not.
    assert desk.closed_reason(db, dampremy, THURSDAY) == "closure"
    assert desk.closed_reason(db, brussels.location, THURSDAY) is None
    assert slots.free_slots(
        db, service=brussels.service, location=brussels.location, first_day=THURSDAY, days=1
    )
    # Brussels' administrator neither sees it nor removes it (404, audited).
    brussels_admin = login(cpas_admin(db).username)
    listed = text_of(brussels_admin.get(f"{BASE}/fermetures"))
    assert f"/fermetures/{closure.id}/" not in listed
    assert "Fête du personnel" not in listed
    refused = brussels_admin.post(f"{BASE}/fermetures/{closure.id}/supprimer", {})
    assert refused.status_code == 404
    assert _refusals(db, "appointment_closure", closure.id) == 1
    db.expire_all()
    assert db.get(Closure, closure.id) is not None
    # Charleroi sees and removes its own.
    assert f"/fermetures/{closure.id}/" in text_of(charleroi.get(f"{BASE}/fermetures"))
    closure_id = closure.id
    assert charleroi.post(f"{BASE}/fermetures/{closure_id}/supprimer", {}).status_code == 302
    db.expire_all()
    assert db.get(Closure, closure_id) is None


# --- Shared services: given or split by the platform administrator only --------------------


def _place(db, code: str, team_code: str) -> Location:
    location = Location(code=code, name=code, team_id=accounts.get_team(db, team_code).id)
    location.opening_hours = [
        OpeningHours(weekday=weekday, opens=time(9, 0), closes=time(12, 0)) for weekday in range(7)
    ]
    db.add(location)
    db.flush()
    return location


def _agent_at(db, service: Service, location: Location, username: str, team_code: str):
    agent = staff_member(db, username, Role.SOCIAL_WORKER, team_code)
    db.add(AgentService(user_id=agent.id, service_id=service.id))
    for weekday in range(7):
        db.add(
            WorkingPlan(
                user_id=agent.id,
                location_id=location.id,
                weekday=weekday,
                starts=time(9, 0),
                ends=time(12, 0),
                valid_from=date(2026, 1, 1),
            )
        )
    db.flush()
    return agent


@pytest.fixture()
def shared(db, now):
    """A service of no CPAS offered at a Brussels and a Charleroi place, an agent and a
    booking at each, someone waiting at the Charleroi place."""
    agenda = Agenda(db)
    service = agenda.service
    assert service.cpas_id is None
    brussels_agent = _agent_at(db, service, agenda.location, "left-bxl-agent", "bxl-marolles")
    place = _place(db, "left-clr-place", "clr-dampremy")
    db.add(ServiceLocation(service_id=service.id, location_id=place.id))
    charleroi_agent = _agent_at(db, service, place, "left-clr-agent", "clr-dampremy")
    in_brussels = agenda.book(at(10), agent_id=brussels_agent.id)
    in_charleroi = agenda.book(at(10), location=place, agent_id=charleroi_agent.id)
    person = BookingPerson(name="Waiting Charleroi", phone=mobile(), language="fr")
    db.add(person)
    db.flush()
    waiting = WaitingEntry(
        service_id=service.id, location_id=place.id, person_id=person.id, phone=person.phone
    )
    db.add(waiting)
    db.commit()
    return {
        "service": service,
        "place": place,
        "brussels_agent": brussels_agent,
        "charleroi_agent": charleroi_agent,
        "in_brussels": in_brussels,
        "in_charleroi": in_charleroi,
        "waiting": waiting,
    }


def test_only_the_platform_administrator_gives_or_splits_a_shared_service(login, db, shared):
    service = shared["service"]
    split_url = f"{BASE}/services-partages/{service.id}/scinder"
    give_url = f"{BASE}/services-partages/{service.id}/cpas"
    # A CPAS's administrator and coordinator: 404, audited, nothing changed.
    staff_member(db, "clr-coord-left", Role.COORDINATOR, "clr-dampremy")
    for username in (cpas_admin(db).username, "clr-coord-left"):
        browser = login(username)
        assert browser.get(f"{BASE}/services-partages").status_code == 404
        assert browser.post(split_url, {}).status_code == 404
        assert browser.post(give_url, {"cpas": "bruxelles"}).status_code == 404
    assert _refusals(db, "appointment_service", service.id) == 4
    assert _refusals(db, "appointment_service", "shared") == 2
    # Reception and social workers may not use the settings at all.
    for username in ("accueil", "as3"):
        assert login(username).post(split_url, {}).status_code == 403
    db.expire_all()
    assert db.get(Service, service.id).cpas_id is None
    assert (
        db.scalar(
            select(func.count()).select_from(Service).where(Service.code.like(f"{service.code}-%"))
        )
        == 0
    )
    # The platform administrator sees it with both CPAS; giving it to one is refused.
    admin = login("admin")
    page = text_of(admin.get(f"{BASE}/services-partages"))
    assert service.code in page and "CPAS de Bruxelles" in page and "CPAS de Charleroi" in page
    given = admin.post(give_url, {"cpas": "bruxelles"})
    assert given.status_code == 422
    assert "split it instead" in text_of(given)
    db.expire_all()
    assert db.get(Service, service.id).cpas_id is None
    # Split: one copy per CPAS, each with its places, agents, appointments, waiting list.
    assert admin.post(split_url, {}).status_code == 302
    db.expire_all()
    brussels = organisations.get_cpas(db, "bruxelles")
    charleroi = organisations.get_cpas(db, "charleroi")
    kept = db.get(Service, service.id)
    copy = db.scalar(select(Service).where(Service.code == f"{service.code}-charleroi"))
    assert kept.cpas_id == brussels.id and copy.cpas_id == charleroi.id
    assert (copy.name_fr, copy.duration_minutes) == (kept.name_fr, kept.duration_minutes)
    assert setup.service_location_ids(db, copy) == [shared["place"].id]
    assert shared["place"].id not in setup.service_location_ids(db, kept)
    assert setup.service_agent_ids(db, copy) == [shared["charleroi_agent"].id]
    assert shared["brussels_agent"].id in setup.service_agent_ids(db, kept)
    assert db.get(Appointment, shared["in_charleroi"].id).service_id == copy.id
    assert db.get(Appointment, shared["in_brussels"].id).service_id == kept.id
    assert db.get(WaitingEntry, shared["waiting"].id).service_id == copy.id
    audited = db.scalars(
        select(AuditEntry.entity_id).where(
            AuditEntry.entity_type == "appointment_service",
            AuditEntry.action.in_(("update", "create")),
            AuditEntry.entity_id.in_([str(kept.id), str(copy.id)]),
        )
    ).all()
    assert {str(kept.id), str(copy.id)} <= set(audited)
    # Each CPAS's staff now change their own copy's settings.
    assert not setup._shared_elsewhere(db, accounts.find_user(db, "clr-coord-left"), copy)
    # Nothing shared is left.
    assert service.code not in text_of(admin.get(f"{BASE}/services-partages"))


def test_a_shared_service_used_by_one_cpas_is_given_to_it(login, db, now):
    agenda = Agenda(db)  # offered only at a Brussels place
    admin = login("admin")
    url = f"{BASE}/services-partages/{agenda.service.id}/cpas"
    unknown = admin.post(url, {"cpas": "nowhere"})
    assert unknown.status_code == 422
    assert admin.post(url, {"cpas": "bruxelles"}).status_code == 302
    db.expire_all()
    assert agenda.service.cpas_id == organisations.get_cpas(db, "bruxelles").id
    # Of a CPAS now: not on the page, and its address answers 404.
    assert admin.post(url, {"cpas": "charleroi"}).status_code == 404


def test_the_command_line_lists_gives_and_splits(tmp_path):
    # A copy of the run's demo database: `terrain db upgrade` then `terrain seed-demo`,
    # run once per run (a failure of either fails the test, tests.support.migrate_and_seed).
    with own_database("cli-split", template=demo_template()) as url:
        env = {
            "TERRAIN_DATABASE_URL": url,
            "TERRAIN_INSTANCE_PATH": str(tmp_path),
            "TERRAIN_SECRET_KEY": "cli-secret",
        }

        def run(*args):
            return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            service = Service(
                code="cli-shared",
                name_fr="Énergie",
                name_nl="Energie",
                name_en="Energy",
                duration_minutes=30,
            )
            session.add(service)
            session.flush()
            for code in ("bxl-marolles", "clr-dampremy"):
                place = session.scalar(select(Location).where(Location.code == code))
                session.add(ServiceLocation(service_id=service.id, location_id=place.id))
            session.commit()
        listed = run("services", "shared")
        assert "cli-shared\tÉnergie\tbruxelles,charleroi" in listed.output
        refused = run("services", "give", "cli-shared", "--cpas", "bruxelles")
        assert refused.exit_code != 0 and "split it instead" in refused.output
        unknown = run("services", "split", "no-such-service")
        assert unknown.exit_code != 0 and "no shared service" in unknown.output
        split = run("services", "split", "cli-shared")
        assert split.exit_code == 0, split.output
        assert "cli-shared\tbruxelles" in split.output
        assert "cli-shared-charleroi\tcharleroi" in split.output
        assert "cli-shared" not in run("services", "shared").output
        with make_session_factory(engine)() as session:
            entries = session.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == "appointment_service")
            ).all()
            assert {entry.action for entry in entries} >= {"update", "create"}
        engine.dispose()


# --- A waiting list "anywhere" is the service's CPAS's --------------------------------------


def test_a_waiting_list_anywhere_is_the_services_cpas(login, db, now):
    dampremy = db.scalar(select(Location).where(Location.code == "clr-dampremy"))
    service = db.scalar(
        select(Service)
        .join(ServiceLocation, ServiceLocation.service_id == Service.id)
        .where(
            ServiceLocation.location_id == dampremy.id,
            Service.cpas_id == organisations.get_cpas(db, "charleroi").id,
            Service.booking_mode == "online",
            Service.active.is_(True),
        )
        .limit(1)
    )
    number = mobile()
    check_id, proof = verified(db, number)
    arguments = {
        "check_id": check_id,
        "proof": proof,
        "secret": SECRET,
        "person_name": "Anywhere Charleroi",
        "phone": number,
        "language": "fr",
    }
    joined = online.join_waiting_list(db, **arguments, service=service, location=None)
    assert joined.entry.location_id is None
    db.commit()
    contact = db.scalar(
        select(Contact).where(Contact.reference == f"appointments.person:{joined.entry.person_id}")
    )
    teams = {link.team_id for link in contact.teams}
    assert dampremy.team_id in teams
    assert {organisations.cpas_id_of_team(db, team) for team in teams} == {service.cpas_id}
    # Charleroi's coordinator sees the contact; Brussels' staff do not.
    coordinator = staff_member(db, "clr-coord-left", Role.COORDINATOR, "clr-dampremy")
    assert contact_scope.sees_contact(db, coordinator, contact.id)
    for username in ("as1", "accueil", "coordination"):
        assert not contact_scope.sees_contact(db, accounts.find_user(db, username), contact.id)
    # Its page: 404 to another CPAS's reception and social worker, audited.
    before = _refusals(db, "sms_contact", contact.id)
    for username in ("as1", "accueil"):
        assert login(username).get(f"/sms/contacts/{contact.id}").status_code == 404
    assert _refusals(db, "sms_contact", contact.id) == before + 2
    # The code's contact too: it joins the teams of the service's CPAS's places.
    check = online.send_code(
        db,
        service=service,
        raw_phone=mobile(),
        language="fr",
        address="192.0.2.9",
        secret=SECRET,
        purpose="waiting",
    )
    from notifications.models import Message

    message = db.scalar(select(Message).where(Message.key == f"phone-check:{check.id}"))
    assert message.cpas_id == service.cpas_id
    code_teams = {link.team_id for link in db.get(Contact, message.contact_id).teams}
    assert dampremy.team_id in code_teams


def test_a_waiting_list_anywhere_needs_a_place_for_a_shared_service(db, now):
    from core.errors import Invalid

    agenda = Agenda(db)  # a service of no CPAS, several CPAS in the database
    number = mobile()
    check_id, proof = verified(db, number)
    with pytest.raises(Invalid) as refused:
        online.join_waiting_list(
            db,
            check_id=check_id,
            proof=proof,
            secret=SECRET,
            service=agenda.service,
            location=None,
            person_name="Anywhere",
            phone=number,
            language="fr",
        )
    assert refused.value.errors["location"].code == "required"
