"""Home care pages: the coordinator's planning board (board.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.roles import Permission
from web.homecare import board, messages
from web.nav import NavEntry
from web.plugins import WebDomain

WEB = WebDomain(
    name="homecare",
    blueprints=(board.bp,),
    nav=(
        NavEntry(
            "homecare_board.index",
            _l("Home care"),
            "calendar",
            Permission.HOMECARE_PLAN,
            _l("The week of visits by aide: generate, optimise, change, re-plan an absence."),
            position=45,
        ),
    ),
    entity_labels={
        "homecare_visit": _l("Home-care visit"),
        "homecare_planning_run": _l("Home-care planning run"),
        "homecare_week": _l("Home-care week"),
    },
    messages=messages.sentence,
)
