"""Street outreach back office: the partner services directory, the teams' protective path
for minors, the retention rules and the purge reports (no personal data on these pages).

Who may change what is decided in outreach/ (referrals.save_partner, minors.
set_protective_path, retention.set_rules / set_team_months, access.manages); the views
only pick the team, call the use case of outreach/settings.py (it commits, or rolls back
and raises Invalid) and turn refusals into messages.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from core.accounts import Team
from core.errors import Invalid
from core.roles import Permission
from outreach import referrals, retention, settings
from outreach.models import ServicePartner
from web import db
from web.common import actor, field_errors, not_found
from web.outreach.labels import CHOICES, LABELS
from web.permissions import requires
from web.rendering import render

bp = Blueprint("outreach_admin", __name__, url_prefix="/outreach")


# --- The partner services directory -------------------------------------------------------


@bp.get("/partenaires", endpoint="partners")
@requires(Permission.OUTREACH_DIRECTORY)
def partners_page():
    kind = request.args.get("kind") or None
    if kind not in CHOICES["partner_kind"]:
        kind = None
    return render(
        "outreach/files/partners.html",
        partners=referrals.partners(db.session(), kind),
        kind=kind,
        labels=LABELS,
        choices=CHOICES,
    )


def _partner_values(partner: ServicePartner | None) -> dict[str, Any]:
    if partner is None:
        return {"name": "", "kind": "", "address": "", "phone": "", "languages": [], "notes": ""}
    return {
        "name": partner.name,
        "kind": partner.kind,
        "address": partner.address,
        "phone": partner.phone,
        "languages": list(partner.languages),
        "notes": partner.notes,
    }


def _partner_form(partner: ServicePartner | None):
    session = db.session()
    if request.method == "GET":
        values, errors, status = _partner_values(partner), {}, 200
    else:
        values = {
            name: request.form.get(name, "")
            for name in ("name", "kind", "address", "phone", "notes")
        }
        values["languages"] = request.form.getlist("languages")
        try:
            saved = settings.save_partner(session, actor(), values, partner.id if partner else None)
        except Invalid as invalid:
            errors, status = field_errors(invalid), 422
        else:
            flash(_("Service saved."), "success")
            return redirect(url_for("outreach_admin.partners", _anchor=f"partner-{saved.id}"))
    return render(
        "outreach/files/partner_form.html",
        partner=partner,
        values=values,
        errors=errors,
        labels=LABELS,
        choices=CHOICES,
        status=status,
    )


@bp.route("/partenaires/nouveau", methods=["GET", "POST"])
@requires(Permission.OUTREACH_DIRECTORY)
def new_partner():
    return _partner_form(None)


@bp.route("/partenaires/<int:partner_id>", methods=["GET", "POST"])
@requires(Permission.OUTREACH_DIRECTORY)
def edit_partner(partner_id: int):
    partner = settings.active_partner(db.session(), partner_id)
    if partner is None:
        return not_found()
    return _partner_form(partner)


# --- Minors' protective path and retention -------------------------------------------------


def _settings_page(
    team: Team | None,
    teams: list[Team],
    *,
    errors: dict[str, dict[str, str]] | None = None,
    posted: dict[str, dict[str, Any]] | None = None,
    status: int = 200,
):
    return render(
        "outreach/files/settings.html",
        team=team,
        teams=teams,
        **vars(settings.of_team(db.session(), team)),
        is_admin=settings.may_set_rules(db.session(), actor()),
        defaults=(retention.DEFAULT_ANONYMOUS_MONTHS, retention.DEFAULT_NAMED_MONTHS),
        months_range=retention.MONTHS_RANGE,
        errors=errors or {},
        posted=posted or {},
        status=status,
    )


@bp.get("/reglages", endpoint="settings")
@requires(Permission.OUTREACH_SETTINGS)
def settings_page():
    team, teams = settings.team_to_manage(db.session(), actor(), request.args.get("team"))
    if request.args.get("team") and team is None:
        return not_found()
    return _settings_page(team, teams)


def _team_from_form() -> tuple[Team, list[Team]]:
    team, teams = settings.team_to_manage(db.session(), actor(), request.form.get("team_id") or "?")
    if team is None:
        abort(404)
    return team, teams


def _save_settings(form: str, save, data: dict[str, Any], team: Team | None, teams: list[Team]):
    try:
        save(db.session(), data)
    except Invalid as invalid:
        return _settings_page(
            team,
            teams,
            errors={form: field_errors(invalid)},
            posted={form: data},
            status=422,
        )
    flash(_("Settings saved."), "success")
    query = {"team": team.id} if team is not None else {}
    return redirect(url_for("outreach_admin.settings", **query, _anchor=form))


@bp.post("/reglages/protection")
@requires(Permission.OUTREACH_SETTINGS)
def protective_path():
    team, teams = _team_from_form()
    data = {
        "user_ids": request.form.getlist("user_ids"),
        "contact": request.form.get("contact", ""),
    }
    return _save_settings(
        "protection",
        lambda session, values: settings.set_protective_path(session, actor(), team.id, values),
        data,
        team,
        teams,
    )


@bp.post("/reglages/conservation-equipe")
@requires(Permission.OUTREACH_SETTINGS)
def team_retention():
    team, teams = _team_from_form()
    data = {"anonymous_months": request.form.get("anonymous_months", "")}
    return _save_settings(
        "team-retention",
        lambda session, values: settings.set_team_months(session, actor(), team.id, values),
        data,
        team,
        teams,
    )


@bp.post("/reglages/conservation")
@requires(Permission.OUTREACH_RETENTION)
def retention_rules():
    team, teams = settings.team_to_manage(db.session(), actor(), request.form.get("team_id"))
    data = {name: request.form.get(name, "") for name in ("anonymous_months", "named_months")}
    return _save_settings(
        "retention",
        lambda session, values: settings.set_rules(session, actor(), values),
        data,
        team,
        teams,
    )


# --- Purge reports ------------------------------------------------------------------------


@bp.get("/purges", endpoint="purges")
@requires(Permission.OUTREACH_SETTINGS)
def purges_page():
    return render("outreach/files/purges.html", **vars(settings.purge_reports(db.session())))
