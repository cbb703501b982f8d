"""Home care's pages: hours, quota, exports and indicators (records and the planning
board join from their own modules)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.roles import Permission
from web.homecare import hours, hours_messages
from web.nav import NavEntry
from web.plugins import WebDomain

WEB = WebDomain(
    name="homecare",
    blueprints=(hours.bp,),
    nav=(
        NavEntry(
            "homecare_hours.index",
            _l("Home care hours"),
            "calendar",
            Permission.HOMECARE_HOURS,
            _l("Visits done, hours against the quota, billing and payroll files."),
            position=62,
        ),
        NavEntry(
            "homecare_hours.indicators",
            _l("Home care indicators"),
            "log",
            Permission.HOMECARE_REPORTS,
            _l("Hours delivered and planned, unassigned visits, continuity, travel."),
            position=64,
        ),
    ),
    entity_labels={
        "homecare_visit": _l("Home-care visit"),
        "homecare_quota": _l("Hours quota"),
        "homecare_export": _l("Home-care billing or payroll file"),
    },
    messages=hours_messages.sentence,
)
