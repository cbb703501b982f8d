"""Scoping to the CPAS (docs/cpas.md, "Scoping"): with the demo's three CPAS in the
database, every office role of the CPAS de Charleroi asking for a record of the CPAS de
Bruxelles gets the answer of an unknown one (404, or the form's "unknown" for a code),
nothing changes, and the refusal is audited; the Brussels desk still works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from appointments.models import Appointment
from core import accounts, clock, organisations
from core.audit import AuditEntry
from core.roles import Permission, Role, can
from homecare import access as homecare_access
from homecare.models import Beneficiary
from notifications import broadcasts, contacts, outbox
from notifications.models import Broadcast, Contact, InboundSms, Message
from outreach import access as outreach_access
from outreach import indicators as outreach_indicators
from outreach.models import Person
from tests.db.appointments_world import NOW, THURSDAY, Agenda, at
from tests.support import staff_member, text_of

OFFICE_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.RECEPTION, Role.SOCIAL_WORKER)


@pytest.fixture()
def now() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def brussels(db, now) -> Agenda:
    """A place of Antenne Marolles (CPAS de Bruxelles) with a booking at 10:00."""
    agenda = Agenda(db)
    agenda.location.team_id = accounts.get_team(db, "bxl-marolles").id
    db.flush()
    agenda.booked = agenda.book(at(10), person_name="Amina Bruxelles")
    db.commit()
    return agenda


def _charleroi_user(db, role: Role) -> accounts.User:
    return staff_member(db, f"clr-{role.value}", role, "clr-dampremy", f"Charleroi {role.value}")


def _refusals(db, entity_type: str, entity_id: int) -> int:
    return db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "refused",
            AuditEntry.entity_type == entity_type,
            AuditEntry.entity_id == str(entity_id),
        )
    )


def test_scope_of_a_user_is_their_cpas_and_a_local_role_their_antenne(db):
    as3 = accounts.find_user(db, "as3")  # social worker at Dampremy
    scope = organisations.scope_of(db, as3)
    charleroi = organisations.get_cpas(db, "charleroi")
    assert scope.cpas_id == charleroi.id
    assert scope.sees_team(accounts.get_team(db, "clr-gosselies").id)
    assert not scope.sees_team(accounts.get_team(db, "bxl-marolles").id)
    assert not scope.sees_team(None)  # a record of no team is nobody's
    assert scope.sees_team(None, shared=True)  # a place of the whole installation
    assert scope.local_teams == {accounts.get_team(db, "clr-dampremy").id}
    platform = organisations.scope_of(db, accounts.find_user(db, "admin"))
    assert platform.platform and platform.teams == frozenset()
    assert not platform.sees_team(None, shared=True)


ACTIONS = ("check-in", "no-show", "done", "left", "undo", "cancel", "call")


@pytest.mark.parametrize("role", OFFICE_ROLES, ids=str)
def test_an_appointment_of_another_cpas_is_unknown_and_unchanged(login, db, brussels, role):
    user = _charleroi_user(db, role)
    browser = login(user.username)
    appointment_id = brussels.booked.id
    status = brussels.booked.status
    if can(role, Permission.APPOINTMENTS_DESK):
        for action in ACTIONS:
            response = browser.post(f"/accueil/appointments/{appointment_id}/{action}")
            assert response.status_code == 404, action
        assert browser.get(f"/accueil/appointments/{appointment_id}/slip").status_code == 404
        desk = browser.get(f"/accueil/?location={brussels.location.code}&day={THURSDAY}")
        assert desk.status_code == 422  # the place is unknown here
        assert "Amina Bruxelles" not in text_of(desk)
        assert brussels.location.name not in text_of(browser.get("/accueil/"))
        walk_in = browser.post(
            "/accueil/walk-in",
            {"location": brussels.location.code, "service": brussels.service.code, "name": "X"},
        )
        assert walk_in.status_code in (404, 422)
    if can(role, Permission.APPOINTMENTS_BOOK):
        moved = browser.post(
            f"/accueil/appointments/{appointment_id}/move",
            {"day": THURSDAY.isoformat(), "time": "11:00"},
        )
        assert moved.status_code == 404
        assert browser.get(f"/accueil/appointments/{appointment_id}/move").status_code == 404
        assert browser.get(f"/accueil/book?location={brussels.location.code}").status_code == 404
        booked = browser.client.post(
            "/api/appointments",
            json={
                "service": brussels.service.code,
                "location": brussels.location.code,
                "start": clock.to_local(at(11)).isoformat(),
                "person": {"name": "X"},
            },
            headers={"X-CSRFToken": browser.token},
        )
        assert booked.status_code == 422
        assert "location" in booked.get_json()["errors"]
    if can(role, Permission.APPOINTMENTS_REPORTS):
        month = f"{THURSDAY:%Y-%m}"
        page = browser.get(f"/parametres/rendez-vous/indicateurs?month={month}")
        assert page.status_code == 200
        assert brussels.location.name not in text_of(page)
        filtered = browser.get(
            f"/parametres/rendez-vous/indicateurs?month={month}&location={brussels.location.code}"
        )
        assert filtered.status_code == 422
        export = browser.get(f"/parametres/rendez-vous/indicateurs.csv?month={month}")
        assert brussels.location.name not in export.get_data(as_text=True)
    db.expire_all()
    after = db.get(Appointment, appointment_id)
    assert after.status == status and after.start_at == brussels.booked.start_at
    assert (
        db.scalar(select(func.count()).where(Appointment.location_id == brussels.location.id)) == 1
    )
    if can(role, Permission.APPOINTMENTS_DESK):
        assert _refusals(db, "appointment", appointment_id) >= len(ACTIONS)


def test_the_brussels_desk_still_acts_on_its_own_appointments(login, db, brussels):
    browser = login("accueil")  # reception at Antenne Marolles
    assert browser.get(f"/accueil/appointments/{brussels.booked.id}/slip").status_code == 200
    response = browser.post(f"/accueil/appointments/{brussels.booked.id}/cancel")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Appointment, brussels.booked.id).status == "cancelled"


# --- Notifications -----------------------------------------------------------------------


def _contact(db, name: str, team_code: str, number: str):
    contact = contacts.create_contact(
        db,
        actor=None,
        display_name=name,
        language="fr",
        phones=(number,),
        team_ids=[accounts.get_team(db, team_code).id],
    )
    contacts.set_consent(
        db, contact, category="service_change", granted=True, method="form", actor=None
    )
    db.flush()
    return contact


@pytest.fixture()
def brussels_sms(db):
    """A Brussels home-care beneficiary's contact, a message waiting for them, a reply
    they sent and a broadcast of the Brussels coordinator."""
    contact = _contact(db, "Zoé Bruxelles-Scope", "bxl-saf", "0470 97 55 01")
    message = outbox.enqueue(
        db,
        key="scope-test:1",
        contact=contact,
        category="service_change",
        body="Votre aide passe demain.",
        actor=None,
    )
    inbound = InboundSms(
        provider_id="scope-test-in-1",
        from_e164=contact.phones[0].e164,
        body="Merci",
        contact_id=contact.id,
        received_at=clock.now(),
        outcome="inbox",
    )
    db.add(inbound)
    coordinator = accounts.find_user(db, "coordination")  # CPAS de Bruxelles
    broadcast = broadcasts.create_broadcast(
        db,
        actor=coordinator,
        audience="all_contacts",
        params={},
        category="service_change",
        bodies={"fr": "Fermé le 8 mai.", "nl": "Gesloten op 8 mei."},
    )
    db.commit()
    return contact, message, inbound, broadcast


@pytest.mark.parametrize("role", OFFICE_ROLES, ids=str)
def test_sms_records_of_another_cpas_are_unknown_and_unchanged(login, db, brussels_sms, role):
    contact, message, inbound, broadcast = brussels_sms
    user = _charleroi_user(db, role)
    browser = login(user.username)
    name = contact.display_name
    assert browser.get(f"/sms/contacts/{contact.id}").status_code == 404
    assert browser.get(f"/sms/contacts/{contact.id}/edit").status_code == 404
    edited = browser.post(
        f"/sms/contacts/{contact.id}/edit",
        {"display_name": "Changed", "language": "fr", "phone_0": "0470 97 55 01"},
    )
    assert edited.status_code == 404
    consent = browser.post(
        f"/sms/contacts/{contact.id}/consent",
        {"category": "service_change", "granted": "0", "method": "oral", "note": ""},
    )
    assert consent.status_code == 404
    assert f"/sms/contacts/{contact.id}" not in text_of(browser.get("/sms/contacts?q=Scope"))
    assert f"/sms/messages/{message.id}" not in text_of(browser.get("/sms/"))
    assert name not in text_of(browser.get("/sms/"))
    assert browser.get(f"/sms/messages/{message.id}").status_code == 404
    assert browser.post(f"/sms/messages/{message.id}/cancel").status_code == 404
    assert f"/sms/inbox/{inbound.id}" not in text_of(browser.get("/sms/inbox?all=1"))
    assert browser.get(f"/sms/inbox/{inbound.id}").status_code == 404
    assert browser.post(f"/sms/inbox/{inbound.id}/handled").status_code == 404
    if can(role, Permission.SMS_BROADCAST):
        assert browser.get(f"/sms/broadcasts/{broadcast.id}").status_code == 404
        assert browser.post(f"/sms/broadcasts/{broadcast.id}/cancel").status_code == 404
        assert f"/sms/broadcasts/{broadcast.id}" not in text_of(browser.get("/sms/broadcasts"))
    db.expire_all()
    assert db.get(Contact, contact.id).display_name == name
    assert db.get(Message, message.id).status == message.status
    assert db.get(InboundSms, inbound.id).handled_at is None
    assert db.get(Broadcast, broadcast.id).status == "queued"
    assert _refusals(db, "sms_contact", contact.id) >= 4
    assert _refusals(db, "sms_message", message.id) == 2


def test_the_brussels_staff_still_see_their_contact(login, db, brussels_sms):
    contact, message, _inbound, broadcast = brussels_sms
    browser = login("coordination")
    assert browser.get(f"/sms/contacts/{contact.id}").status_code == 200
    assert browser.get(f"/sms/messages/{message.id}").status_code == 200
    assert browser.get(f"/sms/broadcasts/{broadcast.id}").status_code == 200


def test_an_everyone_broadcast_stays_in_its_authors_cpas(db, sessions):
    brussels = _contact(db, "Brussels everyone", "bxl-marolles", "0470 97 55 11")
    charleroi = _contact(db, "Charleroi everyone", "clr-dampremy", "0470 97 55 12")
    author = _charleroi_user(db, Role.COORDINATOR)
    checked = broadcasts.preview(
        db,
        audience="all_contacts",
        params={},
        category="service_change",
        bodies={"fr": "Fermé le 27 septembre."},
        author=author,
    )
    assert not checked.errors
    made = broadcasts.create_broadcast(
        db,
        actor=author,
        audience="all_contacts",
        params={},
        category="service_change",
        bodies={"fr": "Fermé le 27 septembre."},
    )
    db.commit()
    broadcasts.expand_pending(sessions)
    db.expire_all()
    reached = set(db.scalars(select(Message.contact_id).where(Message.broadcast_id == made.id)))
    assert charleroi.id in reached and brussels.id not in reached
    charleroi_teams = {
        team.id
        for team in accounts.list_teams(db)
        if team.cpas_id == organisations.get_cpas(db, "charleroi").id
    }
    for contact_id in reached:
        teams = {link.team_id for link in db.get(Contact, contact_id).teams}
        assert teams & charleroi_teams


# --- Home care, outreach and the sync feed ------------------------------------------------


FIELD_ROLES = (*OFFICE_ROLES, Role.STREET_EDUCATOR, Role.AIDE)


def test_home_care_and_street_files_and_the_sync_feed_stay_in_their_cpas(login, db):
    """Both domains decide by team and a team is in one CPAS: nobody of Charleroi reads
    a Brussels household or street person, and their phones download none of them."""
    beneficiaries = list(db.scalars(select(Beneficiary)))
    people = list(db.scalars(select(Person)))
    assert beneficiaries and people  # the demo's, of bxl-saf and bxl-rue-nord
    brussels = {
        team.id
        for team in accounts.list_teams(db)
        if team.cpas_id == organisations.get_cpas(db, "bruxelles").id
    }
    assert {b.team_id for b in beneficiaries} <= brussels
    assert {p.team_id for p in people} <= brussels
    ids = {str(b.id) for b in beneficiaries} | {str(p.id) for p in people}
    for role in FIELD_ROLES:
        user = _charleroi_user(db, role)
        for beneficiary in beneficiaries:
            assert not homecare_access.can_read(db, user, beneficiary)
        for person in people:
            assert not outreach_access.can_read_person(db, user, person)
        browser = login(user.username)
        feed = browser.client.get("/api/sync")
        if feed.status_code == 200:
            assert not ids & {change["id"] for change in feed.get_json()["changes"]}


def test_the_broadcast_form_offers_only_the_authors_cpas_teams(login, db):
    _charleroi_user(db, Role.COORDINATOR)
    browser = login("clr-coordinator")
    page = text_of(browser.get("/sms/broadcasts/new?audience=team_contacts"))
    assert f'<option value="{accounts.get_team(db, "clr-dampremy").id}"' in page
    assert f'<option value="{accounts.get_team(db, "bxl-marolles").id}"' not in page


def test_a_place_of_another_cpas_cannot_be_seen_or_changed_in_the_setup(login, db, brussels):
    _charleroi_user(db, Role.COORDINATOR)
    browser = login("clr-coordinator")
    base = "/parametres/rendez-vous"
    assert brussels.location.name not in text_of(browser.get(f"{base}/lieux"))
    assert browser.get(f"{base}/lieux/{brussels.location.id}").status_code == 404
    changed = browser.post(f"{base}/lieux/{brussels.location.id}", {"name": "Pris"})
    assert changed.status_code == 404
    form = text_of(browser.get(f"{base}/lieux/nouveau"))
    assert f'<option value="{accounts.get_team(db, "clr-dampremy").id}"' in form
    assert f'<option value="{accounts.get_team(db, "bxl-marolles").id}"' not in form
    made = browser.post(
        f"{base}/lieux/nouveau",
        {
            "code": "clr-scope-x",
            "name": "X",
            "kind": "antenne",
            "team_id": str(accounts.get_team(db, "bxl-marolles").id),
        },
    )
    assert made.status_code == 422
    db.expire_all()
    assert db.get(type(brussels.location), brussels.location.id).name == brussels.location.name
    assert _refusals(db, "appointment_location", brussels.location.id) >= 2


def test_a_cpas_administrator_sees_only_their_cpas_street_teams(db):
    charleroi_admin = _charleroi_user(db, Role.ADMIN)
    street = {team.code for team in outreach_indicators.street_teams(db, charleroi_admin)}
    assert "bxl-rue-nord" not in street
    admin = accounts.find_user(db, "admin")  # the platform administrator: counts only
    assert "bxl-rue-nord" in {team.code for team in outreach_indicators.street_teams(db, admin)}


def test_street_team_settings_are_changed_only_within_the_administrators_cpas(login, db):
    """`outreach.access.manages`: an administrator changes the street teams' settings of
    their own CPAS only; the platform administrator none; the installation's retention
    rules only an administrator of every CPAS. Refusals: 404 (or "not allowed"), audited,
    nothing changed."""
    from outreach import settings as outreach_settings
    from outreach.models import OutreachRetentionSettings, OutreachTeamSettings

    street = accounts.get_team(db, "bxl-rue-nord")
    charleroi_admin = _charleroi_user(db, Role.ADMIN)
    brussels_admin = staff_member(
        db, "bxl-admin-street", Role.ADMIN, "bxl-marolles", "Bruxelles admin"
    )
    platform = accounts.find_user(db, "admin")
    assert outreach_access.manages(db, brussels_admin, street.id)
    assert not outreach_access.manages(db, charleroi_admin, street.id)
    assert not outreach_access.manages(db, platform, street.id)
    assert street not in outreach_settings.managed_teams(db, charleroi_admin)
    assert outreach_settings.managed_teams(db, platform) == []

    def settings_row():
        db.expire_all()
        found = db.get(OutreachTeamSettings, street.id)
        return (found.protective_contact, found.anonymous_retention_months) if found else None

    before = settings_row()
    rules_before = [
        (row.anonymous_months, row.named_months)
        for row in db.scalars(select(OutreachRetentionSettings))
    ]
    for username in ("clr-admin", "admin"):
        browser = login(username)
        refusals = _refusals(db, "team", street.id)
        page = browser.client.get(f"/outreach/reglages?team={street.id}")
        assert page.status_code == 404, username
        for path, data in (
            ("/outreach/reglages/protection", {"contact": "SAJ Charleroi"}),
            ("/outreach/reglages/conservation-equipe", {"anonymous_months": "3"}),
        ):
            answer = browser.client.post(
                path, data={"csrf_token": browser.token, "team_id": street.id, **data}
            )
            assert answer.status_code == 404, (username, path)
        db.expire_all()
        assert _refusals(db, "team", street.id) == refusals + 3
        assert settings_row() == before
    # The installation's retention rules: not one CPAS's administrator's to change.
    clr = login("clr-admin")
    refused = clr.client.post(
        "/outreach/reglages/conservation",
        data={"csrf_token": clr.token, "anonymous_months": "4", "named_months": "30"},
    )
    assert refused.status_code == 422
    db.expire_all()
    assert [
        (row.anonymous_months, row.named_months)
        for row in db.scalars(select(OutreachRetentionSettings))
    ] == rules_before
    # The Brussels administrator changes the Brussels street team's.
    bxl = login("bxl-admin-street")
    assert bxl.client.get(f"/outreach/reglages?team={street.id}").status_code == 200
    saved = bxl.client.post(
        "/outreach/reglages/conservation-equipe",
        data={"csrf_token": bxl.token, "team_id": street.id, "anonymous_months": "3"},
    )
    assert saved.status_code == 302
    assert settings_row()[1] == 3


def _brussels_setup(db, brussels) -> dict[str, int]:
    """The appointment setup's records of the CPAS de Bruxelles: its own service, a
    working plan and a closure at its place, an absence of one of its agents."""
    from datetime import date, datetime, time

    from appointments.models import AgentAbsence, Closure, WorkingPlan
    from core.organisations import cpas_id_of_team

    brussels.service.cpas_id = cpas_id_of_team(db, brussels.location.team_id)
    as1 = accounts.find_user(db, "as1")
    plan = WorkingPlan(
        user_id=as1.id,
        location_id=brussels.location.id,
        weekday=5,
        starts=time(18, 0),
        ends=time(19, 0),
        valid_from=date(2030, 1, 1),
    )
    closure = Closure(
        location_id=brussels.location.id,
        first_day=date(2030, 1, 2),
        last_day=date(2030, 1, 2),
        reason="Formation",
    )
    absence = AgentAbsence(
        user_id=as1.id,
        starts_at=clock.as_utc(datetime(2030, 1, 3, 9, tzinfo=clock.BRUSSELS)),
        ends_at=clock.as_utc(datetime(2030, 1, 3, 12, tzinfo=clock.BRUSSELS)),
        reason="leave",
    )
    db.add_all([plan, closure, absence])
    db.commit()
    return {
        "service_id": brussels.service.id,
        "plan_id": plan.id,
        "closure_id": closure.id,
        "absence_id": absence.id,
    }


def _brussels_arguments(db, brussels, brussels_sms) -> dict[str, dict[str, object]]:
    """Every route whose address names a record, given a record of the CPAS de Bruxelles
    (the demo's and the fixtures'): what an office role of Charleroi must not reach."""
    from homecare.demo import demo_id as homecare_id
    from outreach.demo import demo_id

    contact, message, inbound, broadcast = brussels_sms
    setup_ids = _brussels_setup(db, brussels)
    appointment = {"appointment_id": brussels.booked.id}
    person = {"person_id": str(demo_id("momo"))}
    household = {"beneficiary_id": str(homecare_id("household-0"))}
    plan = {"plan_id": str(homecare_id("plan-0"))}
    aide = {"aide_id": accounts.find_user(db, "aide1").id}
    shared = {"service_id": brussels.new_service().id}  # of no CPAS: the platform's to settle
    db.commit()
    return {
        "admin.set_active": {"user_id": accounts.find_user(db, "as1").id},
        "admin.user_teams": {"user_id": accounts.find_user(db, "as1").id},
        "cpas.edit": {"code": "bruxelles"},
        "cpas.holidays": {"code": "bruxelles"},
        "cpas.territory": {"code": "bruxelles"},
        "cpas.admins": {"code": "bruxelles"},
        "notifications.message": {"message_id": message.id},
        "notifications.cancel_message": {"message_id": message.id},
        "notifications.contact": {"contact_id": contact.id},
        "notifications.edit_contact": {"contact_id": contact.id},
        "notifications.consent": {"contact_id": contact.id},
        "notifications_inbox.inbound": {"inbound_id": inbound.id},
        "notifications_inbox.mark_handled": {"inbound_id": inbound.id},
        "notifications_orphans.index": {},
        "notifications_orphans.give_contact": {"contact_id": contact.id},
        "notifications_orphans.route_sms": {"inbound_id": inbound.id},
        "notifications_broadcasts.broadcast": {"broadcast_id": broadcast.id},
        "notifications_broadcasts.progress": {"broadcast_id": broadcast.id},
        "notifications_broadcasts.cancel": {"broadcast_id": broadcast.id},
        "appointments_setup.edit_location": {"location_id": brussels.location.id},
        **{
            f"appointments_setup.{name}": {"service_id": setup_ids["service_id"]}
            for name in ("edit_service", "service_offer", "remove_service")
        },
        "appointments_setup.give_shared_service": shared,
        "appointments_setup.split_shared_service": shared,
        "appointments_setup.end_plan": {"plan_id": setup_ids["plan_id"]},
        "appointments_setup.remove_closure": {"closure_id": setup_ids["closure_id"]},
        "appointments_setup.remove_absence": {"absence_id": setup_ids["absence_id"]},
        **{
            f"appointments_desk.{name}": appointment
            for name in ("check_in", "no_show", "done", "cancel", "call", "left", "undo")
        },
        "appointments_desk.move": appointment,
        "appointments_desk.slip": appointment,
        "outreach.edit_encounter": {"encounter_id": str(demo_id("e1"))},
        "outreach.maraude_summary": {"maraude_id": str(demo_id("m1"))},
        **{
            f"outreach_files.{name}": person
            for name in (
                "person",
                "propose_referral",
                "record_consent",
                "attach_identity",
                "set_minor",
                "merge",
            )
        },
        **{
            f"homecare.{name}": household
            for name in (
                "beneficiary",
                "edit_beneficiary",
                "location_fix",
                "life_book",
                "life_book_agreement",
                "new_plan",
            )
        },
        "homecare.edit_plan": plan,
        "homecare.suspend_plan": plan,
        "homecare.aide": aide,
        "homecare.qualification": aide,
        "homecare.absence": aide,
    }


@pytest.mark.parametrize("role", OFFICE_ROLES, ids=str)
def test_every_route_naming_a_record_of_another_cpas_answers_as_unknown(
    app, login, db, brussels, brussels_sms, role
):
    """The permission walk, with two CPAS: every route whose address names a record,
    given one of the CPAS de Bruxelles, answers a Charleroi office role 404 (or 403 when
    the role may not use the route at all), for GET and for the route's POST alike."""
    from flask import url_for

    from tests.support import csrf_from
    from web.permissions import decision

    arguments = _brussels_arguments(db, brussels, brussels_sms)
    user = _charleroi_user(db, role)
    browser = login(user.username)
    token = csrf_from(browser.client.get("/no-such-page").get_data(as_text=True))
    walked, answers = 0, {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in arguments:
            continue
        assert set(rule.arguments) <= set(arguments[rule.endpoint]), rule.endpoint
        with app.test_request_context():
            url = url_for(rule.endpoint, **arguments[rule.endpoint])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = browser.client.get(url)
            else:
                response = browser.client.open(url, method=method, data={"csrf_token": token})
            allowed = can(role, decision(app, rule.endpoint))
            answers[f"{method} {url} ({rule.endpoint})"] = (allowed, response.status_code)
            walked += 1
    wrong = {
        where: status
        for where, (allowed, status) in answers.items()
        if status != (404 if allowed else 403)
    }
    assert not wrong, wrong
    assert walked >= 40
    assert sum(allowed for allowed, _status in answers.values()) >= 10  # 404s, not only 403s
    # Nothing changed: the appointment is still booked, the message still waiting.
    db.expire_all()
    assert db.get(Appointment, brussels.booked.id).status == "booked"
    assert db.get(Message, brussels_sms[1].id).status == "pending"
    from appointments.models import AgentAbsence, Closure, Service, WorkingPlan

    setup_ids = {
        name: value for name, value in arguments.items() if name.startswith("appointments_setup.")
    }
    service_id = setup_ids["appointments_setup.edit_service"]["service_id"]
    assert db.get(Service, service_id).name_fr == brussels.service.name_fr
    plan = db.get(WorkingPlan, setup_ids["appointments_setup.end_plan"]["plan_id"])
    assert plan.valid_until is None
    assert db.get(Closure, setup_ids["appointments_setup.remove_closure"]["closure_id"])
    shared = db.get(Service, setup_ids["appointments_setup.split_shared_service"]["service_id"])
    assert shared.cpas_id is None  # neither given nor split by a CPAS's role
    assert db.get(AgentAbsence, setup_ids["appointments_setup.remove_absence"]["absence_id"])


def test_the_setup_lists_and_offers_only_the_administrators_cpas(login, db, brussels):
    """Services, plans, closures and absences of the CPAS de Bruxelles are not listed to
    Charleroi's coordinator, nor offered in its forms; refused as unknown choices."""
    from datetime import date

    from appointments.models import Closure

    ids = _brussels_setup(db, brussels)
    _charleroi_user(db, Role.COORDINATOR)
    browser = login("clr-coordinator")
    base = "/parametres/rendez-vous"
    services = text_of(browser.get(f"{base}/services"))
    assert f'/services/{ids["service_id"]}"' not in services
    assert "Antenne Marolles" not in services
    plans = text_of(browser.get(f"{base}/plannings"))
    assert f"/plannings/{ids['plan_id']}/fin" not in plans
    assert brussels.location.name not in plans
    assert f"/fermetures/{ids['closure_id']}/" not in text_of(browser.get(f"{base}/fermetures"))
    assert f"/absences/{ids['absence_id']}/" not in text_of(browser.get(f"{base}/absences"))
    as1 = accounts.find_user(db, "as1")
    refused = browser.post(
        f"{base}/absences",
        {"user_id": str(as1.id), "starts": "2030-01-04T09:00", "ends": "2030-01-04T10:00"},
    )
    assert refused.status_code == 422
    closure = browser.post(
        f"{base}/fermetures",
        {"location_id": str(brussels.location.id), "first_day": "2030-01-05", "reason": "X"},
    )
    assert closure.status_code == 422
    everywhere = browser.post(f"{base}/fermetures", {"first_day": "2030-01-05", "reason": "X"})
    assert everywhere.status_code == 302  # every place of the CPAS de Charleroi only
    made = db.scalar(select(Closure).where(Closure.first_day == date(2030, 1, 5)))
    assert made.location_id is None
    assert made.cpas_id == organisations.get_cpas(db, "charleroi").id
    assert _refusals(db, "appointment_service", ids["service_id"]) == 0
    assert browser.get(f"{base}/services/{ids['service_id']}").status_code == 404
    assert _refusals(db, "appointment_service", ids["service_id"]) == 1


def test_a_service_of_a_cpas_is_offered_only_at_its_places(db, brussels):
    """The service layer refuses a Brussels service at a Charleroi place, whoever asks."""
    from appointments import setup
    from appointments.models import Location
    from core.errors import Invalid

    ids = _brussels_setup(db, brussels)
    service = setup.service_by_id(db, ids["service_id"])
    dampremy = db.scalar(select(Location).where(Location.code == "clr-dampremy"))
    admin = accounts.find_user(db, "as1")  # any actor of Brussels
    with pytest.raises(Invalid):
        setup.set_service_offer(db, service, location_ids=[dampremy.id], agent_ids=[], actor=admin)


def test_contacts_made_by_the_online_booking_join_the_places_team(db, now):
    from appointments import verification
    from appointments.models import Location

    dampremy = db.scalar(select(Location).where(Location.code == "clr-dampremy"))
    check = verification.start(
        db,
        raw_phone="+32470990011",
        language="fr",
        address="192.0.2.1",
        secret="s3cret",
        team_id=dampremy.team_id,
    )
    message = db.scalar(select(Message).where(Message.key == f"phone-check:{check.id}"))
    contact = db.get(Contact, message.contact_id)
    assert {link.team_id for link in contact.teams} == {dampremy.team_id}


def test_a_referral_to_another_cpas_team_is_an_unknown_team(login, db):
    """Brussels' street team refers within the CPAS de Bruxelles; a Charleroi antenne is
    another data controller: refused as an unknown team (a partner of the directory is the
    way to another CPAS) and not offered in the form."""
    from outreach.demo import demo_id
    from outreach.models import Referral

    grande = demo_id("la-grande")
    dampremy = accounts.get_team(db, "clr-dampremy")
    marolles = accounts.get_team(db, "bxl-marolles")
    browser = login("rue1")
    page = text_of(browser.get(f"/outreach/personnes/{grande}"))
    assert f'value="team:{marolles.id}' in page
    assert f'value="team:{dampremy.id}' not in page
    before = db.scalar(select(func.count()).select_from(Referral))
    for destination in (f"team:{dampremy.id}", f"team:{dampremy.id}:clr-permanence-sociale"):
        response = browser.post(
            f"/outreach/personnes/{grande}/orientations",
            {"need": "income", "destination": destination},
        )
        assert response.status_code == 422
        assert "Choose a CPAS service from the list." in text_of(response)
    assert db.scalar(select(func.count()).select_from(Referral)) == before


def test_an_audience_lists_and_accepts_only_the_authors_cpas_places(login, db):
    """The "appointments on a day" audience (appointments' provider): Charleroi's author
    is offered only Charleroi's places, and a Brussels place is an unknown choice."""
    _charleroi_user(db, Role.COORDINATOR)
    browser = login("clr-coordinator")
    page = text_of(browser.get("/sms/broadcasts/new?audience=appointments_on_day"))
    assert 'value="clr-dampremy"' in page and 'value="bxl-marolles"' not in page
    author = accounts.find_user(db, "clr-coordinator")
    checked = broadcasts.preview(
        db,
        audience="appointments_on_day",
        params={"date": "2030-01-02", "location": "bxl-marolles"},
        category="service_change",
        bodies={"fr": "Fermé."},
        author=author,
    )
    assert checked.errors["location"].code == "unknown_choice"
    own = broadcasts.preview(
        db,
        audience="appointments_on_day",
        params={"date": "2030-01-02", "location": "clr-dampremy"},
        category="service_change",
        bodies={"fr": "Fermé."},
        author=author,
    )
    assert "location" not in own.errors  # its own place: accepted (nobody booked then)


def test_a_shared_service_keeps_each_cpas_offer_and_its_settings(login, db, brussels):
    """A service of no CPAS (an installation's before 0051, offered by several CPAS):
    Charleroi's coordinator sees it, changes only its offer at Charleroi's places (Brussels'
    stays), and cannot change its settings (they are every CPAS's)."""
    from appointments import setup
    from appointments.models import Location

    shared = brussels.service
    assert shared.cpas_id is None
    dampremy = db.scalar(select(Location).where(Location.code == "clr-dampremy"))
    _charleroi_user(db, Role.COORDINATOR)
    browser = login("clr-coordinator")
    base = f"/parametres/rendez-vous/services/{shared.id}"
    assert browser.get(base).status_code == 200
    offer = browser.post(f"{base}/offre", {"locations": [str(dampremy.id)]})
    assert offer.status_code in (200, 302)
    db.expire_all()
    assert set(setup.service_location_ids(db, shared)) == {brussels.location.id, dampremy.id}
    changed = browser.post(base, {"code": shared.code, "name_fr": "Pris", "name_nl": "Pris"})
    assert changed.status_code == 422
    assert "shared by several CPAS" in text_of(changed)
    removed = browser.post(f"{base}/supprimer", {})
    assert removed.status_code == 302
    db.expire_all()
    assert db.get(type(shared), shared.id).name_fr != "Pris"


def test_the_platform_administrator_sets_up_no_cpas_appointments(login, db, brussels):
    """The administrator of no team (several CPAS): no service, place, plan, closure or
    absence of any CPAS listed, and a new service (it would be nobody's) refused."""
    ids = _brussels_setup(db, brussels)
    browser = login("admin")
    base = "/parametres/rendez-vous"
    assert f"/services/{ids['service_id']}" not in text_of(browser.get(f"{base}/services"))
    assert browser.get(f"{base}/services/{ids['service_id']}").status_code == 404
    assert f"/plannings/{ids['plan_id']}/fin" not in text_of(browser.get(f"{base}/plannings"))
    made = browser.post(
        f"{base}/services/nouveau",
        {
            "code": "platform-x",
            "name_fr": "X",
            "name_nl": "X",
            "duration_minutes": "30",
            "booking_mode": "online",
            "languages": ["fr"],
            "min_notice_hours": "2",
            "max_horizon_days": "56",
        },
    )
    assert made.status_code == 422
    assert "Your role may not make this change." in text_of(made)
