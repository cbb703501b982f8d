"""Rounds' part of the phone's offline app (static/js/rounds/offline.js): the crew's ops,
their fields, and "Ma tournée" kept by the service worker so it reads with no network
after one sync."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from core.roles import Permission
from web.offline import OfflineModule


def _texts() -> dict[str, str]:
    return {
        "round_start": _("Start of the round"),
        "round_incident": _("Incident on the round"),
        "round_finish": _("End of the round"),
        "stop_arrive": _("Arrival at a stop"),
        "stop_leave": _("Departure from a stop"),
        "round_cancelled": _("This round is cancelled: do not start it."),
    }


def _labels() -> dict[str, dict[str, Any]]:
    return {
        "fields": {
            "round_id": _("Round"),
            "round_stop_id": _("Stop"),
            "at": _("When"),
            "km_start": _("Kilometres at the start"),
            "km_end": _("Kilometres at the end"),
            "note": _("What happened"),
            "outcome": _("How it went"),
            "people_seen": _("People seen"),
        },
        "choices": {"outcome": {code: str(label) for code, label in outcome_labels().items()}},
    }


def outcome_labels() -> dict[str, str]:
    return {
        "delivered": _("Meals delivered"),
        "nobody_home": _("Nobody home"),
        "refused": _("Refused"),
        "seen": _("People seen"),
        "ride_done": _("Ride done"),
        "no_show": _("Nobody to pick up"),
    }


def _pages() -> list[str]:
    return [url_for("rounds_crew.crew")]


OFFLINE = OfflineModule(
    script="js/rounds/offline.js",
    permission=Permission.ROUNDS_CREW,
    texts=_texts,
    labels=_labels,
    pages=_pages,
)
