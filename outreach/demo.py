"""Demo data of street outreach: places of the Brussels-North round, people met there,
two maraudes, a small services directory and referrals in several states (all
invented; nicknames and descriptions as educators note them)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts, clock
from core.accounts import Team
from outreach import identity, maraudes, minors, referrals, services
from outreach.models import (
    Encounter,
    Maraude,
    OutreachTeamSettings,
    Place,
    Referral,
    ServicePartner,
)

NAMESPACE = uuid.UUID("5f0c1a57-4e11-4b3a-9d0e-7e2a6c1f0b21")

# (key, name, latitude, longitude)
PLACES = [
    ("gare-nord", "Gare du Nord, quai 3", 50.8603, 4.3617),
    ("maximilien", "Parc Maximilien, côté Petit-Château", 50.8604, 4.3539),
    ("liedts", "Place Liedts, sous l'abribus", 50.8666, 4.3717),
]
# What the team noted about two of them (key → notes).
PLACE_NOTES = {
    "gare-nord": "Sous l'auvent, côté rue du Progrès. Le gardien de nuit laisse passer avant 6 h.",
    "maximilien": "Tentes près de la ferme du parc; éviter le mardi matin (nettoyage).",
}
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
# ETHOS category noted at each encounter, and the maraude it was part of.
ENCOUNTER_ETHOS = {"e1": "ethos_1", "e2": "ethos_2", "e3": "ethos_8", "e4": "ethos_1"}
# (key, area, days ago, start hour, hours out, km, encounters)
MARAUDES = [
    ("m1", "Gare du Nord, Parc Maximilien", 6, 19, 3.5, 5.2, ("e1",)),
    ("m2", "Gare du Nord, place Liedts", 2, 19, 4.0, 6.8, ("e3",)),
]
# (name, kind, address, phone, languages, notes) — invented, plausible Brussels services.
PARTNERS = [
    (
        "Abri de nuit Porte de Flandre",
        "night_shelter",
        "Rue de Flandre 140, 1000 Bruxelles",
        "02 511 00 00",
        ["fr", "nl", "en"],
        "Inscription par téléphone dès 15 h; 40 lits.",
    ),
    (
        "Centre médical Quai Nord",
        "medical",
        "Rue du Progrès 80, 1030 Schaerbeek",
        "02 203 00 00",
        ["fr", "ar", "en"],
        "Consultations sans rendez-vous le matin; carte AMU acceptée.",
    ),
    (
        "Centre de jour L'Escale Liedts",
        "day_centre",
        "Place Liedts 20, 1030 Schaerbeek",
        "02 242 00 00",
        ["fr", "nl"],
        "Douche, lessive, consigne à bagages.",
    ),
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
    _seed_protective_path(session, actor)  # before the encounters: a minor is among them
    _seed_maraudes(session, actor, now)
    maraude_of = {e: key for key, *_rest, encounters in MARAUDES for e in encounters}
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
        data["ethos"] = ENCOUNTER_ETHOS[key]
        data["maraude_id"] = str(demo_id(maraude_of[key])) if key in maraude_of else None
        services.save_encounter(session, actor, services.read_encounter(data), client_at=at)
        created += 1
    _seed_place_notes(session, actor)
    return {"encounters": created, **_seed_follow_up(session, actor, now)}


def _seed_place_notes(session: Session, actor: accounts.User) -> None:
    for key, notes in PLACE_NOTES.items():
        place = session.get(Place, demo_id(key))
        if place is not None and not place.notes:
            change = {"id": str(place.id), "name": place.name, "notes": notes}
            services.update_place(session, actor, services.read_place(change))


def _seed_maraudes(session: Session, actor: accounts.User, now: datetime) -> int:
    created = 0
    partner = accounts.find_user(session, "rue2")
    for key, area, days_ago, hour, _hours, _km, _encounters in MARAUDES:
        if session.get(Maraude, demo_id(key)) is not None:
            continue
        local = clock.to_local(now - timedelta(days=days_ago))
        started = clock.as_utc(local.replace(hour=hour, minute=0))
        members = [partner.id] if partner else []
        start = maraudes.MaraudeStart(demo_id(key), area, tuple(members), started)
        maraudes.start(session, actor, start, client_at=started)
        created += 1
    return created


def _end_maraudes(session: Session, actor: accounts.User) -> None:
    for key, _area, _days, _hour, hours, km, _encounters in MARAUDES:
        maraude = session.get(Maraude, demo_id(key))
        if maraude is None or maraude.ended_at is not None:
            continue
        ended = maraude.started_at + timedelta(hours=hours)
        maraudes.end(
            session, actor, maraudes.MaraudeEnd(maraude.id, ended, km, ""), client_at=ended
        )


def _seed_protective_path(session: Session, actor: accounts.User) -> None:
    """The demo team tells Lotte (rue2), Karim (rue1) and the SAJ about minors (once: a
    path changed or removed later by the coordinator is left as it is)."""
    colleagues = [accounts.find_user(session, name) for name in ("rue2", "rue1")]
    if actor.team_id is None:
        return
    if session.get(OutreachTeamSettings, actor.team_id) is not None:
        return
    minors.seed_protective_path(
        session,
        actor.team_id,
        {
            "user_ids": [user.id for user in colleagues if user is not None],
            "contact": "SAJ de Bruxelles",
        },
    )


def _seed_follow_up(session: Session, actor: accounts.User, now: datetime) -> dict[str, int]:
    _end_maraudes(session, actor)
    partners, created = {}, 0
    admin = accounts.find_user(session, "admin")
    for name, kind, address, phone, languages, notes in PARTNERS:
        found = session.scalars(select(ServicePartner).where(ServicePartner.name == name)).first()
        if found is None and admin is not None:
            data = {"name": name, "kind": kind, "address": address, "phone": phone}
            found = referrals.save_partner(
                session, admin, data | {"languages": languages, "notes": notes}
            )
            created += 1
        if found is not None:
            partners[kind] = found.id
    if session.scalars(select(Referral).where(Referral.team_id == actor.team_id)).first():
        return {"partners": created, "referrals": 0}
    at = now - timedelta(days=1)
    # Momo: to the medical centre, accepted, done.
    medical = referrals.propose(
        session,
        actor,
        demo_id("momo"),
        {"need": "health", "partner_id": partners.get("medical"), "proposed_at": at.isoformat()},
    )
    referrals.move(session, actor, medical.id, "accepted", {"at": at.isoformat()})
    referrals.move(session, actor, medical.id, "done", {"at": now.isoformat()})
    # La grande: a bed at the night shelter, proposed.
    referrals.propose(
        session,
        actor,
        demo_id("la-grande"),
        {"need": "shelter", "partner_id": partners.get("night_shelter")},
    )
    # Piet: to the Marolles antenne for his income (RIS), sharing agreed, accepted.
    marolles = session.scalars(select(Team).where(Team.code == "bxl-marolles")).first()
    if marolles is not None:
        identity.record_consent(
            session, actor, demo_id("piet"), {"scopes": ["referral_sharing"], "method": "oral"}
        )
        income = referrals.propose(
            session,
            actor,
            demo_id("piet"),
            {"need": "income", "to_team_id": marolles.id, "service_code": "permanence-sociale"},
        )
        referrals.move(session, actor, income.id, "accepted")
    return {"partners": created, "referrals": 3}
