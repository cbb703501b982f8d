"""What rounds registers with other domains' services at composition (core/plugins.py,
`Domain.hooks`): for home care, the meals delivered per standing order (its billing file;
a care plan's `meal_order_ref` names the weekly order) and the one-step meal order from a
care plan. Home care never imports rounds."""

from __future__ import annotations

from sqlalchemy.orm import Session

from homecare import services as homecare
from rounds.meals import meals_by_weekly, mobile_teams, order_for_care_plan
from rounds.models import DIETS


def _teams(session: Session, cpas_id: int) -> list[tuple[str, str]]:
    return [(str(team.id), team.name) for team in mobile_teams(session, cpas_id)]


homecare.register_meals_source(meals_by_weekly)
homecare.register_meal_service(homecare.MealService(order_for_care_plan, _teams, DIETS))
