"""Appointment pages: public booking, the SMS link page, the desk, settings and the API."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.roles import Permission
from web.appointments import api, booking, desk, messages, public, setup
from web.nav import NavEntry
from web.plugins import WebDomain

WEB = WebDomain(
    name="appointments",
    blueprints=(api.bp, public.bp, booking.bp, desk.bp, setup.bp),
    nav=(
        NavEntry(
            "appointments_desk.index",
            _l("Reception desk"),
            "desk",
            Permission.APPOINTMENTS_DESK,
            _l("Today's agendas, walk-ins and the waiting queue of an antenne."),
            position=30,
        ),
        NavEntry(
            "appointments_desk.mine",
            _l("My appointments"),
            "calendar",
            Permission.APPOINTMENTS_MINE,
            _l("Your coming appointments, and those of the people you have seen."),
            position=40,
        ),
        NavEntry(
            "appointments_setup.services",
            _l("Appointment settings"),
            "calendar",
            Permission.APPOINTMENTS_SETUP,
            _l("Services, places, opening hours, working plans, closures; monthly indicators."),
            position=70,
        ),
    ),
    template_labels={
        "appointment_slot_offered": _l("A slot freed for the waiting list"),
    },
    messages=messages.sentence,
)
