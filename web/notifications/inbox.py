"""Replies that need a person: the reception's inbox of inbound SMS."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.roles import Permission
from notifications import staff
from web import db
from web.common import actor
from web.notifications.shared import page_number
from web.permissions import requires
from web.rendering import render

bp = Blueprint("notifications_inbox", __name__, url_prefix="/sms")

PAGE_SIZE = 50

OUTCOME_LABELS = {
    "confirmed": _l("Confirmed (YES)"),
    "cancelled": _l("Cancelled (NO)"),
    "stopped": _l("No more SMS (STOP)"),
    "inbox": _l("Needs an answer"),
    "ignored": _l("Ignored"),
}


@bp.get("/inbox")
@requires(Permission.SMS_INBOX)
def inbox():
    show_all = request.args.get("all") == "1"
    page = page_number()
    found = staff.inbox_page(
        db.session(), show_all=show_all, page=page, per_page=PAGE_SIZE, viewer=actor()
    )
    return render(
        "notifications/inbox.html",
        messages=found.messages,
        replied=found.replied,
        has_more=found.has_more,
        page=page,
        show_all=show_all,
        open_count=found.open_count,
        outcome_labels=OUTCOME_LABELS,
    )


@bp.get("/inbox/<int:inbound_id>")
@requires(Permission.SMS_INBOX)
def inbound(inbound_id: int):
    record = staff.inbound_record(db.session(), inbound_id, reader=actor())
    if record is None:
        abort(404)
    return render(
        "notifications/inbound.html",
        message=record.message,
        candidates=record.candidates,
        handled_by=record.handled_by,
        replied=record.replied,
        outcome_labels=OUTCOME_LABELS,
    )


@bp.post("/inbox/<int:inbound_id>/handled")
@requires(Permission.SMS_INBOX)
def mark_handled(inbound_id: int):
    handled = staff.mark_handled(db.session(), inbound_id, actor=actor())
    if handled is None:
        abort(404)
    if handled:
        flash(_("Marked as handled."), "success")
    else:
        flash(_("This message was already handled."), "success")
    target = request.form.get("next", "")
    if target != "detail":
        return redirect(
            url_for("notifications_inbox.inbox", **({"all": "1"} if target == "all" else {}))
        )
    return redirect(url_for("notifications_inbox.inbound", inbound_id=inbound_id))
