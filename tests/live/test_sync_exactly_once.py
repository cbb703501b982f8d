"""The Sync API's promises against the live multi-worker server: the same batch sent
three times at once is applied once, and ops delivered out of order converge on the
state the phone made last."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine

from tests.live.conftest import Live
from tests.live.phone import (
    CREATE,
    UPDATE,
    ago,
    count_people,
    encounter,
    op,
    stored_encounters,
    stored_ops,
)
from tests.live.support import run_together


def _by_id(changes: list[dict[str, Any]], kind: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for change in changes:
        if change["type"] == kind:
            found.setdefault(change["id"], []).append(change["record"])
    return found


def test_same_batch_three_times_at_once_is_applied_once(live: Live, database: Engine):
    phone = live.phone("rue1")
    encounters = [encounter(f"rencontre {n}") for n in range(30)]
    ops = [op(CREATE, data) for data in encounters]
    barrier = threading.Barrier(3)
    answers: list[list[dict[str, Any]] | None] = [None, None, None]
    failures: list[BaseException] = []

    def send(slot: int) -> None:
        twin = phone.twin()  # the same logged-in user, its own connection
        try:
            barrier.wait(timeout=10)
            answers[slot] = twin.push(ops)
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    run_together(send, 3, timeout=120)
    assert not failures, f"{failures}\nserver output:\n{live.server.output()}"
    assert all(batch is not None for batch in answers)

    for index, sent in enumerate(ops):
        results = [batch[index] for batch in answers if batch is not None]
        statuses = sorted(result["status"] for result in results)
        assert statuses == ["applied", "duplicate", "duplicate"], (sent["id"], results)
        applied = next(result for result in results if result["status"] == "applied")
        assert applied["record"]["id"] == sent["data"]["id"]
        for result in results:
            assert result["id"] == sent["id"]
            assert result["record"] == applied["record"]
            if result["status"] == "duplicate":
                assert result["original_status"] == "applied"

    assert stored_ops(database, [sent["id"] for sent in ops]) == {
        sent["id"]: ["applied"] for sent in ops
    }
    rows = stored_encounters(database, [data["id"] for data in encounters])
    assert {encounter_id: len(found) for encounter_id, found in rows.items()} == {
        data["id"]: 1 for data in encounters
    }
    assert all(found[0]["version"] == 1 for found in rows.values())
    assert count_people(database, [data["person_id"] for data in encounters]) == 30

    pulled = _by_id(phone.pull_all(), "outreach.encounter")
    for sent, result in zip(ops, answers[0] or [], strict=True):
        assert pulled[sent["data"]["id"]] == [result["record"]]


def test_updates_delivered_in_reverse_order_keep_the_last_one(live: Live, database: Engine):
    phone = live.phone("rue1")
    data = encounter("créée")
    [created] = phone.push([op(CREATE, data, client_at=ago(minutes=30))])
    assert created["status"] == "applied"
    version = created["record"]["version"]

    # On the phone: A, then B, both from the version it downloaded.
    update_a = op(UPDATE, {**data, "note": "A"}, client_at=ago(minutes=20), base_version=version)
    update_b = op(UPDATE, {**data, "note": "B"}, client_at=ago(minutes=10), base_version=version)
    # The network delivers B, then A.
    [answer_b] = phone.push([update_b])
    assert answer_b["status"] == "applied"
    assert answer_b["record"]["note"] == "B"
    assert not answer_b.get("superseded")
    [answer_a] = phone.push([update_a])
    assert answer_a["status"] == "applied"
    assert answer_a["superseded"] is True
    assert answer_a["record"]["note"] == "B"

    [row] = stored_encounters(database, [data["id"]])[data["id"]]
    assert row["note"] == "B"
    assert row["version"] == answer_b["record"]["version"]
    assert stored_ops(database, [update_a["id"], update_b["id"]]) == {
        update_a["id"]: ["applied"],
        update_b["id"]: ["applied"],
    }
    [pulled] = _by_id(phone.pull_all(), "outreach.encounter")[data["id"]]
    assert pulled["note"] == "B"
    assert pulled == answer_b["record"]


def test_update_arriving_before_its_create_wins(live: Live, database: Engine):
    phone = live.phone("rue1")
    data = encounter("première version")
    create = op(CREATE, data, client_at=ago(minutes=20))
    later = {**data, "note": "corrigée", "contact_type": "support", "needs": ["shelter"]}
    # Made offline before the create was answered: no base_version (with one, the
    # record must already be the team's: docs/sync.md).
    update = op(UPDATE, later, client_at=ago(minutes=10), base_version=None)

    [answer_update] = phone.push([update])
    assert answer_update["status"] == "applied"
    assert answer_update["record"]["note"] == "corrigée"
    [answer_create] = phone.push([create])
    assert answer_create["status"] == "applied"
    assert answer_create["superseded"] is True
    assert answer_create["record"] == answer_update["record"]

    [row] = stored_encounters(database, [data["id"]])[data["id"]]
    assert (row["note"], row["contact_type"], row["needs"]) == ("corrigée", "support", ["shelter"])
    assert count_people(database, [data["person_id"]]) == 1
    [pulled] = _by_id(phone.pull_all(), "outreach.encounter")[data["id"]]
    assert pulled == answer_update["record"]
