"""A server killed while the transaction of a batch is open loses nothing and doubles
nothing. A batch is one transaction (core/sync.apply_batch): the kill rolls back every
op it had applied, the phone (no answer) replays the whole batch after the restart, and
each op is then applied once. A kill that lands after the commit leaves the whole batch
stored, and the replay answers `duplicate` for every op."""

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
    write_transaction_open,
)

BATCH = 200
# s the batch's transaction has been writing before the kill: a batch of 200 ops is
# applied in about 0.2 s on an idle machine (one request, one transaction), so a longer
# wait lands after its commit.
INTO_THE_TRANSACTION = 0.03
ATTEMPTS = 5  # a kill may land after the commit (a fast server): then again, new ops


def _send_and_kill(live: Live, database: Engine, phone, ops: list[dict]) -> dict:
    """Post `ops`, kill the server once its transaction has been writing for a while;
    restart it. Returns the sender's outcome and whether the transaction was open."""
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
        opened: float | None = None
        while sender.is_alive():
            assert time.monotonic() < deadline, "the batch never opened its transaction"
            if write_transaction_open(database):
                opened = opened or time.monotonic()
                if time.monotonic() - opened >= INTO_THE_TRANSACTION:
                    break
            time.sleep(0.005)  # poll while the batch is being applied
        outcome["open_at_kill"] = write_transaction_open(database)
        live.kill()
    finally:
        sender.join(timeout=30)
        live.restart()
    assert not sender.is_alive()
    deadline = time.monotonic() + 30
    while write_transaction_open(database):  # PostgreSQL ends the killed backend's work
        assert time.monotonic() < deadline, "the killed server's transaction never ended"
        time.sleep(0.05)
    return outcome


def test_killed_mid_transaction_then_replayed_applies_every_op_once(live: Live, database: Engine):
    phone = live.phone("rue2")
    for _attempt in range(ATTEMPTS):
        encounters = [encounter(f"lot {n}") for n in range(BATCH)]
        ops = [op(CREATE, data) for data in encounters]
        op_ids = [sent["id"] for sent in ops]
        outcome = _send_and_kill(live, database, phone, ops)
        before = count_stored_ops(database, op_ids)
        print(f"stored after the kill: {before} of {BATCH}; sender: {outcome}")
        if before == 0:
            break  # killed inside the transaction: what this test is about
        # The commit came before the kill: all of the batch, never a part of it.
        assert before == BATCH, f"{before} of {BATCH} ops stored: a batch cut in two"
        results = phone.push(ops)
        assert {result["status"] for result in results} == {"duplicate"}, results[:3]
        assert {result["original_status"] for result in results} == {"applied"}
    else:
        raise AssertionError(f"no kill landed inside the transaction in {ATTEMPTS} tries")
    # The transaction was writing when the server died, and none of it was kept.
    assert outcome["open_at_kill"] is True
    assert "error" in outcome, "the phone got an answer for a batch that was not stored"
    assert count_people(database, [data["person_id"] for data in encounters]) == 0

    results = phone.push(ops)  # the phone replays the batch it got no answer for
    assert [result["status"] for result in results] == ["applied"] * BATCH, results[:3]

    again = phone.push(ops)  # and once more (it never heard that answer either)
    assert [result["status"] for result in again] == ["duplicate"] * BATCH
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
