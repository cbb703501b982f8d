"""JSON API under /api (session cookie + X-CSRFToken for writes)."""

from __future__ import annotations

from flask import Blueprint, jsonify, url_for
from flask_babel import get_locale
from flask_login import current_user

from core.roles import Permission
from web.permissions import public, requires

bp = Blueprint("api", __name__, url_prefix="/api")

API_VERSION = "1.0.0"


@bp.route("/me")
@requires(Permission.PROFILE)
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
        }
    )


@bp.route("/openapi.json")
@public
def openapi():
    error = {
        "type": "object",
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
        "required": ["error", "message"],
    }
    spec = {
        "openapi": "3.1.0",
        "info": {
            "title": "Terrain API",
            "version": API_VERSION,
            "description": (
                "JSON API of Terrain. Authentication: the session cookie from /login; "
                "writes also send the page's csrf-token meta tag as the X-CSRFToken header."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            url_for("api.me"): {
                "get": {
                    "summary": "The logged-in user",
                    "responses": {
                        "200": {
                            "description": "The user",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Me"}}
                            },
                        },
                        "401": {
                            "description": "Not logged in",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        },
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Health of the application and its database",
                    "responses": {
                        "200": {"description": "Up"},
                        "503": {"description": "Database unreachable"},
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": error,
                "Me": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "username": {"type": "string"},
                        "display_name": {"type": "string"},
                        "role": {
                            "type": "string",
                            "enum": [
                                "admin",
                                "coordinator",
                                "social_worker",
                                "reception",
                                "aide",
                                "street_educator",
                            ],
                        },
                        "team": {"type": ["object", "null"]},
                        "language": {"type": "string", "enum": ["fr", "nl", "en"]},
                    },
                },
            }
        },
    }
    return jsonify(spec)
