"""Broadcasts (compose, preview, send, follow) and the monthly SMS report.

Sending only stores the broadcast: the scheduler's job makes the outbox rows in
batches (notifications.broadcasts.expand_pending), so 5,000 people never hold up this
request. The broadcast page polls a small fragment every 2 seconds until it is done.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for
from flask_babel import format_currency, format_date, format_percent, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import clock
from core.errors import FieldError, Invalid
from core.roles import Permission
from notifications import broadcasts, reports, staff
from notifications.broadcasts import BROADCAST_CATEGORIES, STATUS_GROUPS, TEXT_LANGUAGES
from notifications.models import CATEGORIES
from notifications.sms import spelling_suggestion
from web import db
from web.common import actor, not_found
from web.i18n import local_datetime
from web.notifications.shared import CATEGORY_LABELS, REASON_LABELS, page_number, segment_context
from web.permissions import requires
from web.rendering import render
from web.validation import message as error_message

bp = Blueprint("notifications_broadcasts", __name__, url_prefix="/sms")

PER_PAGE = 50

# Audiences and their parameters registered by other domains show their own English
# label until they are added here.
AUDIENCE_LABELS = {
    "team_contacts": _l("Beneficiaries of an antenne or a service"),
    "team_staff": _l("Staff of a team"),
    "all_contacts": _l("Everyone who agreed to this kind of message"),
    "appointments_on_day": _l("People with an appointment on a day"),
    "stop_subscribers": _l("Subscribers of a minibus stop"),
}
PARAM_LABELS = {
    "team_id": _l("Team"),
    "date": _l("Day"),
    "location": _l("Place (all when empty)"),
    "stop": _l("Minibus stop"),
}
CHOICE_LABELS = {"all": _l("All teams")}
DESCRIPTION_LABELS = {"all teams": _l("all teams"), "everyone": _l("everyone")}
BROADCAST_STATUS_LABELS = {
    "queued": _l("Being prepared"),
    "sending": _l("Sending"),
    "done": _l("Finished"),
    "cancelled": _l("Stopped"),
}
GROUP_LABELS = {
    "waiting": _l("Waiting"),
    "sending": _l("Being sent"),
    "sent": _l("Sent, not confirmed yet"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
    "not_sent": _l("Not sent"),
}
TEXT_LABELS = {
    "fr": _l("Text in French"),
    "nl": _l("Text in Dutch"),
    "en": _l("Text in English (optional)"),
}
OPT_OUT_LABELS = {"sms_reply": _l("by SMS (STOP)"), "staff": _l("recorded by staff")}


def _segment_price() -> Decimal:
    return Decimal(current_app.config["TERRAIN_SETTINGS"].sms_segment_price)


def _error_text(error: FieldError) -> str:
    if error.code == "too_many_segments":  # the shared sentence speaks of placeholders
        return _("Too long: at most %(max)s SMS segments.", max=error.params.get("max", ""))
    return error_message(error)


def _errors(errors: dict[str, FieldError]) -> dict[str, str]:
    return {name: _error_text(error) for name, error in errors.items()}


def audience_label(code: str) -> object:
    audience = broadcasts.get_audience(code)
    return AUDIENCE_LABELS.get(code) or (audience.label if audience else code)


def describe(broadcast) -> str:
    """ "Beneficiaries of an antenne or a service: Antenne Marolles"."""
    label = DESCRIPTION_LABELS.get(broadcast.audience_label, broadcast.audience_label)
    return (
        f"{audience_label(broadcast.audience)}: {label}"
        if label
        else str(audience_label(broadcast.audience))
    )


def money(amount: Decimal) -> str:
    return format_currency(amount, "EUR")


@bp.app_context_processor
def _broadcast_context() -> dict[str, Any]:
    return {
        "audience_label": audience_label,
        "describe_broadcast": describe,
        "money": money,
        "BROADCAST_STATUS_LABELS": BROADCAST_STATUS_LABELS,
        "GROUP_LABELS": GROUP_LABELS,
    }


# --- List ------------------------------------------------------------------------------


@bp.get("/broadcasts", endpoint="broadcasts")
@requires(Permission.SMS_BROADCAST)
def broadcasts_page():
    page = page_number()
    found = staff.broadcast_list(db.session(), page=page, per_page=PER_PAGE, viewer=actor())
    return render(
        "notifications/broadcasts.html",
        items=found.items,
        counts=found.counts,
        page=page,
        more=found.more,
    )


# --- Compose, preview, send -------------------------------------------------------------


def _posted() -> dict[str, Any]:
    form = request.form if request.method == "POST" else request.args
    audiences = broadcasts.audiences()
    code = form.get("audience") or (audiences[0].code if audiences else "")
    audience = broadcasts.get_audience(code)
    params = {}
    if audience is not None:
        params = {spec.name: (form.get(spec.name) or "")[:80] for spec in audience.params}
    return {
        "audience": code,
        "params": params,
        "category": form.get("category") or "service_change",
        "urgent": form.get("urgent") == "1",
        "bodies": {lang: (form.get(f"body_{lang}") or "")[:2000] for lang in TEXT_LANGUAGES},
    }


def _param_fields(code: str, values: dict[str, str]) -> list[dict[str, Any]]:
    fields = staff.audience_fields(
        db.session(), code, values, language=str(get_locale()), viewer=actor()
    )
    return [
        {
            "name": field.name,
            "label": PARAM_LABELS.get(field.name, field.label),
            "kind": field.kind,
            "required": field.required,
            "choices": [(value, CHOICE_LABELS.get(value, label)) for value, label in field.choices],
            "value": field.value,
        }
        for field in fields
    ]


def _form(values: dict[str, Any], *, preview=None, errors=None, status: int = 200, focus: str = ""):
    return render(
        "notifications/broadcast_form.html",
        values=values,
        audiences=[(a.code, audience_label(a.code)) for a in broadcasts.audiences()],
        param_fields=_param_fields(values["audience"], values["params"]),
        categories=BROADCAST_CATEGORIES,
        languages=TEXT_LANGUAGES,
        text_labels=TEXT_LABELS,
        counters={
            lang: segment_context(staff.segment_counter(values["bodies"][lang]))
            for lang in TEXT_LANGUAGES
        },
        preview=preview,
        errors=errors or {},
        reason_labels=REASON_LABELS,
        focus=focus,
        status=status,
    )


@bp.route("/broadcasts/new", methods=["GET", "POST"])
@requires(Permission.SMS_BROADCAST)
def new_broadcast():
    values = _posted()
    if request.method == "GET":
        return _form(values)
    use = request.form.get("use_suggestion")
    if use in TEXT_LANGUAGES:
        # "Use this text": the suggestion (made again here) in the form, nothing sent.
        suggestion = spelling_suggestion(values["bodies"][use]).text
        if suggestion is not None:
            values["bodies"][use] = suggestion
        return _form(values, focus=f"body_{use}")
    if request.form.get("action") == "send":
        try:
            sent = staff.send_broadcast(db.session(), actor=actor(), **values)
        except Invalid as invalid:
            return _form(values, errors=_errors(invalid.errors), status=422)
        if sent.waits_until is not None:
            flash(
                _(
                    "The broadcast is saved. It is quiet hours: the messages leave at "
                    "%(time)s, not before.",
                    time=local_datetime(sent.waits_until, "short"),
                ),
                "success",
            )
        else:
            flash(_("The broadcast is saved. The messages are being prepared and sent."), "success")
        return redirect(
            url_for("notifications_broadcasts.broadcast", broadcast_id=sent.broadcast_id)
        )
    checked = staff.preview_broadcast(
        db.session(), **values, segment_price=_segment_price(), reader=actor()
    )
    return _form(
        values,
        preview=checked.checked,
        errors=_errors(checked.errors),
        status=422 if checked.errors else 200,
    )


@bp.post("/broadcasts/count")
@requires(Permission.SMS_BROADCAST)
def count_segments():
    """The live counter under one text (`lang`: which textarea asked)."""
    language = request.form.get("lang", "")
    if language not in TEXT_LANGUAGES:
        language = "fr"
    body = (request.form.get(f"body_{language}") or "")[:2000]
    return render(
        "notifications/_segments.html",
        kind=None,
        language="",
        use_for=language,
        **segment_context(staff.segment_counter(body)),
    )


# --- One broadcast: progress and result ---------------------------------------------------


def _record(broadcast_id: int) -> tuple[staff.BroadcastRecord | None, dict[str, Any]]:
    """The broadcast and its result per person for the page's filter and page number
    (`?status=&page=`)."""
    group = request.args.get("status") or None
    if group not in STATUS_GROUPS:
        group = None
    page = page_number()
    record = staff.broadcast_record(
        db.session(), broadcast_id, group=group, page=page, per_page=PER_PAGE, reader=actor()
    )
    if record is None:
        return None, {}
    return record, {
        "people": record.people,
        "group": group,
        "page": page,
        "pages": max(1, -(-record.people.total // PER_PAGE)),
        "groups": STATUS_GROUPS,
    }


@bp.get("/broadcasts/<int:broadcast_id>")
@requires(Permission.SMS_BROADCAST)
def broadcast(broadcast_id: int):
    record, recipients = _record(broadcast_id)
    if record is None:
        return not_found()
    return render(
        "notifications/broadcast.html",
        item=record.item,
        author=record.author,
        progress=record.progress,
        text_labels=TEXT_LABELS,
        **recipients,
    )


@bp.get("/broadcasts/<int:broadcast_id>/progress")
@requires(Permission.SMS_BROADCAST)
def progress(broadcast_id: int):
    record, recipients = _record(broadcast_id)
    if record is None:
        return not_found()
    # The result per person is swapped in with it, so the page never needs a reload.
    return render(
        "notifications/_broadcast_progress.html",
        item=record.item,
        progress=record.progress,
        recipients_oob=True,
        **recipients,
    )


@bp.post("/broadcasts/<int:broadcast_id>/cancel")
@requires(Permission.SMS_BROADCAST)
def cancel(broadcast_id: int):
    try:
        stopped = staff.cancel_broadcast(db.session(), broadcast_id, actor=actor())
    except Invalid as invalid:
        flash(" ".join(_errors(invalid.errors).values()), "error")
    else:
        if stopped is None:
            return not_found()
        flash(
            ngettext(
                "Broadcast stopped: %(num)d message will not be sent. Those already sent "
                "cannot be called back.",
                "Broadcast stopped: %(num)d messages will not be sent. Those already sent "
                "cannot be called back.",
                stopped,
            ),
            "success",
        )
    return redirect(url_for("notifications_broadcasts.broadcast", broadcast_id=broadcast_id))


# --- Monthly report ------------------------------------------------------------------------


def _month() -> tuple[int, int, str | None]:
    raw = request.args.get("month", "")
    today = clock.to_local(clock.now()).date()
    if not raw:
        return today.year, today.month, None
    parsed = clock.parse_month(raw)
    if parsed is None:
        return today.year, today.month, _("Choose a month like 2026-11.")
    return parsed.year, parsed.month, None


def _report(*, with_months: bool) -> tuple[staff.MonthReport, str | None]:
    year, month, error = _month()
    found = staff.month_report(
        db.session(),
        year,
        month,
        segment_price=_segment_price(),
        viewer=actor(),
        with_months=with_months,
    )
    return found, error


def _rate(group: reports.AttendanceGroup) -> str:
    return "—" if group.rate is None else format_percent(group.rate)


@bp.get("/report")
@requires(Permission.SMS_REPORTS)
def report():
    found, error = _report(with_months=True)
    report = found.report
    return render(
        "notifications/report.html",
        report=report,
        error=error,
        months=[
            (f"{year:04d}-{month:02d}", format_date(date(year, month, 1), "MMMM y"))
            for year, month in found.months
        ],
        selected=f"{report.year:04d}-{report.month:02d}",
        month_label=format_date(report.first_day, "MMMM y"),
        categories=CATEGORIES,
        rate=_rate,
        opt_out_labels=OPT_OUT_LABELS,
        status=422 if error else 200,
    )


@bp.get("/report.csv")
@requires(Permission.SMS_REPORTS)
def report_csv():
    report = _report(with_months=False)[0].report
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Kind of message"),
            _("Created"),
            _("Sent"),
            _("Delivered"),
            _("Failed"),
            _("Not sent"),
            _("Cancelled or too late"),
            _("Segments"),
            _("Cost (EUR)"),
            _("Of which estimated (EUR)"),
            _("Opt-outs by SMS"),
            _("Opt-outs recorded by staff"),
        ]
    )
    rows = [(str(CATEGORY_LABELS[code]), report.categories[code]) for code in CATEGORIES]
    rows.append((_("Total"), report.total))
    for label, figures in rows:
        writer.writerow(
            [
                label,
                figures.created,
                figures.sent,
                figures.delivered,
                figures.failed,
                figures.blocked,
                figures.dropped,
                figures.segments,
                f"{figures.cost:.2f}",
                f"{figures.cost_estimated:.2f}",
                figures.opt_outs["sms_reply"],
                figures.opt_outs["staff"],
            ]
        )
    writer.writerow([])
    if report.attendance is None:
        writer.writerow([_("Attendance"), _("No appointment data yet.")])
    else:
        writer.writerow(
            [_("Attendance"), _("Appointments"), _("Recorded"), _("Attended"), _("Rate")]
        )
        for label, group in (
            (_("With a delivered reminder"), report.attendance.with_reminder),
            (_("Without a reminder"), report.attendance.without_reminder),
        ):
            rate = "" if group.rate is None else f"{group.rate:.3f}"
            writer.writerow([label, group.appointments, group.recorded, group.attended, rate])
    name = f"terrain-sms-{report.year:04d}-{report.month:02d}.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # the BOM tells spreadsheets it is UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
