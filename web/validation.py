"""Field error codes (from core.sync.FieldError) as sentences in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from core.sync import FieldError


def message(error: FieldError | Mapping[str, Any]) -> str:
    if isinstance(error, FieldError):
        code, params = error.code, dict(error.params)
    else:
        code, params = str(error.get("code")), dict(error.get("params") or {})
    messages = {
        "required": _("This is needed."),
        "too_long": _("Too long: at most %(max)s characters.", max=params.get("max", "")),
        "not_text": _("This must be text."),
        "unknown_choice": _("Choose from the list."),
        "invalid_uuid": _("This identifier is not valid."),
        "invalid_datetime": _("Give a date and time, for example 2026-11-23 14:05."),
        "in_future": _("This time is in the future. Check the phone's clock and the time."),
        "too_old": _("This time is more than a year ago."),
        "not_a_number": _("Give a number, for example 50.8603."),
        "out_of_range": _(
            "Must be between %(min)s and %(max)s.", min=params.get("min"), max=params.get("max")
        ),
        "both_coordinates": _("Give both latitude and longitude, or neither."),
        "nickname_or_description": _("For a new person, give a nickname or a short description."),
        "unknown_person": _("This person is not in your team's list."),
        "unknown_place": _("This place is not in your team's list."),
        "no_team": _("Your account belongs to no team. Ask your manager."),
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
    return messages.get(code, _("This value is not valid."))


def errors_json(errors: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The Sync API's `errors`: each field's code and its sentence."""
    return {name: {**error, "message": message(error)} for name, error in errors.items()}
