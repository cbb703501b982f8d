"""What the offline JavaScript needs from the server: its texts, in the page's language.

They travel in each page as a JSON data block (not a script: the CSP allows none
inline), so a page the service worker kept offline speaks the language it was
loaded in.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.roles import Permission, can


def texts(part: str = "sentences") -> dict[str, Any]:
    """Sentences of static/js/offline.js; "{n}" and "{time}" are filled in by the JS.

    `texts("labels")` gives instead the names of the fields and choices of the ops,
    for the pages that show an op's content (/sync, /outreach/).
    """
    if part == "labels":
        return labels()
    return {
        "all_sent": _("Everything is sent"),
        "pending_one": _("1 waiting"),
        "pending_many": _("%(count)s waiting", count="{n}"),
        "problems_one": _("1 to correct"),
        "problems_many": _("%(count)s to correct", count="{n}"),
        "offline_since": _("Offline since %(time)s", time="{time}"),
        "saved_offline": _("Saved on this phone. It is sent as soon as there is a network."),
        "sent": _("Saved and sent."),
        "sending": _("Sending…"),
        "nothing_waiting": _("Nothing is waiting on this phone."),
        "login_again": _(
            "Your session has ended. Log in again to send what this phone holds: nothing is lost."
        ),
        "log_in": _("Log in"),
        "logout_blocked": _(
            "This phone holds changes that are not sent yet. Send them first, or "
            "discard them knowingly before logging out."
        ),
        "discard_and_logout": _("Discard them and log out"),
        "discard": _("Discard"),
        "discard_confirm": _("Discard this change for good? It will not be sent."),
        "rejected": _("Not accepted"),
        "conflict": _("Changed by somebody else meanwhile"),
        "keep_mine": _("Keep my version"),
        "keep_theirs": _("Keep the saved version"),
        "your_version": _("Your version"),
        "their_version": _("Version on the server"),
        "waiting": _("Waiting"),
        "new_encounter": _("Encounter"),
        "error_retry": _("Sending failed; it will be tried again."),
        # Reused msgids of the pages (already translated there).
        "send_now": _("Send now"),
        "no_nickname": _("(no nickname)"),
        "required": _("This is needed."),
        "nickname_or_description": _("For a new person, give a nickname or a short description."),
        "fix_fields": _("Some fields need a correction. Nothing was lost."),
        # New sentences of the offline JS.
        "cancel": _("Cancel"),
        "correct": _("Correct"),
        "correct_title": _("Correct the change"),
        "change_encounter": _("Change to an encounter"),
        "made_at": _("Made on %(time)s", time="{time}"),
        "draft_missing": _("This change is no longer on this phone."),
        "sent_all": _("Everything this phone held is sent."),
        "not_sent_yet": _("Not sent yet: there is no network. It is tried again on its own."),
        "problems_to_correct": _("Some changes need you: see below."),
        "kept_theirs": _("The saved version is kept; your change is discarded."),
        "kept_mine": _("Your version is saved; it is sent now."),
        "locating": _("Looking for your position…"),
        "located": _("Position filled in."),
        "locate_failed": _("Your position could not be found. Type it in, or leave it empty."),
        "too_large": _("This change is too large to be sent."),
        "maraude_start": _("Start of a maraude"),
        "maraude_end": _("End of a maraude"),
        "change_place": _("Change to a place"),
        # The header's words on a phone ("Offline · 3 waiting").
        "state_online": _("Online"),
        "state_offline": _("Offline"),
        "all_sent_short": _("all sent"),
        # Numbers and durations of the street pages.
        "minutes": _("%(minutes)s min", minutes="{n}"),
        "hours_minutes": _("%(hours)s h %(minutes)s", hours="{h}", minutes="{m}"),
        "km": _("%(distance)s km", distance="{n}"),
        "position": _("Latitude %(lat)s, longitude %(lon)s", lat="{lat}", lon="{lon}"),
        "no_position": _("No position yet."),
        "pages": offline_pages(),
    }


def offline_pages() -> list[str]:
    """The per-user offline views the service worker keeps ready for this user."""
    if not current_user.is_authenticated:
        return []
    pages = []
    if can(current_user.role, Permission.OUTREACH_RECORD):
        pages += [url_for("outreach.index"), url_for("outreach.new_encounter")]
        pages += [url_for("outreach.maraude"), url_for("outreach.places")]
    if can(current_user.role, Permission.SYNC):
        pages.append(url_for("sync.outbox"))
    return pages


def labels() -> dict[str, Any]:
    """Field names and choice labels of the ops, for showing an op's content."""
    from web.outreach.labels import LABELS

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
