"""Rounds pages: the minibus's stops and permanences, meal orders, rides and the day's
plan (routes.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.accounts import User
from core.roles import Permission
from rounds import services
from web import db
from web.nav import NavEntry
from web.plugins import WebDomain
from web.rounds import crew, messages, offline, public, routes


def _links_stops(user: User) -> bool:
    return services.links_from_menu(db.session(), user)


WEB = WebDomain(
    name="rounds",
    blueprints=(routes.bp, crew.bp, public.bp),
    offline=(offline.OFFLINE,),
    nav=(
        NavEntry(
            "rounds_crew.crew",
            _l("My round"),
            "street",
            Permission.ROUNDS_CREW,
            _l("Your team's rounds of today and tomorrow: start, each stop, the end."),
            position=43,
        ),
        NavEntry(
            "rounds_crew.follow",
            _l("Rounds live"),
            "street",
            Permission.ROUNDS_MANAGE,
            _l("Today's rounds followed live: where each stop stands, expected times."),
            position=50,
        ),
        NavEntry(
            "rounds.index",
            _l("Rounds"),
            "street",
            Permission.ROUNDS_MANAGE,
            _l("The minibus's stops and permanences, meal orders, rides and the day's plan."),
            position=49,
        ),
        NavEntry(
            "rounds.places",
            _l("Minibus stops and places"),
            "street",
            Permission.APPOINTMENTS_SETUP,
            _l("Make the minibus's stops of your CPAS appointments places, or undo it."),
            position=96,
            visible=_links_stops,
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
        "rounds_round_report": _l("Round report from the crew's phone"),
        "rounds_stop_report": _l("Stop report from the crew's phone"),
        "rounds_live_settings": _l("Lateness SMS setting"),
        "rounds_stop_subscription": _l("SMS subscription to a minibus stop"),
        "rounds_meal_settings": _l("Meal cut-off rule"),
        "rounds_weekly_meal_order": _l("Weekly meal order"),
        "rounds_meals_export": _l("Meals delivered (billing file)"),
    },
    template_labels={
        "rounds_stop_late": _l("Minibus: late at a stop (subscribers)"),
        "rounds_stop_cancelled": _l("Minibus: a stop cancelled (subscribers)"),
        "rounds_stop_restored": _l("Minibus: a cancelled stop back on (subscribers)"),
        "rounds_incident_alert": _l("Rounds: an incident reported by the crew"),
        "rounds_stop_subscribed": _l("Minibus: a stop's subscription confirmed"),
    },
    messages=messages.sentence,
)
