"""An encounter saved (`meet`), another team's educator: the outreach tests of db and web."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core import accounts, clock
from core.roles import Role
from outreach import services
from outreach.demo import demo_id
from tests.support import staff_member


def local(moment: datetime) -> str:
    return clock.to_local(moment).isoformat()


def meet(db: Session, actor: accounts.User, **overrides: Any) -> services.Saved:
    data = {
        "id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "nickname": "Le guitariste",
        "age_band": "26_40",
        "place_id": str(demo_id("gare-nord")),
        "occurred_at": local(clock.now() - timedelta(minutes=5)),
        "contact_type": "conversation",
        "needs": ["food"],
    }
    data.update(overrides)
    return services.save_encounter(db, actor, services.read_encounter(data))


def other_team_educator(db: Session) -> accounts.User:
    """A street educator of another team (Charleroi's mobile team)."""
    return staff_member(db, "rue-charleroi", Role.STREET_EDUCATOR, "clr-mobile", "Rue Charleroi")
