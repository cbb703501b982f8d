"""Field error codes (from core.errors.FieldError) as sentences in the user's language."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask_babel import gettext as _

from core.errors import FieldError

# A domain's sentence for one of its own codes (web/<domain>/messages.py), None when the
# code is not its own.
Lookup = Callable[[str, Mapping[str, Any]], str | None]
# Each domain's lookup (WebDomain.messages, put here by install()), asked after the
# shared codes below.
DOMAIN_MESSAGES: list[Lookup] = []


def install(lookups: Sequence[Lookup]) -> None:
    """Add the domains' lookups (idempotent)."""
    for lookup in lookups:
        if lookup not in DOMAIN_MESSAGES:
            DOMAIN_MESSAGES.append(lookup)


def shared_messages(params: Mapping[str, Any]) -> dict[str, str]:
    """The codes of the field parsers, the sync engine, and those several domains give."""
    return {
        "required": _("This is needed."),
        "too_long": _("Too long: at most %(max)s characters.", max=params.get("max", "")),
        "not_text": _("This must be text."),
        "invalid_text": _("This text holds a character that cannot be stored. Type it again."),
        "number_too_large": _("This number is too large."),
        "unknown_choice": _("Choose from the list."),
        "invalid_uuid": _("This identifier is not valid."),
        "invalid_datetime": _("Give a date and time, for example 2026-11-23 14:05."),
        "not_a_number": _("Give a number, for example 50.8603."),
        "out_of_range": _(
            "Must be between %(min)s and %(max)s.", min=params.get("min"), max=params.get("max")
        ),
        "not_a_whole_number": _("Give a whole number, for example 30."),
        "not_boolean": _("Tick the box or leave it empty."),
        "invalid_time": _("Give a time like 21:00."),
        "invalid_date": _("Give a date like 2026-11-23."),
        "both_coordinates": _("Give both latitude and longitude, or neither."),
        "too_many": _("At most %(max)s.", max=params.get("max", "")),
        "invalid_phone": _("This is not a phone number we can reach. Example: 0470 12 34 56."),
        "not_mobile": _("Give a mobile number: the confirmation comes by SMS."),
        "invalid_postcode": _("Give a Belgian postcode: 4 digits, for example 1000."),
        "invalid_hours": _("Write the hours like 08:30-12:00, 13:00-16:00."),
        "hours_order": _("Each stretch must close after it opens, e.g. 08:30-12:00."),
        "ends_before_start": _("The end must come after the start."),
        "too_long_period": _("At most %(days)s days.", days=params.get("days", "")),
        "unknown_user": _("Choose people of your team from the list."),
        "unknown_team": _("Choose a CPAS service from the list."),
        "id_already_used": _("This record already exists. Create a new one."),
        "not_allowed": _("Your role may not make this change."),
        "unknown_op_type": _("Unknown kind of change. Update the app."),
        "invalid_version": _("The version must be a whole number."),
        "not_an_object": _("Malformed change."),
        "server_error": _(
            "The server could not apply this change. Send it again later, or tell your "
            "manager if it persists."
        ),
    }


def message(error: FieldError | Mapping[str, Any]) -> str:
    if isinstance(error, FieldError):
        code, params = error.code, dict(error.params)
    else:
        code, params = str(error.get("code")), dict(error.get("params") or {})
    shared = shared_messages(params).get(code)
    if shared is not None:
        return shared
    for lookup in DOMAIN_MESSAGES:
        found = lookup(code, params)
        if found is not None:
            return found
    return _("This value is not valid.")
    return _("This value is not valid.")


def errors_json(errors: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The Sync API's `errors`: each field's code and its sentence."""
    return {name: {**error, "message": message(error)} for name, error in errors.items()}
