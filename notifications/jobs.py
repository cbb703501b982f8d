"""The periodic jobs of notifications, run by `terrain scheduler` (core/scheduler.py).

Each is safe in two schedulers at once: dispatchers claim rows with `FOR UPDATE SKIP
LOCKED` (one writer at a time on SQLite), broadcast rows and reminders have unique
keys, status changes only move forward, and stale rows are dropped with a conditional
UPDATE. Results are counts only (they are logged): no number, no text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from core.config import Settings
from core.scheduler import Job, JobContext
from notifications import broadcasts, dispatch
from notifications.gateways import Gateway

REFRESH_AFTER = timedelta(hours=1)  # ask Twilio about messages without a report by then


def status_callback(settings: Settings, gateway: Gateway) -> Callable[[int], str | None]:
    """Where Twilio posts the delivery reports of message `id`: only when Twilio can
    reach us (TERRAIN_PUBLIC_URL) and only for Twilio. The id in the URL lets a report
    that arrives before the send was recorded (a crash in between) still find its row."""
    if gateway.name != "twilio" or not settings.public_url:
        return lambda _id: None
    base = settings.public_url.rstrip("/")
    return lambda message_id: f"{base}/sms/status?m={message_id}"


def _counts(**values: int) -> dict[str, int] | None:
    """Only what happened (a quiet run logs nothing)."""
    done = {name: value for name, value in values.items() if value}
    return done or None


def send_due(context: JobContext) -> dict[str, int] | None:
    gateway = context.gateway()
    report = dispatch.dispatch_due(
        context.session_factory,
        gateway,
        status_callback_url=status_callback(context.settings, gateway),
        stop=context.stopping.is_set,
        secret_key=context.settings.secret_key,
    )
    return _counts(
        sent=report.sent,
        retried=report.retried,
        failed=report.failed,
        dropped=report.dropped,
        released=report.released,
    )


def expand_broadcasts(context: JobContext) -> dict[str, int] | None:
    return _counts(messages=broadcasts.expand_pending(context.session_factory))


def reconcile(context: JobContext) -> dict[str, int] | None:
    counts = dispatch.reconcile(
        context.session_factory, context.gateway(), secret_key=context.settings.secret_key
    )
    return _counts(**counts)


def refresh_statuses(context: JobContext) -> dict[str, int] | None:
    gateway = context.gateway()
    if gateway.name != "twilio":  # the console and memory gateways have nothing to say
        return None
    changed = dispatch.refresh_statuses(context.session_factory, gateway, older_than=REFRESH_AFTER)
    return _counts(changed=changed)


def expire_stale(context: JobContext) -> dict[str, int] | None:
    return _counts(**dispatch.expire_stale(context.session_factory))


JOBS: list[Job] = [
    Job("sms.dispatch", send_due, every_seconds=5),
    Job("sms.expand_broadcasts", expand_broadcasts, every_seconds=5),
    Job("sms.reconcile", reconcile, every_seconds=60),
    Job("sms.refresh_statuses", refresh_statuses, every_seconds=600),
    Job("sms.expire_stale", expire_stale, every_seconds=60),
]
