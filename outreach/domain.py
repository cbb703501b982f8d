"""Street outreach, as it plugs into Terrain."""

from __future__ import annotations

from core.plugins import Domain
from outreach.minors import SMS_KIND

DOMAIN = Domain(
    name="outreach",
    models=("outreach.models",),
    sync="outreach.sync",
    jobs="outreach.jobs",
    entity_types=(
        "outreach_team",
        "outreach_person",
        "outreach_place",
        "outreach_encounter",
        "outreach_maraude",
        "outreach_minor_alert",
        "outreach_partner",
        "outreach_referral",
        "outreach_consent",
        "outreach_identity",
        "outreach_merge",
        "outreach_purge",
        "outreach_settings",
    ),
    template_kinds=(SMS_KIND,),
    demo="outreach.demo",
    demo_after=("appointments",),  # a demo referral names a service its destination offers
)
