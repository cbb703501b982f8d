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


def _quick_hash(db, *usernames):
    """Cheap argon2 parameters for these accounts' "demo" password: tests that type
    dozens of passwords stay fast (the throttling does not depend on the cost)."""
    from argon2 import PasswordHasher

    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    for username in usernames:
        accounts.find_user(db, username).password_hash = quick.hash("demo")
    db.flush()


def _fail_waiting_out_delays(db, travel, username, address, times):
    """`times` wrong passwords from `address`, each after waiting out the delay asked."""
    for _ in range(times):
        result = _login(db, username, "wrong", address=address)
        while result.retry_after:
            travel.advance(seconds=result.retry_after)
            result = _login(db, username, "wrong", address=address)


def test_fifty_failures_from_one_address_do_not_keep_the_owner_out(db):
    _quick_hash(db, "as1")
    with clock.frozen(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) as travel:
        _fail_waiting_out_delays(db, travel, "as1", "198.51.100.7", 50)
        # The attacker's address is slowed on that account, even with the right password…
        assert _login(db, "as1", "demo", address="198.51.100.7").retry_after > 0
        # …the owner, anywhere else, logs in at once.
        assert _login(db, "as1", "demo", address="192.0.2.10").user is not None


def test_an_address_guessing_many_accounts_is_slowed_on_every_account(db):
    _quick_hash(db, "aide1", "aide2", "aide3", "aide4", "aide5", "aide6")
    with clock.frozen(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)):
        for username in ("aide1", "aide2", "aide3", "aide4", "aide5") * 4:
            assert _login(db, username, "wrong", address="198.51.100.8").retry_after == 0
        # 20 failures, at most 4 per account: the address itself is now slowed.
        assert _login(db, "aide6", "demo", address="198.51.100.8").retry_after > 0
        assert _login(db, "aide6", "demo", address="198.51.100.9").user is not None


def test_ipv6_addresses_are_counted_per_64(db):
    with clock.frozen(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)):
        for host in range(1, 6):
            _login(db, "aide1", "wrong", address=f"2001:db8:1:2::{host}")
        # Another address of the same /64 is the same attacker…
        assert _login(db, "aide1", "demo", address="2001:db8:1:2::ffff").retry_after > 0
        # …another /64 is someone else.
        assert _login(db, "aide1", "demo", address="2001:db8:1:3::1").user is not None


def test_guessing_from_many_addresses_brakes_them_but_never_a_clean_address(db, monkeypatch):
    monkeypatch.setattr(accounts, "BRAKE_FAILURES", 30)
    _quick_hash(db, "as2")
    user = accounts.find_user(db, "as2")
    with clock.frozen(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) as travel:
        # 40 addresses, each under the per-address allowance: the brake starts at 30.
        for number in range(40):
            assert _login(db, "as2", "wrong", address=f"198.51.100.{number}").retry_after == 0
        braked = _login(db, "as2", "demo", address="198.51.100.3")
        assert 0 < braked.retry_after <= 3600
        # A clean address is never braked: the owner logs in with the right password.
        assert _login(db, "as2", "demo", address="192.0.2.44").user is not None
        ends = accounts.brake_ends(db, user.id)
        assert ends is not None
        brakes = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "login_brake", AuditEntry.entity_id == str(user.id)
            )
        ).all()
        assert len(brakes) == 1  # once, not on every failure past the limit
        assert brakes[0].details["until"] == ends.isoformat(timespec="seconds")
        travel.advance(seconds=braked.retry_after)
        assert accounts.brake_ends(db, user.id) is None
        assert _login(db, "as2", "demo", address="198.51.100.3").user is not None


def test_failed_logins_are_audited_without_the_address(db):
    user = accounts.find_user(db, "aide4")
    before = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) or 0
    _login(db, "aide4", "wrong", address="203.0.113.201")
    _login(db, "aide4", "wrong", address="203.0.113.202")
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)
    ).all()
    assert [entry.action for entry in entries] == ["login_failed", "login_failed"]
    assert {entry.entity_id for entry in entries} == {str(user.id)}
    sources = [entry.details["source"] for entry in entries]
    assert sources[0] != sources[1]  # two addresses, told apart…
    assert all("203.0.113" not in source and len(source) == 16 for source in sources)


def test_accounts_under_attack_are_listed_for_the_administrator(db):
    with clock.frozen(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) as travel:
        for number in range(6):
            _login(db, "coordination", "wrong", address=f"198.51.100.{number}")
        travel.advance(hours=2)
        for number in range(3):
            _login(db, "coordination", "wrong", address=f"198.51.100.{number}")
        _login(db, "aide5", "wrong")  # one typo is no attack
        listed = {row.user.username: row for row in accounts.accounts_under_attack(db)}
        assert "aide5" not in listed
        row = listed["coordination"]
        assert (row.failures_last_hour, row.failures_last_day, row.addresses) == (3, 9, 6)
        assert row.brake_ends is None
        travel.advance(days=1)
        assert "coordination" not in {
            row.user.username for row in accounts.accounts_under_attack(db)
        }


def test_deactivation_ends_every_session_for_good(db):
    admin = accounts.find_user(db, "admin")
    user = accounts.find_user(db, "aide6")
    first = accounts.start_login_session(db, user)
    second = accounts.start_login_session(db, user)
    accounts.set_active(db, user, False, actor=admin)
    accounts.set_active(db, user, True, actor=admin)
    assert accounts.login_session_end(db, user.id, first) == "deactivated"
    assert accounts.login_session_end(db, user.id, second) == "deactivated"
    fresh = accounts.start_login_session(db, user)
    assert accounts.login_session_end(db, user.id, fresh) is None


def test_the_signed_in_user_and_her_login_session_answer_as_login_session_end(db):
    """`signed_in_user` (one query a request) says what `login_session_end` says."""
    user = accounts.find_user(db, "aide5")
    other = accounts.find_user(db, "aide4")
    open_token = accounts.start_login_session(db, user)
    logged_out = accounts.start_login_session(db, user)
    accounts.record_logout(db, user, logged_out)
    expired = accounts.start_login_session(db, user)
    accounts.end_login_session(db, expired, "expired")
    others = accounts.start_login_session(db, other)
    db.flush()
    cases = {
        open_token: None,
        logged_out: "logout",
        expired: "expired",
        others: "unknown",  # another user's login session
        "no-such-token": "unknown",
        None: "unknown",
        "": "unknown",
    }
    for token, ended in cases.items():
        db.expunge_all()
        found, why = accounts.signed_in_user(db, user.id, token)
        assert (found.username, why) == ("aide5", ended), token
        assert why == accounts.login_session_end(db, user.id, token)
        assert found.team is not None and found.team.cpas is not None  # loaded with her
    assert accounts.signed_in_user(db, 10**9, open_token) == (None, "unknown")
    user = accounts.find_user(db, "aide5")
    accounts.set_active(db, user, False, actor=accounts.find_user(db, "admin"))
    db.expunge_all()
    found, why = accounts.signed_in_user(db, user.id, open_token)
    assert (found.active, why) == (False, "deactivated")
