"""The navigation: one list, filtered by role (bottom bar on phones, side bar on desktops)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.roles import Permission, can


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object  # a lazy translated string
    icon: str
    permission: Permission
    description: object = ""


NAV: list[NavEntry] = [
    NavEntry("main.home", _l("Home"), "home", Permission.HOME),
    NavEntry(
        "outreach.index",
        _l("Street"),
        "street",
        Permission.OUTREACH_RECORD,
        _l("Encounters of the maraude, even without network."),
    ),
    NavEntry(
        "appointments_desk.index",
        _l("Reception desk"),
        "desk",
        Permission.APPOINTMENTS_DESK,
        _l("Today's agendas, walk-ins and the waiting queue of an antenne."),
    ),
    NavEntry(
        "appointments_desk.mine",
        _l("My appointments"),
        "calendar",
        Permission.APPOINTMENTS_MINE,
        _l("Your coming appointments, and those of the people you have seen."),
    ),
    NavEntry(
        "outreach_files.people",
        _l("People"),
        "person",
        Permission.OUTREACH_FILES,
        _l("Files of the people met in the street: encounters, referrals, consent."),
    ),
    NavEntry(
        "notifications.outbox",
        _l("SMS"),
        "sms",
        Permission.SMS_READ,
        _l("Messages sent and waiting, replies, contacts and their consent."),
    ),
    NavEntry(
        "appointments_setup.services",
        _l("Appointment settings"),
        "calendar",
        Permission.APPOINTMENTS_SETUP,
        _l("Services, places, opening hours, working plans, closures; monthly indicators."),
    ),
    NavEntry(
        "outreach_admin.partners",
        _l("Street services"),
        "street",
        Permission.OUTREACH_DIRECTORY,
        _l("Partner services directory, minors' protective path, retention and purges."),
    ),
    NavEntry(
        "admin.users",
        _l("Accounts"),
        "users",
        Permission.USERS_MANAGE,
        _l("Create staff accounts, set roles and teams, deactivate an account."),
    ),
    NavEntry(
        "admin.audit_log",
        _l("Audit log"),
        "log",
        Permission.AUDIT_READ,
        _l("Who read or changed which record, and when."),
    ),
    NavEntry(
        "auth.profile",
        _l("Profile"),
        "profile",  # not People's icon: both sit in a street educator's bar
        Permission.PROFILE,
        _l("Your language, your password, log out."),
    ),
]


# A phone's bottom bar holds this many items (44 px wide each at 360 px): with more
# entries, it shows the first ones and "More", a page listing them all.
PHONE_BAR_ITEMS = 5


def entries_for(role: str) -> list[NavEntry]:
    return [entry for entry in NAV if can(role, entry.permission)]


def badge(entry: NavEntry) -> int:
    """A number on a menu entry: the minors' alerts waiting for the user, on People."""
    if entry.endpoint != "outreach_files.people" or not current_user.is_authenticated:
        return 0
    from outreach import minors
    from web import db

    return minors.count_open_alerts(db.session(), current_user._get_current_object())


def is_current(entry: NavEntry) -> bool:
    return request.endpoint == entry.endpoint


def phone_bar(entries: list[NavEntry]) -> tuple[list[NavEntry], list[NavEntry]]:
    """The entries shown in a phone's bar, and those only the "More" page lists."""
    if len(entries) <= PHONE_BAR_ITEMS:
        return entries, []
    return entries[: PHONE_BAR_ITEMS - 1], entries[PHONE_BAR_ITEMS - 1 :]


def check_endpoints(app) -> None:
    """Refuse to start with a menu entry pointing at no view."""
    missing = [entry.endpoint for entry in NAV if entry.endpoint not in app.view_functions]
    if missing:
        raise RuntimeError(f"navigation entries without a view: {', '.join(missing)}")
