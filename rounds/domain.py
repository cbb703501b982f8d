"""Rounds, as they plug into Terrain."""

from __future__ import annotations

from core.plugins import Domain

DOMAIN = Domain(
    name="rounds",
    models=("rounds.models",),
    hooks=("rounds.hooks",),  # meals delivered, for home care's billing file
    entity_types=(
        "rounds_vehicle",
        "rounds_stop",
        "rounds_permanence",
        "rounds_meal_order",
        "rounds_ride",
        "rounds_day",
        "rounds_template",
        "rounds_round",
        "rounds_round_stop",
        "rounds_meal_settings",
        "rounds_weekly_meal_order",
        "rounds_meals_export",
    ),
    demo="rounds.demo",
)
