"""Two desks call two walk-ins to the same agent at the same moment, against the live
multi-worker server on PostgreSQL: one call succeeds, the other is refused (422, the
agent is busy); the agent holds one appointment at that time.

PostgreSQL only (SQLite has one writer at a time: nothing races); skipped without
TEST_DATABASE_URL.
"""

from __future__ import annotations

import threading
from datetime import time

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from appointments.desk import add_walk_in
from appointments.models import (
    Appointment,
)
from tests.live.conftest import Live
from tests.live.support import POSTGRES_ONLY, one_agent_service, run_together
from tests.support import open_today

pytestmark = POSTGRES_ONLY


def _walk_ins(engine: Engine) -> tuple[int, list[int]]:
    """A place open all day, one agent working all day, two walk-ins waiting."""
    with Session(engine, expire_on_commit=False) as session:
        service, location, agent = one_agent_service(
            session,
            location={"code": "live-desk-loc", "name": "Antenne live desk", "address": "Rue 2"},
            service={
                "code": "live-desk-svc",
                "name_fr": "Permanence",
                "name_nl": "Permanentie",
                "name_en": "Desk",
                "duration_minutes": 20,
                "languages": ["fr"],
            },
            agent={"username": "live-desk-agent", "display_name": "Agent desk"},
            hours=(time(0, 0), time(23, 59)),
        )
        people = [
            add_walk_in(session, location=location, service=service, actor=None, name="")
            for _ in range(2)
        ]
        session.commit()
        return agent.id, [person.id for person in people]


def test_two_desks_call_two_walk_ins_to_one_agent_one_succeeds(live: Live, database: Engine):
    with open_today(database):
        _two_desks_call(live, database)


def _two_desks_call(live: Live, database: Engine) -> None:
    agent_id, walk_ins = _walk_ins(database)
    desks = [live.phone("accueil"), live.phone("coordination")]
    barrier = threading.Barrier(2)
    answers: list[int | None] = [None, None]

    def call(index: int) -> None:
        phone = desks[index]
        barrier.wait(timeout=30)
        status, _body = phone.request(
            "POST",
            f"/accueil/appointments/{walk_ins[index]}/call",
            f"agent={agent_id}".encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": phone.csrf,
                "HX-Request": "true",
            },
            timeout=60,
        )
        answers[index] = status

    run_together(call, 2, timeout=90)
    assert sorted(answers) == [200, 422], (answers, live.server.output())
    with database.connect() as connection:
        rows = connection.execute(
            select(Appointment.id).where(
                Appointment.agent_id == agent_id, Appointment.called_at.is_not(None)
            )
        ).all()
    assert len(rows) == 1
