"""`terrain seed-demo`: core's demo data, then each domain's, in dependency order."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import clock, plugins
from core import demo as core_demo
from web.domains import install

LOGINS = [
    ("admin", "platform administrator: the CPAS, their administrators, accounts"),
    ("coordination", "home-care coordinator (planning board, live day, hours)"),
    ("aide1 … aide6", 'home aides, "Ma journée" on the phone'),
    ("rue1, rue2", "street educators"),
    ("accueil", "reception agent, Antenne Marolles"),
    ("as1, as2", "social workers, Antenne Marolles"),
    ("as3", "social worker, Espace citoyen Dampremy"),
    ("as4", "social worker, Le22Rogier (CPAS de Schaerbeek)"),
    ("mobile-coord", "coordinator of the mobile services, Charleroi (rounds)"),
    ("mobile1, mobile2", 'mobile crew, "Ma tournée" on the phone (Charleroi)'),
]


def seed_all(session: Session) -> dict[str, int]:
    """Seed what is missing, every domain as of the one instant the seeding started."""
    install()
    created: dict[str, int] = {}
    # One instant for the whole seed: it takes seconds, and a seeder that read "today"
    # before midnight refused its own meal orders for that day after it (seed-demo
    # started at 23:59:5x failed with "day_past").
    with clock.frozen(clock.now()):
        created.update(core_demo.seed(session))
        session.flush()
        # Each domain after those its descriptor's `demo_after` names (core's teams and
        # accounts come first for all of them).
        for _name, seed in plugins.demo_seeders():
            created.update(seed(session))
    return created
