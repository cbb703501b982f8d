"""Fifty requests for one start at once, through `terrain serve` (issue 20): a fresh
server's first bursts and the same server once it has served a while.

```
BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
    .venv/bin/python -m bench.booking_burst   # --bursts 12
```

The demo in a schema of its own, plus one service that one agent delivers every day
09:00-12:00 (30 minutes, no buffer: 6 starts a day). `terrain serve` as shipped (gunicorn,
2 workers × 4 threads); 50 staff sessions log in through /login. Then, start after start
(09:00, 09:30 and 10:00 of the day after tomorrow, then of the next days), the 50
sessions ask for the same start at once (`POST /api/appointments`, a barrier): 1 × 201
and 49 × 409 "slot_taken" are checked every time, as
`tests/live/test_appointments_contention.py` does. Right after
each burst, the reference in the same minute: the same 50 sessions ask `GET /api/me` at
once (one statement, the sign-in check every request pays).

Figures: p95 of the 50 requests' times (client side) of the first burst (the server's
first bookings: nothing compiled, prepared or planned yet on its workers and their
connections), of the second, and the median p95 of the others; the median p95 of the
reference; their ratio. And the CPU a request costs, from the bursts after the second
(median of the bursts, /proc): gunicorn's processes, PostgreSQL's, this client's; on 2
cores, 50 requests cannot all be answered sooner than their CPU divided by 2.
PostgreSQL only (SQLite has one writer: nothing races).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as time_of_day

from bench.demo import seeded_demo
from bench.progress import Progress
from bench.sync import _cpu_seconds, _database, _Phone, _serve
from core import clock
from core.demo import DEMO_PASSWORD
from tests.live.support import open_days, run_together, social_desk

REQUESTS = 50
BURSTS = 12
WORKERS = 2  # `terrain serve`'s default (TERRAIN_WORKERS)
STAFF = ("accueil", "as1", "coordination", "as2")  # office roles of the place's CPAS
OPENS, CLOSES = time_of_day(9, 0), time_of_day(12, 0)
# The bursts ask for each day's first three starts: a refusal then answers with three
# later starts of the same day (a start late in the day would send 49 refusals looking
# over the next 14 days: another figure).
BURSTS_A_DAY = 3


def _world(url: str, bursts: int) -> tuple[str, str, list[datetime]]:
    """The demo and the one-agent service: (service code, location code, the starts to
    ask for)."""
    engine, sessions = seeded_demo(url)
    with sessions() as session:
        service, location, _agent = social_desk(session, "burst", (OPENS, CLOSES))
        codes = service.code, location.code
        session.commit()
        starts = _starts(open_days(session, location, math.ceil(bursts / BURSTS_A_DAY)), bursts)
    engine.dispose()
    return *codes, starts


def _starts(days: list[date], count: int) -> list[datetime]:
    """`count` starts of the service: each day's first BURSTS_A_DAY."""
    found = [
        datetime.combine(day, OPENS, clock.BRUSSELS) + timedelta(minutes=30 * n)
        for day in days
        for n in range(BURSTS_A_DAY)
    ]
    return found[:count]


def _at_once(
    phones: list[_Phone], ask: Callable[[int, _Phone], int], server_group: int
) -> tuple[list[int], float, tuple[float, float, float]]:
    """Every phone's `ask` at once (a barrier): their statuses, the p95 in ms, and the CPU
    per request in ms of the server (process group `server_group`), PostgreSQL and this
    client meanwhile."""
    barrier = threading.Barrier(len(phones))
    statuses = [0] * len(phones)
    took = [0.0] * len(phones)

    def one(index: int) -> None:
        barrier.wait(timeout=30)
        started = time.perf_counter()
        statuses[index] = ask(index, phones[index])
        took[index] = (time.perf_counter() - started) * 1000

    server, postgres = _cpu_seconds(server_group)
    client = time.process_time()
    run_together(one, len(phones), timeout=120)
    cpu = [
        (after - before) * 1000 / len(phones)
        for after, before in zip(
            (*_cpu_seconds(server_group), time.process_time()),
            (server, postgres, client),
            strict=True,
        )
    ]
    return statuses, sorted(took)[int(len(took) * 0.95) - 1], (cpu[0], cpu[1], cpu[2])


def _book(service: str, location: str, start: datetime) -> Callable[[int, _Phone], int]:
    def ask(index: int, phone: _Phone) -> int:
        body = {
            "service": service,
            "location": location,
            "start": start.isoformat(),
            "person": {"name": f"Personne {index}", "phone": f"+3247166{index:04d}"},
            "source": "phone",
        }
        status, _ = phone.request(
            "POST",
            "/api/appointments",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "X-CSRFToken": phone.csrf},
        )
        return status

    return ask


def _me(_index: int, phone: _Phone) -> int:
    return phone.request("GET", "/api/me")[0]


def run(bursts: int = BURSTS) -> list[str]:
    today = clock.now().date().isoformat()
    note = Progress("bench/booking_burst.py")
    with tempfile.TemporaryDirectory() as folder, _database(folder) as url:
        if not url.startswith("postgresql"):
            return [
                "| 50 requests for one start at once | PostgreSQL only (BENCH_DATABASE_URL) "
                f"| — | — | {today} |"
            ]
        service, location, starts = _world(url, bursts)
        with _serve(url, folder, workers=WORKERS) as server:
            phones = [_Phone(server.url) for _ in range(REQUESTS)]
            staff = itertools.cycle(STAFF)
            users = [next(staff) for _ in phones]
            run_together(
                lambda n: phones[n].login(users[n], DEMO_PASSWORD), len(phones), timeout=120
            )
            booked, reference = [], []
            booking_cpu, reference_cpu = [], []
            group = server.process.pid
            for number, start in enumerate(starts, 1):
                statuses, p95, cpu = _at_once(phones, _book(service, location, start), group)
                counted = Counter(statuses)
                assert counted == {201: 1, 409: REQUESTS - 1}, (number, counted)
                booked.append(p95)
                booking_cpu.append(cpu)
                statuses, p95, cpu = _at_once(phones, _me, group)
                assert set(statuses) == {200}, statuses
                reference.append(p95)
                reference_cpu.append(cpu)
                note(f"burst {number}: p95 {booked[-1]:.0f} ms; /api/me p95 {p95:.0f} ms")
    warm = statistics.median(booked[2:])
    base = statistics.median(reference)
    return [
        f"| 50 requests for one start at once, `terrain serve` 2 × 4 threads, {bursts} starts "
        f"one after another (1 × 201, 49 × 409 each) | first burst p95 {booked[0]:.0f} ms, "
        f"second {booked[1]:.0f} ms, then median **{warm:.0f} ms** (min {min(booked[2:]):.0f}, "
        f"max {max(booked[2:]):.0f}) | `GET /api/me` by the same 50 at once after each burst: "
        f"median p95 {base:.0f} ms | {warm / base:.1f}× | {today} |",
        f"| CPU per request, bursts 3 to {bursts} (median; gunicorn, PostgreSQL, this client) "
        f"| booking: {_cpu_figure(booking_cpu[2:])} | `GET /api/me`: "
        f"{_cpu_figure(reference_cpu[2:])} | "
        f"{_cpu_total(booking_cpu[2:]) / _cpu_total(reference_cpu[2:]):.1f}× | {today} |",
    ]


def _cpu_figure(bursts: list[tuple[float, float, float]]) -> str:
    server, postgres, client = (statistics.median(column) for column in zip(*bursts, strict=True))
    return f"{server:.1f} + {postgres:.1f} + {client:.1f} = {server + postgres + client:.1f} ms"


def _cpu_total(bursts: list[tuple[float, float, float]]) -> float:
    return statistics.median(sum(burst) for burst in bursts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, default=BURSTS, help="starts asked for, ≥ 3")
    for row in run(max(3, parser.parse_args().bursts)):
        print(row)


if __name__ == "__main__":
    main()
