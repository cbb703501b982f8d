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
        "scan_start": _("Scan the card"),
        "scan_stop": _("Stop the camera"),
        "scan_found": _("Code read: %(code)s", code="{code}"),
        "scan_failed": _("The camera cannot be used: type the code written on the card."),
        "fix_wait": _("Looking for your position…"),
        "fix_failed": _("No position: the visit is recorded without it (unverified)."),
        "waiting": _("Waiting to be sent"),
        "sent": _("Sent"),
        "arrived_local": _("Arrived at %(time)s", time="{time}"),
        "left_local": _("Left at %(time)s", time="{time}"),
        "report_local": _("Report written"),
        "changed": _("Changed since your last download"),
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
            "code": _("Household card code"),
            "proof_code": _("Household card code"),
            "variance_reason": _("Why longer or shorter than planned"),
            "variance_note": _("About the time"),
            "offer_id": _("Offered visit"),
        },
        "choices": {
            "outcome": {code: str(label) for code, label in outcome_labels().items()},
            "unverified_reason": aide_reason_labels(),
            "variance_reason": variance_labels(),
        },
    }


def aide_reason_labels() -> dict[str, str]:
    return {
        "no_signal": _("No network or no GPS signal"),
        "gps_refused": _("Position or camera not allowed on the phone"),
        "other": _("Other (say it in the note)"),
    }


def variance_labels() -> dict[str, str]:
    return {
        "household_request": _("The household asked"),
        "care_needed": _("More care was needed"),
        "late_arrival": _("I arrived late"),
        "traffic": _("Traffic or transport"),
        "other": _("Other (say it in the note)"),
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
