"""Contacts and SMS of no CPAS (docs/cpas.md, "Contacts and SMS of no CPAS"): with the
demo's three CPAS, a contact of no team and an SMS to the shared number that no CPAS can
be told from are seen by no CPAS's staff (404, refusal audited); the platform
administrator sees only that they exist (id, date, masked number, length: never a name,
a number or a text) and gives each to a CPAS (audited), which then reads it; the sender
of such an SMS is told once a day to contact their CPAS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core import accounts, clock, organisations
from core.audit import AuditEntry
from core.roles import Role
from notifications import contacts, outbox, replies, texts
from notifications.models import Contact, ContactTeam, InboundSms
from tests.support import cpas_admin, staff_member, text_of

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Brussels, a Tuesday
ORPHAN_NAME = "Orphéline Sans-Equipe"
ORPHAN_NUMBER = "0470 97 66 01"
STRAY_NUMBER = "+32470976602"
STRAY_TEXT = "Mon dossier secret n° 4421"


@pytest.fixture()
def now() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def _user(db, team_code: str, role: Role) -> accounts.User:
    """A member of staff of `team_code` with `role` (made once, committed)."""
    return staff_member(db, f"{team_code}-{role.value}", role, team_code)


def _staff(db) -> list[str]:
    """Every office role of each CPAS (Brussels' demo accounts, the others made)."""
    made = [
        _user(db, team, role).username
        for team in ("clr-dampremy", "sch-le22rogier")
        for role in (Role.COORDINATOR, Role.RECEPTION, Role.SOCIAL_WORKER)
    ]
    admins = [
        cpas_admin(db).username,
        cpas_admin(db, "clr-dampremy", "admin-clr").username,
        cpas_admin(db, "sch-le22rogier", "admin-sch").username,
    ]
    return ["accueil", "as1", "coordination", *admins, *made]


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


def _updates(db, entity_type: str, entity_id: int) -> list[dict]:
    return [
        entry.details
        for entry in db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "update",
                AuditEntry.entity_type == entity_type,
                AuditEntry.entity_id == str(entity_id),
            )
        )
    ]


@pytest.fixture()
def orphan(db, now):
    """A contact of no team (saved by a script), a message to it and its reply."""
    contact = contacts.create_contact(
        db, actor=None, display_name=ORPHAN_NAME, language="fr", phones=[ORPHAN_NUMBER]
    )
    contacts.set_consent(
        db, contact, category="information", granted=True, method="form", actor=None
    )
    message = outbox.enqueue(
        db, key="orphan-test:1", contact=contact, category="information", body="Bonjour"
    )
    inbound = InboundSms(
        provider_id="orphan-test-in-1",
        from_e164=contact.phones[0].e164,
        body="Réponse de l'orpheline",
        contact_id=contact.id,
        received_at=clock.now(),
        outcome="inbox",
    )
    db.add(inbound)
    db.commit()
    return contact, message, inbound


def test_a_contact_of_no_team_is_no_cpas_s(login, db, orphan):
    contact, message, inbound = orphan
    for username in [*_staff(db), "admin"]:
        browser = login(username)
        assert browser.get(f"/sms/contacts/{contact.id}").status_code == 404, username
        assert ORPHAN_NAME not in text_of(browser.get("/sms/contacts?q=Orph"))
        assert ORPHAN_NAME not in text_of(browser.get("/sms/"))
        assert browser.get(f"/sms/messages/{message.id}").status_code == 404
        assert browser.get(f"/sms/inbox/{inbound.id}").status_code == 404
        assert "orpheline" not in text_of(browser.get("/sms/inbox?all=1"))
    assert _refusals(db, "sms_contact", contact.id) == len(_staff(db)) + 1


def test_only_the_platform_administrator_lists_and_gives_them(login, db, client, orphan):
    contact, message, inbound = orphan
    team = accounts.get_team(db, "clr-dampremy")
    for username in _staff(db):
        browser = login(username)
        assert browser.get("/sms/sans-cpas").status_code == 404, username
        given = browser.post(f"/sms/sans-cpas/contacts/{contact.id}", {"team": team.code})
        assert given.status_code == 404
    assert _refusals(db, "sms_contact", "no_cpas") == len(_staff(db))
    assert _refusals(db, "sms_contact", contact.id) == len(_staff(db))
    db.expire_all()
    assert db.get(Contact, contact.id).teams == []
    assert client.get("/sms/sans-cpas").status_code == 302  # the public: to the login

    platform = login("admin")
    page = text_of(platform.get("/sms/sans-cpas"))
    assert f"Contact no. {contact.id}" in page
    for secret in (ORPHAN_NAME, "Orph", "0470 97 66 01", "+32470976601", "orpheline"):
        assert secret not in page
    wrong = platform.post(f"/sms/sans-cpas/contacts/{contact.id}", {"team": "nowhere"})
    assert wrong.status_code == 422
    assert "Choose from the list." in text_of(wrong)
    db.expire_all()
    assert db.get(Contact, contact.id).teams == []

    done = platform.post(f"/sms/sans-cpas/contacts/{contact.id}", {"team": team.code})
    assert done.status_code == 302
    db.expire_all()
    assert [link.team_id for link in db.get(Contact, contact.id).teams] == [team.id]
    assert _updates(db, "sms_contact", contact.id) == [
        {"fields": ["teams"], "team": "clr-dampremy", "cpas": "charleroi"}
    ]
    again = platform.post(f"/sms/sans-cpas/contacts/{contact.id}", {"team": "bxl-marolles"})
    assert again.status_code == 302
    assert "already given" in text_of(platform.get("/sms/sans-cpas"))
    assert len(db.scalars(select(ContactTeam).where(ContactTeam.contact_id == contact.id)).all())
    # Charleroi's staff read it now; Brussels' still do not, nor the platform.
    charleroi = login(_user(db, "clr-dampremy", Role.SOCIAL_WORKER).username)
    assert ORPHAN_NAME in text_of(charleroi.get(f"/sms/contacts/{contact.id}"))
    assert charleroi.get(f"/sms/messages/{message.id}").status_code == 200
    assert "orpheline" in text_of(charleroi.get(f"/sms/inbox/{inbound.id}"))
    assert login("accueil").get(f"/sms/contacts/{contact.id}").status_code == 404
    assert login("admin").get(f"/sms/contacts/{contact.id}").status_code == 404
    assert f"Contact no. {contact.id}" not in text_of(login("admin").get("/sms/sans-cpas"))


def _receive(db, sid: str, body: str = STRAY_TEXT, number: str = STRAY_NUMBER, to=None):
    result = replies.handle_inbound(
        db, provider_id=sid, from_number=number, body=body, to_number=to
    )
    db.commit()
    return result


def test_an_sms_of_no_cpas_is_read_by_none_until_the_platform_routes_it(login, db, now):
    no_cpas = texts.render(db, "reply_no_cpas", None, {})[0]
    assert "Contactez directement votre CPAS" in no_cpas and "OCMW" in no_cpas
    first = _receive(db, "SMstray1")
    # Schaerbeek and Charleroi share the installation's number: no CPAS can be told.
    assert first.inbound.cpas_id is None and first.inbound.contact_id is None
    assert first.reply == no_cpas
    assert _receive(db, "SMstray2", "Encore moi").reply is None  # once a day
    now.advance(days=1)
    assert _receive(db, "SMstray3", "Et demain").reply == no_cpas
    inbound = first.inbound

    for username in [*_staff(db), "admin"]:
        browser = login(username)
        assert STRAY_TEXT not in text_of(browser.get("/sms/inbox?all=1")), username
        assert browser.get(f"/sms/inbox/{inbound.id}").status_code == 404
        assert browser.post(f"/sms/inbox/{inbound.id}/handled").status_code == 404
    for username in _staff(db):
        routed = login(username).post(f"/sms/sans-cpas/sms/{inbound.id}", {"cpas": "schaerbeek"})
        assert routed.status_code == 404
    db.expire_all()
    assert db.get(InboundSms, inbound.id).cpas_id is None
    assert _refusals(db, "sms_inbound", inbound.id) == 2 * (len(_staff(db)) + 1) + len(_staff(db))

    platform = login("admin")
    page = text_of(platform.get("/sms/sans-cpas"))
    assert f"SMS no. {inbound.id}, received on" in page
    assert "from +32 *** ** ** 02: 26 characters" in page
    for secret in (STRAY_TEXT, "secret", "0470 97 66 02", STRAY_NUMBER, "Encore moi"):
        assert secret not in page
    wrong = platform.post(f"/sms/sans-cpas/sms/{inbound.id}", {"cpas": "atlantis"})
    assert wrong.status_code == 422 and "Choose from the list." in text_of(wrong)
    done = platform.post(f"/sms/sans-cpas/sms/{inbound.id}", {"cpas": "schaerbeek"})
    assert done.status_code == 302
    schaerbeek = organisations.get_cpas(db, "schaerbeek")
    db.expire_all()
    assert db.get(InboundSms, inbound.id).cpas_id == schaerbeek.id
    assert _updates(db, "sms_inbound", inbound.id) == [
        {"fields": ["cpas_id"], "cpas": "schaerbeek", "routed": True}
    ]
    # Schaerbeek's staff read it now; nobody else, the platform included.
    reader = login(_user(db, "sch-le22rogier", Role.RECEPTION).username)
    assert STRAY_TEXT in text_of(reader.get("/sms/inbox"))
    assert STRAY_TEXT in text_of(reader.get(f"/sms/inbox/{inbound.id}"))
    for username in ("accueil", _user(db, "clr-dampremy", Role.RECEPTION).username, "admin"):
        assert login(username).get(f"/sms/inbox/{inbound.id}").status_code == 404
    assert f"SMS no. {inbound.id}," not in text_of(platform.get("/sms/sans-cpas"))


def test_the_shared_number_used_by_one_cpas_only_is_that_cpas_s(login, db, now):
    charleroi = organisations.get_cpas(db, "charleroi")
    charleroi.sms_sender = "+32460300100"  # Charleroi gets its own number
    db.commit()
    result = _receive(db, "SMone1")
    assert result.inbound.cpas_id == organisations.get_cpas(db, "schaerbeek").id
    assert result.reply == texts.render(db, "reply_received", None, {})[0]
    reader = login(_user(db, "sch-le22rogier", Role.RECEPTION).username)
    assert STRAY_TEXT in text_of(reader.get("/sms/inbox"))
    assert login("accueil").get(f"/sms/inbox/{result.inbound.id}").status_code == 404
    # Sent to Charleroi's own number: Charleroi's, as before.
    own = _receive(db, "SMone2", to="+32460300100")
    assert own.inbound.cpas_id == charleroi.id


def test_a_number_of_several_contacts_of_one_cpas_is_that_cpas_s(db, now):
    team = accounts.get_team(db, "clr-dampremy")
    for name in ("Premier", "Second"):
        contacts.create_contact(
            db,
            actor=None,
            display_name=name,
            language="fr",
            phones=[STRAY_NUMBER],
            team_ids=[team.id],
        )
    result = _receive(db, "SMtwo1", "Bonjour")
    assert result.inbound.contact_id is None
    assert result.inbound.cpas_id == organisations.get_cpas(db, "charleroi").id
    assert result.reply == texts.render(db, "reply_received", "fr", {})[0]  # theirs
