"""The public booking's steps through the test client, the API's booking body: web tests."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from appointments.online import start_value
from core import clock
from notifications.models import Message
from tests.db.appointments_world import Agenda, at, mobile
from tests.support import sms_text


def times_url(agenda: Agenda) -> str:
    return f"/rendez-vous/{agenda.service.code}/{agenda.location.code}"


def choose(browser, agenda: Agenda, start=None):
    browser.get(times_url(agenda))
    return browser.post(times_url(agenda), {"start": start_value(start or at(10))})


def details(browser, number: str, *, name: str = "Amina Test", language: str = "fr"):
    return browser.post(
        "/rendez-vous/details", {"name": name, "phone": number, "sms_language": language}
    )


def last_code(db) -> str:
    db.expire_all()
    message = db.scalar(
        select(Message).where(Message.key.like("phone-check:%")).order_by(Message.id.desc())
    )
    assert message is not None
    return re.search(r"\b(\d{6})\b", sms_text(message)).group(1)


def book_path(browser, db, agenda: Agenda, number: str, start=None):
    """Steps 3 to 6; returns the answer to the code."""
    assert choose(browser, agenda, start).status_code == 302
    assert details(browser, number).status_code == 302
    return browser.post("/rendez-vous/code", {"code": last_code(db)})


def book_json(agenda: Agenda, start: datetime | None = None, **person) -> dict:
    return {
        "service": agenda.service.code,
        "location": agenda.location.code,
        "start": clock.to_local(start or at(10)).isoformat(),
        "person": {"name": "Amina Test", "phone": mobile(), **person},
    }
