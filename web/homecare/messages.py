"""Sentences of home care's own field-error codes (the shared ones: web/validation.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _


def sentence(code: str, params: Mapping[str, Any]) -> str | None:
    """The sentence of a home-care code in the user's language, None if not ours."""
    if code == "no_fix":
        return _("No position yet: press “Use my position” and wait for the fix.")
    if code == "profile_first":
        return _("Save the aide's working terms first.")
    return None
