"""A row inserted with plain values, rows read back: the 0052 and 0057 migration tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy import text

from core.db import make_engine


def _insert(connection, table: sa.Table, **given) -> None:
    """A row with `given` and a plain value for every other required column."""
    values = dict(given)
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.primary_key and not isinstance(column.type, sa.Uuid):
            continue
        kind = column.type
        if isinstance(kind, sa.Boolean):
            values[column.name] = True
        elif isinstance(kind, sa.Uuid):
            values[column.name] = uuid.uuid4()
        elif isinstance(kind, sa.Integer):
            values[column.name] = 10  # within every range check of these tables
        elif isinstance(kind, sa.Float):
            values[column.name] = 50.0
        elif isinstance(kind, sa.JSON):
            values[column.name] = []
        elif isinstance(kind, sa.DateTime):
            values[column.name] = datetime(2026, 1, 1)
        elif isinstance(kind, sa.Date):
            values[column.name] = date(2026, 1, 1)
        elif isinstance(kind, sa.Time):
            values[column.name] = time(8, 0)
        else:
            values[column.name] = ""
    connection.execute(table.insert().values(**values))


def _rows(url: str, query: str) -> list[tuple]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(query)).all()]
    engine.dispose()
    return rows
