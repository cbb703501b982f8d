"""Demo data of street outreach: places of the Brussels-North round and people met
there (all invented; nicknames and descriptions as educators note them)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from core import accounts, clock
from outreach import services
from outreach.models import Encounter

NAMESPACE = uuid.UUID("5f0c1a57-4e11-4b3a-9d0e-7e2a6c1f0b21")

# (key, name, latitude, longitude)
PLACES = [
    ("gare-nord", "Gare du Nord, quai 3", 50.8603, 4.3617),
    ("maximilien", "Parc Maximilien, côté Petit-Château", 50.8604, 4.3539),
    ("liedts", "Place Liedts, sous l'abribus", 50.8666, 4.3717),
]
# (key, nickname, age band, gender, language, description)
PEOPLE = [
    ("momo", "Momo", "18_25", "male", "ar", "Veste verte, toujours avec un vélo"),
    ("la-grande", "La grande", "41_60", "female", "fr", "Grande, cheveux gris, deux sacs"),
    ("piet", "Piet", "26_40", "male", "nl", "Baard, spreekt Nederlands en een beetje Frans"),
]
# (key, person, place, days ago, contact type, needs, given, note)
ENCOUNTERS = [
    ("e1", "momo", "gare-nord", 6, "first_contact", ["food"], ["food_drink"], "Premier contact."),
    ("e2", "la-grande", "maximilien", 4, "conversation", ["shelter", "health"], ["listening"], ""),
    ("e3", "momo", "liedts", 2, "support", ["papers"], ["orientation"], "Veut refaire sa carte."),
    ("e4", "piet", "gare-nord", 1, "conversation", ["shelter"], ["information"], ""),
]


def demo_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, key)


def seed(session: Session) -> dict[str, int]:
    """Create the demo encounters (and their people and places) that are missing."""
    actor = accounts.find_user(session, "rue1")
    if actor is None:
        return {"encounters": 0}
    places = {key: (name, lat, lon) for key, name, lat, lon in PLACES}
    people = {key: rest for key, *rest in PEOPLE}
    created = 0
    now = clock.now().replace(second=0, microsecond=0)
    for key, person, place, days_ago, contact_type, needs, given, note in ENCOUNTERS:
        if session.get(Encounter, demo_id(key)) is not None:
            continue
        nickname, age_band, gender, language, description = people[person]
        place_name, latitude, longitude = places[place]
        at = now - timedelta(days=days_ago, hours=2)
        data = {
            "id": str(demo_id(key)),
            "person_id": str(demo_id(person)),
            "nickname": nickname,
            "age_band": age_band,
            "gender": gender,
            "language": language,
            "description": description,
            "place_id": str(demo_id(place)),
            "place_name": place_name,
            "latitude": latitude,
            "longitude": longitude,
            "occurred_at": at.isoformat(),
            "contact_type": contact_type,
            "needs": needs,
            "given": given,
            "note": note,
        }
        services.save_encounter(session, actor, services.read_encounter(data), client_at=at)
        created += 1
    return {"encounters": created}
