"""Identifiers: UUIDv7 (time-ordered, so indexes stay compact) as in RFC 9562."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """A version-7 UUID: 48 bits of Unix milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)


def parse_id(raw: object) -> int | None:
    """A database id typed or posted ("42"): ASCII digits, at most 9 (an int column);
    None otherwise ("²" is a digit to str.isdigit, "99999999999" overflows)."""
    text = str(raw).strip() if raw is not None else ""
    if not (0 < len(text) <= 9 and text.isascii() and text.isdigit()):
        return None
    return int(text)


def parse_uuid(raw: str) -> uuid.UUID | None:
    """The UUID in `raw`, or None when it is not one (never raises on user input)."""
    try:
        return uuid.UUID(str(raw))
    except (ValueError, AttributeError, TypeError):
        return None
