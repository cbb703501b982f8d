"""Sentences of the planning board's own field-error codes (WebDomain.messages)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _


def sentence(code: str, params: Mapping[str, Any]) -> str | None:
    """The sentence of `code`, None when it is not one of the board's."""
    texts = {
        "unknown_visit": _("This visit is not one of your team's."),
        "unknown_run": _("This planning run is not one of your team's."),
        "far_from_window": _("Choose a start on the visit's day (within two days of it)."),
        "visit_not_planned": _("This visit is done or cancelled: it cannot be moved."),
        "planning_under_way": _(
            "A planning of this week is under way. Wait until it is done, then ask again."
        ),
        "already_accepted": _("This proposal was already accepted."),
    }
    return texts.get(code)
