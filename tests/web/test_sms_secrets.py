"""Booking online, end to end: the code and the manage link reach the person whole
(through the memory gateway), and no office account ever sees them on the SMS pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import String, cast, func, or_, select

from appointments import booking
from appointments.online import start_value
from core import clock
from core.audit import AuditEntry
from notifications import dispatch
from notifications.gateways import MemoryGateway
from notifications.models import Message, MessageEvent
from tests.db.appointments_world import NOW, Agenda, at, mobile
from tests.support import text_of

pytestmark = pytest.mark.usefixtures("empty_outbox")

SECRET = "test-secret"  # the test app's key (tests/conftest.py)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def holding(db, model, value: str) -> int:
    columns = [cast(column, String) for column in model.__table__.columns]
    return db.scalar(
        select(func.count())
        .select_from(model)
        .where(or_(*(column.contains(value) for column in columns)))
    )


def test_a_booking_s_code_and_link_reach_the_person_but_no_office_page(
    db, browser, sessions, login
):
    agenda = Agenda(db)
    db.commit()
    number = mobile()
    gateway = MemoryGateway()
    browser.client.set_cookie("terrain_lang", "en")
    times = f"/rendez-vous/{agenda.service.code}/{agenda.location.code}"
    browser.get(times)
    assert browser.post(times, {"start": start_value(at(10))}).status_code == 302
    details = {"name": "Amina Test", "phone": number, "sms_language": "fr"}
    assert browser.post("/rendez-vous/details", details).status_code == 302
    # The scheduler's dispatcher sends the code: the gateway gets it whole.
    assert dispatch.dispatch_due(sessions, gateway, secret_key=SECRET).sent == 1
    [code_sms] = gateway.sent
    code = re.search(r"\b(\d{6})\b", code_sms.body).group(1)
    assert code_sms.to == number
    # ... and it verifies: the booking is made.
    assert browser.post("/rendez-vous/code", {"code": code}).status_code == 302
    page = text_of(browser.get("/rendez-vous/done"))
    token = re.search(r'href="/r/([^"/]+)"', page).group(1)
    appointment = booking.find_by_token(db, token)
    assert appointment is not None
    assert dispatch.dispatch_due(sessions, gateway, secret_key=SECRET).sent == 1
    confirmation_sms = gateway.sent[-1]
    assert f"/r/{token}" in confirmation_sms.body
    assert browser.get(f"/r/{token}").status_code == 200  # the link sent works

    db.expire_all()
    code_message = db.scalar(select(Message).where(Message.id == code_sms.message_id))
    confirmation = db.scalar(select(Message).where(Message.id == confirmation_sms.message_id))
    # The place is Marolles' team's: the code speaks for the CPAS de Bruxelles.
    assert code_message.body == (
        "CPAS de Bruxelles: votre code est ••••••. Il est valable 10 minutes."
    )
    assert confirmation.body.endswith("/r/…") and token not in confirmation.body
    # The platform administrator (no team) reads no CPAS's messages: 404 (docs/cpas.md).
    admin = login("admin")
    assert admin.get(f"/sms/messages/{code_message.id}").status_code == 404
    for username in ("coordination", "accueil"):
        staff = login(username)
        for path in (
            "/sms/",
            "/sms/?category=verification",
            f"/sms/?q={code_message.contact.display_name}",
            f"/sms/messages/{code_message.id}",
            f"/sms/messages/{confirmation.id}",
            f"/sms/contacts/{confirmation.contact_id}",
        ):
            response = staff.get(path)
            assert response.status_code == 200, (username, path)
            shown = response.get_data(as_text=True)
            assert code not in shown and token not in shown, (username, path)
        assert "••••••" in text_of(staff.get(f"/sms/messages/{code_message.id}"))
        assert "/r/…" in text_of(staff.get(f"/sms/messages/{confirmation.id}"))
    # Neither the outbox, its history nor the audit log holds them.
    for model in (Message, MessageEvent, AuditEntry):
        assert holding(db, model, code) == 0, model
        assert holding(db, model, token) == 0, model
