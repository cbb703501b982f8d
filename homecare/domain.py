"""Home care, as it plugs into Terrain."""

from __future__ import annotations

from core.plugins import Domain
from homecare.notices import AIDE_VISIT, AIDE_VISIT_REMOVED, VISIT_CHANGED

DOMAIN = Domain(
    name="homecare",
    models=("homecare.models",),
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
    ),
    template_kinds=(VISIT_CHANGED, AIDE_VISIT, AIDE_VISIT_REMOVED),
    demo="homecare.demo",
)
