"""Street outreach follow-up pages: the people of the team, a person's file (timeline,
needs, referrals, consent and identity, minor flag), merging two records, minors' alerts.

Who may read a file is decided by outreach.access alone; what each page shows, and the
audit of its reads, come from outreach/files.py, whose use cases also end the transaction
(commit, or roll back and raise Invalid). Somebody who may not read a person gets the
same 404 as for a person that does not exist; somebody who may read but not change (a
social worker of the service referred to) gets 403 on the forms that change the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.dates import get_day_names
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from core.errors import Invalid
from core.roles import Permission
from outreach import access, files, referrals
from outreach.models import Person
from web import db
from web.common import Tab, actor, field_errors, not_found, visible_tabs
from web.outreach.labels import CHOICES, LABELS, label
from web.permissions import requires
from web.rendering import render

bp = Blueprint("outreach_files", __name__, url_prefix="/outreach")

SEARCH_MAX = 60


# --- The section's tabs (templates/outreach/files/_tabs.html) ------------------------------


TABS = [
    Tab("outreach_files.people", _l("People"), Permission.OUTREACH_FILES),
    Tab("outreach_files.alerts", _l("Minors: to do"), Permission.OUTREACH_FILES),
    Tab("outreach_admin.partners", _l("Services directory"), Permission.OUTREACH_DIRECTORY),
    Tab("outreach_admin.settings", _l("Minors and retention"), Permission.OUTREACH_SETTINGS),
    Tab("outreach_admin.purges", _l("Purge reports"), Permission.OUTREACH_SETTINGS),
    Tab("outreach_reports.index", _l("Indicators"), Permission.OUTREACH_REPORTS),
]


def outreach_tabs() -> list[Tab]:
    return visible_tabs(TABS)


@bp.app_context_processor
def _outreach_context() -> dict[str, Any]:
    return {"outreach_tabs": outreach_tabs, "outreach_label": label}


# --- Helpers ---------------------------------------------------------------------------


def _to_change(session: Session, person_id: Any) -> Person:
    """The person the posted form changes: 404 when not readable, 403 when read-only."""
    person = files.readable_person(session, actor(), person_id)
    if person is None:
        abort(404)
    if not access.can_change_person(actor(), person):
        abort(403)
    return person


def _form(*multiple: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in request.form:
        if name == "csrf_token":
            continue
        data[name] = request.form.getlist(name) if name in multiple else request.form.get(name)
    for name in multiple:
        data.setdefault(name, [])
    return data


def _back_to(person_id: Any, anchor: str):
    return redirect(url_for("outreach_files.person", person_id=person_id, _anchor=anchor))


# --- The people of the team, and those referred to my service ---------------------------


@bp.get("/personnes", endpoint="people")
@requires(Permission.OUTREACH_FILES)
def people_page():
    session = db.session()
    query = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    listed = files.people_list(session, actor(), query)
    return render(
        "outreach/files/people.html",
        partial="outreach/files/_people_list.html",
        **vars(listed),
        labels=LABELS,
    )


# --- A person's file ---------------------------------------------------------------------


def _file_page(
    person_id: Any,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    posted: dict[str, Any] | None = None,
    status: int = 200,
):
    """The file of a person the user may read (the read is audited), else 404."""
    session = db.session()
    found = files.person_file(session, actor(), person_id, locale=str(get_locale()))
    if found is None:
        return not_found()
    return render(
        "outreach/files/person.html",
        **vars(found),
        hours_of=opening_hours_text,
        labels=LABELS,
        choices=CHOICES,
        errors=errors or {},
        posted=posted or {},
        status=status,
    )


def opening_hours_text(location: Any) -> str:
    """A place's opening hours in one line: "Mon–Fri 08:30–12:00, 13:00–16:00"; days
    with the same hours are joined."""
    names = get_day_names("abbreviated", locale=str(get_locale()))
    by_day: dict[int, list[str]] = {}
    for hours in sorted(location.opening_hours, key=lambda h: (h.weekday, h.opens)):
        by_day.setdefault(hours.weekday, []).append(
            f"{hours.opens.strftime('%H:%M')}–{hours.closes.strftime('%H:%M')}"
        )
    runs: list[tuple[int, int, str]] = []  # first day, last day, hours
    for day in sorted(by_day):
        text = ", ".join(by_day[day])
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == text:
            runs[-1] = (runs[-1][0], day, text)
        else:
            runs.append((day, day, text))
    return "; ".join(
        f"{names[first]}{'–' + names[last] if last != first else ''} {text}"
        for first, last, text in runs
    )


@bp.get("/personnes/<person_id>")
@requires(Permission.OUTREACH_FILES)
def person(person_id: str):
    return _file_page(person_id)


def _failed(person: Person, form: str, invalid: Invalid, posted: dict[str, Any]):
    """The file again with the form's errors, nothing changed (422: the use case rolled
    back)."""
    return _file_page(
        person.id, errors={form: field_errors(invalid)}, posted={form: posted}, status=422
    )


def _apply(
    found: Person,
    form: str,
    data: dict[str, Any],
    change: Callable[[], object],
    done: str,
    anchor: str,
    shown: dict[str, Any] | None = None,
):
    """Run one use case changing the file (it commits): back to the file, or the file
    again with the form's errors (422, nothing changed; `shown` is what the form shows
    again)."""
    try:
        change()
    except Invalid as invalid:
        return _failed(found, form, invalid, data if shown is None else shown)
    flash(done, "success")
    return _back_to(found.id, anchor)


@bp.post("/personnes/<person_id>/orientations")
@requires(Permission.OUTREACH_FILES)
def propose_referral(person_id: str):
    session = db.session()
    found = _to_change(session, person_id)
    data = _form()
    # One select names every destination: "partner:3", "team:7", or a service a CPAS
    # team offers, "team:7:permanence-sociale".
    chosen = data.pop("destination", "") or ""
    kind, _sep, value = chosen.partition(":")
    if kind == "partner":
        data["partner_id"] = value
    elif kind == "team":
        value, _sep, code = value.partition(":")
        data["to_team_id"] = value
        if code:
            data["service_code"] = code
    return _apply(
        found,
        "referral",
        data,
        lambda: files.propose_referral(session, actor(), found.id, data),
        _("Referral recorded."),
        "referrals",
        shown={**data, "destination": chosen},
    )


@bp.post("/orientations/<referral_id>/statut")
@requires(Permission.OUTREACH_FILES)
def move_referral(referral_id: str):
    session = db.session()
    chosen = files.referral_to_move(session, actor(), referral_id)
    if chosen is None:
        return not_found()
    referral, found = chosen
    if not referrals.can_move(session, actor(), referral):
        abort(403)
    data = _form()
    status = data.get("status") or ""
    if status not in CHOICES["referral_status"]:
        status = "?"  # refused by the service as a transition that does not exist
    return _apply(
        found,
        f"move-{referral.id}",
        data,
        lambda: files.move_referral(session, actor(), referral.id, status, data),
        _("Referral updated."),
        f"referral-{referral.id}",
    )


@bp.post("/personnes/<person_id>/consentements")
@requires(Permission.OUTREACH_FILES)
def record_consent(person_id: str):
    session = db.session()
    found = _to_change(session, person_id)
    data = _form("scopes")
    return _apply(
        found,
        "consent",
        data,
        lambda: files.record_consent(session, actor(), found.id, data),
        _("Consent recorded."),
        "consent",
    )


@bp.post("/consentements/<int:consent_id>/retrait")
@requires(Permission.OUTREACH_FILES)
def withdraw_consent(consent_id: int):
    session = db.session()
    chosen = files.consent_of(session, actor(), consent_id)
    if chosen is None:
        return not_found()
    consent, found = chosen
    if not access.can_change_person(actor(), found):
        abort(403)
    try:
        erased = files.withdraw_consent(session, actor(), consent)
    except Invalid as invalid:
        return _failed(found, "consent", invalid, {})
    if erased:
        flash(_("Consent withdrawn. The identity was erased; the history is kept."), "success")
    else:
        flash(_("Consent withdrawn."), "success")
    return _back_to(found.id, "consent")


@bp.post("/personnes/<person_id>/identite")
@requires(Permission.OUTREACH_FILES)
def attach_identity(person_id: str):
    session = db.session()
    found = _to_change(session, person_id)
    data = _form()
    return _apply(
        found,
        "identity",
        data,
        lambda: files.attach_identity(session, actor(), found.id, data),
        _("Identity saved."),
        "identity",
    )


@bp.post("/personnes/<person_id>/mineur")
@requires(Permission.OUTREACH_FILES)
def set_minor(person_id: str):
    session = db.session()
    found = _to_change(session, person_id)
    flag = request.form.get("minor") == "1"
    files.set_minor(session, actor(), found.id, flag)
    flash(_("Flagged as a minor.") if flag else _("Minor flag removed."), "success")
    return _back_to(found.id, "facts")


# --- Merging two anonymous records ---------------------------------------------------


def _merge_page(
    person: Person,
    *,
    other: Person | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
):
    session = db.session()
    query = (request.values.get("q") or "").strip()[:SEARCH_MAX]
    choice = files.merge_choice(session, actor(), person, other, query)
    return render(
        "outreach/files/merge.html",
        **vars(choice),
        labels=LABELS,
        errors=errors or {},
        status=status,
    )


@bp.route("/personnes/<person_id>/fusion", methods=["GET", "POST"])
@requires(Permission.OUTREACH_FILES)
def merge(person_id: str):
    session = db.session()
    found = _to_change(session, person_id)
    raw = request.values.get("merged_id") or ""
    other = files.merge_candidate(session, found, raw)
    if request.method == "GET":
        if raw and (other is None or other.merged_into_id is not None):
            return not_found()
        return _merge_page(found, other=other if other is not None and other != found else None)
    try:
        record = files.merge(session, actor(), found.id, other.id if other else None)
    except Invalid as invalid:
        shown = other if other is not None and other != found and not other.merged_into_id else None
        return _merge_page(found, other=shown, errors=field_errors(invalid), status=422)
    flash(_("The two records are now one file. You can undo it below, under Merges."), "success")
    return _back_to(record.survivor_id, "merges")


@bp.post("/fusions/<int:merge_id>/annuler")
@requires(Permission.OUTREACH_FILES)
def undo_merge(merge_id: int):
    session = db.session()
    chosen = files.merge_to_undo(session, actor(), merge_id)
    if chosen is None:
        return not_found()
    record, survivor = chosen
    try:
        files.undo_merge(session, actor(), record.id)
    except Invalid as invalid:
        return _failed(survivor, "merges", invalid, {"merge_id": merge_id})
    flash(_("The merge is undone: the two records are separate again."), "success")
    return _back_to(record.survivor_id, "merges")


# --- Minors: the open alerts ----------------------------------------------------------


def _alerts_page(errors: dict[str, str] | None = None, status: int = 200):
    return render(
        "outreach/files/alerts.html",
        **vars(files.minor_alerts(db.session(), actor())),
        labels=LABELS,
        errors=errors or {},
        status=status,
    )


@bp.get("/alertes", endpoint="alerts")
@requires(Permission.OUTREACH_FILES)
def alerts_page():
    return _alerts_page()


@bp.post("/alertes/<int:alert_id>/vu")
@requires(Permission.OUTREACH_FILES)
def acknowledge_alert(alert_id: int):
    try:
        files.acknowledge_alert(db.session(), actor(), alert_id)
    except Invalid as invalid:
        return _alerts_page(errors=field_errors(invalid), status=422)
    flash(_("Marked as dealt with."), "success")
    return redirect(url_for("outreach_files.alerts"))
