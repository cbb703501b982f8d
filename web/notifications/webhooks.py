"""Twilio's webhooks: delivery reports and inbound SMS, signature-checked.

Twilio signs each request with the account's auth token over the URL it called and the
POST parameters (X-Twilio-Signature). Behind a reverse proxy the URL Twilio called is
not the one this process sees, so it is rebuilt from TERRAIN_PUBLIC_URL when set.
A bad or missing signature gets 403 and changes nothing; a signed request without a
field Twilio always sends (MessageSid; From and Body inbound; MessageStatus in a
report) gets 400 and changes nothing. Neither view logs a phone
number or a message body. Each calls one use case of notifications/callbacks.py, which
commits.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from core.config import Settings
from core.ids import parse_id
from notifications import callbacks
from notifications.gateways import signature_is_valid, twilio_status
from web import db
from web.permissions import public
from web.request_limits import raw_form

bp = Blueprint("notifications_webhooks", __name__, url_prefix="/sms")

log = logging.getLogger("terrain.sms")

SIGNATURE_HEADER = "X-Twilio-Signature"


def _settings() -> Settings:
    return current_app.config["TERRAIN_SETTINGS"]


def signed_url() -> str:
    """The URL as Twilio called it: the public URL and this request's path and query."""
    settings = _settings()
    if settings.public_url:
        return settings.public_url.rstrip("/") + request.full_path.rstrip("?")
    return request.url


def _refusal() -> Response | None:
    """A plain answer when the request is not from Twilio, None when it is."""
    token = _settings().twilio_auth_token
    if not token:
        # Nothing can be checked, so nothing is accepted until TWILIO_AUTH_TOKEN is set.
        log.warning("sms webhook %s refused: TWILIO_AUTH_TOKEN is not set", request.path)
        return Response("Invalid signature.\n", 403, mimetype="text/plain")
    if not signature_is_valid(
        token, signed_url(), raw_form(), request.headers.get(SIGNATURE_HEADER)
    ):
        log.warning("sms webhook %s refused: bad or missing signature", request.path)
        return Response("Invalid signature.\n", 403, mimetype="text/plain")
    return None


def _signed_message_sid() -> tuple[str, Response | None]:
    """The MessageSid of a request signed by Twilio, or the answer to refuse it."""
    refusal = _refusal()
    if refusal is not None:
        return "", refusal
    provider_id = request.form.get("MessageSid", "").strip()
    if not provider_id:
        return "", Response("MessageSid is missing.\n", 400, mimetype="text/plain")
    return provider_id, None


def _missing(*names: str) -> Response | None:
    """400 when a field Twilio always sends is absent (or blank): a malformed request is
    refused before anything changes, never guessed at."""
    absent = [name for name in names if not request.form.get(name, "").strip()]
    if absent:
        return Response(f"{', '.join(absent)} missing.\n", 400, mimetype="text/plain")
    return None


@bp.post("/status")
@public
def status():
    """A delivery report; it only moves a message forward, so a replay changes nothing."""
    provider_id, refusal = _signed_message_sid()
    if refusal is None:
        refusal = _missing("MessageStatus")
    if refusal is not None:
        return refusal
    raw_id = request.args.get("m", "")
    changed = callbacks.delivery_report(
        db.session(),
        provider_id=provider_id,
        status=twilio_status(request.form.get("MessageStatus", "")),
        error_code=(request.form.get("ErrorCode") or "").strip() or None,
        message_id=parse_id(raw_id),
    )
    if changed is not None:
        log.info("sms %s %s (callback)", changed.id, changed.status)
    return Response(status=204)


@bp.post("/inbound")
@public
def inbound():
    """An SMS received: act on it and answer in TwiML (an empty Response: no answer).

    `From` and `Body` must be there (400 otherwise); an empty Body is a real SMS (a phone
    can send one, an MMS with only a picture has one) and goes to the inbox like any other."""
    provider_id, refusal = _signed_message_sid()
    if refusal is None:
        refusal = _missing("From")
    if refusal is None and "Body" not in request.form:
        refusal = Response("Body missing.\n", 400, mimetype="text/plain")
    if refusal is not None:
        return refusal
    result = callbacks.inbound_sms(
        db.session(),
        provider_id=provider_id,
        from_number=request.form["From"],
        body=request.form["Body"],
        to_number=request.form.get("To"),
    )
    twiml = MessagingResponse()
    if result.reply:
        twiml.message(result.reply)
    return Response(str(twiml), 200, mimetype="text/xml")
