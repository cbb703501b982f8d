"""outreach.indicators.homeless_people: distinct people met roofless or houseless (ETHOS
1-7) in a month, each counted once even when their category changed within the month."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from core import accounts, clock, organisations
from core.accounts import Team
from outreach import indicators, services


def test_homeless_people_counts_each_person_once(db):
    rue1 = accounts.find_user(db, "rue1")
    team = Team(
        code="rue-homeless",
        name="Rue homeless",
        kind="street",
        city="Bruxelles",
        cpas_id=organisations.get_cpas(db, "bruxelles").id,
    )
    db.add(team)
    db.flush()
    rue1.team_id = team.id  # an empty team: only this test's encounters count
    db.flush()
    today = clock.to_local(clock.now()).date()
    first = date(today.year, today.month, 1) - timedelta(days=40)
    month = date(first.year, first.month, 1)

    def meet(person: uuid.UUID, day: int, ethos: str) -> None:
        at = datetime(month.year, month.month, day, 20, tzinfo=clock.BRUSSELS)
        data = {
            "id": str(uuid.uuid4()),
            "person_id": str(person),
            "nickname": "Test",
            "age_band": "26_40",
            "occurred_at": at.isoformat(),
            "contact_type": "conversation",
            "needs": [],
            "given": [],
            "ethos": ethos,
        }
        with clock.frozen(at + timedelta(hours=1)):
            services.save_encounter(db, rue1, services.read_encounter(data), client_at=at)

    a, b, c, d = (uuid.uuid4() for _ in range(4))
    meet(a, 2, "ethos_1")  # roofless, then houseless: once
    meet(a, 9, "ethos_3")
    meet(b, 3, "ethos_2")  # roofless
    meet(c, 4, "ethos_8")  # insecure housing: not homeless
    meet(d, 5, "unknown")
    assert indicators.homeless_people(db, team.id, month) == 2
    row = indicators.monthly(db, team.id, month)
    assert row.ethos["ethos_1"] + row.ethos["ethos_2"] + row.ethos["ethos_3"] == 3
    next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    assert indicators.homeless_people(db, team.id, next_month) == 0
