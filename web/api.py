"""JSON API under /api (session cookie + X-CSRFToken for writes)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from core import clock, sync
from core.roles import Permission
from core.text import MAX_JSON_DEPTH
from web.appointments import api as appointments_api
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
            # A fresh token for the offline JS, whose page may be older than the session.
            "csrf_token": generate_csrf(),
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
            url_for("api.openapi"): {
                "get": {
                    "summary": (
                        "This description (public). It is built from the code alone: "
                        "nothing in it is read from the database."
                    ),
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 description of /api",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "required": ["openapi", "paths"]}
                                }
                            },
                        }
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
                        "csrf_token": {"type": "string"},
                    },
                },
                **sync_schemas(),
            }
        },
    }
    spec["paths"].update(sync_paths())
    spec["paths"].update(appointments_api.openapi_paths())
    spec["components"]["schemas"].update(appointments_api.openapi_schemas())
    return jsonify(spec)


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


def sync_schemas() -> dict[str, Any]:
    """The Sync API's schemas: one op schema per registered op type, with its data."""
    field_errors = {
        "type": "object",
        "description": "Per field: a code, and a sentence in the user's language.",
        "additionalProperties": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "params": {"type": "object"},
            },
            "required": ["code", "message"],
        },
    }
    op_refs = []
    schemas: dict[str, Any] = {}
    for op_type in sync.op_types():
        name = "Op_" + op_type.name.replace(".", "_")
        op_refs.append({"$ref": f"#/components/schemas/{name}"})
        schemas[name] = {
            "type": "object",
            "description": op_type.summary,
            "required": ["id", "type", "data"],
            "properties": {
                "id": {"type": "string", "format": "uuid", "description": "Made by the client."},
                "type": {"const": op_type.name},
                "base_version": {"type": ["integer", "null"], "minimum": 0},
                "client_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the user made the change (the phone's clock).",
                },
                "data": op_type.data_schema,
            },
        }
    schemas["SyncBatch"] = {
        "type": "object",
        "required": ["ops"],
        "properties": {
            "ops": {
                "type": "array",
                "maxItems": sync.MAX_OPS_PER_BATCH,
                "items": {"oneOf": op_refs},
            }
        },
    }
    schemas["SyncResults"] = {
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "description": "One per op, in the order of the ops.",
                "items": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": ["string", "null"]},
                        "status": {"enum": list(sync.STATUSES)},
                        "original_status": {
                            "enum": ["applied", "conflict", "rejected"],
                            "description": "With `duplicate`: the first answer's status.",
                        },
                        "superseded": {
                            "type": "boolean",
                            "description": "Applied, but a later change of yours was there.",
                        },
                        "record": {"type": ["object", "null"]},
                        "errors": field_errors,
                    },
                },
            }
        },
    }
    schemas["SyncChanges"] = {
        "type": "object",
        "properties": {
            "token": {"type": "string", "description": "Give it as `since` next time."},
            "reset": {
                "type": "boolean",
                "description": "Replace what you hold: this is everything, not a change.",
            },
            "more": {"type": "boolean", "description": "Call again at once with `token`."},
            "changes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"enum": [source.entity_type for source in sync.feed_sources()]},
                        "id": {"type": "string"},
                        "seq": {"type": "integer"},
                        "record": {"type": ["object", "null"]},
                    },
                },
            },
        },
    }
    return schemas


def sync_paths() -> dict[str, Any]:
    # Constants from the op registry and today's date only: this page is public, so
    # nothing here may come from the database.
    today = clock.to_local(clock.now()).date()
    examples = {
        op_type.name: {
            "summary": op_type.summary,
            "value": {
                "ops": [
                    {
                        "id": "<a new UUID>",
                        "type": op_type.name,
                        "base_version": op_type.example_base_version,
                        "data": sync.render_example(op_type.example, today),
                    }
                ]
            },
        }
        for op_type in sync.op_types()
    }
    csrf = {
        "name": "X-CSRFToken",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "The page's csrf-token meta tag, or `csrf_token` of GET /api/me.",
    }
    return {
        "/api/sync": {
            "post": {
                "summary": "Send changes made on the phone (each applied exactly once)",
                "parameters": [csrf],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/SyncBatch"},
                            "examples": examples,
                        }
                    },
                },
                "responses": {
                    "200": _json("SyncResults", "One result per op, in order"),
                    "400": _json(
                        "Error",
                        "Missing or expired CSRF token (error: csrf), or JSON nested deeper "
                        f"than {MAX_JSON_DEPTH} levels (error: too_deep)",
                    ),
                    "401": _json("Error", "Not logged in"),
                    "413": _json("Error", f"Body over {sync.MAX_BATCH_BYTES} bytes"),
                    "422": _json("Error", "Not a batch, or too many ops (error: too_many_ops)"),
                    "429": _json("Error", "Too many requests; see Retry-After"),
                },
            },
            "get": {
                "summary": "What this user may see that changed since a token",
                "parameters": [
                    {
                        "name": "since",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "The last token; none (or an old one) gives everything.",
                    }
                ],
                "responses": {
                    "200": _json("SyncChanges", "The changes"),
                    "401": _json("Error", "Not logged in"),
                    "429": _json("Error", "Too many requests; see Retry-After"),
                },
            },
        }
    }
