"""Login, logout, session timeout, and the user's own profile (language, password).

Each view calls one use case of core/accounts.py, which commits (or rolls back and raises
AccountError)."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from core import accounts, clock
from core.roles import Permission
from web import db
from web.common import account_error_message, safe_next
from web.extensions import login_manager
from web.forms import LanguageForm, LoginForm, PasswordForm
from web.i18n import COOKIE, note_user_language, remember_language, user_language
from web.permissions import public, requires
from web.rendering import render

bp = Blueprint("auth", __name__)


# Why the request's login session ended (None: open), read with the user by `_load_user`
# for `_expire_sessions`: one query per request for both.
LOGIN_SESSION_END = "terrain_login_session_end"


@login_manager.user_loader
def _load_user(user_id: str) -> accounts.User | None:
    try:
        user, ended = accounts.signed_in_user(db.session(), int(user_id), session.get("sid"))
    except ValueError:
        return None
    if user is None or not user.active:
        return None
    g.setdefault(LOGIN_SESSION_END, {})[user.id] = ended
    return user


def _client_address() -> str:
    """The client's address after ProxyFix (TERRAIN_TRUSTED_PROXIES hops trusted); the
    login throttle counts an IPv6 address by its /64 (core.throttle.address_group)."""
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    retry_after = 0
    if form.validate_on_submit():
        result = accounts.log_in(
            db.session(),
            username=form.username.data,
            password=form.password.data,
            address=_client_address(),
            secret=current_app.config["SECRET_KEY"],
        )
        if result.user is not None:
            session.clear()
            login_user(result.user)
            session.permanent = True
            session["sid"] = result.token
            session["login_at"] = clock.now().timestamp()
            session["seen_at"] = clock.now().timestamp()
            session["password_at"] = result.user.password_changed_at.timestamp()
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        if result.retry_after:
            status, retry_after = 429, result.retry_after
        else:
            status = 401
            form.password.errors.append(_("Wrong username or password."))
    elif request.method == "POST":
        status = 422
    response = current_app.make_response(
        render("auth/login.html", form=form, retry_after=retry_after, status=status)
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    if request.method == "GET":
        # The empty form holds nobody's data: revalidated, never shared, and allowed in
        # the back/forward cache (no-store, every other page's, keeps it out).
        response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/logout", methods=["POST"])
@requires(Permission.PROFILE)
def logout():
    accounts.log_out(db.session(), current_user, session.get("sid"))
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@requires(Permission.PROFILE)
def profile():
    language_form = LanguageForm(prefix="lang", language=current_user.language or "")
    password_form = PasswordForm(prefix="pw")
    status = 200
    db_session = db.session()
    if request.method == "POST" and "lang-language" in request.form:
        if language_form.validate_on_submit():
            accounts.save_language(db_session, current_user, language_form.language.data or None)
            flash(_("Your language is saved."), "success")
            return redirect(url_for("auth.profile"))
        status = 422
    elif request.method == "POST":
        if password_form.validate_on_submit():
            try:
                accounts.save_password(
                    db_session,
                    current_user,
                    current=password_form.current_password.data,
                    new=password_form.new_password.data,
                )
            except accounts.AccountError as error:
                field = (
                    password_form.current_password
                    if error.field == "current_password"
                    else password_form.new_password
                )
                field.errors.append(account_error_message(error))
                status = 422
            else:
                session["password_at"] = current_user.password_changed_at.timestamp()
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("auth.profile"))
        else:
            status = 422
    return render(
        "auth/profile.html",
        language_form=language_form,
        password_form=password_form,
        status=status,
    )


def _expire_sessions():
    """Log out after idle time, after the maximum session length, or a password change."""
    if not current_user.is_authenticated:
        return None
    now = clock.now().timestamp()
    settings = current_app.config["TERRAIN_SETTINGS"]
    idle = now - session.get("seen_at", 0) > settings.session_idle_minutes * 60
    too_long = now - session.get("login_at", 0) > settings.session_max_hours * 3600
    password_at = current_user.password_changed_at.timestamp()
    stale = abs(session.get("password_at", 0) - password_at) > 0.001
    db_session = db.session()
    read = g.get(LOGIN_SESSION_END, {})
    if current_user.id in read:
        ended = read[current_user.id]
    else:  # a user not loaded by `_load_user` (none today): read it now
        ended = accounts.login_session_end(db_session, current_user.id, session.get("sid"))
    if idle or too_long or stale or ended:
        if not ended:
            accounts.expire_login_session(db_session, session.get("sid"))
        logout_user()
        session.clear()
        if ended == "logout":
            # A copy of the cookie from before the logout (a request that was still
            # running then sets it again): the user did log out, say so.
            flash(_("You are logged out."), "info")
        else:
            flash(_("Your session has ended. Please log in again."), "info")
        return None  # the permission check then sends the user to the login page
    note_user_language(current_user._get_current_object())
    # Write the cookie at most once a minute, not on every request.
    if now - session.get("seen_at", 0) > 60:
        session["seen_at"] = now
    return None


def _language_cookie_on_login(response):
    """Keep the device's language cookie in step with the profile's choice."""
    language = (
        user_language(current_user._get_current_object()) if current_user.is_authenticated else None
    )
    if language and request.cookies.get(COOKIE) != language:
        remember_language(response, language)
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    settings = app.config["TERRAIN_SETTINGS"]
    app.permanent_session_lifetime = timedelta(hours=settings.session_max_hours)
    app.before_request(_expire_sessions)
    app.after_request(_language_cookie_on_login)
    app.register_blueprint(bp)
