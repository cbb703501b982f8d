"""The queries behind the follow-up pages: searching the team's people, needs over time,
a person's encounters, the people referred to a service, which people are named."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from core import accounts, clock
from outreach import identity, merging, referrals, services
from outreach.demo import demo_id

MOMO, GRANDE, PIET = demo_id("momo"), demo_id("la-grande"), demo_id("piet")


def user(db, username: str) -> accounts.User:
    found = accounts.find_user(db, username)
    assert found is not None
    return found


def meet(db, nickname: str, description: str = "", **overrides: Any):
    data = {
        "id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "nickname": nickname,
        "description": description,
        "occurred_at": clock.to_local(clock.now() - timedelta(hours=1)).isoformat(),
        "contact_type": "conversation",
        **overrides,
    }
    return services.save_encounter(db, user(db, "rue1"), services.read_encounter(data)).encounter


def test_search_by_nickname_or_description_without_merged_records(db):
    team_id = user(db, "rue1").team_id
    assert [p.nickname for p in services.search_team_people(db, team_id, "vélo")] == ["Momo"]
    assert [p.nickname for p in services.search_team_people(db, team_id, "PIET")] == ["Piet"]
    wild = meet(db, "100%_sûr").person
    assert services.search_team_people(db, team_id, "%") == [wild]  # no wildcard
    assert services.search_team_people(db, team_id, "_") == [wild]
    other = meet(db, "Double").person
    merging.merge(db, user(db, "rue1"), wild.id, other.id)
    assert other not in services.search_team_people(db, team_id, "")
    everyone = services.search_team_people(db, team_id)
    assert {MOMO, GRANDE, PIET} <= {p.id for p in everyone}
    seen = [p.last_seen_at for p in everyone]
    assert seen == sorted(seen, reverse=True)
    # Another team sees none of them.
    assert services.search_team_people(db, user(db, "as1").team_id) == []


def test_needs_over_time_counts_first_and_last(db):
    first = meet(db, "Besoins", needs=["food", "shelter"])
    later = meet(
        db,
        "",
        person_id=str(first.person_id),
        needs=["food"],
        occurred_at=clock.to_local(clock.now()).isoformat(),
    )
    encounters = services.person_encounters(db, first.person_id)
    assert [e.id for e in encounters] == [later.id, first.id]  # newest first
    rows = services.needs_over_time(encounters)
    assert [(need, times) for need, times, _first, _last in rows] == [("food", 2), ("shelter", 1)]
    assert rows[0][2] == first.occurred_at and rows[0][3] == later.occurred_at
    assert services.needs_over_time([]) == []


def test_people_referred_to_a_service_need_the_sharing_consent(db):
    as1, as3 = user(db, "as1"), user(db, "as3")
    assert [p.id for p in referrals.people_referred_to(db, as1)] == [PIET]
    assert referrals.people_referred_to(db, as3) == []  # another antenne
    assert referrals.people_referred_to(db, user(db, "rue1")) == []  # not a sharing role
    for consent in identity.active_consents(db, PIET):
        identity.withdraw_consent(db, user(db, "rue1"), consent.id)
    assert referrals.people_referred_to(db, as1) == []


def test_named_ids(db):
    rue1 = user(db, "rue1")
    assert identity.named_ids(db, []) == set()
    assert identity.named_ids(db, [MOMO, GRANDE]) == set()
    identity.record_consent(db, rue1, MOMO, {"scopes": ["identity"], "method": "oral"})
    identity.attach_identity(db, rue1, MOMO, {"first_name": "M", "last_name": "X"})
    assert identity.named_ids(db, [MOMO, GRANDE]) == {MOMO}
