"""Growing delays after repeated failures (logins) or uses (one-time SMS codes).

A delay, never a lock-out: the wait doubles from the sixth failure and is capped, so
nobody can lock a colleague out for good by typing wrong passwords in their name.
`pace()` applies the same growing delays to uses (an SMS code asked from one address),
within an hourly count. Keys are hashed: no username or IP address is stored in clear.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import String, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base


class ThrottleEntry(Base):
    __tablename__ = "throttle_entries"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]


@dataclass(frozen=True)
class Policy:
    free_failures: int = 5
    first_delay_seconds: int = 2
    max_delay_seconds: int = 300
    # After this long without a failure the count starts again (None: only a reset does).
    forget_after_seconds: int | None = None

    def delay_after(self, failures: int) -> timedelta:
        if failures < self.free_failures:
            return timedelta(0)
        exponent = failures - self.free_failures
        seconds = self.first_delay_seconds * (2 ** min(exponent, 20))
        return timedelta(seconds=min(seconds, self.max_delay_seconds))


def address_group(address: str) -> str:
    """The unit a client address is counted by: the IPv4 address, or the IPv6 /64.

    A home or phone connection gets a whole IPv6 /64: counting each of its addresses
    apart would give one attacker billions of fresh addresses.
    """
    try:
        ip = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return address[:100] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def hashed_key(kind: str, value: str, secret: str) -> str:
    digest = hashlib.sha256(f"{secret}\x00{kind}\x00{value}".encode()).hexdigest()
    return digest[:64]


def retry_after(session: Session, key: str) -> int:
    """Seconds to wait before the next attempt for `key` (0: go ahead)."""
    blocked_until = session.scalar(
        select(ThrottleEntry.blocked_until).where(ThrottleEntry.key == key)
    )
    if blocked_until is None:
        return 0
    remaining = (blocked_until - clock.now()).total_seconds()
    return max(0, int(remaining + 0.999))


def record_failure(session: Session, key: str, policy: Policy) -> None:
    now = clock.now()
    count = ThrottleEntry.failures + 1
    if policy.forget_after_seconds is not None:
        quiet_since = now - timedelta(seconds=policy.forget_after_seconds)
        count = case((ThrottleEntry.last_failure_at <= quiet_since, 1), else_=count)
    # Increment in the database, so two concurrent failures count as two.
    result = session.execute(
        update(ThrottleEntry)
        .where(ThrottleEntry.key == key)
        .values(failures=count, last_failure_at=now)
        .returning(ThrottleEntry.failures)
    )
    failures = result.scalar_one_or_none()
    if failures is None:
        try:
            with session.begin_nested():
                session.add(ThrottleEntry(key=key, failures=1, last_failure_at=now))
            failures = 1
        except IntegrityError:
            return record_failure(session, key, policy)
    delay = policy.delay_after(failures)
    session.execute(
        update(ThrottleEntry)
        .where(ThrottleEntry.key == key)
        .values(blocked_until=now + delay if delay else None)
    )


def reset(session: Session, key: str) -> None:
    session.execute(
        update(ThrottleEntry).where(ThrottleEntry.key == key).values(failures=0, blocked_until=None)
    )


def consume(session: Session, key: str, limit: int, window_seconds: int) -> int:
    """Count one use of `key` in the current fixed window; the seconds to wait when the
    window already holds `limit` uses (0: go ahead). Counted in the database, so every
    worker shares the count."""
    now = clock.now()
    window_start = now - timedelta(seconds=window_seconds)
    row = session.execute(
        update(ThrottleEntry)
        .where(ThrottleEntry.key == key)
        .values(
            failures=case(
                (ThrottleEntry.last_failure_at <= window_start, 1),
                else_=ThrottleEntry.failures + 1,
            ),
            last_failure_at=case(
                (ThrottleEntry.last_failure_at <= window_start, now),
                else_=ThrottleEntry.last_failure_at,
            ),
        )
        .returning(ThrottleEntry.failures, ThrottleEntry.last_failure_at)
    ).one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                session.add(ThrottleEntry(key=key, failures=1, last_failure_at=now))
            return 0
        except IntegrityError:
            return consume(session, key, limit, window_seconds)
    uses, started = row
    if uses <= limit:
        return 0
    return max(1, int((started + timedelta(seconds=window_seconds) - now).total_seconds() + 0.999))


class Paced(NamedTuple):
    """The answer of `pace()`: wait `wait` seconds (0: counted, go ahead); `limit_reached`
    says whether the window's count is used up (else it is a growing delay)."""

    wait: int
    limit_reached: bool = False


def pace(session: Session, key: str, policy: Policy, limit: int, window_seconds: int) -> Paced:
    """Count one use of `key` unless it must wait: after `policy.free_failures` uses in the
    current fixed window each next use waits longer (`policy.delay_after`), and the
    window holds at most `limit` uses. A refused use is not counted, so tapping again
    while waiting does not make the wait longer. Counted in the database with one
    conditional UPDATE: two workers never both pass a wait or the limit."""
    now = clock.now()
    window_start = now - timedelta(seconds=window_seconds)
    expired = ThrottleEntry.last_failure_at <= window_start
    uses = session.execute(
        update(ThrottleEntry)
        .where(
            ThrottleEntry.key == key,
            (ThrottleEntry.blocked_until.is_(None)) | (ThrottleEntry.blocked_until <= now),
            expired | (ThrottleEntry.failures < limit),
        )
        .values(
            failures=case((expired, 1), else_=ThrottleEntry.failures + 1),
            last_failure_at=case((expired, now), else_=ThrottleEntry.last_failure_at),
        )
        .returning(ThrottleEntry.failures)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if uses is None:
        row = session.execute(
            select(
                ThrottleEntry.failures, ThrottleEntry.last_failure_at, ThrottleEntry.blocked_until
            ).where(ThrottleEntry.key == key)
        ).one_or_none()
        if row is None:
            try:
                with session.begin_nested():
                    session.add(ThrottleEntry(key=key, failures=1, last_failure_at=now))
                uses = 1
            except IntegrityError:
                return pace(session, key, policy, limit, window_seconds)
        else:
            failures, started, blocked_until = row
            window_left = started + timedelta(seconds=window_seconds) - now
            if started > window_start and failures >= limit:
                return Paced(max(1, int(window_left.total_seconds() + 0.999)), True)
            if blocked_until is None or blocked_until <= now:
                # Changed by another worker between the two statements: count again.
                return pace(session, key, policy, limit, window_seconds)
            return Paced(max(1, int((blocked_until - now).total_seconds() + 0.999)))
    delay = policy.delay_after(uses)
    session.execute(
        update(ThrottleEntry)
        .where(ThrottleEntry.key == key)
        .values(blocked_until=now + delay if delay else None)
        .execution_options(synchronize_session=False)
    )
    return Paced(0)
