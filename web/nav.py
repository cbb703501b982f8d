"""The navigation: one list, filtered by role (bottom bar on phones, side bar on desktops)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import lazy_gettext as _l

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
        "appointments_setup.services",
        _l("Appointment settings"),
        "calendar",
        Permission.APPOINTMENTS_SETUP,
        _l("Services, places, opening hours, working plans, closures; monthly indicators."),
    ),
    NavEntry(
        "sms.outbox",
        _l("SMS"),
        "sms",
        Permission.SMS_READ,
        _l("Messages sent and waiting, replies, contacts and their consent."),
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
        "person",
        Permission.PROFILE,
        _l("Your language, your password, log out."),
    ),
]


def entries_for(role: str) -> list[NavEntry]:
    return [entry for entry in NAV if can(role, entry.permission)]


def is_current(entry: NavEntry) -> bool:
    return request.endpoint == entry.endpoint


def check_endpoints(app) -> None:
    """Refuse to start with a menu entry pointing at no view."""
    missing = [entry.endpoint for entry in NAV if entry.endpoint not in app.view_functions]
    if missing:
        raise RuntimeError(f"navigation entries without a view: {', '.join(missing)}")
