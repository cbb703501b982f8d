"""Field error codes (from core.sync.FieldError) as sentences in the user's language."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask_babel import gettext as _

from core.sync import FieldError

# Each domain's sentences for its own codes (WebDomain.messages, put here by install()).
_DOMAIN_MESSAGES: list[Callable[[str, Mapping[str, Any]], str | None]] = []


def install(lookups: Sequence[Callable[[str, Mapping[str, Any]], str | None]]) -> None:
    for lookup in lookups:
        if lookup not in _DOMAIN_MESSAGES:
            _DOMAIN_MESSAGES.append(lookup)


def message(error: FieldError | Mapping[str, Any]) -> str:
    if isinstance(error, FieldError):
        code, params = error.code, dict(error.params)
    else:
        code, params = str(error.get("code")), dict(error.get("params") or {})
    messages = {
        "required": _("This is needed."),
        "too_long": _("Too long: at most %(max)s characters.", max=params.get("max", "")),
        "not_text": _("This must be text."),
        "invalid_text": _("This text holds a character that cannot be stored. Type it again."),
        "number_too_large": _("This number is too large."),
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
        "country_not_served": _(
            "We send codes to Belgian mobile numbers (and those of neighbouring countries) "
            "only. Call your antenne to book."
        ),
        "too_many_bookings": _(
            "This number already has %(max)s appointments to come. Cancel one first.",
            max=params.get("max", ""),
        ),
        "wrong_status": _("Not possible for this appointment any more."),
        "not_started": _("The appointment has not started yet."),
        # Reception desk
        "agent_busy": _(
            "%(agent)s is busy from %(from)s until %(until)s. Choose another agent or wait.",
            agent=params.get("agent", ""),
            **{"from": params.get("from", ""), "until": params.get("until", "")},
        )
        if params.get("until")
        else _("%(agent)s is busy now.", agent=params.get("agent", "")),
        "not_their_agent": _("A booked person is called in by the agent of the appointment."),
        "does_not_deliver": _("This agent does not deliver this service. Choose another agent."),
        "phone_only": _("This service is by phone only: book an appointment instead."),
        "closed_today": _("This place is closed today: nobody can join the queue."),
        "undo_too_late": _("Too late to undo: change it in the agenda below."),
        # Public booking pages: postcode, SMS code
        "invalid_postcode": _("Give a Belgian postcode: 4 digits, for example 1000."),
        "code_format": _(
            "Type the %(digits)s digits of the code you got by SMS.", digits=params.get("digits", 6)
        ),
        "wrong_code": _(
            "This code is not right. You can try %(left)s more times.", left=params.get("left", 0)
        ),
        "code_expired": _("This code is too old. Ask for a new code."),
        "too_many_tries": _("Too many wrong codes. Ask for a new code."),
        "not_verified": _("We must check your mobile number again. Ask for a new code."),
        # Appointment settings (appointments/setup.py)
        "invalid_code": _("Use lower-case letters, digits and dashes only, e.g. mediation-dettes."),
        "code_taken": _("This code is already used. Choose another one."),
        "not_a_whole_number": _("Give a whole number, for example 30."),
        "notice_beyond_horizon": _(
            "The notice is longer than the booking window of %(days)s days: nobody could book.",
            days=params.get("days", ""),
        ),
        "invalid_hours": _("Write the hours like 08:30-12:00, 13:00-16:00."),
        "hours_order": _("Each stretch must close after it opens, e.g. 08:30-12:00."),
        "hours_overlap": _("Two stretches of this day overlap."),
        "no_hours": _("Give the opening hours of at least one day."),
        "ends_before_start": _("The end must come after the start."),
        "plan_overlap": _(
            "This agent already has a plan from %(starts)s to %(ends)s on that day.",
            starts=params.get("starts", ""),
            ends=params.get("ends", ""),
        ),
        "after_plan_end": _("The plan already ends earlier than that."),
        "too_long_period": _("At most %(days)s days.", days=params.get("days", "")),
        # Street outreach: maraudes, minors, referrals, consent, merges
        "not_boolean": _("Tick the box or leave it empty."),
        "not_true_or_false": _("Give true or false."),
        "unknown_maraude": _("This maraude is not one of your team's."),
        "unknown_encounter": _("This encounter is not one of your team's."),
        "after_end": _("The start must be before the end of the maraude."),
        "before_start": _("The end must be after the start of the maraude."),
        "unknown_user": _("Choose people of your team from the list."),
        "no_protective_path": _(
            "Your team has nobody to tell about minors yet. Ask your coordinator to set the "
            "protective path (Settings), then save again: nothing you typed is lost."
        ),
        "unknown_alert": _("This alert is not for you, or it was already dealt with."),
        "unknown_partner": _("Choose a service from the directory."),
        "unknown_team": _("Choose a CPAS service from the list."),
        "one_destination": _("Choose either a partner service or a CPAS service."),
        "internal_only": _("A service code is only for a CPAS service."),
        "not_offered_by_team": _(
            "This CPAS service does not offer this. Choose from the list of what it offers."
        ),
        "before_first_contact": _("This date is before the first contact with this person."),
        "unknown_referral": _("This referral is not one you may change."),
        "referral_not_bookable": _(
            "This referral cannot be booked from here: it is closed, or not one you may see."
        ),
        "referral_transition": _("This referral cannot go to that status from where it is."),
        "before_previous_step": _("This date is before the referral's previous step."),
        "consent_required": _("Record the person's consent to give their identity first."),
        "invalid_niss": _(
            "This national register number is not valid: 11 digits, check the last two."
        ),
        "unknown_consent": _("This consent does not exist or was already withdrawn."),
        "merged_person": _("This record was merged into another: open that one."),
        "same_person": _("Choose two different people to merge."),
        "other_team": _("People of two different teams cannot be merged."),
        "already_merged": _("This person was already merged into another record."),
        "named_person": _("A named person is not merged here. Ask the coordinator."),
        "unknown_merge": _("This merge does not exist or is not your team's."),
        "already_undone": _("This merge was already undone."),
        "records_changed": _(
            "The records moved by this merge have changed since: it cannot be undone."
        ),
        "survivor_changed": _(
            "The person was changed since the merge: it cannot be undone automatically."
        ),
        # Home care: households, care plans, aides
        "unknown_beneficiary": _("This household is not one of your team's."),
        "unknown_care_plan": _("This care plan is not one of your team's."),
        "unknown_skill": _("Unknown skill. Choose from the list."),
        "duration_out_of_range": _(
            "A visit lasts between %(min)s and %(max)s minutes.",
            min=params.get("min", ""),
            max=params.get("max", ""),
        ),
        "longer_than_window": _("The visit is longer than its time window. Widen the window."),
        "night_must_cross_midnight": _(
            "A night watch runs past midnight: the end must be the next morning, e.g. 21:00-07:00."
        ),
        "only_night_crosses_midnight": _(
            "Only a night watch may run past midnight. Check the start and end times."
        ),
        "care_plan_overlap": _(
            "This household already has a plan for this service from %(starts)s to %(ends)s "
            "on one of these days.",
            starts=params.get("starts", ""),
            ends=params.get("ends", ""),
        ),
        "preferred_and_refused": _("An aide cannot be both preferred and refused."),
        "server_error": _(
            "The server could not apply this change. Send it again later, or tell your "
            "manager if it persists."
        ),
    }
    if code in messages:
        return messages[code]
    for lookup in _DOMAIN_MESSAGES:
        found = lookup(code, params)
        if found is not None:
            return found
    return _("This value is not valid.")


def errors_json(errors: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The Sync API's `errors`: each field's code and its sentence."""
    return {name: {**error, "message": message(error)} for name, error in errors.items()}
