"""The installable shell: manifest, service worker (served from /), offline page."""

from __future__ import annotations

import hashlib
from functools import cache

from flask import Blueprint, Response, current_app, g, jsonify, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from core.config import PROJECT_ROOT
from web import assets
from web.permissions import public

bp = Blueprint("pwa", __name__)

THEME_COLOUR = "#0b5d57"
BACKGROUND_COLOUR = "#f7f7f2"
# Whose page this is, for the service worker: it keeps one user's offline pages at a
# time and drops them as soon as a page of somebody else goes through it.
USER_HEADER = "X-Terrain-User"
# Files of the app shell every role's pages use, cached at install; pages with personal
# data never are. The scripts of a role's offline views (its domain modules) are cached
# by the worker with those views, from the pages' own script lists.
SHELL_STATIC = (
    "css/terrain.css",
    "js/shell.js",  # app.js and the page scripts (web/assets.py BUNDLES)
    "js/offline/engine.js",  # the offline page counts the outbox with it
    "vendor/htmx-2.0.11.min.js",
    "icons/sprite.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)


def shell_version() -> str:
    """Changes whenever a file the worker may cache or its template changes: a new cache
    name. The static files' part is the build manifest's (web/assets.py: every hashed
    name, so a kept page's scripts count too)."""
    both = f"{assets.manifest_digest()}-{_templates_version()}"
    return hashlib.sha256(both.encode()).hexdigest()[:12]


@cache
def _templates_version() -> str:
    digest = hashlib.sha256()
    for template in ("pwa/sw.js", "pwa/offline.html", "base.html", "shell.html"):
        digest.update((PROJECT_ROOT / "templates" / template).read_bytes())
    return digest.hexdigest()[:12]


@bp.route("/manifest.webmanifest")
@public
def manifest():
    locale = str(get_locale())
    icons = [
        {
            "src": assets.asset_url("icons/icon-192.png"),
            "sizes": "192x192",
            "type": "image/png",
            "purpose": "any",
        },
        {
            "src": assets.asset_url("icons/icon-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "any",
        },
        {
            "src": assets.asset_url("icons/icon-maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    body = {
        "id": "/",
        "name": _("Terrain — CPAS field work"),
        "short_name": "Terrain",
        "description": _("Street outreach, home care, rounds and appointments, even offline."),
        "lang": locale,
        "dir": "ltr",
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/sw.js")
@public
def service_worker():
    # Hashed names: a new version of a file is a new address, cached by the new worker.
    names = [part for name in SHELL_STATIC for part in assets.expand(name)]
    shell = [assets.asset_url(name) for name in names]
    body = render_template(
        "pwa/sw.js",
        version=shell_version(),
        shell=shell,
        static_prefix=assets.plain_url(""),
        offline_url=url_for("pwa.offline"),
        logout_url=url_for("auth.logout"),
    )
    response = Response(body, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.after_app_request
def _mark_user_pages(response: Response) -> Response:
    # The user as loaded for this request (never loaded here: an error page stays simple).
    user = g.get("_login_user")
    if response.mimetype == "text/html" and user is not None and user.is_authenticated:
        response.headers[USER_HEADER] = str(user.id)
    return response


def offline_menu() -> list[tuple[str, str]]:
    """Every page a phone may keep for offline use, with its name (whoever the user)."""
    return [
        (url_for("outreach.new_encounter"), _("New encounter")),
        (url_for("outreach.index"), _("Encounters")),
        (url_for("outreach.maraude"), _("The maraude")),
        (url_for("outreach.places"), _("Places")),
        (url_for("sync.outbox"), _("To send")),
    ]


@bp.route("/offline")
@public
def offline():
    response = current_app.make_response(
        render_template(
            "pwa/offline.html",
            offline_menu=offline_menu(),
            offline_page_texts={
                "none": _("Nothing waits on this phone."),
                "one": _("1 change waits on this phone; it is sent when the network is back."),
                "many": _(
                    "%(count)s changes wait on this phone; they are sent when the network is back.",
                    count="{n}",
                ),
            },
        )
    )
    # The worker stores this page itself; the browser's HTTP cache must not.
    response.headers["Cache-Control"] = "no-cache"
    return response
