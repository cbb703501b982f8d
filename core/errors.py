"""What a service says when input cannot be used: field errors as codes, and the two
refusals every form and offline op shares (invalid input, a conflicting change).

The codes are turned into sentences in the user's language by the web layer
(web/validation.py); a service never writes a sentence itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field, as a code the web layer turns into a sentence."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, **({"params": dict(self.params)} if self.params else {})}


class Invalid(Exception):
    """The op (or form) cannot be applied as it is; nothing was changed."""

    def __init__(self, errors: Mapping[str, FieldError]):
        super().__init__(", ".join(f"{name}: {error.code}" for name, error in errors.items()))
        self.errors = dict(errors)


class Conflict(Exception):
    """The record changed since the version the phone started from."""

    def __init__(self, record: dict[str, Any]):
        super().__init__("conflict")
        self.record = record


class Errors(dict[str, FieldError]):
    """Field name → error, filled while a whole input is checked; the first problem found
    for a field is the one reported."""

    def add(self, name: str, code: str, **params: Any) -> None:
        self.setdefault(name, FieldError(code, params))

    def check(self) -> None:
        """Raise Invalid with every error found, if any."""
        if self:
            raise Invalid(dict(self))
