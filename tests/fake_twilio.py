"""A local fake of Twilio's Messages API, for the tests and the benchmarks.

It answers what the twilio library calls (create, fetch and list messages) the way
Twilio does: basic auth, form-encoded parameters, Twilio-shaped JSON resources and
errors, pages with next_page_uri. On top: latency, canned errors per number, transient
failures on demand, a throughput limit, counters to prove "each sent exactly once", and
correctly signed status callbacks.

In a test:    with FakeTwilio() as fake: ... fake.url, fake.count(to, body)
As a process: python -m tests.fake_twilio --port 8765 --latency 0.02
              (prints its URL; GET /_fake/stats answers {"total": ..., "duplicates": ...})
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hmac
import json
import math
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import phonenumbers
from twilio.request_validator import RequestValidator

from core import clock, testmode

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token"

OPTED_OUT_NUMBER = "+32470000610"
LANDLINE_NUMBER = "+3225550000"

# (HTTP status, Twilio code, message) for numbers that always fail; Twilio's own wording,
# number included, so the tests can check that it never reaches our logs or our errors.
DEFAULT_ERRORS: dict[str, tuple[int, int, str]] = {
    OPTED_OUT_NUMBER: (400, 21610, "Attempt to send to unsubscribed recipient"),
    LANDLINE_NUMBER: (400, 21614, f"'To' number {LANDLINE_NUMBER} is not a valid mobile number"),
}

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")

STATUSES = (
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "read",
    "canceled",
)


def _now() -> datetime:
    """Twilio's clock: the wall clock, moved as the suite's (pytest --clock) is, so that
    its dates and the dispatcher's agree; a test's clock.frozen() does not stop it."""
    return datetime.now(UTC) + clock.offset()


def segments_of(body: str) -> int:
    """How many SMS segments Twilio would bill for `body` (GSM-7 or UCS-2)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        septets = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment is not None else None


def _parse_date(raw: str) -> datetime | None:
    """Twilio accepts "YYYY-MM-DD" and full ISO datetimes in DateSent filters."""
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FakeTwilio:
    """Twilio's Messages API on 127.0.0.1, in a background thread."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        latency: float = 0.0,
        max_per_second: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        reject_landlines: bool = True,
        segment_price: Decimal = Decimal("0.075"),
        price_unit: str = "EUR",
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency = latency
        self.max_per_second = max_per_second
        self.reject_landlines = reject_landlines
        self.segment_price = segment_price
        self.price_unit = price_unit
        self.errors: dict[str, tuple[int, int, str]] = dict(DEFAULT_ERRORS)
        self.requests = 0
        self.rejected = 0
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._messages: dict[str, dict[str, Any]] = {}  # sid → resource (+ private "_" keys)
        self._order: list[str] = []
        self._sent: list[dict[str, str]] = []
        self._counts: Counter[tuple[str, str]] = Counter()
        self._failures: deque[tuple[int, int | None, str]] = deque()
        self._accepted_at: deque[float] = deque()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Life cycle

    def start(self) -> FakeTwilio:
        """Listen and serve in a daemon thread."""
        server = ThreadingHTTPServer((self._host, self._port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: later calls get "connection refused"."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # Keep-alive connections outlive the listening socket: cut them too.
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to use instead of https://api.twilio.com."""
        if self._server is None:
            raise RuntimeError("the fake Twilio is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # What a test sets up

    def fail_next(self, status: int = 500, code: int | None = None, times: int = 1) -> None:
        """The next `times` message creations answer this error (500, or 429 + 20429...)."""
        message = "Too Many Requests" if status == 429 else "Internal Server Error"
        with self._lock:
            self._failures.extend([(status, code, message)] * times)

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        """Move a message on, as Twilio would (sets date_sent and price when sent)."""
        if status not in STATUSES:
            raise ValueError(f"unknown Twilio status {status!r}")
        now = _now().replace(microsecond=0)
        with self._lock:
            message = self._messages[sid]
            message["status"] = status
            message["date_updated"] = _rfc2822(now)
            if status in ("sent", "delivered", "undelivered", "read"):
                message["_date_sent"] = message["_date_sent"] or now
                message["date_sent"] = _rfc2822(message["_date_sent"])
                segments = int(message["num_segments"]) or segments_of(message["body"])
                message["num_segments"] = str(segments)
                message["price"] = f"{-self.segment_price * segments:.5f}"
                message["price_unit"] = self.price_unit
            if error_code is not None:
                message["error_code"] = error_code
                message["error_message"] = None  # Twilio's text may change; codes count

    # What a test reads

    @property
    def sent(self) -> list[dict[str, str]]:
        """Accepted creations, as received (To, Body, From, StatusCallback...) plus Sid."""
        with self._lock:
            return [dict(entry) for entry in self._sent]

    def count(self, to: str | None = None, body: str | None = None) -> int:
        """Accepted messages, all of them or those to `to` (and with `body`)."""
        with self._lock:
            return sum(
                n
                for (t, b), n in self._counts.items()
                if (to is None or t == to) and (body is None or b == body)
            )

    def stats(self) -> dict[str, int]:
        """Totals for other processes (GET /_fake/stats)."""
        with self._lock:
            return {
                "total": sum(self._counts.values()),
                "duplicates": sum(n - 1 for n in self._counts.values() if n > 1),
                "duplicate_keys": sum(1 for n in self._counts.values() if n > 1),
                "distinct": len(self._counts),
                "requests": self.requests,
                "rejected": self.rejected,
            }

    def message(self, sid: str) -> dict[str, Any]:
        """The message resource as Twilio would answer it."""
        with self._lock:
            return _public(self._messages[sid])

    # Status callbacks

    def callback_params(self, sid: str, status: str | None = None) -> dict[str, str]:
        """The form Twilio POSTs to a message's StatusCallback."""
        with self._lock:
            message = self._messages[sid]
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": API_VERSION,
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status or message["status"],
                "SmsStatus": status or message["status"],
                "To": message["to"],
            }
            if message["from"]:
                params["From"] = message["from"]
            if message["messaging_service_sid"]:
                params["MessagingServiceSid"] = message["messaging_service_sid"]
            if message["error_code"] is not None:
                params["ErrorCode"] = str(message["error_code"])
        return params

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """X-Twilio-Signature for a POST of `params` to `url`, with this account's token."""
        return RequestValidator(self.auth_token).compute_signature(url, dict(params))

    def send_status_callback(
        self,
        sid: str,
        status: str | None = None,
        *,
        url: str | None = None,
        post_to: str | None = None,
        error_code: int | None = None,
    ) -> int:
        """Set the status (if given) and POST the signed callback; returns the HTTP status.

        `url` is what Twilio was told (the message's StatusCallback by default) and is what
        gets signed; `post_to` is where the request really goes (a proxy's backend).
        """
        if status is not None:
            self.set_status(sid, status, error_code)
        with self._lock:
            signed_url = url or self._messages[sid]["_status_callback"]
        if not signed_url:
            raise ValueError("the message has no StatusCallback; pass url=")
        params = self.callback_params(sid)
        request = urllib.request.Request(  # noqa: S310 (the test's own server)
            post_to or signed_url,
            data=urlencode(params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
                "X-Twilio-Signature": self.sign(signed_url, params),
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    # The API itself (called from the handler threads)

    def _create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self._failures:
                status, code, message = self._failures.popleft()
                return status, _error(status, code, message)
            if self.max_per_second:
                now = time.monotonic()
                while self._accepted_at and now - self._accepted_at[0] >= 1.0:
                    self._accepted_at.popleft()
                if len(self._accepted_at) >= self.max_per_second:
                    return 429, _error(429, 20429, "Too Many Requests")
                # The slot is taken now, so that concurrent requests cannot all slip in.
                self._accepted_at.append(now)
        to, body = form.get("To", ""), form.get("Body")
        if not to:
            return 400, _error(400, 21604, "A 'To' phone number is required.")
        if body is None or body == "":
            return 400, _error(400, 21602, "Message body is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, _error(400, 21603, "A 'From' phone number is required.")
        if "ValidityPeriod" in form:
            validity = form["ValidityPeriod"]
            if not validity.isdigit() or not 1 <= int(validity) <= 36000:
                # Twilio refuses it too (with a code we do not know: none given here).
                return 400, _error(400, None, "ValidityPeriod must be between 1 and 36000")
        canned = self.errors.get(to)
        if canned is not None:
            return canned[0], _error(*canned)
        kind = _number_kind(to)
        if kind == "invalid":
            return 400, _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if kind == "landline" and self.reject_landlines:
            return 400, _error(400, 21614, f"'To' number {to} is not a valid mobile number")
        return 201, self._accept(form, to, body)

    def _accept(self, form: dict[str, str], to: str, body: str) -> dict[str, Any]:
        now = _now().replace(microsecond=0)
        sid = "SM" + secrets.token_hex(16)
        service = form.get("MessagingServiceSid") or None
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": _rfc2822(now),
            "date_sent": None,
            "date_updated": _rfc2822(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": service,
            "num_media": "0",
            # As Twilio: "0" until a Messaging Service picks a sender.
            "num_segments": "0" if service else str(segments_of(body)),
            "price": None,
            "price_unit": self.price_unit,
            "sid": sid,
            # With a Messaging Service Twilio first answers "accepted".
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": to,
            "uri": uri,
            "_date_created": now,
            # Twilio hands the message to the carrier at once here: DateSent filters see it.
            "_date_sent": now,
            "_status_callback": form.get("StatusCallback") or None,
        }
        with self._lock:
            self._messages[sid] = message
            self._order.append(sid)
            self._sent.append({**form, "Sid": sid})
            self._counts[(to, body)] += 1
            return _public(message)

    def _fetch(self, sid: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            message = self._messages.get(sid)
            if message is None:
                uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
                return 404, _error(404, 20404, f"The requested resource {uri} was not found")
            return 200, _public(message)

    def _list(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to, sender = query.get("To"), query.get("From")
        after = _parse_date(query["DateSent>"]) if "DateSent>" in query else None
        before = _parse_date(query["DateSent<"]) if "DateSent<" in query else None
        on = _parse_date(query["DateSent"]) if "DateSent" in query else None
        try:
            size = min(max(int(query.get("PageSize", "50")), 1), 1000)
            page = max(int(query.get("Page", "0")), 0)
            token = query.get("PageToken", "")
            start = int(token[2:]) if token.startswith("PA") else page * size
        except ValueError:
            return 400, _error(400, 20001, "Invalid paging parameter")
        with self._lock:
            chosen = []
            for sid in reversed(self._order):  # newest first, as Twilio
                message = self._messages[sid]
                sent_at = message["_date_sent"] or message["_date_created"]
                if to and message["to"] != to:
                    continue
                if sender and message["from"] != sender:
                    continue
                if after and sent_at < after:
                    continue
                if before and sent_at > before:
                    continue
                if on and sent_at.date() != on.date():
                    continue
                chosen.append(_public(message))
        records = chosen[start : start + size]
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def page_uri(number: int, offset: int) -> str:
            paging = {"PageSize": size, "Page": number, "PageToken": f"PA{offset}"}
            return f"{base}?{urlencode({**filters, **paging})}"

        has_next = start + size < len(chosen)
        number = start // size
        return 200, {
            "messages": records,
            "end": start + len(records) - 1 if records else start,
            "first_page_uri": f"{base}?{urlencode({**filters, 'PageSize': size, 'Page': 0})}",
            "next_page_uri": page_uri(number + 1, start + size) if has_next else None,
            "page": number,
            "page_size": size,
            "previous_page_uri": (
                page_uri(number - 1, max(start - size, 0)) if start > 0 else None
            ),
            "start": start,
            "uri": f"{base}?{urlencode(query)}",
        }

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(
            password, self.auth_token
        )


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if not key.startswith("_")}


def _error(status: int, code: int | None, message: str) -> dict[str, Any]:
    """Twilio's (legacy, non RFC 9457) error body; without a code the library uses the status."""
    body: dict[str, Any] = {"message": message, "status": status}
    if code is not None:
        body["code"] = code
        body["more_info"] = f"https://www.twilio.com/docs/errors/{code}"
    return body


def _number_kind(number: str) -> str:
    """The number's kind as Twilio's checks would see it: mobile, landline or invalid."""
    if not _E164.match(number):
        return "invalid"
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return "invalid"
    if not phonenumbers.is_valid_number(parsed):
        return "invalid"
    if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE:
        return "landline"
    return "mobile"


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeTwilio/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive, as the library's requests.Session expects
    # Headers and body leave in two writes: without this, delayed ACKs add 40 ms a request.
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeTwilio:
        return self.server.fake  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines hold phone numbers

    def do_GET(self) -> None:
        path, query = self._split()
        if path == "/_fake/stats":
            return self._answer(200, self.fake.stats())
        if path == "/_fake/messages":
            return self._answer(200, {"sent": self.fake.sent})
        if not self._admit(path):
            return None
        if match := _MESSAGE.match(path):
            return self._answer(*self.fake._fetch(match["sid"]))
        if _MESSAGES.match(path):
            return self._answer(*self.fake._list(query))
        return self._answer(404, _error(404, 20404, "The requested resource was not found"))

    def do_POST(self) -> None:
        path, _ = self._split()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        if path == "/_fake/fail_next":
            code = int(form["code"]) if form.get("code") else None
            self.fake.fail_next(int(form.get("status", 500)), code, int(form.get("times", 1)))
            return self._answer(200, {"ok": True})
        if path == "/_fake/status":
            self.fake.set_status(form["sid"], form["status"])
            return self._answer(200, {"ok": True})
        if not self._admit(path):
            return None
        if _MESSAGES.match(path):
            return self._answer(*self.fake._create(form))
        return self._answer(405, _error(405, 20004, "Method not allowed"))

    def _split(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return parts.path, query

    def _admit(self, path: str) -> bool:
        """Latency, then Twilio's authentication and account checks."""
        fake = self.fake
        with fake._lock:
            fake.requests += 1
        if fake.latency:
            time.sleep(fake.latency)
        if not fake._authorised(self.headers.get("Authorization")):
            self._answer(401, _error(401, 20003, "Authenticate"))
            return False
        match = _MESSAGES.match(path) or _MESSAGE.match(path)
        if match and match["account"] != fake.account_sid:
            self._answer(404, _error(404, 20404, "The requested resource was not found"))
            return False
        return True

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        if status >= 400:
            with self.fake._lock:
                self.fake.rejected += 1
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(data)


def read_stats(url: str) -> dict[str, int]:
    """GET /_fake/stats of a fake running in another process."""
    with urllib.request.urlopen(f"{url.rstrip('/')}/_fake/stats", timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


@contextlib.contextmanager
def in_process(latency: float = 0.0) -> Iterator[str]:
    """`python -m tests.fake_twilio` in a process of its own (other processes send
    through it); yields its URL and stops it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_twilio", "--latency", str(latency)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> None:
    """python -m tests.fake_twilio: serve until interrupted, after printing the URL."""
    testmode.apply()  # the suite's moved clock, when it runs on one (TERRAIN_CLOCK_START)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--max-per-second", type=int, default=None)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        latency=args.latency,
        max_per_second=args.max_per_second,
        host=args.host,
        port=args.port,
    ).start()
    print(fake.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
