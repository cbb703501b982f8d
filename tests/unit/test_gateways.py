"""SMS gateways: the real twilio library against the local fake, the console, memory."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from core import clock
from core.config import Settings
from notifications.gateways import (
    ConsoleGateway,
    MemoryGateway,
    OutgoingSms,
    PermanentGatewayError,
    TransientGatewayError,
    TwilioGateway,
    make_gateway,
    mask_number,
    signature_is_valid,
    twilio_status,
)
from tests.fake_twilio import (
    LANDLINE_NUMBER,
    OPTED_OUT_NUMBER,
    FakeTwilio,
    in_process,
    read_stats,
)

MOBILE = "+32470123456"
CALLBACK = "https://terrain.example/sms/status"


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "instance_path": Path("/nonexistent"),
        "database_url": "sqlite://",
        "secret_key": "test",
    }
    return Settings(**{**values, **overrides})


def sms(to: str = MOBILE, body: str = "Rendez-vous demain à 10h", **extra: Any) -> OutgoingSms:
    values: dict[str, Any] = {"validity_seconds": 3600, "status_callback_url": CALLBACK}
    return OutgoingSms(message_id=1, to=to, body=body, **{**values, **extra})


@pytest.fixture()
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def twilio(fake: FakeTwilio, **overrides: Any) -> TwilioGateway:
    values: dict[str, Any] = {
        "sms_gateway": "twilio",
        "twilio_account_sid": fake.account_sid,
        "twilio_auth_token": fake.auth_token,
        "twilio_from": "CPAS",
        "twilio_api_url": fake.url,
    }
    gateway = make_gateway(settings(**{**values, **overrides}))
    assert isinstance(gateway, TwilioGateway)
    return gateway


# Twilio: sending


def test_send_goes_through_the_library_to_the_base_url(fake):
    result = twilio(fake).send(sms())
    assert result.status == "queued"
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.segments == 1 and result.price is None
    [received] = fake.sent
    assert received["To"] == MOBILE and received["Body"] == "Rendez-vous demain à 10h"
    assert received["From"] == "CPAS" and "MessagingServiceSid" not in received
    assert received["StatusCallback"] == CALLBACK
    assert received["ValidityPeriod"] == "3600"
    assert received["Sid"] == result.provider_id
    assert fake.count(MOBILE, "Rendez-vous demain à 10h") == 1


def test_messaging_service_is_preferred_to_from(fake):
    gateway = twilio(fake, twilio_messaging_service_sid="MG" + "1" * 32)
    result = gateway.send(sms(status_callback_url=None, validity_seconds=None))
    [received] = fake.sent
    assert received["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in received
    assert "StatusCallback" not in received and "ValidityPeriod" not in received
    # Twilio answers "accepted" and 0 segments until the service picks a sender.
    assert fake.message(result.provider_id)["status"] == "accepted"
    assert result.status == "queued" and result.segments is None


@pytest.mark.parametrize(("asked", "sent"), [(100_000, "36000"), (0, "1"), (-5, "1")])
def test_validity_period_is_clamped_to_what_twilio_accepts(fake, asked, sent):
    twilio(fake).send(sms(validity_seconds=asked))
    assert fake.sent[0]["ValidityPeriod"] == sent


@pytest.mark.parametrize(
    ("to", "code", "reason"),
    [
        (OPTED_OUT_NUMBER, "21610", "opted_out"),
        (LANDLINE_NUMBER, "21614", "not_mobile"),
        ("+32123", "21211", "invalid_number"),
    ],
)
def test_refused_numbers_are_permanent_errors(fake, to, code, reason):
    with pytest.raises(PermanentGatewayError) as caught:
        twilio(fake).send(sms(to=to))
    assert caught.value.code == code and caught.value.reason == reason
    # Twilio's message names the number; ours never does.
    digits = to.lstrip("+")
    assert digits not in caught.value.detail and digits not in str(caught.value)
    assert fake.count() == 0


def test_other_client_errors_are_rejections(fake):
    fake.errors[MOBILE] = (400, 21408, f"Permission to send an SMS to {MOBILE} not enabled")
    with pytest.raises(PermanentGatewayError) as caught:
        twilio(fake).send(sms())
    assert (caught.value.code, caught.value.reason) == ("21408", "rejected")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [(500, None, "500"), (503, None, "503"), (429, 20429, "20429"), (400, 30001, "30001")],
)
def test_throttling_and_server_errors_are_transient(fake, status, code, expected):
    gateway = twilio(fake)
    fake.fail_next(status, code)
    with pytest.raises(TransientGatewayError) as caught:
        gateway.send(sms())
    assert caught.value.code == expected
    assert fake.count() == 0
    assert gateway.send(sms()).status == "queued"  # the next try goes through
    assert fake.count() == 1


def test_throughput_limit_answers_429_20429():
    with FakeTwilio(max_per_second=2) as fake:
        gateway = twilio(fake)
        gateway.send(sms(body="un"))
        gateway.send(sms(body="deux"))
        with pytest.raises(TransientGatewayError) as caught:
            gateway.send(sms(body="trois"))
        assert caught.value.code == "20429"


def test_wrong_credentials_are_transient_not_the_messages_fault(fake):
    with pytest.raises(TransientGatewayError) as caught:
        twilio(fake, twilio_auth_token="wrong").send(sms())
    assert caught.value.code == "20003"


def test_a_stopped_server_is_a_transient_connection_error(fake):
    gateway = twilio(fake)
    gateway.send(sms())  # leaves a keep-alive connection in the pool
    fake.stop()
    with pytest.raises(TransientGatewayError) as caught:
        gateway.send(sms())
    assert caught.value.code == "connection"


def test_a_timeout_is_transient_and_find_sent_then_finds_the_message(fake):
    since = clock.now()
    fake.latency = 0.5
    gateway = TwilioGateway(fake.account_sid, fake.auth_token, from_="CPAS", api_url=fake.url)
    slow = TwilioGateway(
        fake.account_sid, fake.auth_token, from_="CPAS", api_url=fake.url, timeout=0.1
    )
    with pytest.raises(TransientGatewayError) as caught:
        slow.send(sms())
    assert caught.value.code == "timeout"
    # Twilio may still have taken it: that is what reconciliation is for.
    deadline = time.monotonic() + 5
    while fake.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    fake.latency = 0
    found = gateway.find_sent(MOBILE, sms().body, since)
    assert found is not None and found.provider_id == fake.sent[0]["Sid"]


def test_region_in_the_environment_does_not_redirect_calls(fake, monkeypatch):
    # The library reads TWILIO_REGION/TWILIO_EDGE itself and would rewrite the host.
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    assert twilio(fake).send(sms()).status == "queued"


# Twilio: finding and fetching


def test_find_sent_matches_number_and_text(fake):
    gateway = twilio(fake)
    since = clock.now() - timedelta(seconds=1)
    gateway.send(sms(body="autre texte"))
    sent = gateway.send(sms())
    gateway.send(sms(to="+32470123499"))
    found = gateway.find_sent(MOBILE, sms().body, since)
    assert found is not None and found.provider_id == sent.provider_id
    assert found.status == "queued"
    assert gateway.find_sent(MOBILE, "jamais envoyé", since) is None
    assert gateway.find_sent("+32470123400", sms().body, since) is None
    assert gateway.find_sent(MOBILE, sms().body, clock.now() + timedelta(hours=1)) is None


def test_next_pages_follow_the_base_url(fake):
    gateway = twilio(fake)
    for n in range(5):
        gateway.send(sms(body=f"message {n}"))
    listed = gateway.client.messages.list(to=MOBILE, page_size=2)
    assert [m.body for m in listed] == [f"message {n}" for n in (4, 3, 2, 1, 0)]


def test_no_phone_number_reaches_the_logs(fake, caplog):
    # The library logs each request's query string at INFO; urllib3 only at DEBUG.
    gateway = twilio(fake)
    with caplog.at_level(logging.INFO):
        gateway.send(sms())
        gateway.find_sent(MOBILE, sms().body, clock.now() - timedelta(minutes=1))
    assert "470123456" not in caplog.text


def test_fetch_reads_status_segments_and_a_positive_price(fake):
    gateway = twilio(fake)
    sent = gateway.send(sms(body="x" * 200))
    fake.set_status(sent.provider_id, "delivered")
    fetched = gateway.fetch(sent.provider_id)
    assert fetched is not None
    assert fetched.status == "delivered" and fetched.segments == 2
    assert fetched.price == Decimal("0.15") and fetched.error_code is None


def test_fetch_reports_delivery_errors_and_unknown_messages(fake):
    gateway = twilio(fake)
    sent = gateway.send(sms())
    fake.set_status(sent.provider_id, "undelivered", error_code=30006)
    fetched = gateway.fetch(sent.provider_id)
    assert fetched is not None
    assert (fetched.status, fetched.error_code) == ("undelivered", "30006")
    assert gateway.fetch("SM" + "0" * 32) is None


def test_a_price_in_dollars_is_no_price_in_euros():
    with FakeTwilio(price_unit="USD") as fake:
        gateway = twilio(fake)
        sent = gateway.send(sms())
        fake.set_status(sent.provider_id, "sent")
        fetched = gateway.fetch(sent.provider_id)
        assert fetched is not None and fetched.status == "sent" and fetched.price is None


@pytest.mark.parametrize(
    ("raw", "ours"),
    [
        ("accepted", "queued"),
        ("scheduled", "queued"),
        ("queued", "queued"),
        ("sending", "queued"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "delivered"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("DELIVERED", "delivered"),
        ("something-new", "queued"),
    ],
)
def test_twilio_statuses_in_our_vocabulary(raw, ours):
    assert twilio_status(raw) == ours


# Status callback signatures


def test_signature_is_checked_against_url_params_and_token(fake):
    sent = twilio(fake).send(sms())
    params = fake.callback_params(sent.provider_id, "delivered")
    signature = fake.sign(CALLBACK, params)
    assert signature_is_valid(fake.auth_token, CALLBACK, params, signature)
    forged = FakeTwilio(auth_token="another-token").sign(CALLBACK, params)
    assert not signature_is_valid(fake.auth_token, CALLBACK, params, forged)
    assert not signature_is_valid(fake.auth_token, CALLBACK, params, None)
    assert not signature_is_valid(fake.auth_token, CALLBACK, params, "")
    assert not signature_is_valid("", CALLBACK, params, signature)
    # Behind a proxy the app sees http://: the signed URL is the public https one.
    http_url = CALLBACK.replace("https://", "http://")
    assert not signature_is_valid(fake.auth_token, http_url, params, signature)
    tampered = {**params, "MessageStatus": "failed"}
    assert not signature_is_valid(fake.auth_token, CALLBACK, tampered, signature)


def test_status_callbacks_arrive_signed(fake):
    received: list[tuple[dict[str, str], str | None]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            received.append((form, self.headers.get("X-Twilio-Signature")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        local = f"http://127.0.0.1:{server.server_address[1]}/sms/status"
        sent = twilio(fake).send(sms())
        answer = fake.send_status_callback(sent.provider_id, "delivered", post_to=local)
    finally:
        server.shutdown()
        server.server_close()
    assert answer == 204
    [(form, signature)] = received
    assert form["MessageSid"] == sent.provider_id and form["MessageStatus"] == "delivered"
    assert signature_is_valid(fake.auth_token, CALLBACK, form, signature)
    assert not signature_is_valid(fake.auth_token, local, form, signature)


# Console and memory


def test_console_logs_a_masked_number_and_never_the_text(caplog):
    body = "Votre dossier au CPAS est complet, Madame Dupont"
    with caplog.at_level(logging.INFO, logger="terrain.sms"):
        result = ConsoleGateway().send(replace(sms(body=body), message_id=7))
    assert (result.provider_id, result.status) == ("console-7", "delivered")
    [record] = caplog.records
    line = record.getMessage()
    assert "+32 *** ** ** 56" in line and " 7 " in line and "1 segment" in line
    assert "470123456" not in line and "Dupont" not in line and "dossier" not in line
    assert ConsoleGateway().find_sent(MOBILE, body, clock.now()) is None
    assert ConsoleGateway().fetch("console-7") is None


@pytest.mark.parametrize(
    ("number", "masked"),
    [("+32470123456", "+32 *** ** ** 56"), ("+33612345678", "+33 *** ** ** 78")],
)
def test_masked_numbers_keep_country_and_last_two_digits(number, masked):
    assert mask_number(number) == masked


def test_memory_gateway_fails_on_demand_then_sends():
    gateway = MemoryGateway()
    gateway.fail_next(TransientGatewayError("timeout"), times=2)
    for _ in range(2):
        with pytest.raises(TransientGatewayError):
            gateway.send(sms())
    result = gateway.send(sms())
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert gateway.sent == [sms()]


def test_memory_gateway_numbers_failing_find_and_fetch():
    gateway = MemoryGateway()
    gateway.numbers_failing[OPTED_OUT_NUMBER] = PermanentGatewayError("21610", "opted_out")
    with pytest.raises(PermanentGatewayError):
        gateway.send(sms(to=OPTED_OUT_NUMBER))
    since = clock.now() - timedelta(seconds=1)
    sent = gateway.send(sms())
    found = gateway.find_sent(MOBILE, sms().body, since)
    assert found is not None and found.provider_id == sent.provider_id
    assert gateway.find_sent(MOBILE, "autre", since) is None
    fetched = gateway.fetch(sent.provider_id)
    assert fetched is not None and fetched.status == "delivered"
    gateway.set_status(sent.provider_id, "undelivered")
    fetched = gateway.fetch(sent.provider_id)
    assert fetched is not None and fetched.status == "undelivered"
    assert gateway.fetch("SM-unknown") is None


# Choosing a gateway


def test_make_gateway_by_name():
    assert isinstance(make_gateway(settings()), ConsoleGateway)
    assert isinstance(make_gateway(settings(sms_gateway="memory")), MemoryGateway)
    with pytest.raises(ValueError, match="console, twilio or memory"):
        make_gateway(settings(sms_gateway="carrier-pigeon"))


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("twilio_account_sid", "TWILIO_ACCOUNT_SID"),
        ("twilio_auth_token", "TWILIO_AUTH_TOKEN"),
        ("twilio_from", "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM"),
    ],
)
def test_incomplete_twilio_settings_are_refused(missing, named):
    complete = {
        "sms_gateway": "twilio",
        "twilio_account_sid": "AC" + "0" * 32,
        "twilio_auth_token": "token",
        "twilio_from": "CPAS",
    }
    with pytest.raises(ValueError, match=named):
        make_gateway(settings(**{**complete, missing: ""}))


# The fake itself, as other processes use it


def test_fake_counts_duplicates_for_other_processes(fake):
    gateway = twilio(fake)
    gateway.send(sms())
    gateway.send(sms())
    gateway.send(sms(body="autre"))
    stats = read_stats(fake.url)
    assert stats["total"] == 3 and stats["duplicates"] == 1 and stats["distinct"] == 2


def test_fake_runs_as_a_separate_process():
    with in_process(latency=0.01) as url:
        gateway = TwilioGateway(
            "AC" + "0" * 32, "fake-twilio-auth-token", from_="CPAS", api_url=url
        )
        gateway.send(sms())
        assert read_stats(url)["total"] == 1
