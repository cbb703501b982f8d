"""What rounds registers with other domains' services at composition (core/plugins.py,
`Domain.hooks`): the meals delivered per standing order, for home care's billing file
(a care plan's `meal_order_ref` names the weekly order). Home care never imports rounds."""

from __future__ import annotations

from homecare import services as homecare
from rounds.meals import meals_by_weekly

homecare.register_meals_source(meals_by_weekly)
