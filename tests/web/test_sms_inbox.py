"""The reception's inbox of SMS received: who may see it, links, handling, audit."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import select

from core import audit
from notifications import replies
from notifications.contacts import create_contact, set_consent
from tests.conftest import Browser, log_in_directly

_sids = itertools.count(1)


BRUSSELS_NUMBER = "+32460200100"  # the demo's CPAS de Bruxelles has its own number


def receive(db, body: str, number: str, to_number: str | None = None):
    result = replies.handle_inbound(
        db,
        provider_id=f"SMinbox{next(_sids):020d}",
        from_number=number,
        body=body,
        to_number=to_number,
    )
    db.flush()
    return result.inbound


@pytest.fixture()
def known(db):
    contact = create_contact(
        db,
        actor=None,
        display_name="Test Ines Inbox",
        language="fr",
        phones=["0470 99 20 01"],
        team_ids=[marolles(db)],
    )
    set_consent(db, contact, category="reminder", granted=True, method="form", actor=None)
    db.flush()
    return contact


def marolles(db) -> int:
    from core import accounts

    return accounts.get_team(db, "bxl-marolles").id


def as_user(client, db, username: str) -> Browser:
    log_in_directly(client, db, username)
    return Browser(client)


def audit_actions(db, inbound_id: int) -> list[str]:
    return list(
        db.scalars(
            select(audit.AuditEntry.action)
            .where(
                audit.AuditEntry.entity_type == "sms_inbound",
                audit.AuditEntry.entity_id == str(inbound_id),
            )
            .order_by(audit.AuditEntry.id)
        )
    )


def test_reception_sees_the_inbox_and_marks_a_reply_handled(client, db, known):
    inbound = receive(db, "Je serai en retard demain", "+32470992001")
    browser = as_user(client, db, "accueil")

    page = browser.get("/sms/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Je serai en retard demain" in html
    assert f'href="/sms/contacts/{known.id}"' in html  # the sender's file
    assert re.search(r'id="open-count">\s*\d+', html)

    detail = browser.get(f"/sms/inbox/{inbound.id}")
    assert detail.status_code == 200
    assert "Je serai en retard demain" in detail.get_data(as_text=True)
    assert audit_actions(db, inbound.id) == ["read"]

    done = browser.post(f"/sms/inbox/{inbound.id}/handled", {"next": "detail"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/sms/inbox/{inbound.id}")
    db.refresh(inbound)
    assert inbound.handled_at is not None
    assert inbound.handled_by_id is not None
    assert audit_actions(db, inbound.id) == ["read", "update"]

    again = browser.post(f"/sms/inbox/{inbound.id}/handled")
    assert again.status_code == 302
    assert audit_actions(db, inbound.id) == ["read", "update"]  # nothing more to do

    open_page = browser.get("/sms/inbox").get_data(as_text=True)
    assert f'data-inbound-id="{inbound.id}"' not in open_page
    all_page = browser.get("/sms/inbox?all=1").get_data(as_text=True)
    assert f'data-inbound-id="{inbound.id}"' in all_page


def test_an_unknown_sender_is_shown_by_number(client, db):
    inbound = receive(db, "Bonjour\n<b>qui</b> est-ce", "+32470992099", BRUSSELS_NUMBER)
    browser = as_user(client, db, "accueil")
    html = browser.get("/sms/inbox").get_data(as_text=True)
    assert "0470 99 20 99" in html
    assert "Bonjour<br>&lt;b&gt;qui&lt;/b&gt; est-ce" in html  # lines kept, text escaped
    detail = browser.get(f"/sms/inbox/{inbound.id}").get_data(as_text=True)
    assert "0470 99 20 99" in detail


def test_a_reply_to_a_message_links_to_it(client, db, known):
    from notifications import outbox
    from notifications.dispatch import record_sent
    from notifications.gateways import ProviderMessage

    message = outbox.enqueue(
        db, key="test:inbox:info", contact=known, category="reminder", body="Rappel"
    )
    record_sent(db, message, ProviderMessage("SMinboxsent1", "sent"), "memory", source="test")
    db.flush()
    inbound = receive(db, "C'est à quelle heure ?", "0470992001")
    assert inbound.in_reply_to_id == message.id
    browser = as_user(client, db, "as1")
    html = browser.get("/sms/inbox").get_data(as_text=True)
    assert f'href="/sms/messages/{message.id}"' in html
    detail = browser.get(f"/sms/inbox/{inbound.id}").get_data(as_text=True)
    assert f'href="/sms/messages/{message.id}"' in detail
    assert f'href="/sms/contacts/{known.id}"' in detail


def test_several_files_with_the_number_are_offered_to_reception(client, db, known):
    other = create_contact(
        db,
        actor=None,
        display_name="Test Other Inbox",
        language="nl",
        phones=["0470 99 20 01"],
        team_ids=[marolles(db)],
    )
    db.flush()
    inbound = receive(db, "Allo", "+32470992001")
    assert inbound.contact_id is None
    browser = as_user(client, db, "accueil")
    detail = browser.get(f"/sms/inbox/{inbound.id}").get_data(as_text=True)
    assert f'href="/sms/contacts/{known.id}"' in detail
    assert f'href="/sms/contacts/{other.id}"' in detail


def test_an_aide_may_not_see_the_inbox(client, db, known):
    inbound = receive(db, "Bonjour", "+32470992001")
    browser = as_user(client, db, "aide1")
    assert browser.get("/sms/inbox").status_code == 403
    assert browser.get(f"/sms/inbox/{inbound.id}").status_code == 403
    browser.get("/")  # a token for the POST
    assert browser.post(f"/sms/inbox/{inbound.id}/handled").status_code == 403
    db.refresh(inbound)
    assert inbound.handled_at is None
    assert audit_actions(db, inbound.id) == []


def test_an_unknown_reply_is_404(client, db):
    browser = as_user(client, db, "accueil")
    assert browser.get("/sms/inbox/999999").status_code == 404
    assert browser.post("/sms/inbox/999999/handled").status_code == 404
