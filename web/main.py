"""Home page and the language switcher."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from core import accounts
from core.roles import Permission
from web import db
from web.auth import safe_next
from web.i18n import remember_language
from web.nav import entries_for
from web.permissions import public, requires
from web.rendering import render

bp = Blueprint("main", __name__)


@bp.route("/")
@requires(Permission.HOME)
def home():
    cards = [entry for entry in entries_for(current_user.role) if entry.endpoint != "main.home"]
    return render("main/home.html", cards=cards)


@bp.route("/menu")
@requires(Permission.HOME)
def menu():
    """Everything the user's role opens (a phone's bar has room for a few)."""
    return render("main/menu.html", cards=entries_for(current_user.role))


@bp.route("/language", methods=["POST"])
@public
def set_language():
    """The FR | NL | EN switcher: a cookie for this device, and the profile when logged in."""
    language = request.form.get("language", "")
    target = safe_next(request.form.get("next")) or url_for("main.home")
    if language not in accounts.LANGUAGES:
        return redirect(target)
    if current_user.is_authenticated:
        db_session = db.session()
        accounts.set_language(db_session, current_user, language)
        db_session.commit()
    response = redirect(target)
    remember_language(response, language)
    return response
