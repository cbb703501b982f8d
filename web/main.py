"""Home page and the language switcher."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from core import accounts, sync
from core.roles import Permission
from web import db, nav
from web.common import safe_next
from web.i18n import remember_language
from web.permissions import public, requires
from web.rendering import render

bp = Blueprint("main", __name__)


@bp.app_template_filter("team_name")
def team_name(team: accounts.Team | None) -> str:
    """A team's name in the language of the page (Dutch when it has one)."""
    return team.label(str(get_locale())) if team is not None else ""


@bp.app_context_processor
def _sync_context() -> dict[str, Any]:
    # The header's sync status only for roles whose work is synced (no "all sent" for
    # someone who never sends anything).
    return {
        "role_syncs": bool(current_user.is_authenticated and sync.role_syncs(current_user.role))
    }


@bp.route("/")
@requires(Permission.HOME)
def home():
    cards = [entry for entry in nav.menu() if entry.endpoint != "main.home"]
    return render("main/home.html", cards=cards)


@bp.route("/menu")
@requires(Permission.HOME)
def menu():
    """Everything the user's role opens (a phone's bar has room for a few)."""
    return render("main/menu.html", cards=nav.menu())


@bp.route("/language", methods=["POST"])
@public
def set_language():
    """The FR | NL | EN switcher: a cookie for this device, and the profile when logged in."""
    language = request.form.get("language", "")
    target = safe_next(request.form.get("next")) or url_for("main.home")
    if language not in accounts.LANGUAGES:
        return redirect(target)
    if current_user.is_authenticated:
        accounts.save_language(db.session(), current_user, language)
    response = redirect(target)
    remember_language(response, language)
    return response
