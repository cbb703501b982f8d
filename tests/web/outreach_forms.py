"""The phone's encounter form and its local times (`now_local`): the street educator's tests."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core import clock
from outreach.demo import demo_id


def now_local(minutes: int = 0) -> str:
    return clock.to_local(clock.now() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def encounter_form(**overrides) -> dict:
    return {
        "op_id": str(uuid.uuid4()),
        "id": str(uuid.uuid4()),
        "person_id": str(demo_id("momo")),
        "place_id": str(demo_id("gare-nord")),
        "occurred_at": now_local(-5),
        "contact_type": "conversation",
        "ethos": "ethos_1",
        "note": "",
        **overrides,
    }
