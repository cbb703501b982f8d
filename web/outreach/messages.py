"""Street outreach's own field error codes as sentences (encounters, maraudes, minors,
referrals, consent, merges); web/validation.py looks them up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _


def messages(params: Mapping[str, Any]) -> dict[str, str]:
    """Code → sentence in the user's language, for this domain's own codes."""
    return {
        "in_future": _("This time is in the future. Check the phone's clock and the time."),
        "too_old": _("This time is more than a year ago."),
        "nickname_or_description": _("For a new person, give a nickname or a short description."),
        "unknown_person": _("This person is not in your team's list."),
        "unknown_place": _("This place is not in your team's list."),
        "no_team": _("Your account belongs to no team. Ask your manager."),
        "unknown_maraude": _("This maraude is not one of your team's."),
        "unknown_encounter": _("This encounter is not one of your team's."),
        "after_end": _("The start must be before the end of the maraude."),
        "before_start": _("The end must be after the start of the maraude."),
        "no_protective_path": _(
            "Your team has nobody to tell about minors yet. Ask your coordinator to set the "
            "protective path (Settings), then save again: nothing you typed is lost."
        ),
        "unknown_alert": _("This alert is not for you, or it was already dealt with."),
        "unknown_partner": _("Choose a service from the directory."),
        "one_destination": _("Choose either a partner service or a CPAS service."),
        "internal_only": _("A service code is only for a CPAS service."),
        "not_offered_by_team": _(
            "This CPAS service does not offer this. Choose from the list of what it offers."
        ),
        "before_first_contact": _("This date is before the first contact with this person."),
        "unknown_referral": _("This referral is not one you may change."),
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
    }


def sentence(code: str, params: Mapping[str, Any]) -> str | None:
    """The sentence of `code` when it is this domain's (WebDomain.messages), else None."""
    return messages(params).get(code)
