"""The web layer: the only Flask code in Terrain."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from core import clock
from core.config import PROJECT_ROOT, Settings
from core.db import make_engine, make_session_factory


class BoundedInt(IntegerConverter):
    """Werkzeug's int converter, capped at the largest value of an int column."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """The application factory; `overrides` go into app.config (tests)."""
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(settings.instance_path),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TERRAIN_SETTINGS=settings,
        SESSION_COOKIE_NAME="terrain_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # The cookie is sent again only when the session changed (a flash, a login, the
        # once-a-minute "seen" mark): two requests at once can no longer bring back an
        # older cookie (an old message shown again) by answering in the wrong order.
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_DEFAULT_TIMEZONE="Europe/Brussels",
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.config.update(overrides)
    logging.basicConfig(level=settings.log_level)

    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    # <int:…> in every route stops at the largest id an int column holds: a longer number
    # in an address is a 404, not a database overflow.
    app.url_map.converters["int"] = BoundedInt

    from web.domains import install

    install()
    if "terrain_session_factory" not in app.extensions:
        engine = app.config.get("TERRAIN_ENGINE") or make_engine(settings.database_url)
        app.extensions["terrain_engine"] = engine
        app.extensions["terrain_session_factory"] = app.config.get(
            "TERRAIN_SESSION_FACTORY"
        ) or make_session_factory(engine)

    from web import (
        admin,
        api,
        assets,
        auth,
        cpas,
        db,
        errors,
        health,
        i18n,
        main,
        offline,
        permissions,
        pwa,
        rendering,
        request_limits,
    )
    from web import sync as sync_views
    from web.domains import WEB
    from web.extensions import babel, csrf, htmx
    from web.forms import role_label
    from web.nav import badge as nav_badge
    from web.nav import check_endpoints, entries_for, is_current, phone_bar
    from web.plugins import register_blueprints

    db.init_app(app)
    assets.init_app(app)
    htmx.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    auth.init_app(app)  # its session-expiry hook must run before the permission check
    permissions.init_app(app)
    request_limits.init_app(app)  # after the permission check: strangers are refused first
    rendering.init_app(app)
    errors.init_app(app)
    # The shared pages, then each domain's (web/domains.py).
    for blueprint in (main.bp, admin.bp, cpas.bp, pwa.bp, health.bp, api.bp, sync_views.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(health.bp)
    register_blueprints(app, WEB)

    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def _layout_context() -> dict[str, Any]:
        nav = (
            entries_for(current_user._get_current_object()) if current_user.is_authenticated else []
        )
        return {
            "locale": str(get_locale()),
            "role_label": role_label,
            "now_local": clock.now(),
            "nav_entries": nav,
            "nav_more": phone_bar(nav)[1],
            "is_current": is_current,
            "nav_badge": nav_badge,
            "current_path": request.full_path.rstrip("?"),
            "offline_texts": offline.texts,
            "offline_scripts": offline.scripts,
        }

    permissions.check_all_decided(app)
    check_endpoints(app)
    return app
