"""Rounds pages: the minibus's stops and permanences, meal orders, rides and the day's
plan (routes.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.roles import Permission
from web.nav import NavEntry
from web.plugins import WebDomain
from web.rounds import messages, routes

WEB = WebDomain(
    name="rounds",
    blueprints=(routes.bp,),
    nav=(
        NavEntry(
            "rounds.index",
            _l("Rounds"),
            "street",
            Permission.ROUNDS_MANAGE,
            _l("The minibus's stops and permanences, meal orders, rides and the day's plan."),
            position=49,
        ),
    ),
    entity_labels={
        "rounds_vehicle": _l("Vehicle"),
        "rounds_stop": _l("Minibus stop"),
        "rounds_permanence": _l("Minibus permanence"),
        "rounds_meal_order": _l("Meal order"),
        "rounds_ride": _l("Ride"),
        "rounds_day": _l("Day of rounds"),
        "rounds_template": _l("Round template"),
        "rounds_round": _l("Dated round"),
        "rounds_round_stop": _l("Stop of a dated round"),
        "rounds_meal_settings": _l("Meal cut-off rule"),
        "rounds_weekly_meal_order": _l("Weekly meal order"),
        "rounds_meals_export": _l("Meals delivered (billing file)"),
    },
    messages=messages.sentence,
)
