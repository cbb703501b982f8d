"""A one-time SMS code started, read and verified: test_phone_checks and web/test_cpas_left."""

from __future__ import annotations

import re

from sqlalchemy import select

from appointments import verification
from appointments.verification import PhoneCheck
from notifications.models import Message
from tests.support import sms_text

SECRET = "test-secret"


def start(db, number: str, *, address: str = "192.0.2.1", language: str = "fr") -> PhoneCheck:
    return verification.start(
        db, raw_phone=number, language=language, address=address, secret=SECRET
    )


def sent_code(db, check: PhoneCheck) -> str:
    message = db.scalar(select(Message).where(Message.key == f"phone-check:{check.id}"))
    assert message is not None
    assert not re.search(r"\d{6}", message.body)  # masked in the outbox
    found = re.search(r"\b(\d{6})\b", sms_text(message, SECRET))
    assert found
    return found.group(1)


def verified(db, number: str) -> tuple[int, str]:
    check = start(db, number)
    return check.id, verification.verify(db, check, sent_code(db, check), secret=SECRET)
