"""The monthly report's stored figures (`sms_month_figures`, kept by triggers, migration
0055) always equal a recount of the outbox: after inserts, every kind of update, bulk
updates, deletes, a contact's erasure, and under concurrent writers on PostgreSQL; and the
report's Brussels months (UTC months corrected at their edges) equal a count of the
month's messages, across winter and summer time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, delete, func, select, update

from core import clock
from core.db import make_engine, make_session_factory
from notifications import contacts, outbox, reports
from notifications.models import Contact, Message, MonthFigures
from tests.support import migrated_database

# Instants on both sides of Brussels month bounds: 1 December 00:00 is 30 November 23:00
# UTC (winter), 1 April 00:00 is 31 March 22:00 UTC (summer time).
EDGES = [
    datetime(2025, 11, 30, 22, 59, tzinfo=UTC),  # Brussels: November
    datetime(2025, 11, 30, 23, 0, tzinfo=UTC),  # Brussels: December, UTC: November
    datetime(2025, 11, 30, 23, 30, tzinfo=UTC),
    datetime(2025, 12, 1, 0, 0, tzinfo=UTC),
    datetime(2025, 12, 15, 12, 0, tzinfo=UTC),
    datetime(2025, 12, 31, 22, 30, tzinfo=UTC),  # Brussels: December
    datetime(2025, 12, 31, 23, 0, tzinfo=UTC),  # Brussels: January, UTC: December
    datetime(2026, 3, 31, 21, 59, tzinfo=UTC),  # Brussels: March (22:59, summer time)
    datetime(2026, 3, 31, 22, 0, tzinfo=UTC),  # Brussels: April, UTC: March
    datetime(2026, 3, 31, 23, 59, tzinfo=UTC),
    datetime(2026, 4, 1, 0, 0, tzinfo=UTC),
]
MONTHS = [(2025, 11), (2025, 12), (2026, 1), (2026, 3), (2026, 4)]


def counted(session) -> dict[tuple, tuple]:
    """The figures recounted from the outbox, per UTC month and key."""
    messages = list(
        session.execute(
            select(
                Message.created_at,
                Message.contact_id,
                Message.category,
                Message.status,
                Message.error_code,
                Message.provider_id.is_not(None),
                Message.segments,
                Message.price,
            )
        )
    )
    figures: dict[tuple, list] = {}
    for at, contact, category, status, error, left, segments, price in messages:
        at = clock.as_utc(at)
        key = (at.date().replace(day=1), contact, category, status, error or "", bool(left))
        value = figures.setdefault(key, [0, 0, Decimal(0), 0])
        value[0] += 1
        value[1] += segments
        value[2] += Decimal(price or 0)
        value[3] += segments if price is None else 0
    return {key: tuple(value) for key, value in figures.items()}


def stored(session) -> dict[tuple, tuple]:
    rows = session.execute(
        select(MonthFigures).where(
            (MonthFigures.messages != 0)
            | (MonthFigures.segments != 0)
            | (MonthFigures.price != 0)
            | (MonthFigures.unpriced_segments != 0)
        )
    ).scalars()
    return {
        (
            row.month,
            row.contact_id,
            row.category,
            row.status,
            row.error_code,
            bool(row.handed_over),
        ): (row.messages, row.segments, Decimal(row.price), row.unpriced_segments)
        for row in rows
    }


def make_contact(session, name: str, number: str) -> Contact:
    return contacts.create_contact(
        session, actor=None, display_name=name, language="fr", phones=[number]
    )


def send(session, contact: Contact, key: str, category: str = "information") -> Message:
    return outbox.enqueue(session, key=key, contact=contact, category=category, body="CPAS: test.")


def test_the_stored_figures_follow_every_change(db):
    assert stored(db) == counted(db)  # the demo's, filled by the migration
    alice = make_contact(db, "Alice Mois", "0471 11 11 11")
    bob = make_contact(db, "Bob Mois", "0471 22 22 22")
    made = []
    for n, at in enumerate(EDGES):
        with clock.frozen(at):
            made.append(send(db, alice if n % 2 else bob, f"month:{n}", category="reminder"))
    db.flush()
    assert stored(db) == counted(db)
    # Handed over (provider id, segments), priced, failed with a code, moved in time.
    db.execute(
        update(Message)
        .where(Message.id == made[0].id)
        .values(status="sent", provider_id="SMmonth0", segments=2)
    )
    db.execute(update(Message).where(Message.id == made[1].id).values(price=Decimal("0.0712")))
    db.execute(
        update(Message)
        .where(Message.id == made[2].id)
        .values(status="failed", error_code="30003", provider_id="SMmonth2", segments=1)
    )
    db.execute(
        update(Message).where(Message.id == made[3].id).values(created_at=EDGES[7], segments=3)
    )
    db.execute(update(Message).where(Message.id == made[4].id).values(contact_id=alice.id))
    assert stored(db) == counted(db)
    # Many at once (a bulk UPDATE), then changes no figure follows (no row moves).
    db.execute(
        update(Message)
        .where(Message.key.like("month:%"), Message.status == "pending")
        .values(status="cancelled", error_code="staff")
    )
    db.execute(update(Message).where(Message.key.like("month:%")).values(attempts=1))
    db.execute(
        update(Message)
        .where(Message.key.like("month:%"))
        .values(price=case((Message.price.is_(None), None), else_=Message.price))
    )
    assert stored(db) == counted(db)
    made[5].status = "delivered"  # through the ORM
    made[5].provider_id = "SMmonth5"
    made[5].price = Decimal("0.08")
    db.flush()
    assert stored(db) == counted(db)
    db.execute(delete(Message).where(Message.id == made[6].id))
    assert stored(db) == counted(db)
    # A contact erased: its messages go with it (cascade), and so do its figures.
    db.delete(db.get(Contact, bob.id))
    db.flush()
    assert stored(db) == counted(db)
    assert not any(key[1] == bob.id for key in stored(db))


def test_the_brussels_months_from_stored_figures_equal_a_count(db):
    alice = make_contact(db, "Alice Bord", "0471 33 33 33")
    bob = make_contact(db, "Bob Bord", "0471 44 44 44")
    for n, at in enumerate(EDGES * 2):
        with clock.frozen(at):
            message = send(db, alice if n % 3 else bob, f"edge:{n}")
        message.segments = 1 + n % 2
        if n % 4 == 1:
            message.status, message.provider_id = "delivered", f"SMedge{n}"
            message.price = Decimal("0.075") if n % 8 == 1 else None
    db.flush()
    for year, month in MONTHS:
        assert reports.month_sums(db, year, month) == reports.counted_month_sums(db, year, month), (
            year,
            month,
        )
        only_bob = select(Contact.id).where(Contact.id == bob.id)
        assert reports.month_sums(db, year, month, only_bob) == reports.counted_month_sums(
            db, year, month, only_bob
        ), (year, month)
    december = reports.month_sums(db, 2025, 12)
    # 30 Nov 23:00 and 23:30, 1 Dec 00:00, 15 Dec, 31 Dec 22:30 (twice each); not 31 Dec 23:00.
    assert sum(value[0] for value in december.values()) == 10
    assert reports.monthly(db, 2025, 12).total.created == 10


def test_concurrent_writers_keep_the_figures_exact():
    """8 threads insert, send and cancel messages of the same few contacts at once, each in
    its own transactions; the stored figures equal a recount afterwards (on PostgreSQL:
    statement triggers taking the figure rows' locks in key order)."""
    with migrated_database("smsmonths") as url:
        sqlite = url.startswith("sqlite")
        engine = make_engine(url) if sqlite else make_engine(url, pool_size=8)
        sessions = make_session_factory(engine)
        with sessions() as session:
            people = [
                make_contact(session, f"Mensuel {n}", f"0471 6{n} 00 00").id for n in range(3)
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
                        sent.status, sent.provider_id = "sent", f"SM{worker}x{n}"
                        sent.segments, sent.price = 2, Decimal("0.16")
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

        with clock.frozen(EDGES[1] + timedelta(minutes=30)), ThreadPoolExecutor(8) as pool:
            list(pool.map(work, range(8)))
        with sessions() as session:
            total = session.scalar(select(func.count()).select_from(Message))
            assert total == 8 * 15
            assert stored(session) == counted(session)
        engine.dispose()
