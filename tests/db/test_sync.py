"""The sync engine on the real database: exactly once, conflicts, order, the feed."""

from __future__ import annotations

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts, audit, clock, sync
from core.db import make_engine, make_session_factory
from outreach.demo import demo_id
from outreach.models import Encounter, MinorAlert, Person, Place
from tests.db.encounter_ops import CREATE, UPDATE, encounter_data, op
from tests.support import migrated_database, staff_member


def user(db: Session, username: str) -> accounts.User:
    found = accounts.find_user(db, username)
    assert found is not None
    return found


def at(minutes_ago: int) -> str:
    return (clock.now() - timedelta(minutes=minutes_ago)).isoformat()


def count(db: Session, model: Any, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.scalar(query) or 0


def test_an_op_is_applied_once_and_its_copies_answer_duplicate(db):
    rue1 = user(db, "rue1")
    data = encounter_data()
    batch = [op(CREATE, data, client_at=at(3))]
    first = sync.apply_batch(db, rue1, batch)
    again = sync.apply_batch(db, rue1, batch + batch)
    assert first[0]["status"] == "applied"
    assert first[0]["record"]["note"] == "Premier contact"
    assert [answer["status"] for answer in again] == ["duplicate", "duplicate"]
    assert again[0]["record"] == first[0]["record"]
    assert again[0]["original_status"] == "applied"
    assert count(db, Encounter, id=uuid.UUID(data["id"])) == 1
    assert count(db, Person, id=uuid.UUID(data["person_id"])) == 1
    assert count(db, sync.SyncOperation, id=uuid.UUID(batch[0]["id"])) == 1


def test_the_audit_log_has_the_phone_time_and_the_arrival_time(db):
    rue1 = user(db, "rue1")
    data = encounter_data()
    made = clock.now() - timedelta(hours=2)
    sync.apply_batch(db, rue1, [op(CREATE, data, client_at=made.isoformat())])
    entries = audit.search(
        db, audit.AuditFilter(entity_type="outreach_encounter", entity_id=data["id"])
    ).entries
    assert len(entries) == 1
    assert entries[0].action == "create"
    assert abs((entries[0].client_at - made).total_seconds()) < 1
    assert entries[0].at > entries[0].client_at
    assert "Premier contact" not in str(entries[0].details)  # field names, not contents


def test_one_bad_op_does_not_lose_the_others(db):
    rue1 = user(db, "rue1")
    good1, good2 = encounter_data(), encounter_data()
    bad = encounter_data(note="x" * 2001, contact_type="dance", latitude=91, place_id=None)
    answers = sync.apply_batch(
        db,
        rue1,
        [op(CREATE, good1), op(CREATE, bad), "not an op", op(CREATE, good2)],
    )
    statuses = [answer["status"] for answer in answers]
    assert statuses == ["applied", "rejected", "rejected", "applied"]
    errors = answers[1]["errors"]
    assert errors["note"] == {"code": "too_long", "params": {"max": 2000}}
    assert errors["contact_type"]["code"] == "unknown_choice"
    assert errors["latitude"]["code"] == "out_of_range"
    assert answers[2]["errors"] == {"op": {"code": "not_an_object"}}
    assert count(db, Encounter, id=uuid.UUID(bad["id"])) == 0
    assert count(db, Person, id=uuid.UUID(bad["person_id"])) == 0


def test_a_rejected_op_stays_rejected(db):
    rue1 = user(db, "rue1")
    bad = op(CREATE, encounter_data(occurred_at=(clock.now() + timedelta(days=1)).isoformat()))
    first = sync.apply_batch(db, rue1, [bad])[0]
    second = sync.apply_batch(db, rue1, [bad])[0]
    assert first["errors"]["occurred_at"]["code"] == "in_future"
    assert second["status"] == "duplicate"
    assert second["original_status"] == "rejected"
    assert second["errors"] == first["errors"]


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ({"id": "nope", "type": CREATE, "data": {}}, "id", "invalid_uuid"),
        (
            {"id": str(uuid.uuid4()), "type": "outreach.dance", "data": {}},
            "type",
            "unknown_op_type",
        ),
        ({"id": str(uuid.uuid4()), "type": CREATE, "data": []}, "data", "not_an_object"),
        (
            {"id": str(uuid.uuid4()), "type": CREATE, "data": {}, "base_version": "1"},
            "base_version",
            "invalid_version",
        ),
        (
            {"id": str(uuid.uuid4()), "type": CREATE, "data": {}, "client_at": "yesterday"},
            "client_at",
            "invalid_datetime",
        ),
    ],
)
def test_malformed_ops_are_rejected_with_the_field_named(db, raw, field, code):
    answer = sync.apply_batch(db, user(db, "rue1"), [raw])[0]
    assert answer["status"] == "rejected"
    assert answer["errors"][field]["code"] == code
    assert count(db, sync.SyncOperation) == 0


def test_an_op_id_of_another_user_is_not_taken_over(db):
    rue1, rue2 = user(db, "rue1"), user(db, "rue2")
    batch = [op(CREATE, encounter_data())]
    sync.apply_batch(db, rue1, batch)
    answer = sync.apply_batch(db, rue2, batch)[0]
    assert answer["status"] == "rejected"
    assert answer["errors"]["id"]["code"] == "id_already_used"
    assert "record" not in answer


def test_a_role_without_the_permission_is_refused(db):
    answer = sync.apply_batch(db, user(db, "aide1"), [op(CREATE, encounter_data())])[0]
    assert answer["errors"] == {"type": {"code": "not_allowed"}}


def test_people_and_places_of_another_team_cannot_be_used(db):
    rue1 = user(db, "rue1")
    stranger = staff_member(db, "rue9", "street_educator", "clr-mobile", "Autre équipe")
    data = encounter_data(person_id=str(demo_id("momo")))
    answer = sync.apply_batch(db, stranger, [op(CREATE, data)])[0]
    assert answer["errors"]["person_id"]["code"] == "unknown_person"
    assert sync.apply_batch(db, rue1, [op(CREATE, data)])[0]["status"] == "applied"


def test_a_change_by_somebody_else_since_base_version_is_a_conflict(db):
    rue1, rue2 = user(db, "rue1"), user(db, "rue2")
    record_id = str(demo_id("e2"))
    start = db.get(Encounter, uuid.UUID(record_id))
    assert start is not None
    version = start.version
    from outreach.services import serialize_encounter

    state = serialize_encounter(start)
    first = sync.apply_batch(db, rue1, [op(UPDATE, {**state, "note": "Karim"}, version)])[0]
    second = sync.apply_batch(db, rue2, [op(UPDATE, {**state, "note": "Lotte"}, version)])[0]
    assert first["status"] == "applied"
    assert second["status"] == "conflict"
    assert second["record"]["note"] == "Karim"
    assert second["record"]["version"] == version + 1
    # Lotte keeps her version knowingly: a new op from the server's version applies.
    third = sync.apply_batch(
        db, rue2, [op(UPDATE, {**state, "note": "Lotte"}, second["record"]["version"])]
    )[0]
    assert third["status"] == "applied"
    assert db.get(Encounter, uuid.UUID(record_id)).note == "Lotte"


def test_ops_delivered_out_of_order_end_in_the_state_made_last(db):
    rue1 = user(db, "rue1")
    data = encounter_data(note="created")
    create = op(CREATE, data, client_at=at(30))
    # Made offline before the create was answered: no base_version (the phone never saw
    # the record on the server), so an edit arriving first makes the record.
    edit_a = op(UPDATE, {**data, "note": "A"}, None, client_at=at(20))
    edit_b = op(UPDATE, {**data, "note": "B"}, None, client_at=at(10))
    answers = sync.apply_batch(db, rue1, [edit_b, create, edit_a])
    assert [answer["status"] for answer in answers] == ["applied", "applied", "applied"]
    assert answers[1].get("superseded") and answers[2].get("superseded")
    assert db.get(Encounter, uuid.UUID(data["id"])).note == "B"


def test_the_feed_gives_everything_first_then_only_what_changed(db):
    rue1, rue2 = user(db, "rue1"), user(db, "rue2")
    first = sync.read_changes(db, rue1, None)
    assert first.reset and not first.more
    kinds = {change.type for change in first.changes}
    assert kinds == {"outreach.person", "outreach.place", "outreach.encounter", "outreach.maraude"}
    assert sync.read_changes(db, rue1, first.token).changes == []

    data = encounter_data(place_id=str(uuid.uuid4()), place_name="Porte de Namur")
    sync.apply_batch(db, rue2, [op(CREATE, data)])
    changed = sync.read_changes(db, rue1, first.token)
    assert not changed.reset
    assert {(change.type, change.id) for change in changed.changes} == {
        ("outreach.person", data["person_id"]),
        ("outreach.place", data["place_id"]),
        ("outreach.encounter", data["id"]),
    }
    # Another team sees none of it (an aide's feed holds only her own home-care visits).
    aides_feed = sync.read_changes(db, user(db, "aide1"), None).changes
    assert all(change.type.startswith("homecare.") for change in aides_feed)


def test_the_feed_pages_without_skipping(db):
    rue1 = user(db, "rue1")
    token = sync.read_changes(db, rue1, None).token
    made = [encounter_data(place_id=None) for _ in range(7)]
    sync.apply_batch(db, rue1, [op(CREATE, data) for data in made])
    seen: list[str] = []
    for _ in range(20):
        page = sync.read_changes(db, rue1, token, limit=3)
        seen.extend(change.id for change in page.changes if change.type == "outreach.encounter")
        token = page.token
        if not page.more:
            break
    assert sorted(seen) == sorted(data["id"] for data in made)


def test_the_feed_loads_only_the_records_of_its_page(db, monkeypatch):
    """Ids first: each growing source gives (change number, id) from its index, and only
    the ids that made it onto the page are loaded, in one call per source."""
    rue1 = user(db, "rue1")
    sync.apply_batch(db, rue1, [op(CREATE, encounter_data(place_id=None)) for _ in range(6)])
    loaded: list[tuple[str, int]] = []
    sources = dict(sync._FEED_SOURCES)
    for entity_type, source in sources.items():
        if source.records is not None:

            def spy(session, viewer, ids, _records=source.records, _type=entity_type):
                loaded.append((_type, len(ids)))
                return _records(session, viewer, ids)

            monkeypatch.setitem(
                sync._FEED_SOURCES, entity_type, dataclasses.replace(source, records=spy)
            )
    whole = sync.read_changes(db, rue1, None)
    assert not whole.more
    loaded.clear()
    page = sync.read_changes(db, rue1, None, limit=4)
    assert page.more and len(page.changes) == 4
    assert sum(count for _type, count in loaded) == 4
    assert len(loaded) == len({_type for _type, _count in loaded})  # one call per source
    assert [(c.seq, c.type, c.id, c.record) for c in page.changes] == [
        (c.seq, c.type, c.id, c.record) for c in whole.changes[:4]
    ]
    # Another team's rows are never loaded, whatever ids are asked for.
    other = next(c.id for c in whole.changes if c.type == "outreach.encounter")
    records = sources["outreach.encounter"].records
    assert records is not None and other in records(db, rue1, [other])
    stranger = user(db, "aide1")  # another team
    assert stranger.team_id != rue1.team_id
    assert records(db, stranger, [other]) == {}


def test_a_token_from_another_day_or_team_starts_again(db):
    rue1 = user(db, "rue1")
    token = sync.read_changes(db, rue1, None).token
    with clock.frozen(clock.now() + timedelta(days=1)):
        assert sync.read_changes(db, rue1, token).reset
    assert sync.read_changes(db, rue1, "1.999.20261123.5").reset
    assert sync.read_changes(db, rue1, "garbage").reset


def test_the_feed_reads_through_the_team_index(db):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("EXPLAIN output checked on PostgreSQL")
    from sqlalchemy import text

    # A table this small may be scanned; forbid the scan and the index must serve. Forbid
    # the sort too: the (team, occurred_at) index of the street home would then do, with
    # a sort; the feed's own index gives the change order.
    db.execute(text("SET LOCAL enable_seqscan = off"))
    db.execute(text("SET LOCAL enable_sort = off"))
    plan = "\n".join(
        row[0]
        for row in db.execute(
            text(
                "EXPLAIN SELECT * FROM outreach_encounters WHERE team_id = 1 "
                "AND change_seq > 100 ORDER BY change_seq LIMIT 501"
            )
        )
    )
    assert "ix_outreach_encounters_team_seq" in plan


def test_concurrent_copies_of_one_batch_apply_it_once():
    """Three sessions post the same batch at the same moment: one applies each op."""
    from web.demo import seed_all

    with migrated_database("sync") as url:
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=6)
        sessions = make_session_factory(engine)
        with sessions() as session:
            seed_all(session)
            session.commit()
        batch = [op(CREATE, encounter_data(place_id=None), client_at=at(1)) for _ in range(15)]
        barrier = Barrier(3)

        def post(_: int) -> list[dict]:
            with sessions() as session:
                rue1 = accounts.find_user(session, "rue1")
                session.commit()  # SQLite: no transaction open while waiting
                barrier.wait()
                return sync.apply_batch(session, rue1, batch)

        with ThreadPoolExecutor(max_workers=3) as pool:
            runs = list(pool.map(post, range(3)))
        with sessions() as session:
            encounters = session.scalar(
                select(func.count())
                .select_from(Encounter)
                .where(Encounter.id.in_([uuid.UUID(o["data"]["id"]) for o in batch]))
            )
            ledger = session.scalar(select(func.count()).select_from(sync.SyncOperation))
        engine.dispose()
    for index in range(len(batch)):
        statuses = sorted(run[index]["status"] for run in runs)
        assert statuses == ["applied", "duplicate", "duplicate"], statuses
        records = {str(run[index]["record"]) for run in runs}
        assert len(records) == 1
    assert encounters == len(batch)
    assert ledger == len(batch)


def test_places_are_checked(db):
    rue1 = user(db, "rue1")
    data = encounter_data(place_id=str(uuid.uuid4()), place_name="", latitude=50.8)
    answer = sync.apply_batch(db, rue1, [op(CREATE, data)])[0]
    assert answer["errors"]["longitude"]["code"] == "both_coordinates"
    data = encounter_data(place_id=str(uuid.uuid4()), place_name="")
    answer = sync.apply_batch(db, rue1, [op(CREATE, data)])[0]
    assert answer["errors"] == {"place_name": {"code": "required"}}
    assert count(db, Place, id=uuid.UUID(data["place_id"])) == 0


def test_a_failing_handler_is_answered_and_not_stored(db, monkeypatch):
    rue1 = user(db, "rue1")
    from outreach import services

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    good, victim = op(CREATE, encounter_data()), op(CREATE, encounter_data())
    monkeypatch.setattr(services, "save_encounter", broken)
    answers = sync.apply_batch(db, rue1, [victim])
    monkeypatch.undo()
    answers += sync.apply_batch(db, rue1, [good, victim])
    assert answers[0]["errors"] == {"op": {"code": "server_error"}}
    # Not stored: once the bug is fixed, the same op applies.
    assert [answer["status"] for answer in answers[1:]] == ["applied", "applied"]


def _statements(db: Session, run: Any) -> int:
    sent = [0]

    def counted(*_args: Any) -> None:
        sent[0] += 1

    engine = db.get_bind().engine
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", counted)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return sent[0]


def test_a_request_is_read_numbered_and_logged_once_not_per_op(db):
    """The ledger look-up, the change numbers, the ledger rows, the audit entries, the
    people and the encounters are one statement each for the whole request: 20 more ops
    send no more statements."""
    rue1 = user(db, "rue1")

    def batch(size: int) -> list[dict]:
        return [op(CREATE, encounter_data(place_id=None), client_at=at(5)) for _ in range(size)]

    small, large = batch(5), batch(25)
    small_count = _statements(db, lambda: sync.apply_batch(db, rue1, small))
    large_count = _statements(db, lambda: sync.apply_batch(db, rue1, large))
    # The people and encounters go in with one INSERT per table: no statement per op.
    assert large_count <= small_count
    made = [uuid.UUID(o["data"]["id"]) for o in small + large]
    numbers = db.scalars(select(Encounter.change_seq).where(Encounter.id.in_(made))).all()
    assert len(set(numbers)) == 30 and min(numbers) > 0
    entries = db.scalars(
        select(audit.AuditEntry).where(
            audit.AuditEntry.entity_type == "outreach_encounter",
            audit.AuditEntry.entity_id.in_([str(encounter_id) for encounter_id in made]),
        )
    ).all()
    assert len(entries) == 30


def test_a_person_made_by_one_op_is_found_by_the_next_of_the_request(db):
    rue1 = user(db, "rue1")
    first = encounter_data(place_id=None)
    second = encounter_data(place_id=None, person_id=first["person_id"], nickname="")
    answers = sync.apply_batch(db, rue1, [op(CREATE, first), op(CREATE, second)])
    assert [answer["status"] for answer in answers] == ["applied", "applied"]
    assert count(db, Person, id=uuid.UUID(first["person_id"])) == 1
    assert count(db, Encounter, person_id=uuid.UUID(first["person_id"])) == 2


def test_a_person_of_a_refused_op_is_made_again_by_the_next_op_naming_it(db):
    """The first op's new person is undone with it (its savepoint): the next op of the
    request that names that person makes it, with its own fields."""
    rue1 = user(db, "rue1")
    bad = encounter_data(place_id=str(uuid.uuid4()), place_name="")
    good = encounter_data(place_id=None, person_id=bad["person_id"], nickname="Le peintre")
    answers = sync.apply_batch(db, rue1, [op(CREATE, bad), op(CREATE, good)])
    assert [answer["status"] for answer in answers] == ["rejected", "applied"]
    db.expire_all()
    person = db.get(Person, uuid.UUID(bad["person_id"]))
    assert person is not None and person.nickname == "Le peintre"
    assert count(db, Encounter, person_id=person.id) == 1


def test_a_minor_made_by_one_op_has_one_alert_for_each_encounter_of_the_request(db):
    rue1 = user(db, "rue1")
    first = encounter_data(place_id=None, minor=True)
    second = encounter_data(place_id=None, person_id=first["person_id"], nickname="")
    plain = encounter_data(place_id=None)
    answers = sync.apply_batch(db, rue1, [op(CREATE, first), op(CREATE, plain), op(CREATE, second)])
    assert [answer["status"] for answer in answers] == ["applied"] * 3
    alerts = db.scalars(
        select(MinorAlert.encounter_id).where(MinorAlert.person_id == uuid.UUID(first["person_id"]))
    ).all()
    assert sorted(map(str, alerts)) == sorted([first["id"], second["id"]])
    assert count(db, MinorAlert, person_id=uuid.UUID(plain["person_id"])) == 0


def test_a_refused_op_mid_request_leaves_no_trace_and_the_others_stay(db):
    """The request is applied again with a savepoint per op: the refused op's person,
    encounter, audit entries and change numbers are undone, the others kept."""
    rue1, rue2 = user(db, "rue1"), user(db, "rue2")
    shared = encounter_data(place_id=None)
    sync.apply_batch(db, rue2, [op(CREATE, shared)])
    version = db.get(Encounter, uuid.UUID(shared["id"])).version
    sync.apply_batch(db, rue2, [op(UPDATE, {**shared, "note": "rue2"}, version)])
    good1, good2 = encounter_data(place_id=None), encounter_data(place_id=None)
    # A new person, then a place that is missing its name: refused after writing.
    bad = encounter_data(place_id=str(uuid.uuid4()), place_name="")
    answers = sync.apply_batch(
        db,
        rue1,
        [
            op(CREATE, good1),
            op(CREATE, bad),
            op(UPDATE, {**shared, "note": "rue1"}, version),  # a conflict
            op(CREATE, good2),
        ],
    )
    assert [answer["status"] for answer in answers] == [
        "applied",
        "rejected",
        "conflict",
        "applied",
    ]
    assert answers[2]["record"]["note"] == "rue2"
    assert count(db, Person, id=uuid.UUID(bad["person_id"])) == 0
    assert count(db, Encounter, id=uuid.UUID(bad["id"])) == 0
    logged = {
        entry.entity_id
        for entry in db.scalars(
            select(audit.AuditEntry).where(audit.AuditEntry.actor_id == rue1.id)
        )
    }
    assert bad["person_id"] not in logged and bad["id"] not in logged
    assert {good1["id"], good2["id"], good1["person_id"]} <= logged
    stored = {
        str(row.id): row.status
        for row in db.scalars(
            select(sync.SyncOperation).where(sync.SyncOperation.user_id == rue1.id)
        )
    }
    assert sorted(stored.values()) == ["applied", "applied", "conflict", "rejected"]


def test_an_op_that_keeps_failing_on_a_key_is_answered_alone(db, monkeypatch):
    """An IntegrityError that is not a concurrent copy (a bug) fails the request each
    time: after its attempts, each op is applied alone, and only that one is refused."""
    from sqlalchemy.exc import IntegrityError

    from outreach import services

    rue1 = user(db, "rue1")
    real = services.save_encounter

    def failing(session, actor, entry, **options):
        if entry.note == "boom":
            raise IntegrityError("INSERT …", {}, Exception("a bug"))
        return real(session, actor, entry, **options)

    monkeypatch.setattr(services, "save_encounter", failing)
    good1, good2 = encounter_data(place_id=None), encounter_data(place_id=None)
    bad = encounter_data(place_id=None, note="boom")
    answers = sync.apply_batch(db, rue1, [op(CREATE, good1), op(CREATE, bad), op(CREATE, good2)])
    assert [answer["status"] for answer in answers] == ["applied", "rejected", "applied"]
    assert answers[1]["errors"] == {"op": {"code": "server_error"}}
    assert count(db, Encounter, id=uuid.UUID(good2["id"])) == 1
    assert count(db, sync.SyncOperation, id=uuid.UUID(answers[1]["id"])) == 0


@pytest.mark.parametrize("bad_id", [[1], {"a": 1}, 12, None, "not a uuid", "x" * 5000])
def test_ids_of_any_shape_are_refused_not_locked_ahead(db, bad_id):
    rue1 = user(db, "rue1")
    good = encounter_data(place_id=None)
    bad = encounter_data(place_id=None, id=bad_id, person_id=bad_id)
    answers = sync.apply_batch(db, rue1, [op(CREATE, bad), op(CREATE, good)])
    assert [answer["status"] for answer in answers] == ["rejected", "applied"]
    assert answers[0]["errors"]["id"]["code"] in {"invalid_uuid", "required"}


@pytest.mark.parametrize(
    ("written", "phone_clock_ahead", "stored_hour"),
    [
        # Written at 02:40 CEST, the first time round: the first 02:30.
        (datetime(2027, 10, 31, 0, 40, tzinfo=UTC), timedelta(0), 0),
        # Written at 02:40 CET, the second time round: the later 02:30, ten minutes before.
        (datetime(2027, 10, 31, 1, 40, tzinfo=UTC), timedelta(0), 1),
        # The same, by a phone 30 minutes slow: its client_at (01:05 UTC by its clock)
        # is before the later 02:30; its clock's offset puts it back at 01:35.
        (datetime(2027, 10, 31, 1, 35, tzinfo=UTC), timedelta(minutes=-30), 1),
    ],
)
def test_a_wall_time_of_the_repeated_autumn_hour_is_read_at_the_time_it_was_written(
    db, written, phone_clock_ahead, stored_hour
):
    """An op synced the next morning: its `client_at`, less the phone's clock offset,
    tells which of the night's two 02:30 the street educator meant."""
    rue1 = user(db, "rue1")
    data = encounter_data(occurred_at="2027-10-31T02:30")
    phone_time = (written + phone_clock_ahead).isoformat()
    with clock.frozen(datetime(2027, 10, 31, 7, 0, tzinfo=UTC)):
        sent = (clock.now() + phone_clock_ahead).isoformat()
        answers = sync.apply_batch(
            db, rue1, [op(CREATE, data, client_at=phone_time)], client_time=sent
        )
    assert answers[0]["status"] == "applied", answers
    encounter = db.get(Encounter, uuid.UUID(data["id"]))
    assert encounter is not None
    assert clock.as_utc(encounter.occurred_at) == datetime(
        2027, 10, 31, stored_hour, 30, tzinfo=UTC
    )
