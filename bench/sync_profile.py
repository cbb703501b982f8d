"""Profile of one `POST /api/sync` of 100 ops, without HTTP: `core.sync.apply_batch` on
a session, as the view calls it, under cProfile; prints the statements it sent and the
profile's top lines (cumulative and own time).

```
BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
    .venv/bin/python -m bench.sync_profile
```
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
import time

from sqlalchemy import event

from bench.demo import seeded_demo
from bench.sync import _database, _insert_loop, _ops

OPS = 100
TOP = 25


def run(ops: int = OPS, top: int = TOP) -> str:
    from core import accounts, sync

    with (
        tempfile.TemporaryDirectory(prefix="terrain-sync-profile-") as folder,
        _database(folder) as url,
    ):
        engine, sessions = seeded_demo(url)
        statements = [0]

        @event.listens_for(engine, "before_cursor_execute")
        def _count(*_args: object) -> None:
            statements[0] += 1

        with sessions() as session:
            rue1 = accounts.find_user(session, "rue1")
            session.commit()
            sync.apply_batch(session, rue1, _ops(5))  # warm-up: imports, caches
            batch = _ops(ops)
            plain = time.perf_counter()
            sync.apply_batch(session, rue1, _ops(ops))  # the same, without the profiler
            plain = time.perf_counter() - plain
            statements[0] = 0
            profile = cProfile.Profile()
            start = time.perf_counter()
            profile.enable()
            answers = sync.apply_batch(session, rue1, batch)
            profile.disable()
            seconds = time.perf_counter() - start
            sent = statements[0]
        assert {answer["status"] for answer in answers} == {"applied"}, answers[:2]
        reference = _insert_loop(engine, ops)
        engine.dispose()
    out = io.StringIO()
    out.write(
        f"without the profiler: {plain * 1000 / ops:.2f} ms/op; plain INSERT loop, one "
        f"commit per op: {reference * 1000 / ops:.2f} ms/op; ratio {plain / reference:.1f}×\n"
    )
    out.write(
        f"{ops} ops in {seconds * 1000:.0f} ms ({seconds * 1000 / ops:.2f} ms/op, "
        f"profiler on), {sent} statements ({sent / ops:.1f} per op)\n"
    )
    for order in ("cumulative", "tottime"):
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats(order).print_stats(top)
    return out.getvalue()


if __name__ == "__main__":
    sys.stdout.write(run())
