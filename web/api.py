"""JSON API under /api (session cookie + X-CSRFToken for writes)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from core.accounts import LANGUAGES
from core.roles import Permission, Role
from web.openapi import NOT_LOGGED_IN, Answer, Schema, api_operation, document
from web.permissions import public, requires

bp = Blueprint("api", __name__, url_prefix="/api")

API_VERSION = "1.0.0"
INFO = {
    "title": "Terrain API",
    "version": API_VERSION,
    "description": (
        "JSON API of Terrain. Authentication: the session cookie from /login; "
        "writes also send the page's csrf-token meta tag as the X-CSRFToken header."
    ),
}
ME = Schema(
    "Me",
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"type": "string", "enum": [role.value for role in Role]},
            "team": {"type": ["object", "null"]},
            "language": {"type": "string", "enum": list(LANGUAGES)},
            "csrf_token": {"type": "string"},
        },
    },
)


@bp.route("/me")
@requires(Permission.PROFILE)
@api_operation("The logged-in user", responses={200: Answer("The user", ME), 401: NOT_LOGGED_IN})
def me():
    """Who is logged in: the offline JS uses it to keep each user's data apart."""
    team = current_user.team
    return jsonify(
        {
            "id": current_user.id,
            "username": current_user.username,
            "display_name": current_user.display_name,
            "role": current_user.role,
            "team": {"code": team.code, "name": team.name} if team else None,
            "language": str(get_locale()),
            # A fresh token for the offline JS, whose page may be older than the session.
            "csrf_token": generate_csrf(),
        }
    )


@bp.route("/openapi.json")
@public
@api_operation(
    "This description (public). It is built from the code alone: "
    "nothing in it is read from the database.",
    responses={
        200: Answer(
            "The OpenAPI 3.1 description of /api",
            {"type": "object", "required": ["openapi", "paths"]},
        )
    },
)
def openapi():
    """The OpenAPI document, assembled from the views' and op types' declarations."""
    return jsonify(document(current_app, INFO))
