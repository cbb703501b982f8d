"""Rounds' own field error codes as sentences; web/validation.py looks them up through
WebDomain.messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _


def messages(params: Mapping[str, Any]) -> dict[str, str]:
    """Code → sentence in the user's language, for this domain's own codes."""
    return {
        "unknown_vehicle": _("This vehicle is not one of your team's."),
        "unknown_stop": _("This stop is not one of your team's."),
        "vehicle_busy": _(
            "The vehicle is already at another stop from %(starts)s to %(ends)s that day.",
            starts=params.get("starts", ""),
            ends=params.get("ends", ""),
        ),
        "over_vehicle_seats": _(
            "No vehicle of the team has that many seats (at most %(seats)s).",
            seats=params.get("seats", ""),
        ),
    }


def sentence(code: str, params: Mapping[str, Any]) -> str | None:
    """The sentence of one of rounds' codes, None if the code is not theirs."""
    return messages(params).get(code)
