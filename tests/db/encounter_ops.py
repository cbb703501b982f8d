"""Encounter sync ops (`op`, `encounter_data`): db/test_sync and the web sync and API tests."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from core import clock
from outreach.demo import demo_id

CREATE = "outreach.encounter.create"
UPDATE = "outreach.encounter.update"


def encounter_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "nickname": "Le guitariste",
        "age_band": "26_40",
        "place_id": str(demo_id("gare-nord")),
        "occurred_at": clock.to_local(clock.now() - timedelta(minutes=5)).isoformat(),
        "contact_type": "conversation",
        "needs": ["food", "shelter"],
        "given": ["information"],
        "note": "Premier contact",
    }
    data.update(overrides)
    return data


def op(type_: str, data: dict[str, Any], base_version: int | None = None, **extra: Any) -> dict:
    return {"id": str(uuid.uuid4()), "type": type_, "base_version": base_version, "data": data} | {
        key: value for key, value in extra.items()
    }
