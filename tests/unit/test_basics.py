"""core/ pieces that need no database: ids, phones, clock, settings, throttle policy,
holiday calendars."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from core import clock, ids, phone
from core.config import Settings
from core.throttle import Policy


def test_uuid7_is_version_7_and_time_ordered():
    first, second = ids.uuid7(), ids.uuid7()
    assert first.version == 7 and first.variant == "specified in RFC 4122"
    assert first.int >> 80 <= second.int >> 80
    assert ids.parse_uuid(str(first)) == first
    assert ids.parse_uuid("not-a-uuid") is None
    assert ids.parse_uuid(None) is None


@pytest.mark.parametrize(
    ("raw", "e164", "mobile"),
    [
        ("0470 12 34 56", "+32470123456", True),
        ("+32 470 12 34 56", "+32470123456", True),
        ("02 435 51 37", "+3224355137", False),
        ("071 23 45 67", "+3271234567", False),
        ("+33 6 12 34 56 78", "+33612345678", True),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, e164, mobile):
    number = phone.normalize(raw)
    assert number.e164 == e164
    assert number.is_mobile is mobile


@pytest.mark.parametrize(
    "raw", ["", "12", "hello", "0470 12 34", "+32 470 12 34 56 78 90 12", "9" * 40]
)
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(phone.InvalidPhoneNumber):
        phone.normalize(raw)


def test_brussels_time_follows_daylight_saving():
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    assert clock.to_local(winter).hour == 13
    assert clock.to_local(summer).hour == 14
    # SQLite hands back naive values: they are UTC.
    assert clock.to_local(winter.replace(tzinfo=None)).hour == 13


def test_clock_can_be_frozen_and_moved():
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    with clock.frozen(start) as travel:
        assert clock.now() == start
        travel.advance(hours=1)
        assert clock.now() == start + timedelta(hours=1)
    assert clock.now() != start


def test_settings_from_environment(tmp_path):
    settings = Settings.from_env({"TERRAIN_INSTANCE_PATH": str(tmp_path), "PORT": "9001"})
    assert settings.port == 9001
    assert settings.database_url == f"sqlite:///{tmp_path / 'terrain.db'}"
    # The generated secret is kept, so every worker and restart shares it.
    again = Settings.from_env({"TERRAIN_INSTANCE_PATH": str(tmp_path)})
    assert settings.secret_key == again.secret_key and len(settings.secret_key) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_settings_reject_a_bad_number(tmp_path):
    with pytest.raises(ValueError, match="TERRAIN_WORKERS"):
        Settings.from_env({"TERRAIN_INSTANCE_PATH": str(tmp_path), "TERRAIN_WORKERS": "two"})


def test_https_public_url_makes_cookies_secure(tmp_path):
    settings = Settings.from_env(
        {"TERRAIN_INSTANCE_PATH": str(tmp_path), "TERRAIN_PUBLIC_URL": "https://terrain.example/"}
    )
    assert settings.secure_cookies and settings.public_url == "https://terrain.example"


def test_throttle_delay_grows_and_is_capped():
    policy = Policy(free_failures=5, first_delay_seconds=2, max_delay_seconds=300)
    assert [policy.delay_after(n).total_seconds() for n in range(1, 10)] == [
        0,
        0,
        0,
        0,
        2,
        4,
        8,
        16,
        32,
    ]
    assert policy.delay_after(50).total_seconds() == 300


def test_the_holiday_calendars_import_nothing_on_first_use():
    """The holidays package loads its ~280 country modules on first use, about 80 ms
    under the import lock, which every thread of a web worker then waited for on its
    first request: core.organisations imports Belgium's module with itself, so the
    server's master pays it once before it forks its workers."""
    program = """
import sys
from datetime import date
from appointments import slots
from core import organisations
before = set(sys.modules)
organisations.default_holidays("brussels", "bilingual", 2026)
organisations.federal_days(2027)
slots.is_public_holiday(date(2026, 12, 25))
print(sorted(set(sys.modules) - before))
"""
    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "[]", run.stdout
