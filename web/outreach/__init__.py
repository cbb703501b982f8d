"""Street outreach pages: the street day, the follow-up files, directory, settings, indicators."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.accounts import User
from core.roles import Permission
from outreach import minors
from web import db
from web.nav import NavEntry
from web.outreach import admin, encounters, files, messages, reports
from web.outreach.offline import OFFLINE
from web.plugins import WebDomain


def _open_alerts(user: User) -> int:
    """The minors' alerts waiting for the user: the number on People."""
    return minors.count_open_alerts(db.session(), user)


WEB = WebDomain(
    name="outreach",
    blueprints=(encounters.bp, files.bp, admin.bp, reports.bp),
    offline=(OFFLINE,),
    nav=(
        NavEntry(
            "outreach.index",
            _l("Street"),
            "street",
            Permission.OUTREACH_RECORD,
            _l("Encounters of the maraude, even without network."),
            position=20,
        ),
        NavEntry(
            "outreach_files.people",
            _l("People"),
            "person",
            Permission.OUTREACH_FILES,
            _l("Files of the people met in the street: encounters, referrals, consent."),
            position=50,
            badge=_open_alerts,
        ),
        NavEntry(
            "outreach_admin.partners",
            _l("Street services"),
            "street",
            Permission.OUTREACH_DIRECTORY,
            _l("Partner services directory, minors' protective path, retention and purges."),
            position=80,
        ),
    ),
    entity_labels={
        "outreach_team": _l("Street team"),
        "outreach_person": _l("Person met in the street"),
        "outreach_place": _l("Place"),
        "outreach_encounter": _l("Encounter"),
    },
    template_labels={
        "outreach_minor_alert": _l("Street: an alert waits (minor met)"),
    },
    messages=messages.sentence,
)
