"""Request limits on what every view receives (docs/operations.md, "Request limits").

- JSON bodies nested deeper than core.text.MAX_JSON_DEPTH are refused with 400 before
  the parser sees them (it would recurse 100,000 times on 100,000 brackets).
- Control characters (NUL first: PostgreSQL refuses it) are removed from form fields,
  query strings and JSON strings, the same on every database; a string in the address
  that holds one names nothing: 404.
- A JSON body with a lone surrogate or a number beyond 64 bits is refused with the field
  it is in (422); the Sync API refuses such an op alone (core.sync.parse_op), so one bad
  op does not block a phone's outbox.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException

from core import text
from core.errors import FieldError
from web.errors import api_error
from web.validation import errors_json

# Views that read a JSON body item by item and refuse a bad item alone.
CHECKS_ITS_OWN_ITEMS = {"sync.push"}

_RAW_FORM = "terrain.raw_form"


class TooDeep(HTTPException):
    """A JSON body nested beyond MAX_JSON_DEPTH (not a BadRequest: no view swallows it)."""

    code = 400
    description = "JSON nested too deep"


class TerrainJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with the nesting checked first and control characters out
    (request.get_json goes through it, whatever the view's force or silent)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        body = text.decode_json_bytes(s)
        if text.json_too_deep(body):
            raise TooDeep()
        return text.clean_json(super().loads(body, **kwargs))


def _needs_cleaning(values: MultiDict[str, Any]) -> bool:
    return any(
        text.CONTROL.search(key) or (isinstance(value, str) and text.CONTROL.search(value))
        for key, value in values.items(multi=True)
    )


def _cleaned(values: MultiDict[str, Any]) -> ImmutableMultiDict[str, Any]:
    def clean(value: Any) -> Any:
        return text.strip_controls(value) if isinstance(value, str) else value

    return ImmutableMultiDict(
        [(clean(key), clean(value)) for key, value in values.items(multi=True)]
    )


def raw_form() -> MultiDict[str, str]:
    """The form as it was posted (a signature covers the exact bytes: SMS webhooks)."""
    return request.environ.get(_RAW_FORM, request.form)


def _clean_request() -> Any:
    path_values = (request.view_args or {}).values()
    if any(isinstance(value, str) and text.CONTROL.search(value) for value in path_values):
        abort(404)
    if _needs_cleaning(request.args):
        request.args = _cleaned(request.args)  # type: ignore[misc]
        request.__dict__.pop("values", None)
    if request.method in ("POST", "PUT", "PATCH") and _needs_cleaning(request.form):
        request.environ[_RAW_FORM] = request.form
        request.form = _cleaned(request.form)  # type: ignore[misc]
        request.__dict__.pop("values", None)
    own_checks = request.endpoint in CHECKS_ITS_OWN_ITEMS
    if request.is_json and request.method in ("POST", "PUT", "PATCH") and not own_checks:
        return _refuse_bad_json()
    return None


def _refuse_bad_json() -> Any:
    body = request.get_json(silent=True)
    problems = text.json_problems(body)
    if not problems:
        return None
    errors = {name: FieldError(code).as_json() for name, code in problems.items()}
    return api_error(
        422,
        "invalid",
        _("Some fields need a correction. Nothing was saved."),
        errors=errors_json(errors),
    )


def _too_deep(_error: TooDeep) -> Any:
    return api_error(
        400,
        "too_deep",
        _("The JSON is nested too deep: at most %(max)s levels.", max=text.MAX_JSON_DEPTH),
        max_depth=text.MAX_JSON_DEPTH,
    )


def init_app(app: Flask) -> None:
    app.json = TerrainJSONProvider(app)
    app.before_request(_clean_request)
    app.register_error_handler(TooDeep, _too_deep)
