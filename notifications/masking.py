"""Secrets in SMS (one-time codes, manage links): stored and shown masked, rebuilt at send.

A secret put in a message is *derived*: an HMAC-SHA-256 of a random seed with the
application's secret key (`TERRAIN_SECRET_KEY`). The outbox row keeps the masked text
(`votre code est ••••••`, `…/r/…`) and, in `secret_slots`, where each mask sits, what
kind of secret it stands for and its seed; never the secret. The dispatcher derives
the secret again from the seed and the key, splices it into the text it hands to the
gateway, and forgets it: a retry after a gateway error, or a dispatcher in another
process (the scheduler), sends the same text. The seeds are wiped once the message has
left or will never leave, so even the database and the key together no longer give the
secret back afterwards.

The domain that made the secret keeps only its hash (a keyed hash of the code, the
SHA-256 of a manage token), as before: verification compares hashes.

Why derivation and not encryption or memory: the dispatcher may run in another
process, later, and retry; the standard library has no authenticated cipher (and no
new dependency is needed for this); and a derived secret is the same at every attempt.
See docs/sms.md, *Secrets in messages*.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["digits", "token"]
KINDS = ("digits", "token")
MASK_DIGIT = "•"
MASK_TOKEN = "…"  # noqa: S105 - what a token shows as
TOKEN_LENGTH = 22  # as secrets.token_urlsafe(16): 128 bits
# Marks a secret's place while a template is rendered (NUL: not something staff type).
_SENTINEL = "\x00secret:{}\x00"
_SENTINEL_PATTERN = re.compile("\x00secret:([0-9]+)\x00")


class SecretUnavailable(Exception):
    """A message's secret cannot be rebuilt (another key, or a damaged row)."""


def _mac(key: str, label: str) -> bytes:
    return hmac.new(key.encode(), label.encode(), hashlib.sha256).digest()


def key_id(key: str) -> str:
    """A fingerprint of the key, so a dispatcher with another key refuses rather than
    sending a wrong code."""
    return _mac(key, "sms-secret-key-id").hex()[:12]


def derive(kind: str, length: int, seed: str, key: str) -> str:
    """The secret of this seed under this key: `length` digits, or a URL-safe token."""
    mac = _mac(key, f"sms-secret\x00{kind}\x00{length}\x00{seed}")
    if kind == "digits":
        return f"{int.from_bytes(mac, 'big') % 10**length:0{length}d}"
    if kind == "token":
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:length]
    raise ValueError(f"unknown secret kind {kind!r}")


def mask(kind: str, length: int) -> str:
    return MASK_DIGIT * length if kind == "digits" else MASK_TOKEN


@dataclass(frozen=True)
class Secret:
    """A secret for one placeholder: `prefix` (not secret, e.g. the link's start) then
    the derived value. `value` is never stored."""

    kind: Kind
    length: int
    seed: str
    key_id: str
    value: str
    prefix: str = ""

    @property
    def masked(self) -> str:
        return self.prefix + mask(self.kind, self.length)

    @property
    def clear(self) -> str:
        return self.prefix + self.value


def new_secret(key: str, kind: Kind, length: int = TOKEN_LENGTH, *, prefix: str = "") -> Secret:
    """A fresh secret: a random seed (stored) and the value derived from it (not)."""
    if kind not in KINDS:
        raise ValueError(f"unknown secret kind {kind!r}")
    seed = secrets.token_urlsafe(16)
    return Secret(kind, length, seed, key_id(key), derive(kind, length, seed, key), prefix)


def sentinel(index: int) -> str:
    return _SENTINEL.format(index)


def split(rendered: str, ordered: Sequence[Secret]) -> tuple[str, str, dict[str, Any] | None]:
    """(masked text, real text, slots) of a text rendered with `sentinel(i)` in place of
    each secret `ordered[i]`'s value (its prefix is already in the text)."""
    masked, clear, slots = [], [], []
    position = 0
    # Alternately: text, a secret's index, text, ..., text.
    parts = _SENTINEL_PATTERN.split(rendered)
    for number, part in enumerate(parts):
        if number % 2 == 0:
            masked.append(part)
            clear.append(part)
            position += len(part)
            continue
        secret = ordered[int(part)]
        shown = mask(secret.kind, secret.length)
        slots.append(
            {"at": position, "kind": secret.kind, "length": secret.length, "seed": secret.seed}
        )
        masked.append(shown)
        clear.append(secret.value)
        position += len(shown)
    if not slots:
        return rendered, rendered, None
    return "".join(masked), "".join(clear), {"key": ordered[0].key_id, "slots": slots}


def reveal(body: str, sealed: Mapping[str, Any] | None, key: str | None) -> str:
    """The text to send: the masked `body` with each secret derived again and put back."""
    if not sealed:
        return body
    if key is None or not hmac.compare_digest(str(sealed.get("key", "")), key_id(key)):
        raise SecretUnavailable("key")
    text = body
    # From the end: an earlier splice never moves a later slot's offset.
    for slot in sorted(sealed.get("slots", ()), key=lambda slot: slot["at"], reverse=True):
        kind, length, at = slot["kind"], int(slot["length"]), int(slot["at"])
        shown = mask(kind, length)
        if text[at : at + len(shown)] != shown:
            raise SecretUnavailable("slot")
        text = text[:at] + derive(kind, length, str(slot["seed"]), key) + text[at + len(shown) :]
    return text
