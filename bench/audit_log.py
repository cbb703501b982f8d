"""Audit log page with 100,000 entries: filtered search as the admin sees it.

Figure: p50/p95 of GET /admin/audit?action=read&since=…&until=… (one week, one action)
through the whole Flask stack. Reference, same run, same stack: GET /healthz.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from core.audit import AuditEntry
from core.config import Settings
from core.db import make_engine, make_session_factory
from core.migrations import upgrade

ENTRIES = 100_000
RUNS = 60


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def _time(client, path: str) -> list[float]:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return samples


def run() -> list[str]:
    from web import create_app
    from web.demo import seed_all

    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            seed_all(session)
            session.commit()
            start = datetime(2026, 1, 1, tzinfo=UTC)
            actions = ("read", "update", "create", "login")
            rows = [
                {
                    "at": start + timedelta(minutes=5 * n),
                    "actor_id": 1 + n % 12,
                    "actor_role": "social_worker",
                    "action": actions[n % 4],
                    "entity_type": "user",
                    "entity_id": str(n % 5000),
                }
                for n in range(ENTRIES)
            ]
            session.execute(insert(AuditEntry), rows)
            session.commit()

        settings = Settings.from_env(
            {
                "TERRAIN_INSTANCE_PATH": folder,
                "TERRAIN_DATABASE_URL": url,
                "TERRAIN_SECRET_KEY": "bench",
            }
        )
        app = create_app(settings)
        client = app.test_client()
        from core import accounts

        with make_session_factory(engine)() as session:
            admin = accounts.find_user(session, "admin")
            with client.session_transaction() as cookie:
                now = time.time()
                cookie.update(
                    _user_id=str(admin.id),
                    _fresh=True,
                    login_at=now,
                    seen_at=now,
                    password_at=admin.password_changed_at.timestamp(),
                )
        week = date(2026, 6, 1)
        path = f"/admin/audit?action=read&since={week}&until={week + timedelta(days=6)}"
        _time(client, path)  # warm-up
        figure = _percentiles(_time(client, path))
        reference = _percentiles(_time(client, "/healthz"))
        engine.dispose()
    backend = url.split(":", 1)[0]
    return [
        f"| audit page, {ENTRIES:,} entries, 1-week filter ({backend}) "
        f"| p50 {figure[0]:.1f} ms, p95 {figure[1]:.1f} ms "
        f"| /healthz p50 {reference[0]:.1f} ms, p95 {reference[1]:.1f} ms "
        f"| {figure[0] / reference[0]:.1f}× | {date.today()} |"
    ]
