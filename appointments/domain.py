"""Appointments (services, places, plans, bookings), as they plug into Terrain."""

from __future__ import annotations

from appointments.booking import SLOT_OFFERED_KIND
from core.plugins import Domain

DOMAIN = Domain(
    name="appointments",
    models=("appointments.models", "appointments.verification"),
    jobs="appointments.jobs",
    # The SMS subject kind "appointment", the attendance source and the "appointments on
    # a day" audience, registered with notifications' services.
    hooks=("appointments.notifications",),
    entity_types=(
        "appointment_service",
        "appointment_location",
        "appointment_plan",
        "appointment_closure",
        "appointment_absence",
        "appointment",
        "appointment_waiting_entry",
        "appointment_agenda",  # a day's agenda or an agent's list, read
    ),
    template_kinds=(SLOT_OFFERED_KIND,),
    demo="appointments.demo",
)
