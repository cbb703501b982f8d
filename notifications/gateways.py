"""SMS gateways: the console (demo), memory (tests) and Twilio, behind one small protocol.

No Flask, no database: the outbox (notifications/jobs.py) decides what to send and when
to retry; a gateway only sends one message, finds one again, or reads its status, and
says whether a failure is worth retrying.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

import phonenumbers
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from core import clock
from core.config import Settings
from notifications.sms import count_segments

log = logging.getLogger("terrain.sms")

T = TypeVar("T")

# The twilio library logs every request at INFO, query strings included (the recipient's
# number when listing messages): its logger stays at WARNING so no number reaches the logs.
_twilio_http_log = logging.getLogger("terrain.sms.twilio_http")
_twilio_http_log.setLevel(logging.WARNING)

HTTP_TIMEOUT_SECONDS = 10.0
# Twilio accepts ValidityPeriod from 1 to 36000 seconds (its default is 36000).
VALIDITY_MIN_SECONDS = 1
VALIDITY_MAX_SECONDS = 36000
# Our clock and Twilio's may disagree a little; reconciliation looks that much further back.
CLOCK_SKEW = timedelta(minutes=2)

STATUSES = ("queued", "sent", "delivered", "undelivered", "failed")

_TWILIO_STATUSES = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "receiving": "queued",
    "received": "delivered",
    "delivered": "delivered",
    "read": "delivered",
    "partially_delivered": "sent",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}

# Twilio error codes that must never be retried, by the reason we record.
_PERMANENT_REASONS = {
    21211: "invalid_number",  # invalid 'To' number
    21217: "invalid_number",  # phone number does not appear to be valid
    21401: "invalid_number",  # invalid phone number
    21421: "invalid_number",  # phone number is invalid
    21614: "not_mobile",  # 'To' number is not a valid mobile number
    21407: "not_mobile",  # this number type does not support SMS
    21610: "opted_out",  # the recipient replied STOP
}
# Twilio error codes that say "later": too many requests, queue overflow.
_TRANSIENT_CODES = {20429, 30001}
# Wrong credentials are the account's problem, not the message's: once the operator fixes
# the token, the waiting messages must still go out.
_ACCOUNT_CODES = {20003}


@dataclass(frozen=True)
class OutgoingSms:
    message_id: int  # our outbox row id
    to: str  # E.164
    body: str
    validity_seconds: int | None  # how long the gateway may keep trying; None = its default
    status_callback_url: str | None
    # The CPAS's sender (a name of at most 11 characters, or a number); None: the
    # gateway's own (TWILIO_FROM, or the Messaging Service's choice).
    sender: str | None = None


@dataclass(frozen=True)
class ProviderMessage:
    provider_id: str
    status: str  # "queued" | "sent" | "delivered" | "undelivered" | "failed"
    error_code: str | None = None
    segments: int | None = None
    price: Decimal | None = None  # positive euros


class GatewayError(Exception):
    """A send, search or fetch that did not work; `detail` never holds personal data."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class TransientGatewayError(GatewayError):
    """Try again later: throttling, gateway trouble, timeouts, connection errors."""


class PermanentGatewayError(GatewayError):
    """Never retry this message; `reason` says why (invalid_number, not_mobile, ...)."""

    REASONS = ("invalid_number", "not_mobile", "opted_out", "rejected")

    def __init__(self, code: str, reason: str, detail: str = "") -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(code, detail)
        self.reason = reason


class Gateway(Protocol):
    name: str

    def send(self, sms: OutgoingSms) -> ProviderMessage: ...

    def find_sent(self, to: str, body: str, since: datetime) -> ProviderMessage | None: ...

    def fetch(self, provider_id: str) -> ProviderMessage | None: ...


def twilio_status(raw: str) -> str:
    """Twilio's message status in our vocabulary; an unknown one counts as still queued."""
    return _TWILIO_STATUSES.get((raw or "").strip().lower(), "queued")


def signature_is_valid(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """Whether X-Twilio-Signature matches `url` (as Twilio called it) and the POST params."""
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def mask_number(number: str) -> str:
    """The number as "+32 *** ** ** 56": country code and last two digits, not the length."""
    digits = "".join(ch for ch in number if ch.isdigit())
    try:
        country = f"+{phonenumbers.parse(number).country_code}"
    except phonenumbers.NumberParseException:
        country = "+?"
    return f"{country} *** ** ** {digits[-2:] if len(digits) >= 2 else '??'}"


def make_gateway(settings: Settings) -> Gateway:
    """The gateway named by TERRAIN_SMS_GATEWAY, or ValueError when it cannot work."""
    name = settings.sms_gateway.strip().lower()
    if name == "console":
        return ConsoleGateway()
    if name == "memory":
        return MemoryGateway()
    if name == "twilio":
        missing = [
            variable
            for variable, value in (
                ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
                ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
            )
            if not value
        ]
        if not (settings.twilio_messaging_service_sid or settings.twilio_from):
            missing.append("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM")
        if missing:
            raise ValueError(f"TERRAIN_SMS_GATEWAY=twilio needs {', '.join(missing)}")
        return TwilioGateway(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            messaging_service_sid=settings.twilio_messaging_service_sid or None,
            from_=settings.twilio_from or None,
            api_url=settings.twilio_api_url or None,
        )
    raise ValueError(
        f"TERRAIN_SMS_GATEWAY must be console, twilio or memory, got {settings.sms_gateway!r}"
    )


class ConsoleGateway:
    """The demo's gateway: one log line per message (masked number, no text)."""

    name = "console"

    def send(self, sms: OutgoingSms) -> ProviderMessage:
        segments = count_segments(sms.body).segments
        log.info(
            "SMS %s to %s (%s segment%s) [console gateway: not sent]",
            sms.message_id,
            mask_number(sms.to),
            segments,
            "" if segments == 1 else "s",
        )
        return ProviderMessage(
            provider_id=f"console-{sms.message_id}", status="delivered", segments=segments
        )

    def find_sent(self, to: str, body: str, since: datetime) -> ProviderMessage | None:
        return None  # the console keeps nothing

    def fetch(self, provider_id: str) -> ProviderMessage | None:
        return None


@dataclass
class _Kept:
    provider_id: str
    sms: OutgoingSms
    at: datetime
    status: str = "queued"


class MemoryGateway:
    """Keeps what it sends in memory, fails on demand: for tests."""

    name = "memory"

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.sent: list[OutgoingSms] = []
        self.numbers_failing: dict[str, GatewayError] = {}
        self._kept: list[_Kept] = []
        self._failures: list[GatewayError] = []
        self._statuses: dict[str, str] = {}
        self._lock = threading.Lock()

    def fail_next(self, error: GatewayError, times: int = 1) -> None:
        """The next `times` sends raise `error` (whatever the number)."""
        with self._lock:
            self._failures.extend([error] * times)

    def set_status(self, provider_id: str, status: str) -> None:
        """What fetch() answers for this message from now on (our vocabulary)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._lock:
            self._statuses[provider_id] = status

    def send(self, sms: OutgoingSms) -> ProviderMessage:
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            if self._failures:
                raise self._failures.pop(0)
            if sms.to in self.numbers_failing:
                raise self.numbers_failing[sms.to]
            kept = _Kept(provider_id="SM" + secrets.token_hex(16), sms=sms, at=clock.now())
            self.sent.append(sms)
            self._kept.append(kept)
        return ProviderMessage(provider_id=kept.provider_id, status="queued")

    def find_sent(self, to: str, body: str, since: datetime) -> ProviderMessage | None:
        since = clock.as_utc(since)
        with self._lock:
            for kept in reversed(self._kept):
                if kept.sms.to == to and kept.sms.body == body and kept.at >= since:
                    status = self._statuses.get(kept.provider_id, "delivered")
                    return ProviderMessage(provider_id=kept.provider_id, status=status)
        return None

    def fetch(self, provider_id: str) -> ProviderMessage | None:
        with self._lock:
            if not any(kept.provider_id == provider_id for kept in self._kept):
                return None
            status = self._statuses.get(provider_id, "delivered")
        return ProviderMessage(provider_id=provider_id, status=status)


class TwilioGateway:
    """Twilio's Programmable Messaging through the official library."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        messaging_service_sid: str | None = None,
        from_: str | None = None,
        api_url: str | None = None,
        timeout: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        if not (messaging_service_sid or from_):
            raise ValueError("Twilio needs a Messaging Service SID or a From")
        self.messaging_service_sid = messaging_service_sid
        self.from_ = from_
        self.client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=timeout, logger=_twilio_http_log),
        )
        # Settings are read in core.config only: Client also reads TWILIO_EDGE and
        # TWILIO_REGION from os.environ and would rewrite hostnames (and mangle api_url).
        self.client.edge = None
        self.client.region = None
        if api_url:
            # Domain.base_url is the public attribute every request and every next-page
            # link of the API domain is built from; nothing else needs changing.
            self.client.api.base_url = api_url.rstrip("/")

    def send(self, sms: OutgoingSms) -> ProviderMessage:
        options: dict[str, Any] = {"to": sms.to, "body": sms.body}
        if self.messaging_service_sid:
            options["messaging_service_sid"] = self.messaging_service_sid
            if sms.sender:
                # With a Messaging Service the CPAS's sender must be one of its senders.
                options["from_"] = sms.sender
        else:
            options["from_"] = sms.sender or self.from_
        if sms.status_callback_url:
            options["status_callback"] = sms.status_callback_url
        if sms.validity_seconds is not None:
            options["validity_period"] = min(
                max(int(sms.validity_seconds), VALIDITY_MIN_SECONDS), VALIDITY_MAX_SECONDS
            )
        message = _call(lambda: self.client.messages.create(**options))
        return _provider_message(message)

    def find_sent(self, to: str, body: str, since: datetime) -> ProviderMessage | None:
        # The library writes any datetime with a "Z": it must be UTC already.
        after = clock.as_utc(since) - CLOCK_SKEW
        messages = _call(lambda: self.client.messages.list(to=to, date_sent_after=after, limit=50))
        for message in messages:  # newest first
            if message.body == body:
                return _provider_message(message)
        return None

    def fetch(self, provider_id: str) -> ProviderMessage | None:
        try:
            message = _call(lambda: self.client.messages(provider_id).fetch())
        except PermanentGatewayError as error:
            if error.code in ("20404", "404"):
                return None
            raise
        return _provider_message(message)


def _call(action: Callable[[], T]) -> T:
    """Run one library call, turning its failures into our two kinds of GatewayError."""
    try:
        return action()
    except (TwilioRestException, TwilioServiceException) as exc:
        raise _classify(exc.status, exc.code) from None
    except requests.Timeout:
        raise TransientGatewayError("timeout", "no answer from Twilio in time") from None
    except requests.ConnectionError:
        raise TransientGatewayError("connection", "could not connect to Twilio") from None
    except requests.RequestException as exc:
        raise TransientGatewayError("http", type(exc).__name__) from None
    except TwilioException as exc:
        # A list page that is not 200 comes as a bare TwilioException(message, response).
        status = next((arg.status_code for arg in exc.args if hasattr(arg, "status_code")), None)
        if status is None:
            raise TransientGatewayError("twilio", "unexpected answer from Twilio") from None
        raise _classify(status, None) from None


def _classify(status: int | None, code: int | str | None) -> GatewayError:
    """Transient or permanent, from the HTTP status and Twilio's error code."""
    status = int(status) if status is not None else 0
    number = int(code) if code is not None and str(code).isdigit() else None
    if number == status:
        number = None  # the library puts the HTTP status in `code` when Twilio gave none
    label = str(number) if number is not None else str(status)
    detail = f"Twilio answered HTTP {status}" + (f", error {number}" if number else "")
    if number in _PERMANENT_REASONS:
        return PermanentGatewayError(label, _PERMANENT_REASONS[number], detail)
    if (
        number in _TRANSIENT_CODES
        or number in _ACCOUNT_CODES
        or status in (401, 408, 429)
        or status >= 500
        or status == 0
    ):
        return TransientGatewayError(label, detail)
    if 400 <= status < 500:
        return PermanentGatewayError(label, "rejected", detail)
    return TransientGatewayError(label, detail)


def _provider_message(message: Any) -> ProviderMessage:
    """Our view of a twilio MessageInstance."""
    error_code = getattr(message, "error_code", None)
    return ProviderMessage(
        provider_id=message.sid,
        status=twilio_status(message.status or ""),
        error_code=str(error_code) if error_code not in (None, "", 0) else None,
        segments=_positive_int(getattr(message, "num_segments", None)),
        price=_price(getattr(message, "price", None), getattr(message, "price_unit", None)),
    )


def _positive_int(raw: object) -> int | None:
    # With a Messaging Service, num_segments is "0" until a sender is chosen: unknown.
    try:
        value = int(str(raw))
    except ValueError:
        return None
    return value if value > 0 else None


def _price(raw: object, unit: object) -> Decimal | None:
    """Twilio bills as negative strings ("-0.07500"); we keep positive euros, or nothing."""
    if raw in (None, "") or str(unit or "EUR").upper() != "EUR":
        return None  # an account billed in dollars gives no euro amount
    try:
        return abs(Decimal(str(raw)))
    except InvalidOperation:
        return None
