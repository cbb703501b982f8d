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
        "unknown_template": _("This round template is not one of your team's."),
        "unknown_round": _("This round is not one of your team's."),
        "not_a_minibus_round": _("Only a minibus round has public stops."),
        "stop_of_another_vehicle": _("This stop belongs to another vehicle."),
        "place_taken": _("This appointments place is already another stop."),
        "outside_round_hours": _(
            "The round runs from %(starts)s to %(ends)s: choose times within those hours.",
            starts=params.get("starts", ""),
            ends=params.get("ends", ""),
        ),
        "stops_outside_hours": _(
            "Some of this round's stops fall outside these hours: move them first."
        ),
        "template_has_stops": _(
            "This round has minibus stops: remove them before changing its kind or vehicle."
        ),
        "rounds_in_the_way": _(
            "The vehicle already has another round then, so the dated rounds cannot follow: "
            "%(rounds)s. Move or cancel that round first, or choose other hours.",
            rounds=params.get("rounds", ""),
        ),
        "round_stops_outside": _(
            "Some stops of the dated rounds would fall outside these hours: %(stops)s. "
            "Move those stops first, or choose other hours.",
            stops=params.get("stops", ""),
        ),
        "vehicle_carries_no_meals": _("This vehicle carries no meals."),
        "vehicle_has_no_seats": _("This vehicle has no passenger seats."),
        "round_not_planned": _("This round has already started, finished or been cancelled."),
        "stop_already_done": _("The crew has already been at this stop."),
        "unknown_order": _("This meal order is not one of your team's."),
        "unknown_ride": _("This ride is not one of your team's."),
        "unknown_permanence": _("This stop of a round is not one of your team's."),
        "day_past": _("This day is over: choose today or a later day."),
        "past_cutoff": _(
            "Too late: changes for this day were possible until %(cutoff)s.",
            cutoff=params.get("cutoff", ""),
        ),
        "already_cancelled": _("This is already cancelled."),
        "published_order": _(
            "A minibus round keeps the order published to the public: move a stop instead."
        ),
        "km_before_start": _(
            "The kilometres at the end cannot be below those at the start (%(km)s).",
            km=params.get("km", ""),
        ),
        "after_cutoff": _(
            "Too late to cancel: cancellations for this day closed on %(cutoff)s. "
            "The kitchen has already counted these meals.",
            cutoff=params.get("cutoff", ""),
        ),
        "cutoff_passed": _(
            "With this rule, cancellations for that day would have closed on %(cutoff)s, "
            "which is already past: choose a later first day.",
            cutoff=params.get("cutoff", ""),
        ),
        "stop_not_skipped": _("This stop is not skipped: there is nothing to restore."),
        "over_vehicle_seats": _(
            "No vehicle of the team has that many seats (at most %(seats)s).",
            seats=params.get("seats", ""),
        ),
    }


def sentence(code: str, params: Mapping[str, Any]) -> str | None:
    """The sentence of one of rounds' codes, None if the code is not theirs."""
    return messages(params).get(code)
