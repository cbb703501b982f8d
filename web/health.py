"""GET /healthz: is the application up and can it reach its database."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web import db
from web.openapi import Answer, Schema, api_operation
from web.permissions import public

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

HEALTH = Schema(
    "Health",
    {
        "type": "object",
        "required": ["status", "db"],
        "properties": {
            "status": {"enum": ["ok", "error"]},
            "db": {"enum": ["ok", "unreachable"]},
            "reason": {"type": "string", "description": "The failure's kind, when not ok."},
        },
    },
)


@bp.route("/healthz")
@public
@api_operation(
    "Health of the application and its database",
    responses={200: Answer("Up", HEALTH), 503: Answer("Database unreachable", HEALTH)},
)
def healthz():
    try:
        db.session().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        # The reason names the failure's kind, never the connection string.
        log.warning("health check: database unreachable (%s)", type(exc).__name__)
        response = jsonify({"status": "error", "db": "unreachable", "reason": type(exc).__name__})
        response.status_code = 503
        response.headers["Cache-Control"] = "no-store"
        return response
    response = jsonify({"status": "ok", "db": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response
