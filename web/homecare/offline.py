"""Home care's part of the phone's offline app (static/js/homecare/offline.js): the
aide's ops, their fields, and "Ma journée" kept by the service worker so it reads with
no network after one sync."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from core.roles import Permission
from web.offline import OfflineModule


def _texts() -> dict[str, str]:
    return {
        "visit_checkin": _("Arrival at a visit"),
        "visit_checkout": _("Departure from a visit"),
        "visit_report": _("Visit report"),
        "offer_accept": _("Taking an offered visit"),
    }


def _labels() -> dict[str, dict[str, Any]]:
    return {
        "fields": {
            "visit_id": _("Visit"),
            "at": _("When"),
            "arrived_at": _("Arrival"),
            "left_at": _("Departure"),
            "tasks_done": _("Tasks done"),
            "note": _("Note"),
            "outcome": _("How it went"),
            "unverified_reason": _("Why there is no proof"),
            "offer_id": _("Offered visit"),
        },
        "choices": {"outcome": {code: str(label) for code, label in outcome_labels().items()}},
    }


def outcome_labels() -> dict[str, str]:
    return {
        "normal": _("Visit done"),
        "nobody_answered": _("Nobody answered"),
        "refused": _("Visit refused"),
        "hospital": _("In hospital"),
        "incident": _("Incident or danger"),
    }


def _pages() -> list[str]:
    return [url_for("homecare_day.index")]


OFFLINE = OfflineModule(
    script="js/homecare/offline.js",
    permission=Permission.HOMECARE_VISITS,
    texts=_texts,
    labels=_labels,
    pages=_pages,
)
