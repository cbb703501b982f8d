"""A team's mixed audience and a broadcast's bodies: the broadcast tests of db and web."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import organisations
from core.accounts import Team
from notifications import contacts
from notifications.models import Contact

FR = "CPAS : antenne fermée vendredi (fête). RDV reportés."
NL = "OCMW: het antenne is vrijdag gesloten. Afspraken worden verplaatst."
BODIES = {"fr": FR, "nl": NL}


def make_team(db: Session, code: str = "test-antenne", kind: str = "antenne") -> Team:
    # A database without the demo has no CPAS yet: one like the demo's.
    cpas = organisations.get_cpas(db, "bruxelles") or organisations.create_cpas(
        db,
        code="bruxelles",
        name_fr="CPAS de Bruxelles",
        region="brussels",
        language_regime="bilingual",
    )
    team = Team(code=code, name=f"Équipe {code}", kind=kind, city="Bruxelles", cpas_id=cpas.id)
    db.add(team)
    db.flush()
    return team


def person(
    db: Session,
    team: Team,
    name: str,
    *,
    language: str | None = "fr",
    numbers: tuple[str, ...] = ("0470 99 00 01",),
    consent: bool | None = True,
    category: str = "service_change",
) -> Contact:
    contact = contacts.create_contact(
        db, actor=None, display_name=name, language=language, phones=numbers, team_ids=[team.id]
    )
    if consent is not None:
        contacts.set_consent(
            db, contact, category=category, granted=consent, method="form", actor=None
        )
    return contact


def mixed_audience(db: Session) -> tuple[Team, dict[str, Contact]]:
    team = make_team(db)
    people = {
        "fr": person(db, team, "Alice", numbers=("0470 99 00 01",)),
        "nl": person(db, team, "Bram", language="nl", numbers=("0470 99 00 02",)),
        "en": person(db, team, "Chris", language="en", numbers=("0470 99 00 03",)),
        "unknown": person(db, team, "Dana", language=None, numbers=("0470 99 00 04",)),
        "no_consent": person(db, team, "Eli", consent=None, numbers=("0470 99 00 05",)),
        "withdrawn": person(db, team, "Fatou", consent=False, numbers=("0470 99 00 06",)),
        "landline": person(db, team, "Gilles", numbers=("02 512 34 56",)),
        "opted_out": person(db, team, "Hanne", numbers=("0470 99 00 08",)),
        "invalid": person(db, team, "Ilse", numbers=("0470 99 00 09",)),
        "other_category": person(
            db, team, "Jules", numbers=("0470 99 00 10",), category="information"
        ),
    }
    contacts.mark_phone(db, "+32470990008", "opted_out", "21610")
    contacts.mark_phone(db, "+32470990009", "invalid", "21211")
    db.flush()
    return team, people
