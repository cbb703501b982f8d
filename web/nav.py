"""The navigation: one menu, filtered by role (bottom bar on phones, side bar on desktops)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.accounts import User
from core.roles import Permission, can


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object  # a lazy translated string
    icon: str
    permission: Permission
    description: object = ""
    position: int = 0  # its place in the menu, whichever domain declares it
    # A number shown on the entry for the signed-in user (open alerts…), 0 for none.
    badge: Callable[[User], int] | None = field(default=None, compare=False)
    # Shown only to the users for whom it answers True, beyond the permission (an entry
    # that depends on the user's team or CPAS, not on her role alone); None: everyone
    # with the permission.
    visible: Callable[[User], bool] | None = field(default=None, compare=False)


# The shared entries; each domain declares its own in its WebDomain (web/plugins.py).
SHARED: tuple[NavEntry, ...] = (
    NavEntry("main.home", _l("Home"), "home", Permission.HOME, position=10),
    NavEntry(
        "admin.users",
        _l("Accounts"),
        "users",
        Permission.USERS_MANAGE,
        _l("Create staff accounts, set roles and teams, deactivate an account."),
        position=90,
    ),
    NavEntry(
        "cpas.index",
        _l("CPAS"),
        "calendar",
        Permission.USERS_MANAGE,
        _l("Your CPAS's public details and holidays; on a hosted installation, every CPAS."),
        position=95,
    ),
    NavEntry(
        "admin.audit_log",
        _l("Audit log"),
        "log",
        Permission.AUDIT_READ,
        _l("Who read or changed which record, and when."),
        position=100,
    ),
    NavEntry(
        "auth.profile",
        _l("Profile"),
        "profile",  # not People's icon: both sit in a street educator's bar
        Permission.PROFILE,
        _l("Your language, your password, log out."),
        position=110,
    ),
)

# The whole menu, in position order: the shared entries and the domains' (install()).
NAV: list[NavEntry] = list(SHARED)


def install(entries: list[NavEntry]) -> None:
    """The menu: the shared entries and `entries`, by position (idempotent)."""
    NAV[:] = sorted({entry.endpoint: entry for entry in (*SHARED, *entries)}.values(), key=_place)


def _place(entry: NavEntry) -> int:
    return entry.position


# A phone's bottom bar holds this many items (44 px wide each at 360 px): with more
# entries, it shows the first ones and "More", a page listing them all.
PHONE_BAR_ITEMS = 5


def entries_for(user: User) -> list[NavEntry]:
    """The menu of `user`: the entries of her role's permissions that she may see."""
    return [
        entry
        for entry in NAV
        if can(user.role, entry.permission) and (entry.visible is None or entry.visible(user))
    ]


_MENU = "terrain_menu"  # flask.g: (user id, her menu) of this request


def menu() -> list[NavEntry]:
    """The signed-in user's menu, worked out once per request and only when a page shows
    it: a JSON answer, an htmx partial or a redirect never asks (its `visible` checks may
    query the database)."""
    if not current_user.is_authenticated:
        return []
    user = current_user._get_current_object()
    known = g.get(_MENU)
    if known is None or known[0] != user.id:
        known = (user.id, entries_for(user))
        setattr(g, _MENU, known)
    return known[1]


def menu_more() -> list[NavEntry]:
    """The entries of the menu that only the "More" page lists on a phone."""
    return phone_bar(menu())[1]


def badge(entry: NavEntry) -> int:
    """The number on a menu entry for the signed-in user (its domain's `badge`)."""
    if entry.badge is None or not current_user.is_authenticated:
        return 0
    return entry.badge(current_user._get_current_object())


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
