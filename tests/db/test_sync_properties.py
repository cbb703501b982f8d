"""Property: whatever the network does to a phone's ops (reorder, repeat), the server
ends where applying each op once, in the order the user made them, ends."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import accounts, clock, sync
from outreach.models import Encounter

NOTES = st.sampled_from(["", "A", "B", "vu au parc", "a besoin d'un abri"])
NEEDS = st.lists(st.sampled_from(["food", "shelter", "health", "papers"]), unique=True)
CONTACTS = st.sampled_from(["conversation", "support", "greeting"])
# (record index 0-2, is it the record's first op, note, needs, contact type)
EDIT = st.tuples(st.integers(0, 2), NOTES, NEEDS, CONTACTS)


def _scenario(
    edits: list[tuple[int, str, list[str], str]], records: list[str], start: datetime
) -> list[dict]:
    """The ops a phone made, in order: the first op of each record creates it."""
    people = {record: str(uuid.uuid4()) for record in records}
    made = []
    created: set[str] = set()
    for step, (index, note, needs, contact_type) in enumerate(edits):
        record = records[index]
        data = {
            "id": record,
            "person_id": people[record],
            "nickname": f"personne {index}",
            "occurred_at": (start + timedelta(minutes=step)).isoformat(),
            "contact_type": contact_type,
            "needs": needs,
            "note": note,
        }
        made.append(
            {
                "id": str(uuid.uuid4()),
                "type": "outreach.encounter.update"
                if record in created
                else "outreach.encounter.create",
                "base_version": None,
                "client_at": (start + timedelta(minutes=step, seconds=30)).isoformat(),
                "data": data,
            }
        )
        created.add(record)
    return made


def _state(db, record: str) -> tuple[Any, ...] | None:
    encounter = db.get(Encounter, uuid.UUID(record), populate_existing=True)
    if encounter is None:
        return None
    return (encounter.note, tuple(encounter.needs), encounter.contact_type, encounter.occurred_at)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(EDIT, min_size=1, max_size=8),
    data=st.data(),
)
def test_any_delivery_order_converges_to_the_order_of_creation(db, edits, data):
    rue1 = accounts.find_user(db, "rue1")
    start = clock.now() - timedelta(hours=3)
    in_order = [str(uuid.uuid4()) for _ in range(3)]
    shuffled = [str(uuid.uuid4()) for _ in range(3)]
    # The same edits on two sets of records: one delivered in order, once each...
    for made in _scenario(edits, in_order, start):
        assert sync.apply_batch(db, rue1, [made])[0]["status"] == "applied"
    # ...the other reordered, with copies, in batches of random sizes.
    ops = _scenario(edits, shuffled, start)
    copies = data.draw(st.lists(st.sampled_from(ops), max_size=len(ops)), label="copies")
    delivery = data.draw(st.permutations(ops + copies), label="delivery")
    position = 0
    while position < len(delivery):
        size = data.draw(st.integers(1, 3), label="batch size")
        answers = sync.apply_batch(db, rue1, delivery[position : position + size])
        assert {answer["status"] for answer in answers} <= {"applied", "duplicate"}
        position += size
    for first, second in zip(in_order, shuffled, strict=True):
        assert _state(db, first) == _state(db, second)
