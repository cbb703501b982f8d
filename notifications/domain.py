"""Notifications (everything that leaves as an SMS), as it plugs into Terrain."""

from __future__ import annotations

from core.plugins import Domain
from notifications.texts import KINDS

DOMAIN = Domain(
    name="notifications",
    models=("notifications.models",),
    jobs="notifications.jobs",
    # Its own audiences ("a team's beneficiaries"…) register where they are defined.
    hooks=("notifications.broadcasts",),
    entity_types=("sms_contact", "sms_consent", "sms_message", "sms_broadcast", "sms_inbound"),
    template_kinds=KINDS,
    demo="notifications.demo",
)
