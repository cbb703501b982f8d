"""Twilio's webhooks through HTTP: signatures (also behind a proxy), delivery reports
that only move forward, inbound SMS answered in TwiML. The real twilio library signs."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from core import clock
from notifications import outbox, texts
from notifications.contacts import create_contact, set_consent
from notifications.dispatch import record_sent
from notifications.gateways import ProviderMessage
from notifications.models import ContactPhone, InboundSms, Message
from notifications.outbox import ReplyOutcome, SubjectKind
from tests.conftest import make_app

TOKEN = "test-auth-token-0123456789abcdef"
LOCAL = "http://localhost"


@pytest.fixture()
def twilio_app(connection, database_url, tmp_path) -> Flask:
    return make_app(connection, database_url, tmp_path, TWILIO_AUTH_TOKEN=TOKEN)


@pytest.fixture()
def twilio(twilio_app):
    return twilio_app.test_client()


def signature(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_signed(client, path: str, params: dict[str, str], *, base: str = LOCAL, **kwargs):
    headers = {"X-Twilio-Signature": signature(base + path, params)}
    return client.post(path, data=params, headers=headers, **kwargs)


@pytest.fixture()
def reminder_kind():
    calls: list[tuple[str, str]] = []

    def on_reply(_session, record_id: str, answer: str) -> ReplyOutcome:
        calls.append((record_id, answer))
        template = "reply_confirmed" if answer == "confirm" else "reply_cancelled"
        return ReplyOutcome(True, template, {"date": "lundi 24/11", "time": "14h30"})

    outbox.register_subject_kind(SubjectKind("testappt", lambda _s, _i: True, on_reply))
    yield calls
    outbox._SUBJECT_KINDS.pop("testappt", None)


def contact_with_message(db, *, number="0470 99 10 01", status="queued", provider_id="SMw1"):
    contact = create_contact(
        db, actor=None, display_name="Test webhook", language="fr", phones=[number]
    )
    set_consent(db, contact, category="reminder", granted=True, method="form", actor=None)
    message = outbox.enqueue(
        db,
        key=f"test:webhook:{provider_id}",
        contact=contact,
        category="reminder",
        body="Rappel: rendez-vous demain. Répondez OUI ou NON.",
        subject="testappt:42",
    )
    if status != "pending":
        record_sent(
            db, message, ProviderMessage(provider_id, status), "twilio", source="dispatcher"
        )
    db.flush()
    return contact, message


def status_params(provider_id: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": provider_id,
        "MessageStatus": status,
        "AccountSid": "ACtest",
        "To": "+32470991001",
        **extra,
    }


def inbound_params(provider_id: str, number: str, body: str) -> dict[str, str]:
    return {
        "MessageSid": provider_id,
        "SmsSid": provider_id,
        "AccountSid": "ACtest",
        "From": number,
        "To": "+32460000000",
        "Body": body,
        "NumMedia": "0",
    }


def twiml_messages(response) -> list[str]:
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.get_data())  # noqa: S314 - our own answer
    assert root.tag == "Response"
    return [element.text or "" for element in root.findall("Message")]


# --- Signatures -------------------------------------------------------------------------


def test_a_forged_or_missing_signature_gets_403_and_changes_nothing(twilio, db):
    _, message = contact_with_message(db)
    params = status_params("SMw1", "delivered")
    forged = twilio.post(
        "/sms/status",
        data=params,
        headers={"X-Twilio-Signature": signature(LOCAL + "/sms/status", params, "other-token")},
    )
    assert forged.status_code == 403
    missing = twilio.post("/sms/status", data=params)
    assert missing.status_code == 403
    tampered = dict(params, MessageStatus="failed", ErrorCode="21610")
    replayed_signature = {"X-Twilio-Signature": signature(LOCAL + "/sms/status", params)}
    assert twilio.post("/sms/status", data=tampered, headers=replayed_signature).status_code == 403
    db.refresh(message)
    assert message.status == "queued"
    assert all(phone.state == "active" for phone in message.contact.phones)

    inbound = inbound_params("SMforged", "+32470991001", "STOP")
    assert twilio.post("/sms/inbound", data=inbound).status_code == 403
    assert (
        twilio.post(
            "/sms/inbound",
            data=inbound,
            headers={"X-Twilio-Signature": signature(LOCAL + "/sms/inbound", inbound, "x")},
        ).status_code
        == 403
    )
    forged_rows = (
        select(func.count()).select_from(InboundSms).where(InboundSms.provider_id == "SMforged")
    )
    assert db.scalar(forged_rows) == 0


def test_without_an_auth_token_the_webhooks_are_off(client, db):
    """Nothing can be checked, so nothing is accepted: 403, and nothing changes."""
    _, message = contact_with_message(db)
    params = status_params("SMw1", "delivered")
    response = client.post(
        "/sms/status",
        data=params,
        headers={"X-Twilio-Signature": signature(LOCAL + "/sms/status", params, "")},
    )
    assert response.status_code == 403
    db.refresh(message)
    assert message.status == "queued"


def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(
    connection, database_url, tmp_path, db
):
    app = make_app(
        connection,
        database_url,
        tmp_path,
        TWILIO_AUTH_TOKEN=TOKEN,
        TERRAIN_PUBLIC_URL="https://terrain.example/",
    )
    client = app.test_client()
    _, message = contact_with_message(db)
    path = f"/sms/status?m={message.id}"
    params = status_params("SMw1", "sent")
    # Signed for the URL the process sees (http://localhost): not what Twilio called.
    assert post_signed(client, path, params).status_code == 403
    db.refresh(message)
    assert message.status == "queued"
    response = post_signed(client, path, params, base="https://terrain.example")
    assert response.status_code == 204
    db.refresh(message)
    assert message.status == "sent"
    no_query = post_signed(
        client, "/sms/status", status_params("SMw1", "delivered"), base="https://terrain.example"
    )
    assert no_query.status_code == 204
    db.refresh(message)
    assert message.status == "delivered"


# --- Status callbacks ---------------------------------------------------------------------


def test_status_moves_forward_and_a_replayed_old_callback_changes_nothing(twilio, db):
    _, message = contact_with_message(db)
    path = f"/sms/status?m={message.id}"
    assert post_signed(twilio, path, status_params("SMw1", "sent")).status_code == 204
    db.refresh(message)
    assert message.status == "sent"
    assert post_signed(twilio, path, status_params("SMw1", "delivered")).status_code == 204
    db.refresh(message)
    assert message.status == "delivered"
    events = len(message.events)
    # Twilio's "sent" callback arriving late, or replayed by someone.
    assert post_signed(twilio, path, status_params("SMw1", "sent")).status_code == 204
    db.refresh(message)
    assert message.status == "delivered"
    assert len(message.events) == events
    # A message nobody knows: answered, nothing to do.
    assert post_signed(twilio, "/sms/status", status_params("SMnobody", "sent")).status_code == 204


def test_a_failure_for_an_opted_out_number_marks_the_number(twilio, db):
    _, message = contact_with_message(db)
    params = status_params("SMw1", "failed", ErrorCode="21610")
    assert post_signed(twilio, "/sms/status", params).status_code == 204
    db.refresh(message)
    assert message.status == "failed"
    assert message.error_code == "21610"
    phone = db.scalar(select(ContactPhone).where(ContactPhone.e164 == "+32470991001"))
    db.refresh(phone)
    assert phone.state == "opted_out"


def test_a_callback_for_a_send_not_recorded_yet_records_the_provider_id(twilio, db):
    """The dispatcher crashed between Twilio's answer and its own commit."""
    _, message = contact_with_message(db, status="pending")
    message.status = "sending"
    message.claimed_at = clock.now()
    db.flush()
    path = f"/sms/status?m={message.id}"
    assert post_signed(twilio, path, status_params("SMcrash1", "sent")).status_code == 204
    db.refresh(message)
    assert message.provider_id == "SMcrash1"
    assert message.status == "sent"
    assert message.sent_at is not None
    # A bad id in the query changes nothing and still gets its answer.
    assert post_signed(twilio, "/sms/status?m=abc", status_params("SMx", "sent")).status_code == 204


# --- Inbound --------------------------------------------------------------------------------


def test_inbound_oui_is_answered_with_the_confirmation(twilio, db, reminder_kind):
    contact_with_message(db, status="sent")
    params = inbound_params("SMin1", "+32470991001", "Oui!")
    response = post_signed(twilio, "/sms/inbound", params)
    expected = texts.render(db, "reply_confirmed", "fr", {"date": "lundi 24/11", "time": "14h30"})[
        0
    ]
    assert twiml_messages(response) == [expected]
    assert response.get_data(as_text=True).startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert reminder_kind == [("42", "confirm")]

    # Twilio retries: the same MessageSid, the same answer, one row, no second confirm.
    again = post_signed(twilio, "/sms/inbound", params)
    assert twiml_messages(again) == [expected]
    assert reminder_kind == [("42", "confirm")]
    rows = db.scalar(
        select(func.count()).select_from(InboundSms).where(InboundSms.provider_id == "SMin1")
    )
    assert rows == 1


def test_inbound_from_an_unknown_number_gets_the_same_answer_once_a_day(twilio, db, reminder_kind):
    # The demo's Schaerbeek and Charleroi share the installation's number: no CPAS reads
    # it, and the sender is told once that day to contact their CPAS, whatever they wrote.
    no_cpas = texts.render(db, "reply_no_cpas", None, {})[0]
    with clock.frozen(datetime(2026, 3, 10, 10, 0, tzinfo=UTC)):  # one Brussels day
        answers = [
            twiml_messages(
                post_signed(twilio, "/sms/inbound", inbound_params(sid, "+32470991999", body))
            )
            for sid, body in (("SMu1", "OUI"), ("SMu2", "STOP"), ("SMu3", "Qui est-ce ?"))
        ]
    assert answers == [[no_cpas], [], []]
    assert reminder_kind == []


def test_inbound_stop_says_what_stopped(twilio, db):
    contact, _ = contact_with_message(db, status="sent")
    response = post_signed(twilio, "/sms/inbound", inbound_params("SMs1", "0470991001", "stop"))
    [text] = twiml_messages(response)
    assert "rappels de rendez-vous" in text
    db.refresh(contact)
    assert [(c.category, c.granted, c.method) for c in contact.consents] == [
        ("reminder", False, "sms_reply")
    ]


def test_an_inbound_without_answer_is_an_empty_twiml_response(twilio, db, monkeypatch):
    from notifications import replies

    def silent(session, **kwargs):
        return replies.InboundResult(None, None)  # type: ignore[arg-type]

    # What notifications/callbacks.inbound_sms (the view's use case) calls.
    monkeypatch.setattr(replies, "handle_inbound", silent)
    response = post_signed(twilio, "/sms/inbound", inbound_params("SMe1", "+32470991001", "x"))
    assert twiml_messages(response) == []


def test_webhooks_log_neither_numbers_nor_bodies(twilio, db, caplog, reminder_kind):
    contact_with_message(db, status="sent")
    with caplog.at_level("DEBUG"):
        post_signed(twilio, "/sms/inbound", inbound_params("SMlog", "+32470991001", "OUI secret"))
        post_signed(twilio, "/sms/status", status_params("SMw1", "delivered"))
        twilio.post("/sms/inbound", data=inbound_params("SMlog2", "+32470991001", "NON secret"))
    text = caplog.text
    assert "470991001" not in text and "secret" not in text
    assert db.scalar(select(Message).where(Message.provider_id == "SMw1")) is not None


# --- Malformed but signed requests ------------------------------------------------------


def inbound_count(db) -> int:
    return db.scalar(select(func.count()).select_from(InboundSms)) or 0


def test_a_signed_inbound_without_from_or_body_is_400_and_changes_nothing(twilio, db):
    contact, _ = contact_with_message(db, status="sent")
    before = inbound_count(db)
    for dropped in ("From", "Body"):
        params = inbound_params(f"SMno{dropped}", "+32470991001", "STOP")
        del params[dropped]
        response = post_signed(twilio, "/sms/inbound", params)
        assert response.status_code == 400, dropped
        assert response.mimetype == "text/plain"
    blank_from = inbound_params("SMblank", "  ", "STOP")
    assert post_signed(twilio, "/sms/inbound", blank_from).status_code == 400
    assert inbound_count(db) == before
    db.refresh(contact)
    assert all(phone.state == "active" for phone in contact.phones)


def test_a_signed_inbound_with_an_empty_body_goes_to_the_inbox(twilio, db):
    """A phone can send an empty SMS: it is a real message, answered like any other."""
    contact_with_message(db, status="sent")
    response = post_signed(twilio, "/sms/inbound", inbound_params("SMempty", "+32470991001", ""))
    assert len(twiml_messages(response)) == 1  # the neutral answer
    row = db.scalar(select(InboundSms).where(InboundSms.provider_id == "SMempty"))
    assert row is not None and row.body == "" and row.outcome == "inbox"


def test_a_signed_status_without_message_status_is_400_and_changes_nothing(twilio, db):
    _, message = contact_with_message(db)
    for params in (
        {key: value for key, value in status_params("SMw1", "x").items() if key != "MessageStatus"},
        status_params("SMw1", " "),
    ):
        response = post_signed(twilio, "/sms/status", params)
        assert response.status_code == 400
    db.refresh(message)
    assert message.status == "queued"


def test_a_nul_in_an_sms_is_dropped_after_the_signature_is_checked_on_what_was_sent(twilio, db):
    from notifications.models import InboundSms

    params = inbound_params("SMnul", "+32470991999", "Bonjour\x00 !")
    response = post_signed(twilio, "/sms/inbound", params)
    assert response.status_code == 200  # the signature covers the NUL: checked as sent
    stored = db.scalar(select(InboundSms).where(InboundSms.provider_id == "SMnul"))
    assert stored is not None and stored.body == "Bonjour !"


def test_an_sms_to_a_cpas_number_is_that_cpas(twilio, db):
    """Twilio's `To` is a CPAS's sender (the demo's CPAS de Bruxelles, +32460200100): the
    SMS received is that CPAS's; to the installation's number: no CPAS, as before."""
    from core import organisations

    brussels = organisations.get_cpas(db, "bruxelles")
    params = inbound_params("SMcpas1", "+32470991777", "Bonjour")
    post_signed(twilio, "/sms/inbound", {**params, "To": brussels.sms_sender})
    post_signed(twilio, "/sms/inbound", inbound_params("SMcpas2", "+32470991777", "Bonjour"))
    db.expire_all()
    found = {
        row.provider_id: row.cpas_id
        for row in db.scalars(
            select(InboundSms).where(InboundSms.provider_id.in_(["SMcpas1", "SMcpas2"]))
        )
    }
    assert found == {"SMcpas1": brussels.id, "SMcpas2": None}
