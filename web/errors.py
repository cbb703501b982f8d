"""Friendly error pages in the user's language; JSON errors under /api."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from web.rendering import render

log = logging.getLogger(__name__)


def _message(code: int) -> tuple[str, str]:
    """The title and text of the page for `code` (500's when it has none): only that
    pair is translated (an error page is the answer of every refused request)."""
    messages = {
        400: lambda: (
            _("This request could not be understood"),
            _("Something in the form or the link is not right. Go back and try again."),
        ),
        401: lambda: (_("Please log in"), _("You need to log in to see this.")),
        403: lambda: (
            _("Not allowed"),
            _("Your role does not give access to this page. Ask your manager if you need it."),
        ),
        404: lambda: (
            _("Page not found"),
            _("This page does not exist or has moved. Check the address or go back home."),
        ),
        405: lambda: (_("Not possible here"), _("This action is not possible on this page.")),
        413: lambda: (_("Too large"), _("What you sent is too large.")),
        429: lambda: (_("Too many attempts"), _("Please wait a moment before trying again.")),
        500: lambda: (
            _("Something went wrong on our side"),
            _(
                "Nothing you did caused this. "
                "Try again in a moment; if it persists, tell your manager."
            ),
        ),
    }
    return messages.get(code, messages[500])()


def api_error(status: int, error: str, message: str, **extra: Any) -> Response:
    """The JSON error of the API: a code, a sentence in the user's language, details."""
    response = jsonify({"error": error, "message": message, **extra})
    response.status_code = status
    return response


def _respond(code: int, error_key: str, title: str | None = None, text: str | None = None):
    default_title, default_text = _message(code)
    title, text = title or default_title, text or default_text
    if request.path.startswith("/api/"):
        return api_error(code, error_key, text)
    return render("errors/error.html", code=code, title=title, text=text, status=code)


def _http_error(error: HTTPException):
    code = error.code or 500
    return _respond(code, (error.name or "error").lower().replace(" ", "_"))


def _csrf_error(_error: CSRFError):
    return _respond(
        400,
        "csrf",
        _("Your page had expired"),
        _("For your safety the form was not sent. Reload the page and send it again."),
    )


def _unexpected(error: Exception):
    # The traceback goes to the log; request data (possibly personal) does not.
    log.exception("unhandled error on %s %s", request.method, request.url_rule)
    try:
        return _respond(500, "internal_server_error")
    except Exception:
        # The error page itself failed (a broken layout): answer in plain text.
        log.exception("the error page failed too")
        return "500 Internal Server Error", 500, {"Content-Type": "text/plain; charset=utf-8"}


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _unexpected)
    app.register_error_handler(Exception, _unexpected)
