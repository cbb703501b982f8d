"""Street outreach follow-up pages: the people of the team, a person's file (timeline,
needs, referrals, consent and identity, minor flag), merging two records, minors' alerts.

Who may read a file is decided by outreach.access alone: every file is opened through
`access.read_person` (audited). Somebody who may not read a person gets the same 404 as
for a person that does not exist; somebody who may read but not change (a social worker
of the service referred to) gets 403 on the forms that change the file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from babel.dates import get_day_names
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import audit
from core.accounts import Team, User
from core.errors import Invalid
from core.ids import parse_uuid
from core.roles import Permission, can
from outreach import access, identity, merging, minors, referrals, services
from outreach.models import Encounter, Person, PersonConsent, PersonMerge, Referral
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


def users_by_id(session: Session, ids: list[int | None]) -> dict[int, User]:
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}


def cpas_teams(session: Session) -> list[Team]:
    """The CPAS services a person may be referred to (every team but the street teams)."""
    return list(session.scalars(select(Team).where(Team.kind != "street").order_by(Team.name)))


def _readable(session: Session, person_id: Any) -> Person | None:
    """The person when the user may read the file (no audit: for the forms' checks)."""
    parsed = person_id if isinstance(person_id, uuid.UUID) else parse_uuid(str(person_id))
    person = session.get(Person, parsed) if parsed else None
    if person is None or not access.can_read_person(session, actor(), person):
        return None
    return person


def _to_change(session: Session, person_id: Any) -> Person:
    """The person the posted form changes: 404 when not readable, 403 when read-only."""
    person = _readable(session, person_id)
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
    user = actor()
    query = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    team_people: list[Person] | None = None
    if user.team_id is not None and user.role in access.TEAM_ROLES:
        team_people = services.search_team_people(session, user.team_id, query)
        audit.record_read(session, user, "outreach_team", user.team_id)
    referred = referrals.people_referred_to(session, user)
    for person in referred:
        audit.record_read(session, user, "outreach_person", person.id)
    listed = (team_people or []) + referred
    named = identity.named_ids(session, [person.id for person in listed])
    alerts = minors.open_alerts(session, user)
    session.commit()  # the audited reads
    return render(
        "outreach/files/people.html",
        partial="outreach/files/_people_list.html",
        team_people=team_people,
        referred=referred,
        named=named,
        query=query,
        alerts=alerts,
        labels=LABELS,
    )


# --- A person's file ---------------------------------------------------------------------


def _file_page(
    person: Person,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    posted: dict[str, Any] | None = None,
    status: int = 200,
):
    """The file of a person the user may read (the read is audited here)."""
    session = db.session()
    user = actor()
    audit.record_read(session, user, "outreach_person", person.id)
    encounters = services.person_encounters(session, person.id)
    person_referrals = referrals.person_referrals(session, person.id)
    consents = identity.consent_history(session, person.id)
    may_change = access.can_change_person(user, person)
    named = identity.identity_of(session, person.id)
    merges = merging.merges_of(session, person.id) if may_change else []
    others = {
        other.id: other
        for merge in merges
        for other_id in (merge.survivor_id, merge.merged_id)
        if (other := session.get(Person, other_id)) is not None
    }
    users = users_by_id(
        session,
        [encounter.recorded_by_id for encounter in encounters]
        + [r.proposed_by_id for r in person_referrals]
        + [r.accepted_by_id for r in person_referrals]
        + [r.closed_by_id for r in person_referrals]
        + [c.recorded_by_id for c in consents]
        + [c.withdrawn_by_id for c in consents]
        + [merge.merged_by_id for merge in merges]
        + [merge.undone_by_id for merge in merges],
    )
    teams = {team.id: team for team in session.scalars(select(Team))}
    survivor = session.get(Person, person.merged_into_id) if person.merged_into_id else None
    session.commit()
    locale = str(get_locale())
    service_names = {
        offered.service.code: offered.service.name(locale)
        for offered in appointments.list_services(session, bookable_only=False)
    }
    offers = appointments.team_offers(session)
    booked = appointments.referral_appointments(session, [r.id for r in person_referrals])
    return render(
        "outreach/files/person.html",
        person=person,
        survivor=survivor,
        identity=named,
        encounters=encounters,
        needs=services.needs_over_time(encounters),
        referrals=person_referrals,
        movable={r.id: referrals.can_move(session, user, r) for r in person_referrals},
        transitions=referrals.TRANSITIONS,
        first_engagement=referrals.first_engagement_at(session, person.id),
        consents=consents,
        identity_consent=any("identity" in c.scopes for c in consents if c.withdrawn_at is None),
        merges=merges,
        others=others,
        may_change=may_change,
        users=users,
        teams=teams,
        partners=referrals.partners(session),
        cpas_teams=cpas_teams(session),
        service_names=service_names,
        offers=offers,
        # A referral to a CPAS service with an appointments service: book it from here
        # (staff who may book), or how to get one (street educators: see docs/outreach.md).
        referral_offer={r.id: _offer_of(offers, r) for r in person_referrals},
        booked=booked,
        can_book=can(current_user.role, Permission.APPOINTMENTS_BOOK),
        hours_of=opening_hours_text,
        labels=LABELS,
        choices=CHOICES,
        errors=errors or {},
        posted=posted or {},
        status=status,
    )


def _offer_of(
    offers: dict[int, list[appointments.TeamOffer]], referral: Referral
) -> appointments.TeamOffer | None:
    """The place of the destination team that offers the referral's service (the first
    one by name), or None (a partner, no service, or no longer offered)."""
    if referral.to_team_id is None or not referral.service_code:
        return None
    return next(
        (o for o in offers.get(referral.to_team_id, []) if o.service.code == referral.service_code),
        None,
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
    session = db.session()
    found = _readable(session, person_id)
    if found is None:
        return not_found()
    return _file_page(found)


def _failed(person: Person, form: str, invalid: Invalid, posted: dict[str, Any]):
    """The file again with the form's errors, nothing changed (422)."""
    db.session().rollback()
    return _file_page(
        person, errors={form: field_errors(invalid)}, posted={form: posted}, status=422
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
    """Run one change of the file: saved and back to the file, or the file again with the
    form's errors (422, nothing changed; `shown` is what the form shows again)."""
    try:
        change()
    except Invalid as invalid:
        return _failed(found, form, invalid, data if shown is None else shown)
    db.session().commit()
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
        lambda: referrals.propose(session, actor(), found.id, data),
        _("Referral recorded."),
        "referrals",
        shown={**data, "destination": chosen},
    )


@bp.post("/orientations/<referral_id>/statut")
@requires(Permission.OUTREACH_FILES)
def move_referral(referral_id: str):
    session = db.session()
    parsed = parse_uuid(referral_id)
    referral = session.get(Referral, parsed) if parsed else None
    found = _readable(session, referral.person_id) if referral is not None else None
    if referral is None or found is None:
        return not_found()
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
        lambda: referrals.move(session, actor(), referral.id, status, data),
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
        lambda: identity.record_consent(session, actor(), found.id, data),
        _("Consent recorded."),
        "consent",
    )


@bp.post("/consentements/<int:consent_id>/retrait")
@requires(Permission.OUTREACH_FILES)
def withdraw_consent(consent_id: int):
    session = db.session()
    consent = session.get(PersonConsent, consent_id)
    found = _readable(session, consent.person_id) if consent is not None else None
    if consent is None or found is None:
        return not_found()
    if not access.can_change_person(actor(), found):
        abort(403)
    had_identity = identity.is_named(session, found.id)
    try:
        identity.withdraw_consent(session, actor(), consent.id)
    except Invalid as invalid:
        return _failed(found, "consent", invalid, {})
    erased = had_identity and not identity.is_named(session, found.id)
    session.commit()
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
        lambda: identity.attach_identity(session, actor(), found.id, data),
        _("Identity saved."),
        "identity",
    )


@bp.post("/personnes/<person_id>/mineur")
@requires(Permission.OUTREACH_FILES)
def set_minor(person_id: str):
    session = db.session()
    found = _to_change(session, person_id)
    flag = request.form.get("minor") == "1"
    minors.set_minor(session, actor(), found.id, flag)
    session.commit()
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
    user = actor()
    query = (request.values.get("q") or "").strip()[:SEARCH_MAX]
    candidates = [
        candidate
        for candidate in services.search_team_people(session, person.team_id, query)
        if candidate.id != person.id
    ]
    named = identity.named_ids(session, [person.id] + [c.id for c in candidates])
    audit.record_read(session, user, "outreach_person", person.id)
    sides = []
    if other is not None:
        audit.record_read(session, user, "outreach_person", other.id)
        for side in (person, other):
            encounters = services.person_encounters(session, side.id)
            sides.append(
                {
                    "person": side,
                    "encounters": encounters,
                    "needs": services.needs_over_time(encounters),
                    "referrals": referrals.person_referrals(session, side.id),
                    "consents": identity.consent_history(session, side.id),
                }
            )
    session.commit()
    return render(
        "outreach/files/merge.html",
        person=person,
        other=other,
        sides=sides,
        candidates=candidates,
        named=named | identity.named_ids(session, [other.id] if other else []),
        query=query,
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
    other_id = parse_uuid(raw)
    other = session.get(Person, other_id) if other_id else None
    if other is not None and other.team_id != found.team_id:
        other = None  # another team's person: treated as unknown, its existence not told
    if request.method == "GET":
        if raw and (other is None or other.merged_into_id is not None):
            return not_found()
        return _merge_page(found, other=other if other is not None and other != found else None)
    try:
        record = merging.merge(session, actor(), found.id, other.id if other else None)
    except Invalid as invalid:
        session.rollback()
        shown = other if other is not None and other != found and not other.merged_into_id else None
        return _merge_page(found, other=shown, errors=field_errors(invalid), status=422)
    session.commit()
    flash(_("The two records are now one file. You can undo it below, under Merges."), "success")
    return _back_to(record.survivor_id, "merges")


@bp.post("/fusions/<int:merge_id>/annuler")
@requires(Permission.OUTREACH_FILES)
def undo_merge(merge_id: int):
    session = db.session()
    record = session.get(PersonMerge, merge_id)
    survivor = session.get(Person, record.survivor_id) if record is not None else None
    if record is None or survivor is None or not access.works_with(actor(), record.team_id):
        return not_found()
    try:
        merging.undo(session, actor(), record.id)
    except Invalid as invalid:
        return _failed(survivor, "merges", invalid, {"merge_id": merge_id})
    session.commit()
    flash(_("The merge is undone: the two records are separate again."), "success")
    return _back_to(record.survivor_id, "merges")


# --- Minors: the open alerts ----------------------------------------------------------


def _alerts_page(errors: dict[str, str] | None = None, status: int = 200):
    session = db.session()
    user = actor()
    alerts = minors.open_alerts(session, user)
    people = {
        alert.person_id: person
        for alert in alerts
        if (person := session.get(Person, alert.person_id)) is not None
        and access.can_read_person(session, user, person)
    }
    encounters = {
        alert.encounter_id: encounter
        for alert in alerts
        if (encounter := session.get(Encounter, alert.encounter_id)) is not None
    }
    return render(
        "outreach/files/alerts.html",
        alerts=alerts,
        people=people,
        encounters=encounters,
        users=users_by_id(session, [uid for alert in alerts for uid in alert.alert_user_ids]),
        can_set_path=can(user.role, Permission.OUTREACH_SETTINGS),
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
    session = db.session()
    try:
        minors.acknowledge(session, actor(), alert_id)
    except Invalid as invalid:
        session.rollback()
        return _alerts_page(errors=field_errors(invalid), status=422)
    session.commit()
    flash(_("Marked as dealt with."), "success")
    return redirect(url_for("outreach_files.alerts"))
