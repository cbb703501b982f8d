"""The notifications section of the web app (its pages stay under /sms/ for users)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.roles import Permission
from web.nav import NavEntry
from web.notifications import broadcasts, inbox, messages, orphans, outbox, webhooks
from web.notifications.shared import OWN_TEMPLATE_LABELS
from web.plugins import WebDomain

WEB = WebDomain(
    name="notifications",
    blueprints=(outbox.bp, broadcasts.bp, inbox.bp, orphans.bp, webhooks.bp),
    csrf_exempt=(webhooks.bp,),  # Twilio signs its requests instead
    nav=(
        NavEntry(
            "notifications.outbox",
            _l("SMS"),
            "sms",
            Permission.SMS_READ,
            _l("Messages sent and waiting, replies, contacts and their consent."),
            position=60,
        ),
    ),
    entity_labels={
        "sms_contact": _l("SMS contact"),
        "sms_consent": _l("SMS consent"),
        "sms_message": _l("SMS"),
        "sms_inbound": _l("SMS received"),
        "sms_broadcast": _l("SMS broadcast"),
    },
    template_labels=OWN_TEMPLATE_LABELS,
    messages=messages.sentence,
)
