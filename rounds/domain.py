"""Rounds, as they plug into Terrain."""

from __future__ import annotations

from core.plugins import Domain
from rounds.live import ALERT_KIND, CANCELLED_KIND, LATE_KIND
from rounds.public import SUBSCRIBED_KIND

DOMAIN = Domain(
    name="rounds",
    models=("rounds.models", "rounds.live_models"),
    sync="rounds.live_sync",  # the crew's rounds on the phone, and what the crew records
    jobs="rounds.jobs",  # lateness and cancellation SMS to a stop's subscribers
    # Stop subscribers as an audience; meals delivered, for home care's billing file.
    hooks=("rounds.audiences", "rounds.hooks"),
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
        "rounds_round_report",
        "rounds_stop_report",
        "rounds_live_settings",
        "rounds_stop_subscription",
        "rounds_meal_settings",
        "rounds_weekly_meal_order",
        "rounds_meals_export",
    ),
    template_kinds=(LATE_KIND, CANCELLED_KIND, ALERT_KIND, SUBSCRIBED_KIND),
    demo="rounds.demo",
    demo_after=("appointments",),  # the minibus's Mont-sur-Marchienne stop is its place
)
