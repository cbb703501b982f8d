"""Home care, as it plugs into Terrain."""

from __future__ import annotations

from core.plugins import Domain
from homecare.live import LATE_KIND
from homecare.notices import AIDE_VISIT, AIDE_VISIT_REMOVED, VISIT_CHANGED
from homecare.reports import ALERT_KIND

DOMAIN = Domain(
    name="homecare",
    models=("homecare.models",),
    sync="homecare.sync",  # an aide's visits on her phone, and what she records there
    jobs="homecare.jobs",  # the planning runs asked from the board
    hooks=("homecare.notices",),  # the SMS subject kind of a visit
    entity_types=(
        "homecare_settings",  # gone (the CPAS holds region and funder): older entries
        "homecare_beneficiary",
        "homecare_care_plan",
        "homecare_suspension",
        "homecare_aide_profile",
        "homecare_qualification",
        "homecare_week",
        "homecare_visit",
        "homecare_quota",
        "homecare_export",
        "homecare_planning_run",
        "homecare_visit_report",
    ),
    template_kinds=(VISIT_CHANGED, AIDE_VISIT, AIDE_VISIT_REMOVED, ALERT_KIND, LATE_KIND),
    demo="homecare.demo",
)
