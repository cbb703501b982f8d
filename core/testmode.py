"""Settings that only the test suite may use: a moved clock, cheap password hashing.

They take effect only with TERRAIN_TESTING=1 as well; without it a process given one of
them refuses to start (a production server never runs on a moved clock or with weak
password hashes by mistake), and with it every process logs a loud warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime

TEST_SETTINGS = ("TERRAIN_CLOCK_START", "TERRAIN_CLOCK_ANCHOR", "TERRAIN_CHEAP_PASSWORD_HASHING")

log = logging.getLogger(__name__)


class TestSettingError(RuntimeError):
    """A test-only setting given to a process that is not under test."""


def check(env: Mapping[str, str] | None = None) -> bool:
    """Whether test settings are in force; raises if one is set without TERRAIN_TESTING=1."""
    env = os.environ if env is None else env
    given = [name for name in TEST_SETTINGS if env.get(name, "").strip()]
    testing = env.get("TERRAIN_TESTING", "").strip() == "1"
    if given and not testing:
        raise TestSettingError(
            f"{', '.join(given)}: test-only setting(s); set TERRAIN_TESTING=1 as well "
            "(never in production) or remove them"
        )
    return testing


def _instant(name: str, raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise TestSettingError(f"{name} must be an ISO 8601 instant, got {raw!r}") from exc
    if moment.tzinfo is None:
        raise TestSettingError(f"{name} needs a UTC offset (…+01:00), got {raw!r}")
    return moment


def apply(env: Mapping[str, str] | None = None) -> None:
    """Put the test settings of `env` (the environment by default) into force."""
    from core import accounts, clock

    env = os.environ if env is None else env
    if not check(env):
        return
    start = env.get("TERRAIN_CLOCK_START", "").strip()
    if start:
        anchor = env.get("TERRAIN_CLOCK_ANCHOR", "").strip()
        clock.start_at(
            _instant("TERRAIN_CLOCK_START", start),
            _instant("TERRAIN_CLOCK_ANCHOR", anchor) if anchor else None,
        )
    if env.get("TERRAIN_CHEAP_PASSWORD_HASHING", "").strip() == "1":
        accounts.use_cheap_hashing()
    log.warning(
        "TERRAIN_TESTING=1: test settings in force (clock moved by %s, cheap password "
        "hashing %s); never run production like this",
        clock.offset(),
        "on" if accounts.cheap_hashing() else "off",
    )
