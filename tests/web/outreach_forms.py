"""The phone's encounter form and its local times (`now_local`): the street educator's tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from core import clock
from outreach.demo import demo_id


def now_local(minutes: int = 0) -> str:
    return _field(clock.now() + timedelta(minutes=minutes))


def _field(moment: datetime) -> str:
    """`moment` as a datetime-local field writes it (Brussels, to the minute)."""
    return clock.to_local(moment).strftime("%Y-%m-%dT%H:%M")


def _twice(moment: datetime) -> bool:
    """Whether Brussels' clocks read `moment`'s local time twice (the autumn change)."""
    return clock.read_twice(clock.to_local(moment).replace(tzinfo=None))


def past_hour() -> tuple[str, str]:
    """The start and end of an hour that ended now, as datetime-local fields write them,
    from one reading of the clock; moved back, hour by hour, out of the hour the autumn
    change repeats: a field without an offset cannot say which of the two it means."""
    end = clock.now().replace(second=0, microsecond=0)
    while _twice(end) or _twice(end - timedelta(hours=1)):
        end -= timedelta(hours=1)
    return _field(end - timedelta(hours=1)), _field(end)


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
