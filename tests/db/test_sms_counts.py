"""The outbox's stored counts (`sms_message_counts`, kept by triggers, migration 0046)
always equal a count of the outbox: after inserts, status changes, bulk updates, deletes,
and under concurrent writers on PostgreSQL. And the outbox's keyset pages."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update

from core import clock
from core.db import make_engine, make_session_factory
from notifications import contacts, outbox, queries
from notifications.models import Contact, Message, MessageCount
from tests.support import migrated_database

MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def counted(session) -> dict[tuple[int, str, str], int]:
    rows = session.execute(
        select(Message.contact_id, Message.category, Message.status, func.count()).group_by(
            Message.contact_id, Message.category, Message.status
        )
    )
    return {(c, category, status): n for c, category, status, n in rows}


def stored(session) -> dict[tuple[int, str, str], int]:
    rows = session.execute(
        select(
            MessageCount.contact_id,
            MessageCount.category,
            MessageCount.status,
            MessageCount.messages,
        ).where(MessageCount.messages != 0)
    )
    return {(c, category, status): n for c, category, status, n in rows}


def make_contact(session, name: str, number: str) -> Contact:
    return contacts.create_contact(
        session, actor=None, display_name=name, language="fr", phones=[number]
    )


def send(session, contact: Contact, key: str, category: str = "information") -> Message:
    return outbox.enqueue(session, key=key, contact=contact, category=category, body="CPAS: test.")


def test_the_stored_counts_follow_every_change(db):
    assert stored(db) == counted(db)  # the demo's, filled by the migration
    alice = make_contact(db, "Alice Compte", "0471 10 10 10")
    bob = make_contact(db, "Bob Compte", "0471 20 20 20")
    with clock.frozen(MORNING):
        made = [send(db, alice, f"counts:a:{n}") for n in range(4)]
        made += [send(db, bob, f"counts:b:{n}", category="reminder") for n in range(3)]
        db.flush()
        assert stored(db) == counted(db)
        # One message, then many at once (a bulk UPDATE), then a change that is not a
        # count's (no row moves).
        db.execute(update(Message).where(Message.id == made[0].id).values(status="sent"))
        db.execute(
            update(Message)
            .where(Message.key.like("counts:b:%"))
            .values(status="cancelled", error_code="staff")
        )
        db.execute(update(Message).where(Message.key.like("counts:%")).values(attempts=1))
        db.execute(update(Message).where(Message.id == made[1].id).values(category="reminder"))
        assert stored(db) == counted(db)
        made[2].status = "failed"  # through the ORM
        db.flush()
        assert stored(db) == counted(db)
        db.execute(delete(Message).where(Message.id == made[3].id))
        assert stored(db) == counted(db)
        # A contact erased: its messages go with it (cascade), and so do its counts.
        db.delete(db.get(Contact, bob.id))
        db.flush()
        assert stored(db) == counted(db)
        assert not any(key[0] == bob.id for key in stored(db))


def test_the_outbox_counts_and_total_come_from_the_stored_counts(db):
    alice = make_contact(db, "Alice Storedcount", "0471 30 30 30")
    with clock.frozen(MORNING):
        for n in range(5):
            send(db, alice, f"stored:{n}")
        db.flush()
    filters = queries.OutboxFilter(text="storedcount")
    counts = queries.count_by_status(db, filters)
    assert sum(counts.values()) == 5 == queries.list_messages(db, filters).total
    everything = queries.count_by_status(db)
    assert everything == {
        status: db.scalar(select(func.count()).where(Message.status == status)) or 0
        for status in everything
    }


def test_keyset_pages_walk_the_outbox_both_ways(db):
    alice = make_contact(db, "Alice Keyset", "0471 40 40 40")
    with clock.frozen(MORNING) as travel:
        made = []
        for n in range(7):
            made.append(send(db, alice, f"keyset:{n}"))
            if n != 3:  # two messages of the same instant: the id breaks the tie
                travel.advance(minutes=1)
        db.flush()
    newest_first = [m.key for m in reversed(made)]
    filters = queries.OutboxFilter(text="keyset")
    first = queries.list_messages(db, filters, per_page=3)
    assert [m.key for m in first.messages] == newest_first[:3]
    assert (first.has_newer, first.older is not None, first.pages) == (False, True, 3)
    second = queries.list_messages(
        db, filters, per_page=3, page=2, cursor=queries.Cursor.read(first.older, older=True)
    )
    assert [m.key for m in second.messages] == newest_first[3:6]
    assert second.page == 2 and second.newer and second.older
    third = queries.list_messages(
        db, filters, per_page=3, page=3, cursor=queries.Cursor.read(second.older, older=True)
    )
    assert [m.key for m in third.messages] == newest_first[6:]
    assert third.older is None
    back = queries.list_messages(
        db, filters, per_page=3, page=2, cursor=queries.Cursor.read(third.newer, older=False)
    )
    assert [m.key for m in back.messages] == newest_first[3:6]
    # The same pages as OFFSET gives (addresses typed by hand).
    assert [m.key for m in queries.list_messages(db, filters, per_page=3, page=2).messages] == (
        newest_first[3:6]
    )


def test_a_broken_cursor_is_no_cursor():
    for token in (None, "", "x-1", "12-", "-3", "9" * 50 + "-1", "1.5-2"):
        assert queries.Cursor.read(token, older=True) is None
    cursor = queries.Cursor(MORNING, 12)
    assert queries.Cursor.read(cursor.token(), older=True) == cursor


def test_concurrent_writers_keep_the_counts_exact():
    """8 threads insert, move and cancel messages of the same few contacts at once, each
    in its own transactions; the stored counts equal a count of the outbox afterwards
    (on PostgreSQL: statement triggers taking the count rows' locks in key order)."""
    with migrated_database("smscounts") as url:
        sqlite = url.startswith("sqlite")
        engine = make_engine(url) if sqlite else make_engine(url, pool_size=8)
        sessions = make_session_factory(engine)
        with sessions() as session:
            people = [
                make_contact(session, f"Concurrent {n}", f"0471 5{n} 00 00").id for n in range(3)
            ]
            session.commit()
        start = threading.Barrier(8)

        def work(worker: int) -> None:
            start.wait()
            for n in range(15):
                with sessions() as session:
                    contact = session.get(Contact, people[(worker + n) % 3])
                    sent = send(session, contact, f"concurrent:{worker}:{n}")
                    session.flush()
                    if n % 3 == 1:
                        sent.status = "sent"
                    session.commit()
                if n % 5 == 4:
                    with sessions() as session:
                        # A bulk update across the three contacts at once.
                        session.execute(
                            update(Message)
                            .where(Message.key.like(f"concurrent:{worker}:%"))
                            .where(Message.status == "pending")
                            .values(status="cancelled")
                        )
                        session.commit()

        with clock.frozen(MORNING + timedelta(days=1)), ThreadPoolExecutor(8) as pool:
            list(pool.map(work, range(8)))
        with sessions() as session:
            assert sum(counted(session).values()) == 8 * 15
            assert stored(session) == counted(session)
        engine.dispose()
