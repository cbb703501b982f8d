"""SMS pages for staff: the outbox, contacts and consent, templates, quiet hours.

The plain-language labels below are shared by every SMS page (inbox, broadcasts):
`from web.notifications.outbox import STATUS_LABELS, CATEGORY_LABELS, REASON_LABELS, METHOD_LABELS`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from appointments import verification
from appointments.models import Appointment
from core import clock
from core.accounts import User
from core.ids import parse_id
from core.roles import Permission, can
from core.sync import FieldError, Invalid
from notifications import contacts, outbox, queries, texts
from notifications.models import (
    CATEGORIES,
    CONSENT_CATEGORIES,
    CONSENT_METHODS,
    LANGUAGES,
    MESSAGE_STATES,
    Message,
    Template,
)
from notifications.sms import count_segments, spelling_suggestion
from web import db
from web.common import Tab, national, visible_tabs
from web.i18n import local_datetime, local_time
from web.permissions import requires
from web.rendering import render
from web.validation import message as error_message

bp = Blueprint("sms", __name__, url_prefix="/sms")

# --- Labels (shared with web/notifications/inbox.py and broadcasts.py) -----------------

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


TEMPLATE_LABELS = {
    "appointment_reminder": _l("Appointment reminder"),
    "appointment_reminder_call": _l("Appointment reminder (call to cancel)"),
    "appointment_reminder_plain": _l("Appointment reminder (no reply possible)"),
    "appointment_confirmation": _l("Appointment booked"),
    "appointment_changed": _l("Appointment changed"),
    "appointment_slot_offered": _l("A slot freed for the waiting list"),
    "verification_code": _l("Verification code"),
    "reply_confirmed": _l("Answer to YES"),
    "reply_cancelled": _l("Answer to NO"),
    "reply_stopped": _l("Answer to STOP"),
    "reply_received": _l("Answer to another message"),
    "outreach_minor_alert": _l("Street: an alert waits (minor met)"),
}
ENCODING_LABELS = {
    "GSM-7": _l("Standard characters (GSM-7)"),
    "UCS-2": _l("Special characters (UCS-2): costs about twice as much"),
}


bp.add_app_template_filter(national, "phone_national")

# Contacts made by the system carry a fixed name, stored in English: shown translated.
SYSTEM_CONTACT_NAMES = {verification.CONTACT_NAME: _l("SMS code (online booking)")}


@bp.app_template_filter("contact_name")
def contact_name(name: str | None) -> str:
    """A contact's name as staff read it (a system contact's name translated)."""
    return str(SYSTEM_CONTACT_NAMES.get(name or "", name or ""))


@bp.app_template_filter("subject_label")
def subject_label(subject: str | None) -> str:
    """What a message is about, in words ("appointment:12" → its day and time)."""
    if not subject:
        return ""
    kind, _sep, raw = subject.partition(":")
    if kind == "appointment":
        found = db.session().get(Appointment, parse_id(raw)) if parse_id(raw) else None
        if found is not None:
            return _("The appointment of %(when)s", when=local_datetime(found.start_at, "short"))
        return _("An appointment that no longer exists")
    return _("Another record")


# --- The SMS section's tabs (shared: templates/notifications/_tabs.html) ------------------------


TABS = [
    Tab("sms.outbox", _l("Sent SMS"), Permission.SMS_READ),
    Tab("sms_inbox.inbox", _l("Replies"), Permission.SMS_INBOX),
    Tab("sms.contacts", _l("Contacts"), Permission.SMS_CONTACTS),
    Tab("sms_broadcasts.broadcasts", _l("Broadcasts"), Permission.SMS_BROADCAST),
    Tab("sms_broadcasts.report", _l("Report"), Permission.SMS_REPORTS),
    Tab("sms.templates", _l("Texts"), Permission.SMS_SETTINGS),
    Tab("sms.settings", _l("Quiet hours"), Permission.SMS_SETTINGS),
]


def sms_tabs() -> list[Tab]:
    return visible_tabs(TABS)


@bp.app_context_processor
def _sms_context() -> dict[str, Any]:
    return {
        "sms_tabs": sms_tabs,
        "reason_label": reason_label,
        "STATUS_LABELS": STATUS_LABELS,
        "CATEGORY_LABELS": CATEGORY_LABELS,
        "REASON_LABELS": REASON_LABELS,
        "METHOD_LABELS": METHOD_LABELS,
        "SOURCE_LABELS": SOURCE_LABELS,
        "PHONE_STATE_LABELS": PHONE_STATE_LABELS,
        "LANGUAGE_LABELS": LANGUAGE_LABELS,
        "ENCODING_LABELS": ENCODING_LABELS,
        "TEMPLATE_LABELS": TEMPLATE_LABELS,
    }


# --- Helpers ---------------------------------------------------------------------------


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _errors(invalid: Invalid) -> dict[str, str]:
    return {name: error_message(error) for name, error in invalid.errors.items()}


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return max(1, parse_id(raw) or 1)


def _not_found():
    return render("errors/error.html", status=404, code=404)


def waiting_note(message: Message, rules: dict[str, outbox.CategoryRules]) -> str:
    """Why a waiting message has not left yet, in words ("" when it leaves now)."""
    if message.status != "pending" or message.not_before <= clock.now():
        return ""
    at = local_time(message.not_before)
    if message.error_code:
        return _("The operator was busy: tried again at %(time)s.", time=at)
    rule = rules.get(message.category)
    # Quiet hours only when they moved it: made in them and held until their end (a
    # reminder made at night for the next afternoon is planned, not held back).
    if (
        rule is not None
        and outbox.in_quiet_hours(rule, message.created_at)
        and clock.as_utc(message.not_before)
        == outbox.next_allowed_time(rule, clock.as_utc(message.created_at))
    ):
        return _("Quiet hours: waits until %(time)s.", time=at)
    if message.category == "reminder":
        return _(
            "A reminder planned ahead: it leaves on %(when)s.",
            when=local_datetime(message.not_before, "short"),
        )
    return _("Planned for %(when)s.", when=local_datetime(message.not_before, "short"))


def why(message: Message) -> object:
    """Why a message was not sent, failed or was dropped, in words."""
    if message.status in ("blocked", "failed", "undelivered", "cancelled", "expired"):
        return reason_label(message.error_code, message.error_detail)
    return ""


# --- The outbox ("SMS envoyés") -------------------------------------------------------


@bp.get("/", endpoint="outbox")
@requires(Permission.SMS_READ)
def outbox_page():
    session = db.session()
    args = request.args
    filters = queries.OutboxFilter(
        status=args.get("status") or None,
        category=args.get("category") or None,
        text=(args.get("q") or "").strip(),
    )
    errors: dict[str, str] = {}
    try:
        page = queries.list_messages(session, filters, page=_page_number())
        counts = queries.count_by_status(session, filters)
    except Invalid as invalid:
        errors = _errors(invalid)
        page = queries.OutboxPage([], 0, 1, queries.PER_PAGE)
        counts = dict.fromkeys(MESSAGE_STATES, 0)
    rules = {category: outbox.category_rules(session, category) for category in CATEGORIES}
    kept = {name: args[name] for name in ("status", "category", "q") if args.get(name)}
    return render(
        "notifications/outbox.html",
        page=page,
        counts=counts,
        total=sum(counts.values()),
        filters=filters,
        errors=errors,
        kept=kept,
        statuses=MESSAGE_STATES,
        categories=CATEGORIES,
        waiting_note=lambda message: waiting_note(message, rules),
        why=why,
        can_contacts=can(current_user.role, Permission.SMS_CONTACTS),
        status=422 if errors else 200,
    )


@bp.get("/messages/<int:message_id>")
@requires(Permission.SMS_READ)
def message(message_id: int):
    session = db.session()
    found = queries.get_message(session, message_id, reader=_actor())
    if found is None:
        return _not_found()
    session.commit()  # the audited read
    users = _users(session, [found.created_by_id])
    rules = {found.category: outbox.category_rules(session, found.category)}
    return render(
        "notifications/message.html",
        message=found,
        users=users,
        why=why(found),
        waiting=waiting_note(found, rules),
        may_cancel=found.status == "pending" and can(current_user.role, Permission.SMS_CONTACTS),
    )


@bp.post("/messages/<int:message_id>/cancel")
@requires(Permission.SMS_CONTACTS)
def cancel_message(message_id: int):
    session = db.session()
    if session.get(Message, message_id) is None:
        return _not_found()
    if queries.cancel_message(session, message_id, actor=_actor()):
        session.commit()
        flash(_("The message is cancelled: it will not be sent."), "success")
    else:
        session.rollback()
        flash(_("This message no longer waits: it could not be cancelled."), "error")
    return redirect(url_for("sms.message", message_id=message_id))


def _users(session, ids) -> dict[int, User]:
    wanted = {user_id for user_id in ids if user_id is not None}
    return {user_id: user for user_id in wanted if (user := session.get(User, user_id))}


# --- Contacts --------------------------------------------------------------------------


@bp.get("/contacts", endpoint="contacts")
@requires(Permission.SMS_CONTACTS)
def contacts_page():
    query = (request.args.get("q") or "").strip()[:80]
    found = contacts.search_contacts(db.session(), query)
    return render("notifications/contacts.html", contacts=found, query=query)


def _contact_form_values(form) -> dict[str, Any]:
    return {
        "display_name": form.get("display_name", ""),
        "language": form.get("language", ""),
        "phones": [form.get(f"phone_{index}", "") for index in range(contacts.MAX_PHONES)],
        "teams": form.getlist("teams"),
    }


def _team_ids(raw: list[str], known: set[int]) -> list[int]:
    ids = []
    for value in raw:
        if parse_id(value) not in known:
            raise Invalid({"teams": FieldError("unknown_choice")})
        ids.append(int(value))
    return ids


def _save_contact(existing=None):
    """Create or change a contact from the posted form; the form again on errors."""
    session = db.session()
    teams = contacts.teams_for_contacts(session)
    values = _contact_form_values(request.form)
    language = values["language"] or None
    errors: dict[str, str] = {}
    try:
        team_ids = _team_ids(values["teams"], {team.id for team in teams})
    except Invalid as invalid:
        errors.update(_errors(invalid))
        team_ids = []
    fields = {
        "actor": _actor(),
        "display_name": values["display_name"],
        "language": language,
        "phones": values["phones"],
        "team_ids": team_ids,
    }
    saved = None
    try:
        if existing is None:
            saved = contacts.create_contact(session, **fields)
        else:
            saved = contacts.update_contact(session, existing, **fields)
    except Invalid as invalid:
        errors = {**_errors(invalid), **errors}
    if errors:
        session.rollback()
        return render(
            "notifications/contact_form.html",
            contact=existing,
            values=values,
            errors=errors,
            teams=teams,
            languages=LANGUAGES,
            status=422,
        )
    assert saved is not None
    session.commit()
    flash(_("Contact saved."), "success")
    if saved.phones and not any(phone.is_mobile for phone in saved.phones):
        flash(_("Only a landline: this person will get no SMS. Add a mobile number."), "warning")
    elif any(not phone.is_mobile for phone in saved.phones):
        flash(_("A landline is kept for the file, but SMS only go to mobile numbers."), "warning")
    return redirect(url_for("sms.contact", contact_id=saved.id))


@bp.route("/contacts/new", methods=["GET", "POST"])
@requires(Permission.SMS_CONTACTS)
def new_contact():
    if request.method == "POST":
        return _save_contact()
    return render(
        "notifications/contact_form.html",
        contact=None,
        values={"display_name": "", "language": "", "phones": ["", "", ""], "teams": []},
        errors={},
        teams=contacts.teams_for_contacts(db.session()),
        languages=LANGUAGES,
    )


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@requires(Permission.SMS_CONTACTS)
def edit_contact(contact_id: int):
    session = db.session()
    if request.method == "POST":
        existing = contacts.get_contact(session, contact_id)
        if existing is None:
            return _not_found()
        return _save_contact(existing)
    existing = contacts.get_contact(session, contact_id, reader=_actor())
    if existing is None:
        return _not_found()
    session.commit()  # the audited read
    phones = [phone.e164 for phone in existing.phones]
    phones += [""] * (contacts.MAX_PHONES - len(phones))
    return render(
        "notifications/contact_form.html",
        contact=existing,
        values={
            "display_name": existing.display_name,
            "language": existing.language or "",
            "phones": [national(number) for number in phones],
            "teams": [str(team.team_id) for team in existing.teams],
        },
        errors={},
        teams=contacts.teams_for_contacts(session),
        languages=LANGUAGES,
    )


def _contact_page(contact, *, errors=None, posted=None, status=200):
    session = db.session()
    consents = {consent.category: consent for consent in contact.consents}
    history = contacts.consent_history(session, contact.id)
    team_names = {team.id: team.name for team in contacts.teams_for_contacts(session)}
    users = _users(
        session,
        [consent.recorded_by_id for consent in consents.values()]
        + [event.recorded_by_id for event in history],
    )
    return render(
        "notifications/contact.html",
        contact=contact,
        consents=consents,
        history=history,
        reach={
            category: contacts.reachability(session, contact, category)
            for category in CONSENT_CATEGORIES
        },
        teams=[team_names[team.team_id] for team in contact.teams if team.team_id in team_names],
        users=users,
        messages=queries.contact_messages(session, contact.id),
        categories=CONSENT_CATEGORIES,
        methods=CONSENT_METHODS,
        errors=errors or {},
        posted=posted or {},
        why=why,
        status=status,
    )


@bp.get("/contacts/<int:contact_id>")
@requires(Permission.SMS_CONTACTS)
def contact(contact_id: int):
    session = db.session()
    found = contacts.get_contact(session, contact_id, reader=_actor())
    if found is None:
        return _not_found()
    session.commit()  # the audited read
    return _contact_page(found)


@bp.post("/contacts/<int:contact_id>/consent")
@requires(Permission.SMS_CONTACTS)
def consent(contact_id: int):
    session = db.session()
    found = contacts.get_contact(session, contact_id)
    if found is None:
        return _not_found()
    form = request.form
    category = form.get("category", "")
    granted = form.get("granted")
    posted = {"category": category, "method": form.get("method", ""), "note": form.get("note", "")}
    errors: dict[str, str] = {}
    if granted not in ("1", "0"):
        errors["granted"] = error_message(FieldError("unknown_choice"))
    try:
        contacts.set_consent(
            session,
            found,
            category=category,
            granted=granted == "1",
            method=posted["method"],
            note=posted["note"],
            actor=_actor(),
        )
    except Invalid as invalid:
        errors = {**_errors(invalid), **errors}
    if errors:
        session.rollback()
        found = contacts.get_contact(session, contact_id)
        return _contact_page(found, errors=errors, posted=posted, status=422)
    session.commit()
    label = CATEGORY_LABELS[category]
    if granted == "1":
        flash(_("Consent recorded: %(category)s.", category=label), "success")
    else:
        flash(
            _(
                "Consent withdrawn: %(category)s. Waiting messages of this kind will not be sent.",
                category=label,
            ),
            "success",
        )
    return redirect(url_for("sms.contact", contact_id=contact_id) + "#consents")


# --- Templates -------------------------------------------------------------------------


def _sample(kind: texts.TemplateKind | None, body: str) -> str:
    """The text as sent: placeholders filled with the kind's example values."""
    if kind is None:
        return body
    try:
        texts.placeholders_of(body)
        return texts.fill(body, kind.example or {name: "" for name in kind.placeholders})
    except (ValueError, IndexError, KeyError, AttributeError):
        return body


def segment_context(body: str, kind: texts.TemplateKind | None = None) -> dict[str, Any]:
    """What the live counter shows: the count and, when it saves segments, a GSM-7 text."""
    sample = _sample(kind, body)
    count = count_segments(sample)
    offered = spelling_suggestion(body)
    suggestion = offered.text
    saves = None
    if suggestion is not None:
        with_suggestion = count_segments(_sample(kind, suggestion)).segments
        if with_suggestion < count.segments:
            saves = (count.segments, with_suggestion)
        else:
            suggestion = None
    return {
        "count": count,
        "encoding_label": ENCODING_LABELS[count.encoding],
        "suggestion": suggestion,
        "saves": saves,
        # Words whose accent SMS cannot carry and that no rewording we know replaces.
        "reword": offered.reword if count.encoding == "UCS-2" else (),
        "with_examples": kind is not None and sample != body,
    }


@bp.get("/templates")
@requires(Permission.SMS_SETTINGS)
def templates():
    session = db.session()
    edited = texts.edited_templates(session)
    rows = []
    for kind in texts.kinds():
        for language in LANGUAGES:
            body = texts.template_text(session, kind.code, language)
            rows.append(
                {
                    "kind": kind,
                    "language": language,
                    "body": body,
                    "edited": (kind.code, language) in edited,
                    "count": count_segments(_sample(kind, body)),
                }
            )
    return render("notifications/templates.html", rows=rows)


def _kind_or_404(code: str, language: str) -> texts.TemplateKind:
    kind = texts.get_kind(code)
    if kind is None or language not in LANGUAGES:
        abort(404)
    return kind


def _template_form(kind, language, body, *, errors=None, status=200):
    session = db.session()
    return render(
        "notifications/template_form.html",
        kind=kind,
        language=language,
        body=body,
        default=kind.defaults[language],
        edited=session.get(Template, (kind.code, language)) is not None,
        errors=errors or {},
        status=status,
        **segment_context(body, kind),
    )


@bp.route("/templates/<code>/<language>", methods=["GET", "POST"])
@requires(Permission.SMS_SETTINGS)
def edit_template(code: str, language: str):
    kind = _kind_or_404(code, language)
    session = db.session()
    if request.method == "GET":
        return _template_form(kind, language, texts.template_text(session, code, language))
    body = request.form.get("body", "")[:4000]
    if request.form.get("action") == "draft":
        # "Use this text": the suggestion back in the form, not saved yet.
        return _template_form(kind, language, body)
    try:
        texts.save_template(session, code=code, language=language, body=body, actor_id=_actor().id)
    except Invalid as invalid:
        session.rollback()
        return _template_form(kind, language, body, errors=_errors(invalid), status=422)
    session.commit()
    flash(_("Text saved."), "success")
    return redirect(url_for("sms.templates") + f"#t-{code}-{language}")


@bp.post("/templates/<code>/<language>/reset")
@requires(Permission.SMS_SETTINGS)
def reset_template(code: str, language: str):
    _kind_or_404(code, language)
    session = db.session()
    texts.reset_template(session, code=code, language=language)
    session.commit()
    flash(_("The text is back to the default wording."), "success")
    return redirect(url_for("sms.edit_template", code=code, language=language))


@bp.post("/templates/count", endpoint="count_segments")
@requires(Permission.SMS_SETTINGS)
def count_segments_view():
    body = request.form.get("body", "")[:4000]
    kind = texts.get_kind(request.form.get("code", ""))
    language = request.form.get("language", "")
    return render(
        "notifications/_segments.html",
        kind=kind,
        language=language if language in LANGUAGES else "",
        **segment_context(body, kind),
    )


# --- Quiet hours -----------------------------------------------------------------------


def _minutes_to_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_time(raw: str) -> int | None:
    hours, _sep, minutes = raw.strip().partition(":")
    if not (hours.isdigit() and minutes[:2].isdigit()):
        return None
    value = int(hours) * 60 + int(minutes[:2])
    return value if int(hours) < 24 and int(minutes[:2]) < 60 else None


@bp.route("/settings", methods=["GET", "POST"])
@requires(Permission.SMS_SETTINGS)
def settings():
    session = db.session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {}
        for category in CATEGORIES:
            form = request.form
            values[category] = {
                "quiet_from": form.get(f"{category}-quiet_from", ""),
                "quiet_until": form.get(f"{category}-quiet_until", ""),
                "urgent_may_bypass": form.get(f"{category}-urgent_may_bypass") == "1",
                "validity_hours": form.get(f"{category}-validity_hours", ""),
            }
            row = values[category]
            quiet_from, quiet_until = (
                _parse_time(row["quiet_from"]),
                _parse_time(row["quiet_until"]),
            )
            for name, parsed in (("quiet_from", quiet_from), ("quiet_until", quiet_until)):
                if parsed is None:
                    errors[f"{category}-{name}"] = error_message(FieldError("invalid_time"))
            validity = row["validity_hours"].strip()
            if not validity.isdigit():
                errors[f"{category}-validity_hours"] = error_message(
                    FieldError("out_of_range", {"min": 1, "max": 72})
                )
            if any(key.startswith(f"{category}-") for key in errors):
                continue
            try:
                outbox.save_category_rules(
                    session,
                    outbox.CategoryRules(
                        category, quiet_from, quiet_until, row["urgent_may_bypass"], int(validity)
                    ),
                    actor=_actor(),
                )
            except Invalid as invalid:
                errors.update(
                    {f"{category}-{name}": text for name, text in _errors(invalid).items()}
                )
        if not errors:
            session.commit()
            flash(_("Quiet hours saved."), "success")
            return redirect(url_for("sms.settings"))
        session.rollback()
    else:
        values = {}
        for category in CATEGORIES:
            rules = outbox.category_rules(session, category)
            values[category] = {
                "quiet_from": _minutes_to_text(rules.quiet_from),
                "quiet_until": _minutes_to_text(rules.quiet_until),
                "urgent_may_bypass": rules.urgent_may_bypass,
                "validity_hours": str(rules.validity_hours),
            }
    return render(
        "notifications/settings.html",
        values=values,
        errors=errors,
        categories=CATEGORIES,
        status=422 if errors else 200,
    )
