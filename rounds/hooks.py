"""What rounds registers with other domains' services at composition (core/plugins.py,
`Domain.hooks`): for home care, the meals delivered per standing order (its billing file;
a care plan's `meal_order_ref` names the weekly order), the one-step meal order from a
care plan, and that order ending, pausing or running again with its plan. Home care never imports
rounds."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from core.accounts import User
from homecare import services as homecare
from rounds.meals import (
    end_for_care_plan,
    meals_by_weekly,
    mobile_teams,
    order_for_care_plan,
    pause_for_care_plan,
    reopen_for_care_plan,
    resume_for_care_plan,
)
from rounds.models import DIETS


def _teams(session: Session, cpas_id: int) -> list[tuple[str, str]]:
    return [(str(team.id), team.name) for team in mobile_teams(session, cpas_id)]


def _follow(
    session: Session, actor: User, cpas_id: int, reference: str, first: date | None, last: date
) -> homecare.MealsFollowed:
    """The plan ended (`first` None) or was suspended: its weekly order ends or pauses."""
    if first is None:
        done = end_for_care_plan(session, actor, cpas_id, reference, last)
    else:
        done = pause_for_care_plan(session, actor, cpas_id, reference, first, last)
    if done is None:
        return homecare.MealsFollowed("unknown", first, last)
    weekly, followed = done
    if first is None:  # the order's own last day: the plan's, or an earlier one it had
        ends_on = min(weekly.ends_on or last, last)
        return homecare.MealsFollowed("ended", None, ends_on, followed.cancelled, followed.kept)
    return homecare.MealsFollowed("paused", first, last, followed.cancelled, followed.kept)


def _reopen(
    session: Session,
    actor: User,
    cpas_id: int,
    reference: str,
    ended_on: date,
    ends_on: date | None,
) -> homecare.MealsFollowed:
    """The plan's end moved later or went: its weekly order runs again with it."""
    done = reopen_for_care_plan(session, actor, cpas_id, reference, ended_on, ends_on)
    if done is None:
        return homecare.MealsFollowed("unknown_reopen", None, ends_on)
    weekly, reopened = done
    if weekly.ends_on != ends_on:  # an end of the order's own: the mobile team's
        return homecare.MealsFollowed("own_end", None, weekly.ends_on)
    count = reopened.restored + reopened.made
    return homecare.MealsFollowed("reopened", ended_on, ends_on, reopened=count)


def _resume(
    session: Session,
    actor: User,
    cpas_id: int,
    reference: str,
    first: date,
    last: date,
    new_last: date,
) -> homecare.MealsFollowed:
    """The plan's suspension shortened or lifted: its weekly order's pause likewise."""
    done = resume_for_care_plan(session, actor, cpas_id, reference, first, last, new_last)
    if done is None:
        return homecare.MealsFollowed("unknown_reopen", first, new_last)
    _weekly, reopened, found = done
    if not found:  # the order was not paused those days (made after the suspension)
        return homecare.MealsFollowed("not_paused", first, new_last)
    count = reopened.restored + reopened.made
    return homecare.MealsFollowed("resumed", first, new_last, reopened=count)


homecare.register_meals_source(meals_by_weekly)
homecare.register_meal_service(
    homecare.MealService(
        order_for_care_plan, _teams, DIETS, follow=_follow, reopen=_reopen, resume=_resume
    )
)
