"""The audit log: written by services, searchable, and append-only down to the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core import accounts, audit, clock


def test_reading_a_file_is_logged_with_the_role(db):
    reader = accounts.find_user(db, "as1")
    audit.record_read(db, reader, "user", 42)
    db.flush()
    page = audit.search(db, audit.AuditFilter(actor_id=reader.id, action="read"))
    assert page.total == 1
    entry = page.entries[0]
    assert (entry.actor_role, entry.entity_type, entry.entity_id) == ("social_worker", "user", "42")


def test_a_change_is_logged_with_its_field_names_never_their_values(db):
    admin = accounts.find_user(db, "admin")
    record = type("Record", (), {"name": "Old", "notes": "same", "kind": "a"})()
    changed = audit.assign(record, {"notes": "same", "name": "New", "kind": "b"})
    assert changed == ["name", "kind"]  # the values' order
    assert (record.name, record.notes, record.kind) == ("New", "same", "b")
    at = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    audit.record_change(db, admin, "team", 7, changed, client_at=at)
    audit.record_change(db, admin, "team", 8, ("name",), action="create", code="x")
    db.flush()
    update, create = (
        audit.search(db, audit.AuditFilter(entity_type="team", entity_id=str(number))).entries[0]
        for number in (7, 8)
    )
    assert (update.action, update.details, update.client_at) == (
        "update",
        {"fields": ["name", "kind"]},
        at,
    )
    assert (create.action, create.details, create.actor_role) == (
        "create",
        {"fields": ["name"], "code": "x"},
        "admin",
    )


def test_search_filters_by_time_action_and_record(db):
    admin = accounts.find_user(db, "admin")
    base = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    with clock.frozen(base) as travel:
        for day in range(5):
            audit.record(db, actor=admin, action="update", entity_type="team", entity_id=day)
            travel.advance(days=1)
    db.flush()
    window = audit.AuditFilter(
        entity_type="team", since=base + timedelta(days=1), until=base + timedelta(days=3)
    )
    page = audit.search(db, window)
    assert [entry.entity_id for entry in page.entries] == ["2", "1"]  # newest first
    assert audit.search(db, audit.AuditFilter(entity_type="team", entity_id="4")).total == 1


def test_search_pages(db):
    admin = accounts.find_user(db, "admin")
    for number in range(7):
        audit.record(db, actor=admin, action="update", entity_type="team", entity_id=number)
    db.flush()
    filters = audit.AuditFilter(actor_id=admin.id, entity_type="team")
    first = audit.search(db, filters, page=1, per_page=3)
    last = audit.search(db, filters, page=3, per_page=3)
    assert (first.total, first.pages, len(last.entries)) == (7, 3, 1)


def test_the_orm_refuses_to_change_or_delete_an_entry(db):
    entry = audit.record(db, actor=None, action="read", entity_type="user", entity_id=1)
    db.flush()
    entry.action = "create"
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db.flush()
    db.rollback()
    entry = audit.record(db, actor=None, action="read", entity_type="user", entity_id=1)
    db.flush()
    db.delete(entry)
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db.flush()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_entries SET action = 'create'", "DELETE FROM audit_entries"],
)
def test_the_database_refuses_to_change_or_delete_an_entry(db, statement):
    audit.record(db, actor=None, action="read", entity_type="user", entity_id=1)
    db.flush()
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement))
