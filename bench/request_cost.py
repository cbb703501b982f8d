"""The fixed cost of an authenticated request (issues 14 and 20): statements and CPU of
a few typical requests of logged-in demo users, through the Flask test client.

```
BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
    .venv/bin/python -m bench.request_cost   # --calls 50; --statements; --profile
```

The demo data in a schema of its own (BENCH_DATABASE_URL's PostgreSQL, else a temporary
SQLite file); each demo user logs in through /login; each request runs `CALLS` times
after 3 warm-up calls. CPU is `time.process_time` of this process (PostgreSQL's share is
not in it); statements are counted with `before_cursor_execute`. The refused booking is
`POST /api/appointments` of a start already taken (409), as in `bench/booking_profile.py`.
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
from datetime import timedelta

from sqlalchemy import event, select

from bench.demo import demo_app, seeded_demo
from bench.sync import _database

CALLS = 30
HTMX = {"HX-Request": "true"}


def _free_start(sessions, location_code: str, service_code: str):
    """The first bookable start of the service at the place, from tomorrow on."""
    from appointments.models import Location, Service
    from appointments.slots import free_slots
    from core import clock

    with sessions() as session:
        service = session.scalar(select(Service).where(Service.code == service_code))
        location = session.scalar(select(Location).where(Location.code == location_code))
        first_day = clock.to_local(clock.now()).date() + timedelta(days=2)
        slots = free_slots(
            session, service=service, location=location, first_day=first_day, days=10
        )
        return slots[0].start


def run(
    calls: int = CALLS,
    *,
    show_statements: bool = False,
    profile: bool = False,
    only: str | None = None,
) -> str:
    from core import clock
    from core.demo import DEMO_PASSWORD

    out = io.StringIO()
    with (
        tempfile.TemporaryDirectory(prefix="terrain-request-cost-") as folder,
        _database(folder) as url,
    ):
        engine, sessions = seeded_demo(url)
        app = demo_app(folder, url, engine)
        clients = {}

        def client_of(username: str):
            if username not in clients:
                client = app.test_client()
                page = client.get("/login").get_data(as_text=True)
                token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
                answer = client.post(
                    "/login",
                    data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
                )
                assert answer.status_code == 302, (username, answer.status_code)
                csrf = client.get("/api/me").get_json()["csrf_token"]
                clients[username] = (client, csrf)
            return clients[username]

        start = _free_start(sessions, "bxl-marolles", "permanence-sociale")
        body = {
            "service": "permanence-sociale",
            "location": "bxl-marolles",
            "start": clock.to_local(start).isoformat(),
            "person": {"name": "Bench Request", "phone": "+32470000001"},
            "source": "phone",
        }
        accueil, accueil_csrf = client_of("accueil")
        for _ in range(20):  # book every agent of the start: then each attempt is refused
            answer = accueil.post(
                "/api/appointments",
                data=json.dumps(body),
                headers={"Content-Type": "application/json", "X-CSRFToken": accueil_csrf},
            )
            if answer.status_code == 409:
                break
            assert answer.status_code == 201, answer.get_data(as_text=True)
        else:
            raise AssertionError("the start never filled")

        # (label, user, method, path, extra headers, expected status)
        cases = [
            (
                "refused POST /api/appointments (409)",
                "accueil",
                "POST",
                "/api/appointments",
                {},
                409,
            ),
            ("GET /api/me (JSON)", "accueil", "GET", "/api/me", {}, 200),
            ("GET / (home), reception", "accueil", "GET", "/", {}, 200),
            ("GET /accueil/ (desk page)", "accueil", "GET", "/accueil/", {}, 200),
            ("GET /accueil/queue (htmx partial)", "accueil", "GET", "/accueil/queue", HTMX, 200),
            ("GET /login (redirect, logged in)", "accueil", "GET", "/login", {}, 302),
            ("GET / (home), social worker", "as1", "GET", "/", {}, 200),
            ("GET / (home), coordinator", "coordination", "GET", "/", {}, 200),
            ("GET / (home), aide", "aide1", "GET", "/", {}, 200),
            ("GET / (home), street educator", "rue1", "GET", "/", {}, 200),
            ("GET /outreach/personnes", "rue1", "GET", "/outreach/personnes", {}, 200),
            ("GET / (home), administrator", "admin", "GET", "/", {}, 200),
        ]
        counter = {"count": 0, "last": []}

        def count(_conn, _cursor, statement, *_args) -> None:
            counter["count"] += 1
            counter["last"].append(" ".join(statement.split())[:150])

        event.listen(engine, "before_cursor_execute", count)
        rows = []
        profiles = {}
        for label, username, method, path, headers, expected in cases:
            if only and only not in label:
                continue
            client, csrf = client_of(username)

            def call(client=client, csrf=csrf, method=method, path=path, headers=headers):
                if method == "POST":
                    return client.post(
                        path,
                        data=json.dumps(body),
                        headers={
                            "Content-Type": "application/json",
                            "X-CSRFToken": csrf,
                            **headers,
                        },
                    )
                return client.get(path, headers=headers)

            for _ in range(3):
                answer = call()
                assert answer.status_code == expected, (label, answer.status_code)
            counter["count"] = 0
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            for _ in range(calls):
                counter["last"] = []
                answer = call()
                assert answer.status_code == expected, (label, answer.status_code)
            cpu = (time.process_time() - cpu_start) * 1000 / calls
            wall = (time.perf_counter() - wall_start) * 1000 / calls
            rows.append((label, counter["count"] / calls, cpu, wall, list(counter["last"])))
            if profile:
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                for _ in range(calls):
                    call()
                profiler.disable()
                profiles[label] = profiler
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()

    backend = url.split(":", 1)[0]
    out.write(
        f"| request ({backend}, mean of {calls}) | statements | CPU ms | wall ms"
        f"{' | function calls' if profiles else ''} |\n"
    )
    out.write(f"| --- | --- | --- | ---{' | ---' if profiles else ''} |\n")
    for label, statements, cpu, wall, _last in rows:
        calls_column = ""
        if label in profiles:
            calls_column = f" | {pstats.Stats(profiles[label]).total_calls // calls:,}"
        out.write(f"| {label} | {statements:g} | {cpu:.1f} | {wall:.1f}{calls_column} |\n")
    if show_statements:
        for label, _statements, _cpu, _wall, last in rows:
            out.write(f"\n{label}:\n" + "".join(f"    {line}\n" for line in last))
    for label, profiler in profiles.items():
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(250)
        out.write(f"\n===== {label} =====\n{stream.getvalue()}")
    return out.getvalue()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--statements", action="store_true", help="the statements of one call")
    parser.add_argument("--profile", action="store_true", help="cProfile of each request")
    parser.add_argument("--only", help="the requests whose label holds this text")
    arguments = parser.parse_args()
    print(
        run(
            arguments.calls,
            show_statements=arguments.statements,
            profile=arguments.profile,
            only=arguments.only,
        )
    )
