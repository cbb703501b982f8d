"""CPU per booking (issue 20): cProfile of successful and refused `book()` + commit, one
after another in one process, on the world of `bench/appointments.py`; then the same
refusal through the HTTP layer (`POST /api/appointments` of a logged-in member of staff,
Flask test client).

```
BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
    .venv/bin/python -m bench.booking_profile   # --top 40: more lines; --statements
```

Successes: phone bookings of new people (confirmation SMS and 2 reminders, consent,
audit), the earliest free starts of antenne 0 over 5 days (the first of each day, then
the second...), each start until its agents are all taken. Refused: the same starts
again, every agent taken (`SlotTaken`, rolled back). Each kind runs `CALLS` times
without the profiler (the CPU figure: `time.process_time` of this process, so what
PostgreSQL spends is not in it) and `CALLS` times under cProfile timed with
`time.process_time` (the lines printed: CPU of this process, not the wait for the
database). Statements: counted with `before_cursor_execute`. Database:
BENCH_DATABASE_URL (PostgreSQL: a schema of its own, dropped afterwards), else a
temporary SQLite file.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import re
import tempfile
import time
from collections.abc import Callable, Iterator

from sqlalchemy import event

from bench.appointments import FIRST_DAY, NOW, _fill
from bench.sync import _database
from core.db import make_engine, make_session_factory

CALLS = 30
TOP = 25
LINK = "https://terrain.example"
PASSWORD = "bench-profile-password-1"  # noqa: S105 - a throwaway account of the bench


class _Counter:
    def __init__(self) -> None:
        self.count = 0
        self.last: list[str] = []  # the statements of the last call

    def __call__(self, _conn, _cursor, statement, *_args: object) -> None:
        if self.count == 0:
            self.last = []
        self.count += 1
        self.last.append(" ".join(statement.split())[:160])


def _measure(
    calls: Iterator[Callable[[], bool]], count: int, counter: _Counter, profile=None
) -> tuple[float, float, int, list[str]]:
    """(ms of CPU a call, ms of wall clock a call, statements a call) over `count` calls;
    each call says whether it ended as expected."""
    cpu = wall = 0.0
    statements = 0
    for _ in range(count):
        call = next(calls)
        counter.count = 0
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        ok = call()
        if profile is not None:
            profile.disable()
        cpu += time.process_time() - cpu_start
        wall += time.perf_counter() - wall_start
        statements += counter.count
        assert ok, "a call did not end as expected"
    return cpu * 1000 / count, wall * 1000 / count, round(statements / count), counter.last


def _stats(profile: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    for order in ("cumulative", "tottime"):
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(top)
    return out.getvalue()


def run(calls: int = CALLS, top: int = TOP, *, show_statements: bool = False) -> str:
    from appointments.booking import SlotTaken, book
    from appointments.models import Location, Service
    from appointments.slots import free_slots
    from core import accounts, clock
    from core.config import Settings
    from core.migrations import upgrade
    from web import create_app

    out = io.StringIO()
    with (
        tempfile.TemporaryDirectory(prefix="terrain-booking-profile-") as folder,
        _database(folder) as url,
        clock.frozen(NOW),
    ):
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions() as session:
            world = _fill(session)
            service_id = world["service"].id
            location_id = world["locations"][0].id
            team = accounts.get_team(session, "bench-antenne")
            accounts.create_user(
                session,
                username="bench-accueil",
                display_name="Accueil",
                password=PASSWORD,
                role="reception",
                team=team,
            )
            session.commit()
        counter = _Counter()
        event.listen(engine, "before_cursor_execute", counter)
        numbers = iter(range(10**6))
        full: list = []  # starts whose agents were all taken

        with sessions() as session:
            service = session.get(Service, service_id)
            location = session.get(Location, location_id)
            free = free_slots(
                session, service=service, location=location, first_day=FIRST_DAY, days=5
            )
            session.rollback()
            # One booking per free agent of each start: the first start of each day, then
            # the second..., so that a refused start's day keeps later free starts (the
            # common refusal: answered from the day already loaded).
            rank: dict = {}
            order = []
            for slot in free:
                day = clock.to_local(slot.start).date()
                rank[day] = rank.get(day, -1) + 1
                order.append((rank[day], slot.start, slot.free))
            wanted = iter([start for _, start, agents in sorted(order) for _ in range(agents)])
            fully: set = set()

            def attempt(start, *, expect_taken: bool) -> bool:
                try:
                    book(
                        session,
                        service=service,
                        location=location,
                        start=start,
                        person_name="Bench Profile",
                        phone=f"+32472{next(numbers):06d}",
                        language="fr",
                        source="phone",
                        link_base=LINK,
                    )
                    session.commit()
                    return not expect_taken
                except SlotTaken:
                    session.rollback()
                    return expect_taken

            def successes() -> Iterator[Callable[[], bool]]:
                for start in wanted:
                    full.append(start)
                    yield lambda start=start: attempt(start, expect_taken=False)

            def refusals() -> Iterator[Callable[[], bool]]:
                taken = [start for start in dict.fromkeys(full) if start in fully]
                index = 0
                while True:
                    start = taken[index % len(taken)]
                    index += 1
                    yield lambda start=start: attempt(start, expect_taken=True)

            booked = successes()
            _measure(booked, 3, counter)  # warm-up: imports, caches
            plain_ok = _measure(booked, calls, counter)
            profile_ok = cProfile.Profile(time.process_time)
            _measure(booked, calls, counter, profile_ok)
            # Only the starts whose every agent was booked (the last may have one left).
            agents = {slot.start: slot.free for slot in free}
            fully = {start for start in agents if full.count(start) == agents[start]}
            refused = refusals()
            _measure(refused, 3, counter)
            plain_refused = _measure(refused, calls, counter)
            profile_refused = cProfile.Profile(time.process_time)
            _measure(refused, calls, counter, profile_refused)

        # The HTTP layer: the same refusal as POST /api/appointments.
        settings = Settings.from_env(
            {
                "TERRAIN_INSTANCE_PATH": folder,
                "TERRAIN_DATABASE_URL": url,
                "TERRAIN_SECRET_KEY": "bench-secret",
            }
        )
        app = create_app(settings, TERRAIN_ENGINE=engine)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        answer = client.post(
            "/login",
            data={"username": "bench-accueil", "password": PASSWORD, "csrf_token": token},
        )
        assert answer.status_code == 302, answer.status_code
        csrf = client.get("/api/me").get_json()["csrf_token"]
        with sessions() as session:
            codes = (session.get(Service, service_id).code, session.get(Location, location_id).code)

        def requests() -> Iterator[Callable[[], bool]]:
            index = 0
            starts = [start for start in dict.fromkeys(full) if start in fully]
            while True:
                start = starts[index % len(starts)]
                index += 1
                body = {
                    "service": codes[0],
                    "location": codes[1],
                    "start": clock.to_local(start).isoformat(),
                    "person": {"name": "Bench Http", "phone": f"+32473{index:06d}"},
                    "source": "phone",
                }

                def call(body=body) -> bool:
                    response = client.post(
                        "/api/appointments",
                        data=json.dumps(body),
                        headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
                    )
                    return response.status_code == 409

                yield call

        http = requests()
        _measure(http, 3, counter)
        plain_http = _measure(http, calls, counter)
        profile_http = cProfile.Profile(time.process_time)
        _measure(http, calls, counter, profile_http)
        engine.dispose()

    backend = url.split(":", 1)[0]
    profiles = {"success": profile_ok, "refused": profile_refused, "refused HTTP": profile_http}
    for (label, (cpu, wall, statements, last)), profile in zip(
        (
            ("success, book() + commit", plain_ok),
            ("refused, book() + rollback", plain_refused),
            ("refused, POST /api/appointments (409)", plain_http),
        ),
        profiles.values(),
        strict=True,
    ):
        stats = pstats.Stats(profile)
        out.write(
            f"{label} ({backend}): {cpu:.1f} ms CPU, {wall:.1f} ms wall, "
            f"{statements} statements (mean of {calls}, no profiler); under cProfile "
            f"{stats.total_tt * 1000 / calls:.1f} ms CPU, "
            f"{stats.total_calls // calls} function calls\n"
        )
        if show_statements:
            out.write("".join(f"    {line}\n" for line in last))
    for label, profile in profiles.items():
        out.write(f"\n===== {label}: {calls} calls under cProfile =====\n")
        out.write(_stats(profile, top))
    return out.getvalue()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--top", type=int, default=TOP)
    parser.add_argument(
        "--statements", action="store_true", help="print the statements of one call of each"
    )
    arguments = parser.parse_args()
    print(run(arguments.calls, arguments.top, show_statements=arguments.statements))
