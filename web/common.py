"""What views share: tabs, phone display, acting user, 404s, safe redirects, account
errors, the page's language, public links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import phonenumbers
from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import accounts
from core.accounts import User
from core.errors import Invalid
from core.roles import Permission, can
from web.rendering import render
from web.validation import message


@dataclass(frozen=True)
class Tab:
    """One tab of a section's tab bar (templates/_partials/tabs.html)."""

    endpoint: str
    label: object
    permission: Permission


def visible_tabs(tabs: Sequence[Tab]) -> list[Tab]:
    """The tabs the signed-in user may open (none for a visitor)."""
    if not current_user.is_authenticated:
        return []
    return [tab for tab in tabs if can(current_user.role, tab.permission)]


def national(number: str | None) -> str:
    """+32470123456 -> 0470 12 34 56 (Belgian numbers), +33 6 12 34 56 78 (others)."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_valid_number(parsed):
        return number
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(parsed) == "BE"
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


def actor() -> User:
    """The signed-in user as a plain object (what services take as `user`)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def field_errors(invalid: Invalid) -> dict[str, str]:
    """Each field's error as a sentence in the page's language."""
    return {name: message(error) for name, error in invalid.errors.items()}


def not_found():
    """The same 404 page for an unknown record and a forbidden one."""
    return render("errors/error.html", status=404, code=404)


# Accounts: shared by the login and profile pages and the administration of accounts.
ACCOUNT_ERRORS = {
    ("username", "invalid"): _l("Use 2 to 40 lower-case letters, digits, dots or dashes."),
    ("username", "taken"): _l("This username is already used."),
    ("display_name", "invalid"): _l("Please give a name (at most 120 characters)."),
    ("role", "invalid"): _l("Choose a role from the list."),
    ("team", "invalid"): _l("Choose a team from the list."),
    ("language", "invalid"): _l("Choose a language from the list."),
    ("password", "too_short"): _l("The password is too short."),
    ("password", "too_long"): _l("The password is too long."),
    ("password", "same_as_username"): _l("The password must differ from the username."),
    ("current_password", "wrong"): _l("This is not your current password."),
    ("active", "self"): _l("You cannot deactivate your own account."),
}


def account_error_message(error: accounts.AccountError) -> str:
    return str(ACCOUNT_ERRORS.get((error.field, error.code), _l("This value is not accepted.")))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def page_language() -> str:
    """The page's language code ("fr", "nl" or "en")."""
    return str(get_locale() or "fr")[:2]


def public_base_url() -> str:
    """The address links sent to people start with (the configured public URL, else the
    one this request came to)."""
    settings = current_app.config["TERRAIN_SETTINGS"]
    return settings.public_url or request.url_root.rstrip("/")


def desk_day_url(location_code: str, day: date) -> str:
    """The reception desk's page of a place and a day (where staff see who comes)."""
    if "appointments_desk.index" in current_app.view_functions:
        return url_for("appointments_desk.index", location=location_code, day=day.isoformat())
    return f"/accueil/?location={location_code}&day={day.isoformat()}"
