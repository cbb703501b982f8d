"""Home care's own field error codes as sentences (households, care plans, aides, the
planning board); web/validation.py looks them up through WebDomain.messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _


def messages(params: Mapping[str, Any]) -> dict[str, str]:
    """Code → sentence in the user's language, for this domain's own codes."""
    return {
        "unknown_beneficiary": _("This household is not one of your team's."),
        "no_meal_service": _("The CPAS has no meal service to take this order."),
        "meal_order_exists": _("This care plan already has a meal order."),
        "household_not_located": _(
            "The household's address has no map position yet: add it to the household's "
            "file so the meal round can find it."
        ),
        "unknown_care_plan": _("This care plan is not one of your team's."),
        "unknown_suspension": _("This suspension is not one of this care plan's."),
        "suspension_not_shorter": _(
            "Give a day before the suspension's last day (%(day)s).",
            day=format_date(params["day"]) if params.get("day") else "",
        ),
        "suspension_end_too_early": _(
            "Give yesterday or a later day, and at the earliest the day before the suspension "
            "starts (that lifts it)."
        ),
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
        "aides_one_or_two": _("A visit needs one aide, or two for a transfer."),
        "same_aide_twice": _(
            "This aide is already the second aide of this transfer. Choose another aide."
        ),
        # The planning board
        "unknown_visit": _("This visit is not one of your team's."),
        "unknown_run": _("This planning run is not one of your team's."),
        "far_from_window": _("Choose a start on the visit's day (within two days of it)."),
        "visit_not_planned": _("This visit is done or cancelled: it cannot be moved."),
        "planning_under_way": _(
            "A planning of this week is under way. Wait until it is done, then ask again."
        ),
        "already_accepted": _("This proposal was already accepted."),
        # The records
        "no_fix": _("No position yet: press “Use my position” and wait for the fix."),
        "profile_first": _("Save the aide's working terms first."),
        # Hours: a visit marked done, a quota.
        "visit_cancelled": _("This visit was cancelled: it cannot be marked done."),
        "visit_without_aide": _("Assign an aide to this visit before marking it done."),
        "visit_not_done": _("This visit is not marked done."),
        "visit_too_long": _("A visit lasts at most 16 hours. Check the start and end times."),
        "ends_in_future": _("The end is still to come: mark the visit done once it is over."),
        "not_on_visit_day": _("The visit started on another day: check the date."),
        "km_out_of_range": _("Give the kilometres between 0 and 500."),
        "quota_out_of_range": _("Give the hours as a whole number between 0 and 1,000,000."),
        "invalid_year": _("Give a year like 2026."),
        # The live day and the review of unverified reports.
        "visit_not_late": _("This visit is no longer late: no SMS is needed."),
        "household_no_consent": _(
            "The household has not agreed to SMS about its visits. Call it instead."
        ),
        "household_no_mobile": _("The household has no mobile number. Call it instead."),
        "unknown_report": _("This report is not one of your team's."),
        "report_not_to_review": _("This report does not need a review."),
        "already_reviewed": _("This report was already reviewed."),
        "times_missing_correct": _(
            "The aide's arrival or departure is missing: correct the times instead."
        ),
        # Open visits: offered from the board, taken on the aide's phone.
        "unknown_offer": _("This offer is not one made to you."),
        "offer_taken": _("Another aide already took this visit. Thank you all the same."),
        "offer_withdrawn": _("This visit is no longer offered: the coordinator changed it."),
        "offer_clash": _("You now have another visit or an absence at that time."),
        "visit_covered": _("This visit has an aide who is not away: there is nothing to offer."),
        "visit_started": _("This visit has already started: it can no longer be offered."),
        "offer_too_far": _("Only visits of the next 14 days are offered. Plan this one."),
        "offer_not_for_transfer": _(
            "A visit with two aides at once cannot be offered: change it on the board."
        ),
        "offer_already_open": _("This visit is already offered. Withdraw that offer first."),
        "no_aide_chosen": _("Tick at least one aide."),
        "aide_not_available": _("One of the aides ticked can no longer take this visit."),
        # The aide's timesheet
        "wrong_password": _("This is not your password. Nothing was signed."),
        "try_again_later": _(
            "Too many wrong passwords. Try again in %(seconds)s seconds.",
            seconds=params.get("seconds", ""),
        ),
        "nothing_to_sign": _("No visit done in this period: there is nothing to sign."),
        "sheet_changed_meanwhile": _(
            "Your timesheet changed while you were reading it. Check it again, then sign."
        ),
        "period_not_started": _("This period has not started yet."),
        "not_an_aide": _("Only an aide signs her own timesheet."),
    }


def sentence(code: str, params: Mapping[str, Any]) -> str | None:
    """The sentence of `code` when it is this domain's (WebDomain.messages), else None."""
    return messages(params).get(code)
