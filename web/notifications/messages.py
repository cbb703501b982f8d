"""Notifications' own field error codes as sentences (templates, broadcasts);
web/validation.py looks them up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _


def messages(params: Mapping[str, Any]) -> dict[str, str]:
    """Code → sentence in the user's language, for this domain's own codes."""
    return {
        "malformed_placeholder": _(
            "A brace { or } is not closed, or a name between braces is not valid."
        ),
        "unknown_placeholder": _(
            "Unknown placeholder {%(name)s}. You may use: %(allowed)s.",
            name=params.get("name", ""),
            allowed=params.get("allowed", "") or "—",
        ),
        "too_many_segments": _(
            "Too long: at most %(max)s SMS segments with the example values.",
            max=params.get("max", ""),
        ),
        "no_placeholders": _(
            "A broadcast is the same text for everyone: remove the braces { and }."
        ),
        "bilingual_too_long": _(
            "French and Dutch together (for people whose language is unknown) would be "
            "more than %(max)s SMS segments. Shorten one of the texts.",
            max=params.get("max", ""),
        ),
        "no_recipients": _(
            "Nobody in this audience can get this message. Choose another audience or kind "
            "of message."
        ),
        "urgent_not_allowed": _("Only a service change may be urgent."),
        "already_finished": _("This broadcast is already finished or stopped."),
    }


def sentence(code: str, params: Mapping[str, Any]) -> str | None:
    """The sentence of `code` when it is this domain's (WebDomain.messages), else None."""
    return messages(params).get(code)
