"""Home care pages: the coordinator's planning board (board.py), her live day and review
queue (live.py), records (records.py);
hours, quota, billing and payroll files, indicators (hours.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.roles import Permission
from web.homecare import board, day, hours, live, messages, offline, open_visits, proof, records
from web.nav import NavEntry
from web.plugins import WebDomain

WEB = WebDomain(
    name="homecare",
    blueprints=(board.bp, records.bp, hours.bp, day.bp, live.bp, proof.bp, open_visits.bp),
    offline=(offline.OFFLINE,),
    nav=(
        NavEntry(
            "homecare_day.index",
            _l("My day"),
            "calendar",
            Permission.HOMECARE_VISITS,
            _l("Your visits of today and the next 2 days, with what you need at each door."),
            position=44,
        ),
        NavEntry(
            "homecare_live.index",
            _l("Today"),
            "calendar",
            Permission.HOMECARE_PLAN,
            _l("Today's visits of the team: late, in progress, problems, reports to review."),
            position=44,
        ),
        NavEntry(
            "homecare_board.index",
            _l("Home care"),
            "calendar",
            Permission.HOMECARE_PLAN,
            _l("The week of visits by aide: generate, optimise, change, re-plan an absence."),
            position=45,
        ),
        NavEntry(
            "homecare.beneficiaries",
            _l("Households"),
            "home",
            Permission.HOMECARE_RECORDS,
            _l("Households helped at home and their care plans; aides, skills and absences."),
            position=46,
        ),
        NavEntry(
            "homecare_hours.index",
            _l("Home care hours"),
            "calendar",
            Permission.HOMECARE_HOURS,
            _l("Visits done, hours against the quota, billing and payroll files."),
            position=47,
        ),
        NavEntry(
            "homecare_hours.indicators",
            _l("Home care indicators"),
            "log",
            Permission.HOMECARE_REPORTS,
            _l("Hours delivered and planned, unassigned visits, continuity, travel."),
            position=48,
        ),
    ),
    entity_labels={
        "homecare_settings": _l("Home-care settings"),
        "homecare_beneficiary": _l("Household helped at home"),
        "homecare_care_plan": _l("Care plan"),
        "homecare_suspension": _l("Care plan suspension"),
        "homecare_aide_profile": _l("Aide's working terms"),
        "homecare_qualification": _l("Aide's qualification"),
        "homecare_visit": _l("Home-care visit"),
        "homecare_planning_run": _l("Home-care planning run"),
        "homecare_week": _l("Home-care week"),
        "homecare_quota": _l("Hours quota"),
        "homecare_export": _l("Home-care billing or payroll file"),
        "homecare_visit_report": _l("Visit report from the aide's phone"),
        "homecare_proof_card": _l("Household's proof card"),
        "homecare_proof_rule": _l("Proof asked for a service"),
        "homecare_visit_offer": _l("Open visit offered to the aides"),
        "homecare_timesheet": _l("Aide's signed timesheet"),
    },
    template_labels={
        "homecare_visit_changed": _l("Home care: a visit's aide or time changed (household)"),
        "homecare_aide_visit": _l("Home care: a visit given to an aide"),
        "homecare_aide_visit_removed": _l("Home care: a visit taken from an aide"),
        "homecare_visit_alert": _l("Home care: an urgent alert from an aide's visit"),
        "homecare_visit_late": _l("Home care: the aide will be late (household)"),
    },
    messages=messages.sentence,
)
