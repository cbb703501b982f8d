"""Home care, as it plugs into Terrain (no pages yet)."""

from __future__ import annotations

from core.plugins import Domain

DOMAIN = Domain(
    name="homecare",
    models=("homecare.models",),
    # Declared before any home-care page exists, so the audit log's filters know them.
    entity_types=(
        "homecare_settings",  # gone (the CPAS holds region and funder): older entries
        "homecare_beneficiary",
        "homecare_care_plan",
        "homecare_suspension",
        "homecare_aide_profile",
        "homecare_qualification",
        "homecare_week",
    ),
    demo="homecare.demo",
)
