"""Accounts and logins against the real database (SQLite, or PostgreSQL in CI)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core import accounts, clock
from core.audit import AuditEntry

SECRET = "test-secret"


def _login(db, username, password, address="203.0.113.7"):
    return accounts.authenticate(
        db, username=username, password=password, address=address, secret=SECRET
    )


def test_demo_login_works_and_is_audited(db):
    result = _login(db, "Coordination ", "demo")  # case and spaces do not matter
    assert result.user is not None and result.user.username == "coordination"
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.entity_id, entry.actor_role) == (
        "login",
        str(result.user.id),
        "coordinator",
    )


def test_passwords_are_stored_as_argon2(db):
    user = accounts.find_user(db, "aide1")
    assert user.password_hash.startswith("$argon2id$")
    assert "demo" not in user.password_hash


def test_wrong_password_for_unknown_user_leaves_no_name_in_the_log(db):
    before = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    assert _login(db, "my-secret-password-typed-here", "x").user is None
    new = db.scalars(select(AuditEntry).where(AuditEntry.id > (before or 0))).all()
    assert new == []


def test_five_failures_then_a_growing_delay_per_account(db):
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with clock.frozen(start) as travel:
        for _ in range(4):
            assert _login(db, "aide2", "wrong").retry_after == 0
        assert _login(db, "aide2", "wrong").retry_after == 0  # 5th failure is checked
        # Now even the right password waits: the attempt is not checked at all.
        assert _login(db, "aide2", "demo").retry_after == 2
        travel.advance(seconds=2)
        assert _login(db, "aide2", "wrong").retry_after == 0  # 6th failure
        assert _login(db, "aide2", "demo").retry_after == 4
        travel.advance(seconds=4)
        result = _login(db, "aide2", "demo")
        assert result.user is not None
        # Success resets the counter.
        assert _login(db, "aide2", "wrong").retry_after == 0
        assert _login(db, "aide2", "demo").user is not None


def test_delay_is_capped_so_nobody_can_lock_a_colleague_out(db):
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with clock.frozen(start) as travel:
        for attempt in range(40):
            # An attacker trying from many addresses, waiting out each delay.
            _login(db, "aide3", "wrong", address=f"198.51.100.{attempt}")
            travel.advance(seconds=301)
        assert _login(db, "aide3", "demo", address="192.0.2.1").retry_after <= 300
        travel.advance(seconds=301)
        assert _login(db, "aide3", "demo", address="192.0.2.1").user is not None


def test_many_failures_from_one_address_slow_that_address(db):
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with clock.frozen(start) as travel:
        for number in range(20):
            _login(db, f"guess{number}", "wrong", address="203.0.113.99")
            travel.advance(seconds=1)
        # The address is slowed, whoever it tries; another address is not.
        assert _login(db, "aide4", "demo", address="203.0.113.99").retry_after > 0
        assert _login(db, "aide4", "demo", address="203.0.113.100").user is not None


def test_deactivated_account_cannot_log_in(db):
    admin = accounts.find_user(db, "admin")
    aide = accounts.find_user(db, "aide5")
    accounts.set_active(db, aide, False, actor=admin)
    assert _login(db, "aide5", "demo").user is None


def test_admin_cannot_deactivate_themself(db):
    admin = accounts.find_user(db, "admin")
    with pytest.raises(accounts.AccountError) as error:
        accounts.set_active(db, admin, False, actor=admin)
    assert (error.value.field, error.value.code) == ("active", "self")


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"username": "A B"}, "username", "invalid"),
        ({"username": "x"}, "username", "invalid"),
        ({"username": "aide1"}, "username", "taken"),
        ({"display_name": "  "}, "display_name", "invalid"),
        ({"role": "boss"}, "role", "invalid"),
        ({"language": "de"}, "language", "invalid"),
        ({"password": "short"}, "password", "too_short"),
        ({"password": "n.newcomer", "username": "n.newcomer"}, "password", "same_as_username"),
    ],
)
def test_bad_account_input_is_refused_and_changes_nothing(db, changes, field, code):
    count = accounts.count_users(db)
    values = {
        "username": "n.newcomer",
        "display_name": "Nouvelle Personne",
        "password": "a-long-enough-password",
        "role": "aide",
        **changes,
    }
    with pytest.raises(accounts.AccountError) as error:
        accounts.create_user(db, **values)
    assert (error.value.field, error.value.code) == (field, code)
    assert accounts.count_users(db) == count


def test_change_password_needs_the_current_one(db):
    user = accounts.find_user(db, "rue1")
    with pytest.raises(accounts.AccountError):
        accounts.change_password(db, user, current="wrong", new="a-brand-new-password")
    accounts.change_password(db, user, current="demo", new="a-brand-new-password")
    assert _login(db, "rue1", "a-brand-new-password").user is not None
    assert _login(db, "rue1", "demo").user is None
