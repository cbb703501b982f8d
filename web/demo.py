"""`terrain seed-demo`: each package's demo data, in dependency order."""

from __future__ import annotations

from sqlalchemy.orm import Session

from appointments import demo as appointments_demo
from core import demo as core_demo
from homecare import demo as homecare_demo
from notifications import demo as notifications_demo
from outreach import demo as outreach_demo

LOGINS = [
    ("admin", "administrator: accounts, audit log"),
    ("coordination", "home-care coordinator"),
    ("aide1 … aide6", "home aides"),
    ("rue1, rue2", "street educators"),
    ("accueil", "reception agent, Antenne Marolles"),
    ("as1, as2", "social workers, Antenne Marolles"),
    ("as3", "social worker, Espace citoyen Dampremy"),
    ("as4", "social worker, Le22Rogier (CPAS de Schaerbeek)"),
]


def seed_all(session: Session) -> dict[str, int]:
    created: dict[str, int] = {}
    created.update(core_demo.seed(session))
    session.flush()
    created.update(notifications_demo.seed(session))
    created.update(appointments_demo.seed(session))
    # After appointments: a demo referral names a service its destination offers.
    created.update(outreach_demo.seed(session))
    created.update(homecare_demo.seed(session))
    return created
