"""Requests per minute from one client or one user, counted in the database (so every
web worker and every app server counts together): `wait_seconds()` says how long the
caller must wait, 0 when it may go on."""

from __future__ import annotations

from flask import Response, current_app
from flask_babel import gettext as _

from core import throttle
from web import db
from web.errors import api_error


def wait_seconds(scope: str, who: str, per_minute: int) -> int:
    """Count this request for `who` (an address, a user id) in `scope`; keys are hashed
    with the secret, so no address is stored in clear."""
    key = throttle.hashed_key(scope, who, current_app.config["SECRET_KEY"])
    session = db.session()
    wait = throttle.consume(session, key, per_minute, 60)
    # Infrastructure, not a use case, so the one commit views leave here (besides the
    # `terrain` command's, docs/architecture.md): the request is counted and committed
    # before the view's use case runs, so the count holds even when that use case fails
    # or rolls back, and the counter's row lock is not held through it.
    session.commit()
    return wait


def api_refusal(scope: str, who: str, per_minute: int) -> Response | None:
    """The API's 429 answer (JSON, Retry-After) when `who` is over the limit, else None."""
    wait = wait_seconds(scope, who, per_minute)
    if not wait:
        return None
    response = api_error(
        429, "too_many_requests", _("Too many requests: wait a minute."), retry_after=wait
    )
    response.headers["Retry-After"] = str(wait)
    return response
