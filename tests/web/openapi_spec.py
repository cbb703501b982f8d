"""The published OpenAPI spec and a response checked against it: test_api_spec, test_openapi."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:terrain:openapi"


class Spec:
    """The published spec, and a check of one response against it."""

    def __init__(self, document: dict[str, Any]):
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        self.seen: set[tuple[str, str, str]] = set()

    def statuses(self, path: str, method: str) -> set[str]:
        """The statuses checked so far for one operation."""
        return {status for (where, how, status) in self.seen if (where, how) == (path, method)}

    def check(self, response, path: str, method: str) -> None:
        operation = self.document["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], (
            f"{method.upper()} {path} answered {status}, not in the spec: "
            f"{response.get_data(as_text=True)[:300]}"
        )
        self.seen.add((path, method, status))
        content = operation["responses"][status].get("content")
        if not content:
            return
        assert response.mimetype == "application/json", (path, method, status)
        pointer = "/".join(
            part.replace("~", "~0").replace("/", "~1")
            for part in ("paths", path, method, "responses", status, "content")
        )
        schema = {"$ref": f"{SPEC_URI}#/{pointer}/application~1json/schema"}
        validator = Draft202012Validator(schema, registry=self.registry)
        errors = sorted(validator.iter_errors(response.get_json()), key=str)
        assert not errors, (method.upper(), path, status, [e.message for e in errors][:5])
