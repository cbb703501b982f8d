"""What every domain's views share: section tabs, phone display, the acting user, 404s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from flask_login import current_user

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
