"""Appointments' own field error codes as sentences (booking, the public pages' SMS
codes, the reception desk, settings); web/validation.py looks them up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _


def messages(params: Mapping[str, Any]) -> dict[str, str]:
    """Code → sentence in the user's language, for this domain's own codes."""
    return {
        "walk_in_only": _("This service is without appointment: come during the opening hours."),
        "not_online": _("This service is booked by phone only. Call your antenne."),
        "not_served": _(
            "No CPAS here serves this postcode or commune. Check it, or choose "
            "a CPAS from the list."
        ),
        "not_offered": _("This place does not offer this service. Choose another place."),
        "in_past": _("This time has already passed. Choose a later time."),
        "too_soon": _(
            "Too soon: book at least %(hours)s hours ahead.", hours=params.get("hours", "")
        ),
        "too_far": _(
            "Too far ahead: book at most %(days)s days ahead.", days=params.get("days", "")
        ),
        "not_a_slot": _("This time is not a free slot of this service. Choose one from the list."),
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
        "code_format": _(
            "Type the %(digits)s digits of the code you got by SMS.", digits=params.get("digits", 6)
        ),
        "wrong_code": _(
            "This code is not right. You can try %(left)s more times.", left=params.get("left", 0)
        ),
        "code_expired": _("This code is too old. Ask for a new code."),
        "too_many_tries": _("Too many wrong codes. Ask for a new code."),
        "not_verified": _("We must check your mobile number again. Ask for a new code."),
        "invalid_code": _("Use lower-case letters, digits and dashes only, e.g. mediation-dettes."),
        "code_taken": _("This code is already used. Choose another one."),
        "shared_service": _(
            "This service is shared by several CPAS: only where your CPAS offers it and who "
            "delivers it can be changed here."
        ),
        "used_by_other_cpas": _(
            "Places of another CPAS offer this service or hold its appointments: split it "
            "instead, one copy per CPAS."
        ),
        "no_cpas_uses_it": _(
            "No place of a CPAS offers this service or holds its appointments: give it a CPAS "
            "instead."
        ),
        "notice_beyond_horizon": _(
            "The notice is longer than the booking window of %(days)s days: nobody could book.",
            days=params.get("days", ""),
        ),
        "hours_overlap": _("Two stretches of this day overlap."),
        "no_hours": _("Give the opening hours of at least one day."),
        "plan_overlap": _(
            "This agent already has a plan from %(starts)s to %(ends)s on that day.",
            starts=params.get("starts", ""),
            ends=params.get("ends", ""),
        ),
        "after_plan_end": _("The plan already ends earlier than that."),
        "not_true_or_false": _("Give true or false."),
        "referral_not_bookable": _(
            "This referral cannot be booked from here: it is closed, or not one you may see."
        ),
    }


def sentence(code: str, params: Mapping[str, Any]) -> str | None:
    """The sentence of `code` when it is this domain's (WebDomain.messages), else None."""
    return messages(params).get(code)
