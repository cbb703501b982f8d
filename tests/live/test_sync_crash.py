"""A server killed in the middle of a batch loses nothing and doubles nothing: every op
it committed stays committed once, the phone replays the whole batch after the restart,
and the ops the crash cut off are applied then."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine

from tests.live.conftest import Live
from tests.live.phone import (
    CREATE,
    count_people,
    count_stored_ops,
    encounter,
    op,
    stored_encounters,
    stored_ops,
)

BATCH = 200
KILL_AFTER = 40  # ops committed before the kill: well into the batch, far from its end


def test_killed_mid_batch_then_replayed_applies_every_op_once(live: Live, database: Engine):
    phone = live.phone("rue2")
    encounters = [encounter(f"lot {n}") for n in range(BATCH)]
    ops = [op(CREATE, data) for data in encounters]
    op_ids = [sent["id"] for sent in ops]
    outcome: dict[str, object] = {}

    def send() -> None:
        try:
            outcome["status"] = phone.post_ops(ops, timeout=60)[0]
        except OSError as error:  # the connection dies with the server
            outcome["error"] = error

    sender = threading.Thread(target=send)
    sender.start()
    try:
        deadline = time.monotonic() + 30
        while count_stored_ops(database, op_ids) < KILL_AFTER and sender.is_alive():
            assert time.monotonic() < deadline, f"fewer than {KILL_AFTER} ops stored in 30 s"
            time.sleep(0.005)  # poll the database while the batch is being applied
        live.kill()
    finally:
        sender.join(timeout=30)
        live.restart()
    assert not sender.is_alive()

    before = count_stored_ops(database, op_ids)
    print(f"stored before the replay: {before} of {BATCH}; sender: {outcome}")
    assert 0 < before <= BATCH
    if "error" in outcome:
        # The usual case: the kill landed mid-batch and the phone never got an answer.
        assert before < BATCH, "the connection died although every op was stored"
    else:
        # The server was faster than the poll and answered the whole batch: fine too.
        assert outcome["status"] == 200
        assert before == BATCH

    results = phone.push(ops)  # the phone replays the batch it got no answer for
    statuses = [result["status"] for result in results]
    assert set(statuses) <= {"applied", "duplicate"}, results
    assert statuses.count("duplicate") == before
    assert statuses.count("applied") == BATCH - before
    for result in results:
        if result["status"] == "duplicate":
            assert result["original_status"] == "applied"

    assert stored_ops(database, op_ids) == {op_id: ["applied"] for op_id in op_ids}
    rows = stored_encounters(database, [data["id"] for data in encounters])
    assert {encounter_id: len(found) for encounter_id, found in rows.items()} == {
        data["id"]: 1 for data in encounters
    }
    assert count_people(database, [data["person_id"] for data in encounters]) == BATCH

    pulled = [
        change["id"]
        for change in phone.pull_all()
        if change["type"] == "outreach.encounter"
        and change["id"] in {data["id"] for data in encounters}
    ]
    assert sorted(pulled) == sorted(data["id"] for data in encounters)
