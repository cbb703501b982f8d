"""The test-only settings (core.testmode): refused outside TERRAIN_TESTING=1, and what
they do: a moved clock that keeps ticking, cheap argon2id; and the suite's --clock modes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from core import accounts, clock, testmode
from core.config import Settings
from tests.support import clock_env, clock_start, next_dst_change


@pytest.fixture()
def restore_clock():
    before = clock.offset()
    yield
    clock.start_at(datetime.now(UTC) + before)


@pytest.mark.parametrize(
    "name", ["TERRAIN_CLOCK_START", "TERRAIN_CLOCK_ANCHOR", "TERRAIN_CHEAP_PASSWORD_HASHING"]
)
def test_a_test_setting_without_the_testing_flag_is_refused(name):
    env = {name: "1"}
    with pytest.raises(testmode.TestSettingError, match="TERRAIN_TESTING=1"):
        testmode.check(env)
    with pytest.raises(testmode.TestSettingError, match=name):
        Settings.from_env({"TERRAIN_SECRET_KEY": "x", **env})


def test_no_test_setting_and_no_flag_is_production():
    assert testmode.check({"TERRAIN_SECRET_KEY": "x"}) is False


def test_the_clock_starts_at_the_given_instant_and_ticks(restore_clock):
    start = datetime(2026, 12, 5, 22, 55, tzinfo=clock.BRUSSELS)
    anchor = datetime.now(UTC) - timedelta(minutes=3)
    testmode.apply(clock_env(start, anchor))
    moved = clock.now()
    assert start + timedelta(minutes=3) <= moved < start + timedelta(minutes=4)
    assert clock.now() >= moved  # it ticks on
    with clock.frozen(datetime(2030, 1, 1, tzinfo=UTC)):  # freezing still wins
        assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)


def test_a_clock_start_needs_an_offset():
    env = {"TERRAIN_TESTING": "1", "TERRAIN_CLOCK_START": "2026-12-05T22:55:00"}
    with pytest.raises(testmode.TestSettingError, match="offset"):
        testmode.apply(env)


def test_cheap_hashing_is_argon2id_and_only_on_request(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", accounts._hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", accounts._DUMMY_HASH)
    assert accounts.PasswordHasher().time_cost > 1  # the production default is not cheap
    testmode.apply({"TERRAIN_TESTING": "1", "TERRAIN_CHEAP_PASSWORD_HASHING": "1"})
    assert accounts.cheap_hashing()
    hashed = accounts.hash_password("a long password")
    assert hashed.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert accounts._hasher.verify(hashed, "a long password")


def test_without_test_settings_hashing_is_at_production_cost():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRAIN_")}
    script = (
        "from core import accounts, clock, testmode; testmode.apply(); "
        "print(accounts.cheap_hashing(), accounts._hasher.time_cost, clock.offset())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", str(PasswordHasher().time_cost), "0:00:00"]


def test_the_suite_clock_modes():
    real = datetime(2026, 12, 5, 21, 20, tzinfo=UTC)  # 22:20 in Brussels
    assert clock_start("real", real) is None
    assert clock_start("evening", real) == datetime(2026, 12, 5, 22, 55, tzinfo=clock.BRUSSELS)
    assert clock_start("midnight", real) == datetime(2026, 12, 5, 23, 59, tzinfo=clock.BRUSSELS)
    # Spring forward on Sunday 28 March 2027 at 02:00 (01:00 UTC).
    assert next_dst_change(real) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert clock_start("dst", real) == datetime(2027, 3, 28, 0, 55, tzinfo=UTC)
    assert clock_start("dst", real).astimezone(clock.BRUSSELS).weekday() == 6
    # Fall back on Sunday 25 October 2026 at 03:00 CEST (01:00 UTC).
    summer = datetime(2026, 8, 1, tzinfo=UTC)
    assert next_dst_change(summer) == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert clock_start("2026-10-25T02:55:00+02:00", real) == datetime(
        2026, 10, 25, 0, 55, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="--clock"):
        clock_start("noon", real)
