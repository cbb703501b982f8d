"""What home care tells people by SMS: its template kinds (declared in homecare/domain.py)
and its subject kind, registered with notifications at import (a `hooks` module), so
the dispatcher drops the SMS of a visit cancelled or past before it left."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from core import clock
from homecare.models import Visit
from notifications import services as notify

SUBJECT = "homecare_visit"  # subjects "homecare_visit:<visit id>"

# Plain GSM-7 (é, è, à are GSM): one character outside it doubles the price.
VISIT_CHANGED = notify.TemplateKind(
    code="homecare_visit_changed",
    category="service_change",
    placeholders=("date", "time", "aide"),
    defaults={
        "fr": "CPAS aide à domicile: votre visite du {date} sera faite par {aide} à {time}.",
        "nl": "OCMW thuishulp: uw bezoek van {date} wordt gedaan door {aide} om {time}.",
        "en": "CPAS home care: your visit on {date} will be made by {aide} at {time}.",
    },
    example={"date": "mardi 8/12", "time": "09h30", "aide": "Sofie"},
)
AIDE_VISIT = notify.TemplateKind(
    code="homecare_aide_visit",
    category="service_change",
    placeholders=("date", "time", "household", "address"),
    defaults={
        "fr": "CPAS planning: visite ajoutée le {date} à {time}, {household}, {address}.",
        "nl": "OCMW planning: bezoek toegevoegd op {date} om {time}, {household}, {address}.",
        "en": "CPAS planning: visit added on {date} at {time}, {household}, {address}.",
    },
    example={
        "date": "mardi 8/12",
        "time": "09h30",
        "household": "Jeanne Peeters",
        "address": "Rue Gallait 12",
    },
)
AIDE_VISIT_REMOVED = notify.TemplateKind(
    code="homecare_aide_visit_removed",
    category="service_change",
    placeholders=("date", "time", "household"),
    defaults={
        "fr": "CPAS planning: la visite du {date} à {time} chez {household} n'est plus pour vous.",
        "nl": "OCMW planning: het bezoek van {date} om {time} bij {household} is niet meer voor u.",
        "en": "CPAS planning: the visit on {date} at {time} at {household} is no longer yours.",
    },
    example={"date": "mardi 8/12", "time": "09h30", "household": "Jeanne Peeters"},
)


def visit_is_current(session: Session, visit_id: str) -> bool:
    """Still worth an SMS: planned and not yet past."""
    try:
        visit = session.get(Visit, uuid.UUID(visit_id))
    except ValueError:
        return False
    return (
        visit is not None
        and visit.status == "planned"
        and visit.planned_start is not None
        and clock.as_utc(visit.planned_start) > clock.now()
    )


notify.register_subject_kind(notify.SubjectKind(SUBJECT, visit_is_current))
