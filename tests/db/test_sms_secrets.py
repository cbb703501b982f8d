"""Secrets in SMS (notifications/masking.py): one-time codes and manage links are stored
masked, rebuilt by the dispatcher at send time, and never kept in clear."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, String, Table, cast, func, insert, or_, select, text

from appointments import booking, verification
from core import clock
from core.db import make_engine
from core.migrations import upgrade
from notifications import dispatch
from notifications.gateways import (
    ConsoleGateway,
    MemoryGateway,
    OutgoingSms,
    TransientGatewayError,
)
from notifications.masking import new_secret, reveal
from notifications.models import Message, MessageEvent
from notifications.sms import count_segments
from tests.db.appointments_world import LINK, NOW, Agenda, at, mobile
from tests.support import fresh_database, sms_text

pytestmark = pytest.mark.usefixtures("empty_outbox")

SECRET = "test-secret"
MASK = "••••••"


@pytest.fixture()
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


class Recording(MemoryGateway):
    """Remembers every text it was asked to send, also the attempts that failed."""

    def __init__(self) -> None:
        super().__init__()
        self.tried: list[str] = []

    def send(self, sms: OutgoingSms):
        self.tried.append(sms.body)
        return super().send(sms)


def code_check(db, *, language: str = "fr") -> tuple[verification.PhoneCheck, Message]:
    check = verification.start(
        db, raw_phone=mobile(), language=language, address="192.0.2.9", secret=SECRET
    )
    db.commit()
    message = db.scalar(select(Message).where(Message.key == f"phone-check:{check.id}"))
    assert message is not None
    return check, message


def code_in(body: str) -> str:
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def rows_holding(db, value: str) -> int:
    """Rows of sms_messages or sms_message_events with `value` in any column."""
    count = 0
    for model in (Message, MessageEvent):
        columns = [cast(column, String) for column in model.__table__.columns]
        count += db.scalar(
            select(func.count())
            .select_from(model)
            .where(or_(*(c.contains(value) for c in columns)))
        )
    return count


def test_a_code_is_stored_masked_and_the_gateway_gets_it_whole(db, sessions, frozen):
    check, message = code_check(db)
    assert message.body == f"CPAS: votre code est {MASK}. Il est valable 10 minutes."
    assert not re.search(r"\d{6}", message.body)
    slots = str(message.secret_slots)
    gateway = MemoryGateway()
    assert dispatch.dispatch_due(sessions, gateway, secret_key=SECRET).sent == 1
    [sent] = gateway.sent
    code = code_in(sent.body)
    assert sent.body == f"CPAS: votre code est {code}. Il est valable 10 minutes."
    assert code not in slots  # the row held a seed, not the code
    assert verification.verify(db, check, code, secret=SECRET)  # the code works
    # Nowhere in the messages table, nor in the history; the seed is gone too.
    db.expire_all()
    assert rows_holding(db, code) == 0
    assert db.get(Message, message.id).secret_slots is None
    assert db.get(Message, message.id).body == message.body


def test_a_retry_after_a_gateway_failure_sends_the_same_valid_code(db, sessions, frozen):
    check, message = code_check(db)
    gateway = Recording()
    gateway.fail_next(TransientGatewayError("20429", "busy"))
    report = dispatch.dispatch_due(sessions, gateway, secret_key=SECRET)
    assert (report.sent, report.retried) == (0, 1)
    db.expire_all()
    assert db.get(Message, message.id).secret_slots is not None  # still to be sent
    frozen.advance(seconds=31)
    assert dispatch.dispatch_due(sessions, gateway, secret_key=SECRET).sent == 1
    first, second = gateway.tried
    assert first == second and code_in(first) == code_in(second)
    assert verification.verify(db, check, code_in(second), secret=SECRET)
    assert rows_holding(db, code_in(second)) == 0


def test_reconciliation_finds_a_message_by_its_real_text(db, sessions, frozen):
    _check, message = code_check(db)
    gateway = MemoryGateway()

    class DiesAfterSending(MemoryGateway):
        def send(self, sms: OutgoingSms):
            gateway.send(sms)  # the provider has it...
            raise RuntimeError("...and the dispatcher died before recording it")

    with pytest.raises(RuntimeError):
        dispatch.dispatch_due(sessions, DiesAfterSending(), secret_key=SECRET)
    frozen.advance(minutes=11)
    assert dispatch.reconcile(sessions, gateway, secret_key=SECRET) == {
        "recorded": 1,
        "requeued": 0,
    }
    db.expire_all()
    assert db.get(Message, message.id).provider_id is not None
    assert db.get(Message, message.id).status in ("queued", "delivered")
    assert len(gateway.sent) == 1  # not sent twice


def test_a_dispatcher_with_another_key_sends_no_wrong_code(db, sessions, frozen):
    _check, message = code_check(db)
    gateway = MemoryGateway()
    report = dispatch.dispatch_due(sessions, gateway, secret_key="another-key")
    assert (report.sent, report.dropped) == (0, 1)
    assert gateway.sent == []
    db.expire_all()
    failed = db.get(Message, message.id)
    assert (failed.status, failed.error_code, failed.secret_slots) == (
        "failed",
        dispatch.SECRET_LOST,
        None,
    )


def test_the_console_gateway_logs_no_code(db, sessions, frozen, caplog):
    _check, message = code_check(db)
    code = code_in(sms_text(message, SECRET))
    with caplog.at_level(logging.DEBUG):
        assert dispatch.dispatch_due(sessions, ConsoleGateway(), secret_key=SECRET).sent == 1
    assert f"SMS {message.id} to" in caplog.text
    assert code not in caplog.text and MASK not in caplog.text


def test_segments_and_encoding_are_those_of_the_real_text(db, frozen):
    _check, message = code_check(db)
    real = sms_text(message, SECRET)
    # "•" is not GSM-7: counting the masked text would say UCS-2.
    assert count_segments(message.body).encoding == "UCS-2"
    assert (message.encoding, message.segments) == ("GSM-7", count_segments(real).segments)
    # A manage link: "…" is one character, the token 22.
    agenda = Agenda(db)
    appointment = agenda.book()
    confirmation = db.scalar(
        select(Message).where(Message.key == f"confirmation:appointment:{appointment.id}")
    )
    real = sms_text(confirmation, SECRET)
    assert len(real) == len(confirmation.body) + 21
    assert confirmation.segments == count_segments(real).segments
    assert confirmation.encoding == count_segments(real).encoding


def test_a_manage_link_is_stored_masked_and_sent_whole(db, sessions, frozen):
    agenda = Agenda(db)
    appointment = agenda.book(at(10))
    token = booking.issued_token(appointment)
    db.commit()
    confirmation = db.scalar(
        select(Message).where(Message.key == f"confirmation:appointment:{appointment.id}")
    )
    assert confirmation.body.endswith(f"{LINK}/r/…") and token not in confirmation.body
    gateway = MemoryGateway()
    dispatch.dispatch_due(sessions, gateway, secret_key=SECRET)
    [sent] = [sms for sms in gateway.sent if sms.message_id == confirmation.id]
    assert sent.body.endswith(f"{LINK}/r/{token}")
    assert booking.find_by_token(db, token).id == appointment.id
    assert rows_holding(db, token) == 0
    # Moved: a new link, masked as well, that opens the new appointment.
    moved = booking.reschedule(
        db, appointment, at(11), by="person", link_base=LINK, secret_key=SECRET
    )
    new_token = booking.issued_token(moved)
    db.commit()
    changed = db.scalar(select(Message).where(Message.key == f"changed:appointment:{moved.id}"))
    assert new_token not in changed.body and changed.body.endswith(f"{LINK}/r/…")
    assert sms_text(changed, SECRET).endswith(f"{LINK}/r/{new_token}")
    assert booking.find_by_token(db, new_token).id == moved.id


def test_a_bilingual_code_masks_both_languages():
    secret = new_secret(SECRET, "digits", 6)
    from notifications.masking import sentinel, split

    masked, clear, sealed = split(f"FR {sentinel(0)}\nNL {sentinel(0)}", [secret])
    assert masked == f"FR {MASK}\nNL {MASK}"
    assert clear == f"FR {secret.value}\nNL {secret.value}"
    assert reveal(masked, sealed, SECRET) == clear
    assert secret.value not in str(sealed)


def test_the_migration_masks_older_rows_and_stops_those_still_waiting():
    """0013 masks the codes and links kept in clear by older versions."""
    from alembic import command

    from core.migrations import alembic_config

    with fresh_database("mask-secrets") as url:
        upgrade(url, "0010_place_notes")
        engine = make_engine(url)
        moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        with engine.begin() as connection:
            # The tables as they were at 0010 (the models have columns added since).
            old = MetaData()
            contacts = Table("notification_contacts", old, autoload_with=connection)
            table = Table("sms_messages", old, autoload_with=connection)
            connection.execute(
                insert(contacts).values(
                    id=1, display_name="Test", created_at=moment, updated_at=moment
                )
            )
            rows = [
                (
                    "phone-check:1",
                    "CPAS: votre code est 393049. Il est valable 10 minutes.",
                    "sent",
                ),
                ("phone-check:2", "OCMW: uw code is 123456. Hij is 10 minuten geldig.", "pending"),
                ("confirmation:appointment:7", "RDV 3/12. Annuler: https://x.be/r/Ab_9-zz", "sent"),
                (
                    "changed:appointment:8",
                    "RDV. https://x.be/r/Qw3rty_-12 ou 02 123 45 67",
                    "pending",
                ),
                ("reminder:appointment:7:J-1", "Rappel: RDV le 3/12 à 10h, code 123456", "pending"),
                ("broadcast:3:1", "Infos: https://example.org/r/belgium", "pending"),
            ]
            for number, (key, body, status) in enumerate(rows, start=1):
                connection.execute(
                    insert(table).values(
                        id=number,
                        key=key,
                        contact_id=1,
                        to="+32470000001",
                        language="fr",
                        category="verification" if key.startswith("phone") else "reminder",
                        body=body,
                        segments=1,
                        encoding="GSM-7",
                        urgent=False,
                        status=status,
                        not_before=moment,
                        attempts=0,
                        created_at=moment,
                        status_at=moment,
                    )
                )
        command.upgrade(alembic_config(url), "head")
        with engine.connect() as connection:
            found = {
                row.key: (row.body, row.status, row.error_code)
                for row in connection.execute(
                    text("SELECT key, body, status, error_code FROM sms_messages")
                )
            }
            events = connection.execute(
                text("SELECT message_id, status, error_code FROM sms_message_events")
            ).all()
        engine.dispose()
    assert found["phone-check:1"] == (
        "CPAS: votre code est ••••••. Il est valable 10 minutes.",
        "sent",
        None,
    )
    assert found["phone-check:2"] == (
        "OCMW: uw code is ••••••. Hij is 10 minuten geldig.",
        "cancelled",
        "secret_masked",
    )
    assert found["confirmation:appointment:7"] == (
        "RDV 3/12. Annuler: https://x.be/r/…",
        "sent",
        None,
    )
    assert found["changed:appointment:8"] == (
        "RDV. https://x.be/r/… ou 02 123 45 67",
        "cancelled",
        "secret_masked",
    )
    # Not a code message, no link: left alone.
    assert found["reminder:appointment:7:J-1"][1:] == ("pending", None)
    assert "123456" in found["reminder:appointment:7:J-1"][0]
    # Another site's "/r/" path in a broadcast is no manage link: left as it is, still sent.
    assert found["broadcast:3:1"] == ("Infos: https://example.org/r/belgium", "pending", None)
    assert sorted(tuple(event) for event in events) == [
        (2, "cancelled", "secret_masked"),
        (4, "cancelled", "secret_masked"),
    ]


def test_a_damaged_row_or_another_key_gives_no_text():
    from notifications.masking import SecretUnavailable, sentinel, split

    secret = new_secret(SECRET, "digits", 6)
    masked, _clear, sealed = split(f"code {sentinel(0)}.", [secret])
    with pytest.raises(SecretUnavailable):
        reveal(masked, sealed, "another-key")
    with pytest.raises(SecretUnavailable):
        reveal(masked.replace(MASK, "123456"), sealed, SECRET)
    assert reveal("no secret here", None, None) == "no secret here"
