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
        # SMS: contacts, templates, quiet hours
        "invalid_phone": _("This is not a phone number we can reach. Example: 0470 12 34 56."),
        "too_many": _("At most %(max)s.", max=params.get("max", "")),
        "malformed_placeholder": _(
            "A brace { or } is not closed, or a name between braces is not valid."
        ),
        "unknown_placeholder": _(
            "Unknown placeholder {%(name)s}. You may use: %(allowed)s.",
            name=params.get("name", ""),
            allowed=params.get("allowed", "") or "—",
        ),
        "too_many_segments": _(
            "Too long: at most %(max)s SMS segments with the example values.",
            max=params.get("max", ""),
        ),
        "invalid_time": _("Give a time like 21:00."),
        # SMS broadcasts
        "no_placeholders": _(
            "A broadcast is the same text for everyone: remove the braces { and }."
        ),
        "bilingual_too_long": _(
            "French and Dutch together (for people whose language is unknown) would be "
            "more than %(max)s SMS segments. Shorten one of the texts.",
            max=params.get("max", ""),
        ),
        "no_recipients": _(
            "Nobody in this audience can get this message. Choose another audience or kind "
            "of message."
        ),
        "urgent_not_allowed": _("Only a service change may be urgent."),
        "already_finished": _("This broadcast is already finished or stopped."),
        "invalid_date": _("Give a date like 2026-11-23."),
        # Appointments
        "walk_in_only": _("This service is without appointment: come during the opening hours."),
        "not_online": _("This service is booked by phone only. Call your antenne."),
        "not_offered": _("This place does not offer this service. Choose another place."),
        "in_past": _("This time has already passed. Choose a later time."),
        "too_soon": _(
            "Too soon: book at least %(hours)s hours ahead.", hours=params.get("hours", "")
        ),
        "too_far": _(
            "Too far ahead: book at most %(days)s days ahead.", days=params.get("days", "")
        ),
        "not_a_slot": _("This time is not a free slot of this service. Choose one from the list."),
        "not_mobile": _("Give a mobile number: the confirmation comes by SMS."),
        "too_many_bookings": _(
            "This number already has %(max)s appointments to come. Cancel one first.",
            max=params.get("max", ""),
        ),
        "wrong_status": _("Not possible for this appointment any more."),
        "not_started": _("The appointment has not started yet."),
        "server_error": _(
            "The server could not apply this change. Send it again later, or tell your "
            "manager if it persists."
        ),
    }
    return messages.get(code, _("This value is not valid."))


def errors_json(errors: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The Sync API's `errors`: each field's code and its sentence."""
    return {name: {**error, "message": message(error)} for name, error in errors.items()}
