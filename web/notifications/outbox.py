"""SMS pages for staff: the outbox, contacts and consent, templates, quiet hours.

The labels every SMS page shows live in web/notifications/shared.py; this blueprint
puts them in every template's context, with the section's tabs.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.errors import FieldError, Invalid
from core.roles import Permission, can
from notifications import contacts, outbox, queries, staff, texts
from notifications.models import (
    CATEGORIES,
    CONSENT_CATEGORIES,
    CONSENT_METHODS,
    LANGUAGES,
    MESSAGE_STATES,
    Message,
)
from web import db
from web.common import Tab, actor, field_errors, national, not_found, visible_tabs
from web.i18n import local_datetime, local_time
from web.notifications.shared import (
    CATEGORY_LABELS,
    ENCODING_LABELS,
    LANGUAGE_LABELS,
    METHOD_LABELS,
    PHONE_STATE_LABELS,
    REASON_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    contact_name,
    page_number,
    reason_label,
    segment_context,
    subject_label,
)
from web.permissions import requires
from web.plugins import TEMPLATE_LABELS
from web.rendering import render

bp = Blueprint("notifications", __name__, url_prefix="/sms")

bp.add_app_template_filter(national, "phone_national")
bp.add_app_template_filter(contact_name, "contact_name")


# --- The SMS section's tabs (shared: templates/notifications/_tabs.html) ------------------


TABS = [
    Tab("notifications.outbox", _l("Sent SMS"), Permission.SMS_READ),
    Tab("notifications_inbox.inbox", _l("Replies"), Permission.SMS_INBOX),
    Tab("notifications.contacts", _l("Contacts"), Permission.SMS_CONTACTS),
    Tab("notifications_broadcasts.broadcasts", _l("Broadcasts"), Permission.SMS_BROADCAST),
    Tab("notifications_broadcasts.report", _l("Report"), Permission.SMS_REPORTS),
    Tab("notifications.templates", _l("Texts"), Permission.SMS_SETTINGS),
    Tab("notifications.settings", _l("Quiet hours"), Permission.SMS_SETTINGS),
]


def notifications_tabs() -> list[Tab]:
    return visible_tabs(TABS)


@bp.app_context_processor
def _notifications_context() -> dict[str, Any]:
    return {
        "notifications_tabs": notifications_tabs,
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


def _errors(errors: dict[str, FieldError]) -> dict[str, str]:
    return field_errors(Invalid(errors))


def waiting_note(message: Message, rules: dict[str, outbox.CategoryRules]) -> str:
    """Why a waiting message has not left yet, in words ("" when it leaves now)."""
    reason = staff.why_waiting(message, rules.get(message.category))
    if reason is None:
        return ""
    at = local_time(message.not_before)
    if reason == "busy":
        return _("The operator was busy: tried again at %(time)s.", time=at)
    if reason == "quiet_hours":
        return _("Quiet hours: waits until %(time)s.", time=at)
    if reason == "reminder":
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
    args = request.args
    filters = queries.OutboxFilter(
        status=args.get("status") or None,
        category=args.get("category") or None,
        text=(args.get("q") or "").strip(),
    )
    cursor = queries.Cursor.read(args.get("before"), older=True) or queries.Cursor.read(
        args.get("after"), older=False
    )
    found = staff.outbox_page(
        db.session(), filters, page=page_number(), cursor=cursor, viewer=actor()
    )
    errors = _errors(found.errors)
    kept = {name: args[name] for name in ("status", "category", "q") if args.get(name)}
    return render(
        "notifications/outbox.html",
        page=found.page,
        counts=found.counts,
        total=sum(found.counts.values()),
        filters=filters,
        errors=errors,
        kept=kept,
        statuses=MESSAGE_STATES,
        categories=CATEGORIES,
        waiting_note=lambda message: waiting_note(message, found.rules),
        why=why,
        can_contacts=can(current_user.role, Permission.SMS_CONTACTS),
        status=422 if errors else 200,
    )


@bp.get("/messages/<int:message_id>")
@requires(Permission.SMS_READ)
def message(message_id: int):
    record = staff.message_record(db.session(), message_id, reader=actor())
    if record is None:
        return not_found()
    found = record.message
    return render(
        "notifications/message.html",
        message=found,
        users=record.users,
        about=subject_label(record.subject),
        why=why(found),
        waiting=waiting_note(found, record.rules),
        may_cancel=found.status == "pending" and can(current_user.role, Permission.SMS_CONTACTS),
    )


@bp.post("/messages/<int:message_id>/cancel")
@requires(Permission.SMS_CONTACTS)
def cancel_message(message_id: int):
    cancelled = staff.cancel_message(db.session(), message_id, actor=actor())
    if cancelled is None:
        return not_found()
    if cancelled:
        flash(_("The message is cancelled: it will not be sent."), "success")
    else:
        flash(_("This message no longer waits: it could not be cancelled."), "error")
    return redirect(url_for("notifications.message", message_id=message_id))


# --- Contacts --------------------------------------------------------------------------


@bp.get("/contacts", endpoint="contacts")
@requires(Permission.SMS_CONTACTS)
def contacts_page():
    query = (request.args.get("q") or "").strip()[:80]
    found = staff.contact_list(db.session(), query, viewer=actor())
    return render("notifications/contacts.html", contacts=found, query=query)


def _contact_form(form: staff.ContactForm, values: dict[str, Any], *, status: int = 200):
    return render(
        "notifications/contact_form.html",
        contact=form.contact,
        values=values,
        errors=_errors(form.errors),
        teams=form.teams,
        languages=LANGUAGES,
        status=status,
    )


def _save_contact(contact_id: int | None = None):
    """Create or change a contact from the posted form; the form again on errors."""
    form = request.form
    values = {
        "display_name": form.get("display_name", ""),
        "language": form.get("language", ""),
        "phones": [form.get(f"phone_{index}", "") for index in range(contacts.MAX_PHONES)],
        "teams": form.getlist("teams"),
    }
    result = staff.save_contact(
        db.session(),
        contact_id,
        actor=actor(),
        display_name=values["display_name"],
        language=values["language"] or None,
        phones=values["phones"],
        teams=values["teams"],
    )
    if result is None:
        return not_found()
    if result.errors:
        return _contact_form(result, values, status=422)
    saved = result.saved
    assert saved is not None
    flash(_("Contact saved."), "success")
    if saved.phones and not any(phone.is_mobile for phone in saved.phones):
        flash(_("Only a landline: this person will get no SMS. Add a mobile number."), "warning")
    elif any(not phone.is_mobile for phone in saved.phones):
        flash(_("A landline is kept for the file, but SMS only go to mobile numbers."), "warning")
    return redirect(url_for("notifications.contact", contact_id=saved.id))


@bp.route("/contacts/new", methods=["GET", "POST"])
@requires(Permission.SMS_CONTACTS)
def new_contact():
    if request.method == "POST":
        return _save_contact()
    form = staff.contact_form(db.session())
    assert form is not None
    values = {"display_name": "", "language": "", "phones": ["", "", ""], "teams": []}
    return _contact_form(form, values)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@requires(Permission.SMS_CONTACTS)
def edit_contact(contact_id: int):
    if request.method == "POST":
        return _save_contact(contact_id)
    form = staff.contact_form(db.session(), contact_id, reader=actor())
    if form is None or form.contact is None:
        return not_found()
    existing = form.contact
    phones = [phone.e164 for phone in existing.phones]
    phones += [""] * (contacts.MAX_PHONES - len(phones))
    values = {
        "display_name": existing.display_name,
        "language": existing.language or "",
        "phones": [national(number) for number in phones],
        "teams": [str(team.team_id) for team in existing.teams],
    }
    return _contact_form(form, values)


def _contact_page(record: staff.ContactRecord, *, errors=None, posted=None, status=200):
    return render(
        "notifications/contact.html",
        contact=record.contact,
        consents=record.consents,
        history=record.history,
        reach=record.reach,
        teams=record.teams,
        users=record.users,
        messages=record.messages,
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
    record = staff.contact_record(db.session(), contact_id, reader=actor())
    if record is None:
        return not_found()
    return _contact_page(record)


@bp.post("/contacts/<int:contact_id>/consent")
@requires(Permission.SMS_CONTACTS)
def consent(contact_id: int):
    form = request.form
    category = form.get("category", "")
    granted = {"1": True, "0": False}.get(form.get("granted") or "")
    posted = {"category": category, "method": form.get("method", ""), "note": form.get("note", "")}
    session = db.session()
    errors = staff.record_consent(
        session,
        contact_id,
        category=category,
        granted=granted,
        method=posted["method"],
        note=posted["note"],
        actor=actor(),
    )
    if errors is None:
        return not_found()
    if errors:
        record = staff.contact_record(session, contact_id)
        assert record is not None
        return _contact_page(record, errors=_errors(errors), posted=posted, status=422)
    label = CATEGORY_LABELS[category]
    if granted:
        flash(_("Consent recorded: %(category)s.", category=label), "success")
    else:
        flash(
            _(
                "Consent withdrawn: %(category)s. Waiting messages of this kind will not be sent.",
                category=label,
            ),
            "success",
        )
    return redirect(url_for("notifications.contact", contact_id=contact_id) + "#consents")


# --- Templates -------------------------------------------------------------------------


@bp.get("/templates")
@requires(Permission.SMS_SETTINGS)
def templates():
    return render("notifications/templates.html", rows=staff.template_rows(db.session()))


def _template_form(code: str, language: str, body: str | None = None, *, errors=None, status=200):
    form = staff.template_form(db.session(), code, language, body)
    if form is None:
        abort(404)
    return render(
        "notifications/template_form.html",
        kind=form.kind,
        language=form.language,
        body=form.body,
        default=form.default,
        edited=form.edited,
        errors=errors or {},
        status=status,
        **segment_context(form.counter),
    )


@bp.route("/templates/<code>/<language>", methods=["GET", "POST"])
@requires(Permission.SMS_SETTINGS)
def edit_template(code: str, language: str):
    if request.method == "GET" or texts.get_kind(code) is None or language not in LANGUAGES:
        return _template_form(code, language)
    body = request.form.get("body", "")[:4000]
    if request.form.get("action") == "draft":
        # "Use this text": the suggestion back in the form, not saved yet.
        return _template_form(code, language, body)
    errors = staff.save_template(
        db.session(), code=code, language=language, body=body, actor=actor()
    )
    if errors:
        return _template_form(code, language, body, errors=_errors(errors), status=422)
    flash(_("Text saved."), "success")
    return redirect(url_for("notifications.templates") + f"#t-{code}-{language}")


@bp.post("/templates/<code>/<language>/reset")
@requires(Permission.SMS_SETTINGS)
def reset_template(code: str, language: str):
    if texts.get_kind(code) is None or language not in LANGUAGES:
        abort(404)
    staff.reset_template(db.session(), code=code, language=language)
    flash(_("The text is back to the default wording."), "success")
    return redirect(url_for("notifications.edit_template", code=code, language=language))


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
        **segment_context(staff.segment_counter(body, kind)),
    )


# --- Quiet hours -----------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@requires(Permission.SMS_SETTINGS)
def settings():
    session = db.session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        values = {
            category: {
                "quiet_from": form.get(f"{category}-quiet_from", ""),
                "quiet_until": form.get(f"{category}-quiet_until", ""),
                "urgent_may_bypass": form.get(f"{category}-urgent_may_bypass") == "1",
                "validity_hours": form.get(f"{category}-validity_hours", ""),
            }
            for category in CATEGORIES
        }
        errors = _errors(staff.save_quiet_hours(session, values, actor=actor()))
        if not errors:
            flash(_("Quiet hours saved."), "success")
            return redirect(url_for("notifications.settings"))
    else:
        values = staff.quiet_hours(session)
    return render(
        "notifications/settings.html",
        values=values,
        errors=errors,
        categories=CATEGORIES,
        status=422 if errors else 200,
    )
