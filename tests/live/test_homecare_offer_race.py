"""An open visit is taken exactly once, against the live multi-worker server on
PostgreSQL: every aide it is offered to accepts it at the same moment from three phones
each (sessions of their own, `POST /api/sync`). Exactly one acceptance is applied; every
other is rejected `offer_taken`; the visit has that aide and one version more, the offer
is taken by her, and the household's SMS of the change is queued once.

PostgreSQL only (SQLite has one writer at a time: nothing races); skipped without
TEST_DATABASE_URL.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import time, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core import accounts, clock, sync
from homecare import offers
from homecare.calendar import local_moment
from homecare.demo import demo_id
from homecare.models import Visit, VisitOffer
from notifications.models import Message
from tests.live.conftest import Live
from tests.live.support import POSTGRES_ONLY, run_together

pytestmark = POSTGRES_ONLY

PHONES_PER_AIDE = 3


def _open_visit(engine: Engine) -> tuple[uuid.UUID, uuid.UUID, list[str], int]:
    """A visit of the demo's first household in 3 days at 15:00 without an aide, offered
    by the coordinator to every aide who can take it."""
    day = clock.to_local(clock.now()).date() + timedelta(days=3)
    start = local_moment(day, time(15))
    with Session(engine, expire_on_commit=False) as session:
        coordinator = accounts.find_user(session, "coordination")
        assert coordinator is not None
        visit = Visit(
            id=uuid.uuid4(),
            team_id=coordinator.team_id,
            plan_id=demo_id("plan-0"),
            beneficiary_id=demo_id("household-0"),
            # A scheduled day the plan never generates, free for this test.
            scheduled_on=day - timedelta(days=3000 + uuid.uuid4().int % 5000),
            day=day,
            earliest_start=start,
            latest_start=start,
            duration_minutes=60,
            status="planned",
        )
        session.add(visit)
        sync.stamp(session, visit, sync.team_scope(visit.team_id), coordinator, None)
        session.flush()
        able = [c.aide_id for c in offers.candidates(session, visit) if c.fits]
        offer = offers.offer_visit(session, coordinator, visit.id, able)
        session.commit()
        names = [accounts.get_user(session, aide_id).username for aide_id in able]
        return visit.id, offer.id, names, visit.version


def test_an_open_visit_offered_to_several_aides_is_taken_exactly_once(
    live: Live, database: Engine
) -> None:
    visit_id, offer_id, aides, version = _open_visit(database)
    assert len(aides) >= 2, aides
    phones = [
        (name, phone)
        for name in aides
        for phone in [live.phone(name)] + [live.phone(name) for _ in range(PHONES_PER_AIDE - 1)]
    ]
    answers: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(phones))

    def accept(n: int) -> None:
        name, phone = phones[n]
        op = {
            "id": str(uuid.uuid4()),
            "type": "homecare.visit.accept_offer",
            "data": {"offer_id": str(offer_id)},
        }
        start.wait(timeout=60)
        (answer,) = phone.push([op])
        with lock:
            answers.append((name, answer))

    run_together(accept, len(phones), timeout=180)
    assert len(answers) == len(phones)
    statuses = Counter(answer["status"] for _, answer in answers)
    assert statuses == {"applied": 1, "rejected": len(phones) - 1}, statuses
    codes = {
        answer["errors"]["offer_id"]["code"]
        for _, answer in answers
        if answer["status"] != "applied"
    }
    assert codes == {"offer_taken"}
    (winner,) = [name for name, answer in answers if answer["status"] == "applied"]
    with Session(database) as session:
        offer = session.get(VisitOffer, offer_id)
        visit = session.get(Visit, visit_id)
        winner_id = accounts.find_user(session, winner).id
        assert offer.status == "taken" and offer.taken_by_id == winner_id
        assert visit.aide_id == winner_id and visit.version == version + 1
        sms = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.key == f"homecare:visit-changed:{visit_id}:{visit.version}")
        )
        assert sms in (0, 1)  # once at most (the demo household may have no consent)
