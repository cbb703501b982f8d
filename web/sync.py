"""The Sync API (POST/GET /api/sync) and the phone's "to send" page (/sync)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from core import sync
from core.roles import Permission
from web import db, throttling
from web.errors import api_error
from web.openapi import (
    BAD_REQUEST,
    CSRF_HEADER,
    ERROR,
    FIELD_ERRORS,
    INVALID_BODY,
    NOT_LOGGED_IN,
    OP_TYPE_EXAMPLES,
    RATE_LIMITED,
    Answer,
    Body,
    Schema,
    api_operation,
    op_schema,
    query,
)
from web.permissions import requires
from web.rendering import render
from web.validation import errors_json

bp = Blueprint("sync", __name__)

# Per user and per minute, counting pushes and pulls: a phone flushing its outbox in
# batches of 200 needs a handful; a loop gone wrong is stopped here.
REQUESTS_PER_MINUTE = 120

SYNC_BATCH = Schema(
    "SyncBatch",
    lambda: {
        "type": "object",
        "required": ["ops"],
        "properties": {
            "ops": {
                "type": "array",
                "maxItems": sync.MAX_OPS_PER_BATCH,
                "items": {"oneOf": [op_schema(op_type) for op_type in sync.op_types()]},
            },
            "client_time": {
                "type": "string",
                "format": "date-time",
                "description": (
                    "The phone's clock when it sends the batch (ISO 8601 with its offset). "
                    "Optional. The server measures the phone's offset from it; ops whose "
                    "times look wrong (a clock more than 10 minutes off) are kept and "
                    "flagged for review. Ignored when not a time with its offset."
                ),
            },
        },
    },
)
SYNC_RESULTS = Schema(
    "SyncResults",
    {
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
                        "errors": FIELD_ERRORS,
                    },
                },
            }
        },
    },
)
SYNC_CHANGES = Schema(
    "SyncChanges",
    lambda: {
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
    },
)
TOO_MANY_OPS = Schema(
    "SyncTooManyOps",
    {
        "type": "object",
        "required": ["error", "message", "max_ops"],
        "properties": {
            "error": {"const": "too_many_ops"},
            "message": {"type": "string"},
            "max_ops": {"const": sync.MAX_OPS_PER_BATCH},
        },
    },
)


def _rate_limited():
    return throttling.api_refusal("sync", str(current_user.id), REQUESTS_PER_MINUTE)


def with_messages(answer: dict[str, Any]) -> dict[str, Any]:
    """An op's answer, its field errors put in the user's language."""
    if answer.get("errors"):
        return {**answer, "errors": errors_json(answer["errors"])}
    return answer


@bp.route("/api/sync", methods=["POST"])
@requires(Permission.SYNC)
@api_operation(
    "Send changes made on the phone (each applied exactly once)",
    parameters=[CSRF_HEADER],
    request=Body(SYNC_BATCH, examples=OP_TYPE_EXAMPLES),
    responses={
        200: Answer("One result per op, in order", SYNC_RESULTS),
        400: BAD_REQUEST,
        401: NOT_LOGGED_IN,
        413: Answer(f"Body over {sync.MAX_BATCH_BYTES} bytes (error: too_large)", ERROR),
        422: Answer(
            "Not a batch (error: invalid_body), or too many ops (error: too_many_ops)",
            {"oneOf": [INVALID_BODY, TOO_MANY_OPS]},
        ),
        429: RATE_LIMITED,
    },
)
def push():
    limited = _rate_limited()
    if limited is not None:
        return limited
    if (request.content_length or 0) > sync.MAX_BATCH_BYTES:
        return api_error(
            413,
            "too_large",
            _("Too much at once: send at most %(size)s kB per request.", size=1024),
            max_bytes=sync.MAX_BATCH_BYTES,
        )
    request.max_content_length = sync.MAX_BATCH_BYTES
    try:
        body = request.get_json(force=True, silent=False)
    except BadRequest:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("ops"), list):
        return api_error(
            422, "invalid_body", _('Send a JSON object with a list "ops".'), max_ops=None
        )
    ops = body["ops"]
    if len(ops) > sync.MAX_OPS_PER_BATCH:
        return api_error(
            422,
            "too_many_ops",
            _("Too many changes at once: at most %(max)s per request.", max=sync.MAX_OPS_PER_BATCH),
            max_ops=sync.MAX_OPS_PER_BATCH,
        )
    answers = sync.apply_batch(
        db.session(), current_user._get_current_object(), ops, body.get("client_time")
    )
    return jsonify({"results": [with_messages(answer) for answer in answers]})


@bp.route("/api/sync", methods=["GET"])
@requires(Permission.SYNC)
@api_operation(
    "What this user may see that changed since a token",
    parameters=[
        query("since", "The last token; none (or an old one) gives everything.", required=False)
    ],
    responses={
        200: Answer("The changes", SYNC_CHANGES),
        401: NOT_LOGGED_IN,
        429: RATE_LIMITED,
    },
)
def pull():
    limited = _rate_limited()
    if limited is not None:
        return limited
    page = sync.pull(db.session(), current_user._get_current_object(), request.args.get("since"))
    return jsonify(
        {
            "token": page.token,
            "reset": page.reset,
            "more": page.more,
            "changes": [
                {"type": change.type, "id": change.id, "seq": change.seq, "record": change.record}
                for change in page.changes
            ],
        }
    )


@bp.route("/sync")
@requires(Permission.SYNC)
def outbox():
    """What this phone still has to send, or to correct: rendered from IndexedDB."""
    response = current_app.make_response(render("sync/outbox.html"))
    response.headers["X-Terrain-Offline"] = "page"
    return response
