"""Twilio's callbacks as use cases (web/notifications/webhooks.py calls one per request):
a delivery report, an SMS received. Each commits; dispatch.apply_status and
replies.handle_inbound themselves never do (the reconcile job and the demo compose them)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.db import committed
from notifications import dispatch, replies
from notifications.models import Message


def delivery_report(
    session: Session,
    *,
    provider_id: str,
    status: str,
    error_code: str | None,
    message_id: int | None,
) -> Message | None:
    """A delivery report applied (dispatch.apply_status), committed: the message when it
    changed."""
    return committed(
        session,
        lambda: dispatch.apply_status(
            session,
            provider_id=provider_id,
            status=status,
            error_code=error_code,
            message_id=message_id,
        ),
    )


def inbound_sms(
    session: Session,
    *,
    provider_id: str,
    from_number: str,
    body: str,
    to_number: str | None = None,
) -> replies.InboundResult:
    """An SMS received acted on (replies.handle_inbound), committed: what to answer.
    `to_number`: the number it was sent to (a CPAS's sender: that CPAS's SMS)."""
    return committed(
        session,
        lambda: replies.handle_inbound(
            session,
            provider_id=provider_id,
            from_number=from_number,
            body=body,
            to_number=to_number,
        ),
    )
