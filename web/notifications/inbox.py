"""Replies that need a person: the reception's inbox of inbound SMS."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import accounts
from core.accounts import User
from core.ids import parse_id
from core.roles import Permission
from notifications import replies
from web import db
from web.permissions import requires
from web.rendering import render

bp = Blueprint("sms_inbox", __name__, url_prefix="/sms")

PAGE_SIZE = 50

OUTCOME_LABELS = {
    "confirmed": _l("Confirmed (YES)"),
    "cancelled": _l("Cancelled (NO)"),
    "stopped": _l("No more SMS (STOP)"),
    "inbox": _l("Needs an answer"),
    "ignored": _l("Ignored"),
}


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _page() -> int:
    raw = request.args.get("page", "1")
    return max(1, parse_id(raw) or 1)


@bp.get("/inbox")
@requires(Permission.SMS_INBOX)
def inbox():
    session = db.session()
    show_all = request.args.get("all") == "1"
    page = _page()
    rows = replies.inbox(
        session, open_only=not show_all, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        "notifications/inbox.html",
        messages=rows[:PAGE_SIZE],
        replied=replies.replied_to(session, rows[:PAGE_SIZE]),
        has_more=len(rows) > PAGE_SIZE,
        page=page,
        show_all=show_all,
        open_count=replies.open_count(session),
        outcome_labels=OUTCOME_LABELS,
    )


@bp.get("/inbox/<int:inbound_id>")
@requires(Permission.SMS_INBOX)
def inbound(inbound_id: int):
    session = db.session()
    message = replies.get_inbound(session, inbound_id, reader=_actor())
    if message is None:
        abort(404)
    candidates = [] if message.contact_id else replies.senders(session, message)
    handled_by = (
        accounts.get_user(session, message.handled_by_id) if message.handled_by_id else None
    )
    replied = replies.replied_to(session, [message]).get(message.in_reply_to_id or 0)
    session.commit()  # the audited read
    return render(
        "notifications/inbound.html",
        message=message,
        candidates=candidates,
        handled_by=handled_by,
        replied=replied,
        outcome_labels=OUTCOME_LABELS,
    )


@bp.post("/inbox/<int:inbound_id>/handled")
@requires(Permission.SMS_INBOX)
def mark_handled(inbound_id: int):
    session = db.session()
    message = replies.get_inbound(session, inbound_id)
    if message is None:
        abort(404)
    if replies.mark_handled(session, message, _actor()):
        session.commit()
        flash(_("Marked as handled."), "success")
    else:
        flash(_("This message was already handled."), "success")
    target = request.form.get("next", "")
    if target != "detail":
        return redirect(url_for("sms_inbox.inbox", **({"all": "1"} if target == "all" else {})))
    return redirect(url_for("sms_inbox.inbound", inbound_id=inbound_id))
