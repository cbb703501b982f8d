"""Test helpers shared by the db, web and browser suites."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@contextmanager
def fresh_database(tag: str) -> Iterator[str]:
    """A URL to an empty database of its own, removed afterwards.

    SQLite: a file in a temporary folder. PostgreSQL (TEST_DATABASE_URL): a new
    schema in that database, selected through the connection's search_path, so
    parallel runs and the live servers of browser tests never see each other's rows.
    """
    base = postgres_url()
    if base is None:
        with tempfile.TemporaryDirectory(prefix=f"terrain-{tag}-") as folder:
            yield f"sqlite:///{Path(folder) / 'terrain.db'}"
        return
    schema = f"t_{tag}_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page without a csrf-token meta tag"
    return match.group(1)


def text_of(response) -> str:
    """A test client response's body, as text."""
    return response.get_data(as_text=True)


def sms_text(message, key: str = "test-secret") -> str:
    """The text the dispatcher hands the gateway for an outbox row: its masked secrets
    derived again with the application's key (the row holds none in clear)."""
    from notifications.masking import reveal

    return reveal(message.body, message.secret_slots, key)
