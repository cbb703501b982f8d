"""What the offline JavaScript needs from the server: its texts, in the page's language.

They travel in each page as a JSON data block (not a script: the CSP allows none
inline), so a page the service worker kept offline speaks the language it was
loaded in.
"""

from __future__ import annotations

from flask_babel import gettext as _


def texts() -> dict[str, str]:
    """Sentences of static/js/offline.js; "{n}" and "{time}" are filled in by the JS."""
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
    }
