"""Demo data of notifications: people who get SMS, their consents, a few messages.

All invented. The situations are those of shared/FIELD.md ("SMS" demo ideas): a
reminder the day before, a person who only has a landline, a number refused by the
carrier, one opt-out, staff reachable for urgent news (heat-wave plan).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core import accounts, clock
from notifications import contacts, outbox, replies
from notifications.models import Contact
from notifications.texts import moment_values

# (key, name, language, numbers, team codes, consented categories)
PEOPLE = [
    (
        "aicha",
        "Aïcha Bennani",
        "fr",
        ["0470 11 22 01"],
        ["bxl-marolles"],
        ["reminder", "service_change", "information"],
    ),
    (
        "jan",
        "Jan Verhoeven",
        "nl",
        ["0486 11 22 02"],
        ["bxl-marolles"],
        ["reminder", "service_change"],
    ),
    ("rosa", "Rosa Martins", None, ["0478 11 22 03"], ["bxl-marolles"], ["reminder"]),
    ("didier", "Didier Lambotte", "fr", ["02 543 22 04"], ["bxl-marolles"], ["reminder"]),
    (
        "nathalie",
        "Nathalie Dupont",
        "fr",
        ["0475 11 22 05"],
        ["clr-docherie"],
        ["reminder", "service_change"],
    ),
    (
        "youssef",
        "Youssef Karimi",
        "fr",
        ["0496 11 22 06"],
        ["bxl-saf"],
        ["reminder", "service_change"],
    ),
    (
        "hilde",
        "Hilde Peeters",
        "nl",
        ["0497 11 22 07"],
        ["bxl-saf"],
        ["reminder", "service_change", "information"],
    ),
    ("marc", "Marc Janssen", "fr", ["0479 11 22 08"], ["clr-gosselies"], []),
]
# Staff who agreed to get urgent service news by SMS (a heat-wave plan, a closure).
STAFF_NUMBERS = {
    "aide1": "0470 22 33 01",
    "aide2": "0470 22 33 02",
    "aide3": "0470 22 33 03",
    "aide4": "0470 22 33 04",
    "aide5": "0470 22 33 05",
    "aide6": "0470 22 33 06",
    "coordination": "0470 22 33 07",
}


def seed(session: Session) -> dict[str, int]:
    created = {"sms contacts": 0}
    recorder = accounts.find_user(session, "accueil")
    made: dict[str, Contact] = {}
    for key, name, language, numbers, team_codes, categories in PEOPLE:
        reference = f"demo:{key}"
        contact = contacts.contact_by_reference(session, reference)
        if contact is None:
            teams = [accounts.get_team(session, code) for code in team_codes]
            contact = contacts.create_contact(
                session,
                actor=None,
                display_name=name,
                language=language,
                phones=numbers,
                team_ids=[team.id for team in teams if team is not None],
                reference=reference,
            )
            for category in categories:
                contacts.set_consent(
                    session,
                    contact,
                    category=category,
                    granted=True,
                    method="form",
                    actor=recorder,
                    at=clock.now() - timedelta(days=30),
                )
            created["sms contacts"] += 1
            made[key] = contact
    for username, number in STAFF_NUMBERS.items():
        user = accounts.find_user(session, username)
        if user is None or contacts.contact_for_user(session, user.id) is not None:
            continue
        contact = contacts.create_contact(
            session,
            actor=None,
            display_name=user.display_name,
            language=user.language,
            phones=[number],
            team_ids=[user.team_id] if user.team_id else [],
            user_id=user.id,
        )
        for category in ("service_change", "information"):
            contacts.set_consent(
                session, contact, category=category, granted=True, method="form", actor=None
            )
        created["sms contacts"] += 1
    session.flush()
    if made:
        _situations(session, made)
    return created


def _situations(session: Session, people: dict[str, Contact]) -> None:
    """What the demo shows on the SMS pages once the scheduler has sent what is due."""
    now = clock.now()
    # Nathalie answered STOP to an information SMS last week...
    contacts.set_consent(
        session,
        people["nathalie"],
        category="service_change",
        granted=False,
        method="sms_reply",
        actor=None,
        at=now - timedelta(days=7),
    )
    # ...and Jan's operator says his number no longer takes SMS (a bounce).
    contacts.mark_phone(session, people["jan"].phones[0].e164, "opted_out", "21610")
    start = (clock.to_local(now) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    # Tomorrow's permanence at the Marolles: a reminder to each person booked.
    for number, key in enumerate(("aicha", "rosa", "didier", "jan")):
        outbox.enqueue(
            session,
            key=f"demo:reminder:{key}",
            contact=people[key],
            category="reminder",
            template="appointment_reminder",
            values={
                **moment_values(
                    clock.as_utc(start + timedelta(minutes=30 * number)), people[key].language
                ),
                "service": "Permanence sociale",
                "place": "Rue Haute 298",
            },
        )
    # Rosa wrote to the CPAS's number: a message for reception, not a keyword.
    replies.handle_inbound(
        session,
        provider_id="SMdemo0000000000000000000000000001",
        from_number=people["rosa"].phones[0].e164,
        body="Bonjour, je serai en retard de 10 minutes demain. Rosa",
    )
    outbox.enqueue(
        session,
        key="demo:closure:hilde",
        contact=people["hilde"],
        category="service_change",
        body="OCMW: het onthaal van de dienst gezinshulp is vrijdag gesloten. "
        "Uw verzorgende komt wel.",
    )
