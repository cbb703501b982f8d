"""Administration: staff accounts and the audit log (the changes are core/accounts.py's
use cases, which commit)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from core import accounts, audit, clock, organisations
from core.errors import Invalid
from core.ids import parse_id
from core.roles import Permission
from web import db, plugins
from web.common import account_error_message
from web.forms import UserForm
from web.permissions import requires
from web.rendering import render
from web.validation import message

bp = Blueprint("admin", __name__, url_prefix="/admin")

ACTION_LABELS = {
    "read": _l("Read"),
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "login_brake": _l("Logins braked (many failures)"),
    "logout": _l("Logged out"),
    "password_change": _l("Changed password"),
    "activate": _l("Reactivated"),
    "deactivate": _l("Deactivated"),
    "refused": _l("Refused: a record of another CPAS"),
}
# Core's kinds of record; each domain names its own (WebDomain.entity_labels).
CORE_ENTITY_LABELS = {
    "user": _l("Account"),
    "team": _l("Team"),
    "sync_feed": _l("Offline download"),
}


def entity_labels() -> dict[str, object]:
    return {**CORE_ENTITY_LABELS, **plugins.ENTITY_LABELS}


def _parse_day(raw: str | None, errors: dict[str, str], field: str) -> date | None:
    if not raw:
        return None
    day = clock.parse_day(raw)
    if day is None:
        errors[field] = _("Use a date like 2026-11-23.")
    return day


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.BRUSSELS).astimezone(clock.UTC)


@bp.route("/audit")
@requires(Permission.AUDIT_READ)
def audit_log():
    args = request.args
    errors: dict[str, str] = {}
    scope = organisations.scope_of(db.session(), current_user)  # her CPAS's entries only
    actor_id = None
    if args.get("actor"):
        actor_id = parse_id(args["actor"])
        if actor_id is None:
            errors["actor"] = _("Choose a person from the list.")
    action = args.get("action") or None
    if action and action not in audit.ACTIONS:
        errors["action"] = _("Choose an action from the list.")
    entity_type = args.get("entity_type") or None
    if entity_type and entity_type not in audit.ENTITY_TYPES:
        errors["entity_type"] = _("Choose a kind of record from the list.")
    since = _parse_day(args.get("since"), errors, "since")
    until = _parse_day(args.get("until"), errors, "until")
    if since and until and until < since:
        errors["until"] = _("The end date is before the start date.")
    page_number = parse_id(args.get("page")) or 1  # an OFFSET past 64 bits overflows

    if errors:
        page = audit.AuditPage(entries=[], total=0, page=1, per_page=50)
    else:
        filters = audit.AuditFilter(
            actor_id=actor_id,
            action=action,
            entity_type=entity_type,
            entity_id=(args.get("entity_id") or "").strip()[:64] or None,
            since=_local_midnight_utc(since) if since else None,
            until=_local_midnight_utc(until + timedelta(days=1)) if until else None,
        )
        page = audit.search(
            db.session(), filters, page=page_number, within=accounts.audit_scope_filter(scope)
        )
    users = accounts.list_users(db.session(), scope)
    return render(
        "admin/audit.html",
        partial="admin/_audit_results.html",
        page=page,
        errors=errors,
        users=users,
        users_by_id={user.id: user for user in users},
        action_labels=ACTION_LABELS,
        entity_labels=entity_labels(),
        args=args,
        status=422 if errors else 200,
    )


@bp.route("/users", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def users():
    db_session = db.session()
    scope = organisations.scope_of(db_session, current_user)
    teams = [team for team in accounts.list_teams(db_session) if scope.sees_team(team.id)]
    form = UserForm()
    # A CPAS's administrator places accounts in her CPAS's teams only.
    no_team = [SelectChoice("", _("No team"))] if scope.everything or scope.platform else []
    form.team.choices = no_team + [SelectChoice(team.code, team.name) for team in teams]
    if scope.platform:
        form.team.choices += [
            SelectChoice(team.code, team.name) for team in accounts.list_teams(db_session)
        ]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = accounts.add_user(
                    db_session,
                    username=form.username.data,
                    display_name=form.display_name.data,
                    password=form.password.data,
                    role=form.role.data,
                    team_code=form.team.data or None,
                    language=form.language.data or None,
                    actor=current_user,
                )
            except accounts.AccountError as error:
                getattr(form, error.field).errors.append(account_error_message(error))
                status = 422
            else:
                flash(_("Account %(username)s created.", username=user.username), "success")
                return redirect(url_for("admin.users"))
        else:
            status = 422
    return render(
        "admin/users.html",
        form=form,
        users=accounts.list_users(db_session, scope),
        under_attack=accounts.accounts_under_attack(db_session),
        attack_failures=accounts.ATTACK_FAILURES,
        status=status,
    )


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@requires(Permission.USERS_MANAGE)
def set_active(user_id: int):
    db_session = db.session()
    user = accounts.get_user(db_session, user_id)
    if user is None:
        return render("errors/error.html", status=404, code=404)
    if not accounts.manages_user(organisations.scope_of(db_session, current_user), user):
        organisations.refuse_and_record(db_session, current_user, "user", user.id)
        return render("errors/error.html", status=404, code=404)
    active = request.form.get("active") == "1"
    try:
        accounts.change_active(db_session, user, active, actor=current_user)
    except accounts.AccountError as error:
        flash(account_error_message(error), "error")
    else:
        if active:
            flash(_("Account %(username)s reactivated.", username=user.username), "success")
        else:
            flash(_("Account %(username)s deactivated.", username=user.username), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/teams", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def user_teams(user_id: int):
    """A local role's antennes: its own team, and those of its CPAS granted here."""
    db_session = db.session()
    user = accounts.get_user(db_session, user_id)
    if user is None:
        return render("errors/error.html", status=404, code=404)
    scope = organisations.scope_of(db_session, current_user)
    if not accounts.manages_user(scope, user) or scope.platform:
        organisations.refuse_and_record(db_session, current_user, "user", user.id)
        return render("errors/error.html", status=404, code=404)
    error = ""
    if request.method == "POST":
        try:
            organisations.save_granted_teams(
                db_session,
                user,
                [parse_id(raw) for raw in request.form.getlist("team")],
                actor=current_user,
            )
        except Invalid as invalid:
            error = message(invalid.errors["teams"])
        else:
            flash(_("Antennes of %(username)s saved.", username=user.username), "success")
            return redirect(url_for("admin.user_teams", user_id=user.id))
    return render(
        "admin/user_teams.html",
        user=user,
        teams=accounts.grantable_teams(db_session, user),
        granted=organisations.granted_teams(db_session, user.id),
        local=user.role in organisations.LOCAL_ROLES,
        error=error,
        status=422 if error else 200,
    )
