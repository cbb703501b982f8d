"""One SMS sender per CPAS (issue 15): each message leaves with the sender of the CPAS it
speaks for (the place's, the author's, the contact's), through the real twilio library
against tests/fake_twilio.py; the installation's TWILIO_FROM only when the CPAS has none.
An SMS sent to a CPAS's number belongs to that CPAS: its reminders, its contacts, its
staff's inbox, never another CPAS's."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import accounts, clock, organisations
from core.roles import Role
from notifications import contacts, dispatch, outbox, replies, scope
from notifications.dispatch import record_sent
from notifications.gateways import ProviderMessage, TwilioGateway
from notifications.models import InboundSms, Message
from notifications.outbox import ReplyOutcome, SubjectKind
from tests.fake_twilio import FakeTwilio
from tests.support import staff_member

pytestmark = pytest.mark.usefixtures("empty_outbox")

# Tuesday 24 November 2026, 12:00 in Brussels: outside quiet hours.
NOON = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
BRUSSELS_NUMBER = "+32460200100"  # the demo's CPAS de Bruxelles sender (takes replies)
_ids = itertools.count(1)


@pytest.fixture()
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOON) as traveller:
        yield traveller


def _team(db, code: str) -> accounts.Team:
    team = accounts.get_team(db, code)
    assert team is not None
    return team


def _cpas(db, code: str) -> organisations.Cpas:
    cpas = organisations.get_cpas(db, code)
    assert cpas is not None
    return cpas


def person(db, number: str, *teams: str):
    contact = contacts.create_contact(
        db,
        actor=None,
        display_name=f"Personne {next(_ids)}",
        language="fr",
        phones=[number],
        team_ids=[_team(db, code).id for code in teams],
    )
    contacts.set_consent(db, contact, category="reminder", granted=True, method="form", actor=None)
    db.commit()
    return contact


def queue(db, contact, body: str, **options) -> Message:
    message = outbox.enqueue(
        db, key=f"test:{next(_ids)}", contact=contact, category="reminder", body=body, **options
    )
    db.commit()
    return message


def test_each_message_leaves_with_its_cpas_sender_through_twilio(db, sessions, frozen):
    charleroi, brussels = _cpas(db, "charleroi"), _cpas(db, "bruxelles")
    assert (brussels.sms_sender, charleroi.sms_sender) == (BRUSSELS_NUMBER, "Charleroi")
    by_place = queue(db, person(db, "+32470550001"), "place", cpas_id=charleroi.id)
    by_contact = queue(db, person(db, "+32470550002", "bxl-marolles"), "contact")
    author = staff_member(db, "sender-author", Role.SOCIAL_WORKER, "clr-dampremy")
    by_author = queue(db, person(db, "+32470550003"), "author", actor=author)
    # A contact of teams of two CPAS, no author: the CPAS cannot be told (installation's).
    unknown = queue(db, person(db, "+32470550004", "bxl-marolles", "clr-dampremy"), "both")
    assert [m.cpas_id for m in (by_place, by_contact, by_author, unknown)] == [
        charleroi.id,
        brussels.id,
        charleroi.id,
        None,
    ]
    with FakeTwilio() as fake:
        gateway = TwilioGateway(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_="CPAS",
            api_url=fake.url,
        )
        report = dispatch.dispatch_due(sessions, gateway, worker="test")
        assert report.sent == 4
        senders = {entry["Body"]: entry["From"] for entry in fake.sent}
    assert senders == {
        "place": "Charleroi",
        "contact": BRUSSELS_NUMBER,
        "author": "Charleroi",
        "both": "CPAS",
    }


def test_a_cpas_without_a_sender_uses_the_installation_s_and_a_messaging_service_gets_both(
    db, sessions, frozen
):
    charleroi = _cpas(db, "charleroi")
    charleroi.sms_sender = ""
    db.commit()
    queue(db, person(db, "+32470550011", "clr-dampremy"), "sans expéditeur")
    brussels = person(db, "+32470550012", "bxl-marolles")
    queue(db, brussels, "service")
    with FakeTwilio() as fake:
        gateway = TwilioGateway(
            account_sid=fake.account_sid, auth_token=fake.auth_token, from_="CPAS", api_url=fake.url
        )
        dispatch.dispatch_due(sessions, gateway, worker="test")
        [first, second] = fake.sent
        assert (first["Body"], first["From"]) == ("sans expéditeur", "CPAS")
        assert second["From"] == BRUSSELS_NUMBER
    # With a Messaging Service, the CPAS's sender is named (one of the service's senders).
    with FakeTwilio() as fake:
        service = TwilioGateway(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            messaging_service_sid="MG" + "1" * 32,
            api_url=fake.url,
        )
        queue(db, brussels, "par le service")
        dispatch.dispatch_due(sessions, service, worker="test")
        [sent] = fake.sent
        assert sent["From"] == BRUSSELS_NUMBER and sent["MessagingServiceSid"].startswith("MG")


class Replies:
    """A subject kind that records the replies it got (as the appointments domain)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def on_reply(self, _session, record_id: str, answer: str) -> ReplyOutcome:
        self.calls.append((record_id, answer))
        return ReplyOutcome(True, "reply_confirmed", {"date": "demain", "time": "10h"})


@pytest.fixture()
def subjects() -> Iterator[Replies]:
    fake = Replies()
    outbox.register_subject_kind(SubjectKind("cpastest", lambda _s, _id: True, fake.on_reply))
    yield fake
    outbox._SUBJECT_KINDS.pop("cpastest", None)


def sent(db, contact, subject: str, cpas_id: int, ago: timedelta) -> Message:
    message = queue(db, contact, "Répondez OUI ou NON.", subject=subject, cpas_id=cpas_id)
    record_sent(db, message, ProviderMessage(f"SM{next(_ids):032d}", "sent"), "x", source="t")
    message.sent_at = clock.now() - ago
    db.commit()
    return message


def test_a_reply_to_a_cpas_number_answers_that_cpas_only(db, frozen, subjects):
    brussels, schaerbeek = _cpas(db, "bruxelles"), _cpas(db, "schaerbeek")
    number = "+32470550021"
    contact = person(db, number, "bxl-marolles", "sch-le22rogier")
    sent(db, contact, "cpastest:bxl", brussels.id, timedelta(hours=3))
    sent(db, contact, "cpastest:sch", schaerbeek.id, timedelta(hours=1))  # the latest
    result = replies.handle_inbound(
        db, provider_id="SMreply1", from_number=number, body="OUI", to_number="0460 20 01 00"
    )
    db.commit()
    # Schaerbeek's reminder is the latest, but the reply went to Brussels' number.
    assert subjects.calls == [("bxl", "confirm")]
    assert result.inbound.cpas_id == brussels.id
    assert result.inbound.outcome == "confirmed"
    # The installation's number (or none): as before, the latest reminder answers.
    replies.handle_inbound(db, provider_id="SMreply2", from_number=number, body="NON")
    assert subjects.calls[-1] == ("sch", "cancel")


def test_an_sms_to_a_cpas_number_is_in_that_cpas_inbox_only(db, frozen):
    brussels = _cpas(db, "bruxelles")
    # Known to both CPAS; and a number nobody has.
    known = person(db, "+32470550031", "bxl-marolles", "sch-le22rogier")
    for provider_id, number in (("SMin1", "+32470550031"), ("SMin2", "+32470550039")):
        replies.handle_inbound(
            db,
            provider_id=provider_id,
            from_number=number,
            body="Bonjour, je serai en retard",
            to_number=BRUSSELS_NUMBER,
        )
    db.commit()
    rows = list(
        db.scalars(select(InboundSms).where(InboundSms.provider_id.in_(["SMin1", "SMin2"])))
    )
    assert {row.cpas_id for row in rows} == {brussels.id}
    assert {row.contact_id for row in rows} == {known.id, None}
    readers = {
        "brussels": staff_member(db, "inbox-bxl", Role.RECEPTION, "bxl-marolles"),
        "schaerbeek": staff_member(db, "inbox-sch", Role.RECEPTION, "sch-le22rogier"),
        "charleroi": staff_member(db, "inbox-clr", Role.SOCIAL_WORKER, "clr-dampremy"),
    }
    seen = {
        name: set(
            db.scalars(
                select(InboundSms.provider_id).where(
                    InboundSms.provider_id.in_(["SMin1", "SMin2"]),
                    scope.inbound_filter(db, reader),
                )
            )
        )
        for name, reader in readers.items()
    }
    assert seen == {"brussels": {"SMin1", "SMin2"}, "schaerbeek": set(), "charleroi": set()}
    # Another CPAS opening it: as unknown, the attempt audited.
    [first] = [row for row in rows if row.provider_id == "SMin1"]
    assert not scope.sees_inbound(db, readers["schaerbeek"], first.id)
    assert scope.sees_inbound(db, readers["brussels"], first.id)
