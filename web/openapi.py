"""/api/openapi.json, assembled from declarations instead of written out.

Each API view carries `@api_operation(summary=…, request=…, responses={…})`; the named
schemas it uses are `Schema` constants next to it (written once, as `$ref`s wherever they
are used); the op types of core/sync give their `data_schema` and constant examples. The
errors every endpoint shares are defined here, once. The document is built from code
alone: nothing in it is read from the database, since it is public.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from flask import Flask
from werkzeug.routing import Rule

from core import clock, sync
from core.text import MAX_JSON_DEPTH

OPENAPI_VERSION = "3.1.0"
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True, eq=False)
class Schema:
    """A schema of components/schemas, written as a `$ref` wherever it is used. `body`
    may hold other Schemas; a function body is built at assembly, from a registry."""

    name: str
    body: Mapping[str, Any] | Callable[[], Mapping[str, Any]]

    def resolve(self) -> Mapping[str, Any]:
        return self.body() if callable(self.body) else self.body


@dataclass(frozen=True)
class Answer:
    """One response of an operation; without a schema it has no JSON body described."""

    description: str
    schema: Schema | Mapping[str, Any] | None = None


class OpTypeExamples:
    """Stands for one example batch per registered op type (the Sync API's request)."""


OP_TYPE_EXAMPLES = OpTypeExamples()


@dataclass(frozen=True)
class Body:
    """A JSON request body; its examples are plain data (the document is public)."""

    schema: Schema
    examples: Mapping[str, Any] | OpTypeExamples | None = None

    def __post_init__(self) -> None:
        if callable(self.examples):
            raise TypeError(f"{self.schema.name}: an example is plain data, not a function")


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: Mapping[int, Answer]
    request: Body | None = None
    parameters: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


def api_operation(
    summary: str,
    *,
    responses: Mapping[int, Answer],
    request: Body | None = None,
    parameters: Sequence[Mapping[str, Any]] = (),
) -> Callable[[View], View]:
    """Declare what a view answers; /api/openapi.json is assembled from these."""
    operation = Operation(summary, responses, request, tuple(parameters))

    def mark(view: View) -> View:
        view.openapi = operation  # type: ignore[attr-defined]
        return view

    return mark


def query(name: str, description: str, *, required: bool = True, **schema: Any) -> dict:
    """A query parameter (a string unless `schema` says otherwise)."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema or {"type": "string"},
        "description": description,
    }


# --- What every endpoint shares --------------------------------------------------------

CSRF_HEADER = {
    "name": "X-CSRFToken",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": "The page's csrf-token meta tag, or `csrf_token` of GET /api/me.",
}
ERROR = Schema(
    "Error",
    {
        "type": "object",
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
        "required": ["error", "message"],
    },
)
FIELD_ERRORS = Schema(
    "FieldErrors",
    {
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
    },
)
INVALID = Schema(
    "Invalid",
    {
        "type": "object",
        "description": "Some fields need a correction; nothing was changed.",
        "required": ["error", "message", "errors"],
        "properties": {
            "error": {"const": "invalid"},
            "message": {"type": "string"},
            "errors": FIELD_ERRORS,
        },
    },
)
INVALID_BODY = Schema(
    "InvalidBody",
    {
        "type": "object",
        "description": "The body is not the JSON object the endpoint takes.",
        "required": ["error", "message"],
        "properties": {"error": {"const": "invalid_body"}, "message": {"type": "string"}},
    },
)
TOO_MANY_REQUESTS = Schema(
    "TooManyRequests",
    {
        "type": "object",
        "required": ["error", "message", "retry_after"],
        "properties": {
            "error": {"const": "too_many_requests"},
            "message": {"type": "string"},
            "retry_after": {"type": "integer", "minimum": 1, "description": "Seconds"},
        },
    },
)

NOT_LOGGED_IN = Answer("Not logged in", ERROR)
BAD_REQUEST = Answer(
    "Missing or expired CSRF token (error: csrf), or JSON nested deeper "
    f"than {MAX_JSON_DEPTH} levels (error: too_deep)",
    ERROR,
)
TOO_LARGE = Answer("Body over 2 MiB (error: request_entity_too_large)", ERROR)
RATE_LIMITED = Answer("Too many requests; see Retry-After", TOO_MANY_REQUESTS)


# --- What the op types give ---------------------------------------------------------------


def op_schema(op_type: sync.OpType) -> Schema:
    """One op of `op_type` in a batch: the envelope, and the op type's own `data`."""
    return Schema(
        "Op_" + op_type.name.replace(".", "_"),
        {
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
        },
    )


def op_examples(today: date) -> dict[str, Any]:
    """One example batch per op type, from the op types' constants and today's date."""
    return {
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


# --- Assembly -----------------------------------------------------------------------------


class _Writer:
    """Writes declarations as OpenAPI, collecting the Schemas they use as components."""

    def __init__(self, today: date):
        self.today = today
        self.components: dict[str, Any] = {}
        self._sources: dict[str, Schema] = {}

    def write(self, value: Any) -> Any:
        if isinstance(value, Schema):
            return self._ref(value)
        if isinstance(value, Mapping):
            return {key: self.write(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.write(item) for item in value]
        return value

    def _ref(self, schema: Schema) -> dict[str, str]:
        known = self._sources.get(schema.name)
        if known is None:
            self._sources[schema.name] = schema
            self.components[schema.name] = self.write(schema.resolve())
        elif known is not schema and self.write(schema.resolve()) != self.components[schema.name]:
            raise ValueError(f"two different schemas named {schema.name}")
        return {"$ref": f"#/components/schemas/{schema.name}"}

    def _content(self, schema: Schema | Mapping[str, Any]) -> dict[str, Any]:
        return {"application/json": {"schema": self.write(schema)}}

    def operation(self, operation: Operation) -> dict[str, Any]:
        written: dict[str, Any] = {"summary": operation.summary}
        if operation.parameters:
            written["parameters"] = self.write(operation.parameters)
        if operation.request is not None:
            content = self._content(operation.request.schema)
            examples = operation.request.examples
            if isinstance(examples, OpTypeExamples):
                examples = op_examples(self.today)
            if examples:
                content["application/json"]["examples"] = self.write(examples)
            written["requestBody"] = {"required": True, "content": content}
        responses: dict[str, Any] = {}
        for status, answer in sorted(operation.responses.items()):
            responses[str(status)] = {"description": answer.description}
            if answer.schema is not None:
                responses[str(status)]["content"] = self._content(answer.schema)
        written["responses"] = responses
        return written


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def _path(rule: Rule) -> str:
    # Flask's <int:id> is OpenAPI's {id}.
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _declared(app: Flask) -> Iterator[tuple[Rule, Operation]]:
    for rule in app.url_map.iter_rules():
        operation = getattr(app.view_functions.get(rule.endpoint), "openapi", None)
        if operation is not None:
            yield rule, operation


def undeclared(app: Flask) -> list[str]:
    """The /api routes whose view declares no operation: they would be missing."""
    return sorted(
        f"{' '.join(_methods(rule))} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        and getattr(app.view_functions.get(rule.endpoint), "openapi", None) is None
    )


def document(app: Flask, info: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared operation of `app`."""
    writer = _Writer(clock.to_local(clock.now()).date())
    paths: dict[str, dict[str, Any]] = {}
    for rule, operation in _declared(app):
        for method in _methods(rule):
            paths.setdefault(_path(rule), {})[method.lower()] = writer.operation(operation)
    return {
        "openapi": OPENAPI_VERSION,
        "info": dict(info),
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": writer.components},
    }
