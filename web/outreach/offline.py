"""Street outreach's part of the phone's offline app (static/js/outreach/offline.js): its
sentences, the names of its ops' fields and choices, the pages kept offline."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from core.roles import Permission
from web.offline import OfflineModule
from web.outreach.labels import LABELS


def _texts() -> dict[str, str]:
    """Sentences of static/js/outreach/offline.js that the engine's texts carry."""
    return {
        # What an op is about.
        "new_encounter": _("Encounter"),
        "change_encounter": _("Change to an encounter"),
        "maraude_start": _("Start of a maraude"),
        "maraude_end": _("End of a maraude"),
        "change_place": _("Change to a place"),
        # Reused msgids of the pages (already translated there).
        "no_nickname": _("(no nickname)"),
        "nickname_or_description": _("For a new person, give a nickname or a short description."),
        "locating": _("Looking for your position…"),
        "located": _("Position filled in."),
        "locate_failed": _("Your position could not be found. Type it in, or leave it empty."),
        "km": _("%(distance)s km", distance="{n}"),
        "position": _("Latitude %(lat)s, longitude %(lon)s", lat="{lat}", lon="{lon}"),
        "no_position": _("No position yet."),
    }


def _pages() -> list[str]:
    return [
        url_for("outreach.index"),
        url_for("outreach.new_encounter"),
        url_for("outreach.maraude"),
        url_for("outreach.places"),
    ]


def _labels() -> dict[str, dict[str, Any]]:
    """Field names and choice labels of the outreach ops."""
    return {
        "fields": {
            "person_id": _("Person"),
            "nickname": _("Nickname"),
            "description": _("Description"),
            "age_band": _("Age (about)"),
            "gender": _("Gender"),
            "language": _("Language spoken"),
            "place_id": _("Place"),
            "place_name": _("Name of the new place"),
            "latitude": _("Latitude"),
            "longitude": _("Longitude"),
            "occurred_at": _("When"),
            "contact_type": _("Kind of contact"),
            "needs": _("Needs raised"),
            "given": _("Given or done"),
            "note": _("Note"),
            "ethos": _("Living situation (ETHOS)"),
            "minor": _("Under 18 all the same (the age above is only a guess)"),
            "maraude_id": _("The maraude"),
            "area": _("Area"),
            "member_ids": _("Who is out"),
            "started_at": _("Start"),
            "ended_at": _("End"),
            "km": _("Kilometres"),
            "incidents": _("Incidents"),
            "name": _("Name"),
            "notes": _("Notes"),
        },
        "choices": {
            name: {code: str(label) for code, label in choices.items()}
            for name, choices in LABELS.items()
        },
    }


OFFLINE = OfflineModule(
    script="js/outreach/offline.js",
    permission=Permission.OUTREACH_RECORD,
    texts=_texts,
    labels=_labels,
    pages=_pages,
)
