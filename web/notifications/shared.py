"""What the notifications pages share (no view here): the plain-language labels, what a
message is about, the segment counter's context and the page number."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from appointments import services as appointments
from core.ids import parse_id
from notifications.staff import SegmentCounter, Subject
from web.i18n import local_datetime

CATEGORY_LABELS = {
    "reminder": _l("Appointment reminders"),
    "service_change": _l("Service changes"),
    "information": _l("Information"),
    "verification": _l("Verification codes"),
}
STATUS_LABELS = {
    "pending": _l("Waiting"),
    "sending": _l("Being sent"),
    "queued": _l("Handed to the operator"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "undelivered": _l("Not delivered"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Too late, not sent"),
    "blocked": _l("Not sent"),
}
# Why a message was not sent, failed or was dropped (Message.error_code / error_detail).
REASON_LABELS = {
    "no_consent": _l("No consent for this kind of message."),
    "withdrawn": _l("The person withdrew consent for this kind of message."),
    "no_mobile": _l("No mobile number: a landline never gets SMS."),
    "opted_out": _l("The number is unsubscribed at the operator (the person sent STOP)."),
    "invalid_number": _l("The number does not work."),
    "invalid": _l("The number does not work."),
    "not_mobile": _l("The number cannot receive SMS (landline)."),
    "rejected": _l("The operator refused this message."),
    "gave_up": _l("The operator could not be reached after several tries."),
    "subject_gone": _l("The appointment was cancelled or moved."),
    "cancelled": _l("The appointment was cancelled or is over."),
    "expired": _l("Too late: it would have arrived after the moment it was about."),
    "staff": _l("Cancelled by a member of staff."),
    "not_at_provider": _l("Not found at the operator after an interruption: sent again."),
    # Dropped because the appointment they were about changed (appointments.booking).
    "appointment_cancelled": _l("The appointment was cancelled."),
    "appointment_done": _l("The appointment has taken place."),
    "appointment_no_show": _l("The person did not come to the appointment."),
    # Dropped because the minor alert it announced was dealt with (outreach.minors).
    "alert_handled": _l("The alert was dealt with in Terrain before it could leave."),
    "quiet_hours": _l("Quiet hours: waits until morning."),
    "quiet_bypass": _l("Urgent: sent even during quiet hours."),
    "secret_lost": _l(
        "Its code or link could not be rebuilt (the server's secret key changed): not sent."
    ),
    "secret_masked": _l(
        "It held a code or link in clear: masked during an update, so it was not sent."
    ),
}
# Twilio error codes that staff may meet on a message.
ERROR_CODE_LABELS = {
    "21211": _l("The number does not work."),
    "21217": _l("The number does not work."),
    "21401": _l("The number does not work."),
    "21421": _l("The number does not work."),
    "21407": _l("The number cannot receive SMS (landline)."),
    "21614": _l("The number cannot receive SMS (landline)."),
    "21610": _l("The number is unsubscribed at the operator (the person sent STOP)."),
    "20429": _l("The operator was busy: tried again later."),
    "30001": _l("The operator's queue was full: tried again later."),
    "20003": _l("The SMS account's settings are wrong: tell the administrator."),
    "30003": _l("The phone was switched off or out of reach."),
    "30004": _l("The person blocked messages from us."),
    "30005": _l("The number does not exist any more."),
    "30006": _l("The number cannot receive SMS (landline)."),
    "30007": _l("The operator took the message for spam."),
    "30008": _l("The operator could not deliver it (unknown reason)."),
}
METHOD_LABELS = {
    "form": _l("Signed form"),
    "oral": _l("Said in person"),
    "phone_call": _l("By phone"),
    "online": _l("Online"),
    "sms_reply": _l("By SMS reply"),
}
SOURCE_LABELS = {
    "dispatcher": _l("Sending"),
    "callback": _l("Operator's report"),
    "reconcile": _l("Check with the operator"),
    "job": _l("Automatic"),
    "staff": _l("Staff"),
    "consent": _l("Consent withdrawn"),
    "gateway": _l("Number refused by the operator"),
}
PHONE_STATE_LABELS = {
    "active": _l("Works"),
    "invalid": _l("Does not work"),
    "not_mobile": _l("Cannot receive SMS"),
    "opted_out": _l("Unsubscribed at the operator (STOP)"),
}
LANGUAGE_LABELS = {
    "fr": "Français",
    "nl": "Nederlands",
    "en": "English",
    "fr+nl": _l("French and Dutch"),
}


def reason_label(code: str | None, detail: str | None = None) -> object:
    """The sentence for a message's error code (or its detail), empty when none."""
    for key in (detail, code):
        if key and key in REASON_LABELS:
            return REASON_LABELS[key]
        if key and key in ERROR_CODE_LABELS:
            return ERROR_CODE_LABELS[key]
    return _l("Error %(code)s.", code=code) if code else ""


# The names of the SMS texts this domain declares (notifications/texts.py); the other
# domains name theirs in their WebDomain, and web.plugins.TEMPLATE_LABELS holds them all.
OWN_TEMPLATE_LABELS = {
    "appointment_reminder": _l("Appointment reminder"),
    "appointment_reminder_call": _l("Appointment reminder (call to cancel)"),
    "appointment_reminder_plain": _l("Appointment reminder (no reply possible)"),
    "appointment_confirmation": _l("Appointment booked"),
    "appointment_changed": _l("Appointment changed"),
    "verification_code": _l("Verification code"),
    "reply_confirmed": _l("Answer to YES"),
    "reply_cancelled": _l("Answer to NO"),
    "reply_stopped": _l("Answer to STOP"),
    "reply_received": _l("Answer to another message"),
    "reply_no_cpas": _l("Answer to a number no CPAS knows (shared number)"),
}
ENCODING_LABELS = {
    "GSM-7": _l("Standard characters (GSM-7)"),
    "UCS-2": _l("Special characters (UCS-2): costs about twice as much"),
}


# Contacts made by the system carry a fixed name, stored in English: shown translated.
SYSTEM_CONTACT_NAMES = {appointments.CODE_CONTACT_NAME: _l("SMS code (online booking)")}


def contact_name(name: str | None) -> str:
    """A contact's name as staff read it (a system contact's name translated)."""
    return str(SYSTEM_CONTACT_NAMES.get(name or "", name or ""))


# What a message is about, per subject kind: (the record, with its moment; gone).
SUBJECT_LABELS = {
    "appointment": (
        _l("The appointment of %(when)s"),
        _l("An appointment that no longer exists"),
    ),
}


def subject_label(subject: Subject | None) -> str:
    """What a message is about, in words ("appointment:12" → its day and time)."""
    if subject is None:
        return ""
    labels = SUBJECT_LABELS.get(subject.kind)
    if labels is None:
        return _("Another record")
    if subject.moment is None:
        return str(labels[1])
    return str(labels[0] % {"when": local_datetime(subject.moment, "short")})


def segment_context(counter: SegmentCounter) -> dict[str, Any]:
    """What the live counter's template shows."""
    return {
        "count": counter.count,
        "encoding_label": ENCODING_LABELS[counter.count.encoding],
        "suggestion": counter.suggestion,
        "saves": counter.saves,
        "reword": counter.reword,
        "with_examples": counter.with_examples,
    }


def page_number() -> int:
    """The `?page=` asked for, 1 when missing or not a number."""
    raw = request.args.get("page", "1")
    return max(1, parse_id(raw) or 1)
