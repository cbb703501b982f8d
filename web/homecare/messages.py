"""Sentences of home care's own field-error codes (WebDomain.messages): the planning
board's, and the hours' (visits marked done, quotas)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _


def sentence(code: str, params: Mapping[str, Any]) -> str | None:
    """The sentence of `code`, None when it is not one of home care's."""
    texts = {
        "unknown_visit": _("This visit is not one of your team's."),
        "unknown_run": _("This planning run is not one of your team's."),
        "far_from_window": _("Choose a start on the visit's day (within two days of it)."),
        "visit_not_planned": _("This visit is done or cancelled: it cannot be moved."),
        "planning_under_way": _(
            "A planning of this week is under way. Wait until it is done, then ask again."
        ),
        "already_accepted": _("This proposal was already accepted."),
        # Hours: a visit marked done, a quota.
        "visit_cancelled": _("This visit was cancelled: it cannot be marked done."),
        "visit_without_aide": _("Assign an aide to this visit before marking it done."),
        "visit_not_done": _("This visit is not marked done."),
        "visit_too_long": _("A visit lasts at most 16 hours. Check the start and end times."),
        "ends_in_future": _("The end is still to come: mark the visit done once it is over."),
        "not_on_visit_day": _("The visit started on another day: check the date."),
        "km_out_of_range": _("Give the kilometres between 0 and 500."),
        "quota_out_of_range": _("Give the hours as a whole number between 0 and 1,000,000."),
        "invalid_year": _("Give a year like 2026."),
    }
    return texts.get(code)
