"""Sending the outbox exactly once, with any number of dispatchers.

1. Claim: in one short transaction, due `pending` rows are locked with
   `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite has one writer at a time), stale ones
   are dropped, the others become `sending` (claimed_at, claimed_by, attempts + 1).
2. Send: each claimed row goes to the gateway, outside any transaction.
3. Record: in its own transaction, the provider id and status, or a retry time for a
   transient error, or `failed` and a marked number for a permanent one.

A crash between 2 and 3 leaves a row in `sending`: `reconcile()` asks the provider
whether it got it (then records it) or not (then it goes back to `pending`); it never
resends blindly. Status callbacks only move a message forward.

A transient gateway error ends the run: the failed row waits for its retry time and the
other rows of the batch go back to `pending` untouched (no attempt counted), so an
unreachable or throttling gateway is not hammered message after message. The same
happens when `stop()` says the process is shutting down.

`expire_stale()` (a job) drops what waits in vain: validity passed, subject gone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import clock, organisations
from core.config import Settings
from notifications import masking
from notifications.contacts import mark_phone
from notifications.gateways import (
    Gateway,
    GatewayError,
    OutgoingSms,
    PermanentGatewayError,
    ProviderMessage,
)
from notifications.models import ERROR_CODE_MAX, STATUS_RANK, Message, MessageEvent
from notifications.outbox import category_rules, next_allowed_time, subject_is_current

log = logging.getLogger("terrain.sms")

CLAIM_BATCH = 20
# Retry delays after a transient error; after the last one the message has failed.
BACKOFF_SECONDS = (30, 120, 600, 1800, 7200)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
# A row `sending` for this long belongs to a dispatcher that died: reconcile it.
STUCK_AFTER = timedelta(minutes=10)
# Twilio keeps a message at most 10 hours in its queue (ValidityPeriod ≤ 36000 s).
MAX_VALIDITY_SECONDS = 36000

# A message whose secret cannot be rebuilt (the key changed since it was made).
SECRET_LOST = "secret_lost"  # noqa: S105 - an error code

# What a permanent refusal says about the number itself.
PHONE_STATE_FOR_REASON = {
    "invalid_number": "invalid",
    "not_mobile": "not_mobile",
    "opted_out": "opted_out",
}
# Delivery error codes (status callbacks) that say the same.
PHONE_STATE_FOR_ERROR = {"21610": "opted_out", "30006": "not_mobile", "30005": "invalid"}

SessionFactory = Callable[[], Session]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    released: int = 0  # claimed, then handed back untouched (transient error, stop)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    id: int
    to: str
    body: str
    valid_until: datetime | None
    sender: str | None = None  # the CPAS's SMS sender; None: the gateway's own


def sender_of(session: Session, cpas_id: int | None, known: dict[int, str | None]) -> str | None:
    """The SMS sender a message of this CPAS leaves with: the CPAS's (a name or a
    number), None when it has none or no CPAS is known (the installation's TWILIO_FROM)."""
    if cpas_id is None:
        return None
    if cpas_id not in known:
        cpas = session.get(organisations.Cpas, cpas_id)
        sender = (cpas.sms_sender or "").strip() if cpas is not None else ""
        known[cpas_id] = sender or None
    return known[cpas_id]


def _real_text(message: Message, secret_key: str | None) -> str | None:
    """The text to send, its secrets derived again; None when they cannot be."""
    if not message.secret_slots:
        return message.body
    key = secret_key if secret_key is not None else Settings.from_env().secret_key
    try:
        return masking.reveal(message.body, message.secret_slots, key)
    except masking.SecretUnavailable:
        return None


def claim_due(
    session: Session, *, worker: str, limit: int = CLAIM_BATCH, secret_key: str | None = None
) -> tuple[list[Claimed], int]:
    """Lock and take due messages; returns them and how many stale ones were dropped.

    A message with a masked secret is claimed with its real text, rebuilt here with
    `secret_key` (default: the settings'); the text lives in memory only."""
    now = clock.now()
    query = (
        select(Message)
        .where(Message.status == "pending", Message.not_before <= now)
        .order_by(Message.not_before, Message.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed, dropped = [], 0
    senders: dict[int, str | None] = {}
    for message in session.scalars(query):
        stale = _stale_status(session, message, now)
        if stale is not None:
            _set_status(session, message, stale, "dispatcher", now=now, error=stale)
            dropped += 1
            continue
        body = _real_text(message, secret_key)
        if body is None:
            # Another key than the one it was made with: a wrong code must not leave.
            _set_status(session, message, "failed", "dispatcher", now=now, error=SECRET_LOST)
            log.warning("sms %s: its secret cannot be rebuilt with this key", message.id)
            dropped += 1
            continue
        message.status = "sending"
        message.claimed_at = now
        message.claimed_by = worker[:80]
        message.attempts += 1
        message.status_at = now
        session.add(
            MessageEvent(message_id=message.id, at=now, status="sending", source="dispatcher")
        )
        claimed.append(
            Claimed(
                message.id,
                message.to,
                body,
                message.valid_until,
                sender_of(session, message.cpas_id, senders),
            )
        )
    session.commit()
    return claimed, dropped


def _stale_status(session: Session, message: Message, now: datetime) -> str | None:
    if message.valid_until is not None and message.valid_until <= now:
        return "expired"
    if not subject_is_current(session, message.subject):
        return "cancelled"
    return None


def dispatch_due(
    session_factory: SessionFactory,
    gateway: Gateway,
    *,
    status_callback_url: Callable[[int], str | None] = lambda _id: None,
    worker: str | None = None,
    limit: int = CLAIM_BATCH,
    max_batches: int | None = None,
    stop: Callable[[], bool] | None = None,
    secret_key: str | None = None,
) -> DispatchReport:
    """Send what is due, batch after batch, until nothing is due (or `max_batches`, or a
    transient gateway error, or `stop()` becomes true). `secret_key` rebuilds masked
    secrets (default: the settings')."""
    worker = worker or worker_name()
    report = DispatchReport()
    batches = 0
    while max_batches is None or batches < max_batches:
        if stop is not None and stop():
            break
        with session_factory() as session:
            claimed, dropped = claim_due(session, worker=worker, limit=limit, secret_key=secret_key)
        batches += 1
        report.claimed += len(claimed)
        report.dropped += dropped
        if not claimed and not dropped:
            break
        for index, item in enumerate(claimed):
            if stop is not None and stop():
                _release(session_factory, claimed[index:], report)
                return report
            try:
                transient = _send_one(
                    session_factory, gateway, item, status_callback_url(item.id), report
                )
            except BaseException:
                # Whether this row left is unknown: reconcile() will ask the provider.
                # The rows not tried yet go back at once rather than after STUCK_AFTER.
                with contextlib.suppress(Exception):
                    _release(session_factory, claimed[index + 1 :], report)
                raise
            if transient:
                _release(session_factory, claimed[index + 1 :], report)
                return report
    return report


def _send_one(
    session_factory: SessionFactory,
    gateway: Gateway,
    item: Claimed,
    callback_url: str | None,
    report: DispatchReport,
) -> bool:
    """Send one claimed row and record the outcome; True after a transient error."""
    now = clock.now()
    validity = None
    if item.valid_until is not None:
        seconds = int((item.valid_until - now).total_seconds())
        validity = max(1, min(seconds, MAX_VALIDITY_SECONDS))
    sms = OutgoingSms(
        message_id=item.id,
        to=item.to,
        body=item.body,
        validity_seconds=validity,
        status_callback_url=callback_url,
        sender=item.sender,
    )
    try:
        result: ProviderMessage | GatewayError = gateway.send(sms)
    except GatewayError as error:
        result = error
    transient = False
    with session_factory() as session:
        message = session.get(Message, item.id, with_for_update=True)
        if message is None:  # deleted meanwhile (its contact was removed)
            log.warning("sms %s vanished before its send was recorded", item.id)
            return False
        if isinstance(result, ProviderMessage):
            record_sent(session, message, result, gateway.name, source="dispatcher")
            report.sent += 1
        elif isinstance(result, PermanentGatewayError):
            _fail(session, message, result.code, result.reason)
            report.failed += 1
        else:
            transient = True
            if _retry_later(session, message, result.code):
                report.retried += 1
            else:
                report.failed += 1
            report.errors.append(result.code)
            log.info("sms %s: gateway error %s, will retry", item.id, result.code)
        session.commit()
    return transient


def _release(session_factory: SessionFactory, items: list[Claimed], report: DispatchReport) -> None:
    """Hand claimed rows back untouched: pending again, the attempt not counted."""
    if not items:
        return
    now = clock.now()
    with session_factory() as session:
        released = session.scalars(
            update(Message)
            .where(Message.id.in_([item.id for item in items]), Message.status == "sending")
            .values(
                status="pending",
                status_at=now,
                claimed_at=None,
                claimed_by=None,
                attempts=Message.attempts - 1,
            )
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        ).all()
        session.add_all(
            MessageEvent(message_id=message_id, at=now, status="pending", source="dispatcher")
            for message_id in released
        )
        session.commit()
    report.released += len(released)


def record_sent(
    session: Session, message: Message, result: ProviderMessage, gateway_name: str, *, source: str
) -> None:
    message.provider_id = result.provider_id
    message.gateway = gateway_name
    message.sent_at = message.sent_at or clock.now()
    message.error_code = None
    if result.price is not None:
        message.price = result.price
    if STATUS_RANK[result.status] > STATUS_RANK[message.status] or message.status == "pending":
        _set_status(session, message, result.status, source)
    log.info("sms %s %s via %s", message.id, message.status, gateway_name)


def _fail(session: Session, message: Message, code: str, reason: str) -> None:
    _set_status(session, message, "failed", "dispatcher", error=code)
    message.error_detail = reason
    state = PHONE_STATE_FOR_REASON.get(reason)
    if state is not None and message.to:
        mark_phone(session, message.to, state, code)
    log.info("sms %s failed for good (%s)", message.id, code)


def _retry_later(session: Session, message: Message, code: str) -> bool:
    if message.attempts >= MAX_ATTEMPTS:
        _set_status(session, message, "failed", "dispatcher", error=code)
        message.error_detail = "gave_up"
        return False
    delay = timedelta(seconds=BACKOFF_SECONDS[message.attempts - 1])
    rules = category_rules(session, message.category)
    retry_at = clock.now() + delay
    message.not_before = (
        retry_at if message.requested else next_allowed_time(rules, retry_at, urgent=message.urgent)
    )
    message.error_code = code[:ERROR_CODE_MAX]
    _set_status(session, message, "pending", "dispatcher", error=code)
    return True


def _set_status(
    session: Session,
    message: Message,
    status: str,
    source: str,
    *,
    now: datetime | None = None,
    error: str | None = None,
) -> None:
    now = now or clock.now()
    message.status = status
    message.status_at = now
    if status not in ("pending", "sending"):
        # It left or never will: its secrets need not be rebuilt ever again.
        message.secret_slots = None
    if error is not None:
        message.error_code = error[:ERROR_CODE_MAX]
    session.add(
        MessageEvent(
            message_id=message.id,
            at=now,
            status=status,
            source=source,
            error_code=error[:ERROR_CODE_MAX] if error else None,
        )
    )


# --- After the send -------------------------------------------------------------------


def apply_status(
    session: Session,
    *,
    provider_id: str,
    status: str,
    error_code: str | None = None,
    message_id: int | None = None,
    source: str = "callback",
) -> Message | None:
    """A delivery report. Only moves forward; returns the message when it changed.

    `message_id` (carried in the callback URL) finds a message whose send was not
    recorded yet, after a crash, and records its provider id then.
    """
    message = session.scalar(
        select(Message).where(Message.provider_id == provider_id).with_for_update()
    )
    if message is None and message_id is not None:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None or message.provider_id not in (None, provider_id):
            return None
        if message.status not in ("sending", "pending"):
            return None
        message.provider_id = provider_id
        message.sent_at = message.sent_at or clock.now()
    if message is None or status not in STATUS_RANK:
        return None
    if STATUS_RANK[status] <= STATUS_RANK[message.status]:
        return None
    _set_status(session, message, status, source, error=error_code)
    if status in ("failed", "undelivered") and error_code in PHONE_STATE_FOR_ERROR and message.to:
        mark_phone(session, message.to, PHONE_STATE_FOR_ERROR[error_code], error_code)
    return message


def reconcile(
    session_factory: SessionFactory,
    gateway: Gateway,
    *,
    stuck_after: timedelta = STUCK_AFTER,
    secret_key: str | None = None,
) -> dict[str, int]:
    """Rows left `sending` by a dispatcher that died: found at the provider → recorded;
    not found → back to `pending` (sent again). Each row is locked while it is checked."""
    counts = {"recorded": 0, "requeued": 0}
    limit_time = clock.now() - stuck_after
    while True:
        with session_factory() as session:
            query = (
                select(Message)
                .where(Message.status == "sending", Message.claimed_at < limit_time)
                .order_by(Message.id)
                .limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            message = session.scalar(query)
            if message is None:
                return counts
            since = (message.claimed_at or clock.now()) - timedelta(minutes=1)
            try:
                # The provider has the real text; it is rebuilt for the comparison only.
                text = _real_text(message, secret_key) or message.body
                found = gateway.find_sent(message.to, text, since)
            except GatewayError:
                return counts  # the provider is unreachable: ask again next time
            if found is not None and _taken(session, found.provider_id, message.id):
                found = None  # the provider's message is another row's (same text, number)
            if found is not None:
                record_sent(session, message, found, gateway.name, source="reconcile")
                counts["recorded"] += 1
            else:
                _set_status(session, message, "pending", "reconcile", error="not_at_provider")
                counts["requeued"] += 1
            session.commit()


def _taken(session: Session, provider_id: str, message_id: int) -> bool:
    other = session.scalar(
        select(Message.id).where(Message.provider_id == provider_id, Message.id != message_id)
    )
    return other is not None


def refresh_statuses(
    session_factory: SessionFactory, gateway: Gateway, *, older_than: timedelta, limit: int = 100
) -> int:
    """Ask the provider about messages whose delivery report never came."""
    changed = 0
    limit_time = clock.now() - older_than
    with session_factory() as session:
        rows = list(
            session.scalars(
                select(Message.id)
                .where(
                    Message.status.in_(("queued", "sent")),
                    Message.sent_at < limit_time,
                    Message.sent_at > limit_time - timedelta(days=3),
                    Message.provider_id.is_not(None),
                    Message.gateway == gateway.name,
                )
                .order_by(Message.sent_at)
                .limit(limit)
            ).all()
        )
    for message_id in rows:
        with session_factory() as session:
            message = session.get(Message, message_id)
            if message is None or message.provider_id is None:
                continue
            try:
                found = gateway.fetch(message.provider_id)
            except GatewayError:
                return changed
            if found is None:
                continue
            if apply_status(
                session,
                provider_id=message.provider_id,
                status=found.status,
                error_code=found.error_code,
                source="reconcile",
            ):
                changed += 1
            if found.price is not None:
                message.price = found.price
            session.commit()
    return changed


def expire_stale(session_factory: SessionFactory, *, batch: int = 500) -> dict[str, int]:
    """Drop what still waits in vain, batch by batch: `expired` when the validity has
    passed, `cancelled` when its subject is no longer current (an appointment cancelled
    or over). Idempotent, and safe beside dispatchers and other schedulers: a row that a
    dispatcher holds is left to it (it drops stale rows itself when it claims them)."""
    counts = {"expired": 0, "cancelled": 0}
    now = clock.now()
    while True:
        with session_factory() as session:
            query = (
                select(Message.id)
                .where(Message.status == "pending", Message.valid_until <= now)
                .order_by(Message.id)
                .limit(batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(session.scalars(query))
            counts["expired"] += _drop(session, ids, "expired", now)
            session.commit()
        if len(ids) < batch:
            break
    verdicts: dict[str, bool] = {}
    last_id = 0
    while True:
        with session_factory() as session:
            rows = session.execute(
                select(Message.id, Message.subject)
                .where(
                    Message.status == "pending",
                    Message.subject.is_not(None),
                    Message.id > last_id,
                )
                .order_by(Message.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            last_id = rows[-1].id
            gone = []
            for message_id, subject in rows:
                if subject not in verdicts:
                    verdicts[subject] = subject_is_current(session, subject)
                if not verdicts[subject]:
                    gone.append(message_id)
            counts["cancelled"] += _drop(session, gone, "cancelled", now)
            session.commit()
        if len(rows) < batch:
            break
    return counts


def _drop(session: Session, ids: list[int], status: str, now: datetime) -> int:
    """`pending` rows among `ids` → `status` (also the error code); events for those."""
    if not ids:
        return 0
    changed = session.scalars(
        update(Message)
        .where(Message.id.in_(ids), Message.status == "pending")
        .values(status=status, error_code=status, status_at=now, secret_slots=None)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.add_all(
        MessageEvent(message_id=i, at=now, status=status, source="job", error_code=status)
        for i in changed
    )
    return len(changed)
