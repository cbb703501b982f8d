"""SMS dispatch: 10,000 queued reminders, 4 dispatcher processes, a 20 ms gateway.

The outbox holds 10,000 reminders (one segment each, each to its own number), committed
with a due time a day away. Four `terrain sms dispatch` processes start (Twilio gateway:
the real twilio library, pointed at `python -m tests.fake_twilio --latency 0.02`, a
process of its own); once all four say they are ready, one UPDATE makes every reminder
due. Figure: reminders per second from that moment to the last one recorded in the
outbox (its `status_at`, written after the gateway answered).

Checked, or the run fails: the fake accepted 10,000 messages, 0 duplicates; every row
is `queued` with its own provider id, sent in one attempt, and all four took part.

The gateway's limit: Twilio accepts API requests faster than it sends (it queues them),
and sends from an alphanumeric sender ID (the CPAS's "CPAS") at 10 message segments per
second by default (Twilio support, "Can I increase message throughput (MPS) for an
Alphanumeric Sender ID?"; more on request). Ratio to the limit: figure / 10.

Reference, same run, same fake: the same 10,000 messages sent with no database by 4
threads of one process, each a plain loop of `TwilioGateway.send` (same library, same
HTTP, same concurrency as the 4 dispatchers): what the outbox costs on top of the
sends themselves. Also noted: one plain loop (1 thread) over 1,000 messages.

Database: BENCH_DATABASE_URL (PostgreSQL: a schema of its own, dropped afterwards),
else a temporary SQLite file (one writer at a time: the dispatchers take turns).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, update

from bench.progress import Progress
from bench.sync import _database
from core.config import PROJECT_ROOT
from core.db import make_engine
from tests.fake_twilio import in_process, read_stats

MESSAGES = 10_000
DISPATCHERS = 4
LATENCY = 0.020  # seconds per request at the fake Twilio
TWILIO_ALPHANUMERIC_MPS = 10  # Twilio's default for an alphanumeric sender ID
ONE_LOOP_MESSAGES = 1_000
ACCOUNT_SID = "AC" + "0" * 32  # tests.fake_twilio's defaults
AUTH_TOKEN = "fake-twilio-auth-token"  # noqa: S105 - the local fake's
BODY = (
    "CPAS: rappel de votre rendez-vous Accueil le mardi 24/11 à 10h00, rue Haute 298A. "
    "Répondez OUI pour confirmer ou NON pour annuler."
)

DISPATCH = [sys.executable, "-m", "web.cli", "sms", "dispatch"]

_note = Progress("bench/sms.py")


def _number(n: int) -> str:
    return f"+3247{n % 10}{100_000 + n:06d}"


def _fill(engine: Engine) -> None:
    from notifications.models import Contact, Message
    from notifications.sms import count_segments
    from web.domains import install

    install()
    now = datetime.now(UTC)
    later = now + timedelta(days=1)
    count = count_segments(BODY)
    assert count.segments == 1, count
    with engine.begin() as connection:
        contact_id = connection.execute(
            insert(Contact).values(display_name="Bench", language="fr").returning(Contact.id)
        ).scalar_one()
        rows = [
            {
                "key": f"reminder:bench:{n}:J-1",
                "contact_id": contact_id,
                "to": _number(n),
                "language": "fr",
                "category": "reminder",
                "body": BODY,
                "segments": count.segments,
                "encoding": count.encoding,
                "subject": None,
                "status": "pending",
                "not_before": later,
                "valid_until": later + timedelta(hours=20),
                "attempts": 0,
                "created_at": now,
                "status_at": now,
            }
            for n in range(MESSAGES)
        ]
        for first in range(0, MESSAGES, 1000):
            connection.execute(insert(Message), rows[first : first + 1000])


def _dispatchers(url: str, fake_url: str, folder: str, stack: ExitStack) -> list[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TERRAIN_"))}
    env.update(
        TERRAIN_DATABASE_URL=url,
        TERRAIN_INSTANCE_PATH=folder,
        TERRAIN_SECRET_KEY="bench-sms",  # noqa: S106 - a throwaway instance
        TERRAIN_LOG_LEVEL="WARNING",
        TERRAIN_SMS_GATEWAY="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM="CPAS",
        TWILIO_API_URL=fake_url,
    )
    logs = [Path(folder) / f"dispatcher-{n}.log" for n in range(DISPATCHERS)]
    processes = []
    for n, log in enumerate(logs):
        with log.open("wb") as output:
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own command
                    [*DISPATCH, "--worker", f"bench-{n}", "--interval", "0.2"],
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )

    def stop() -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, log in zip(processes, logs, strict=True):
            code = process.wait(timeout=60)
            assert code == 0, log.read_text(errors="replace")[-2000:]

    stack.callback(stop)
    deadline = time.monotonic() + 60
    for n, (process, log) in enumerate(zip(processes, logs, strict=True)):
        while f"dispatcher bench-{n} ready" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "a dispatcher did not start"
            time.sleep(0.1)  # polling while the process imports and connects
    return processes


def _cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """CPU time used so far by `pids` and by PostgreSQL's processes."""
    tick = os.sysconf("SC_CLK_TCK")
    ours = postgres = 0.0
    wanted = {str(pid) for pid in pids}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        name, fields = raw[raw.index("(") + 1 : raw.rindex(")")], raw.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / tick
        if stat.parent.name in wanted:
            ours += used
        elif name.startswith("postgres"):
            postgres += used
    return ours, postgres


def _dispatch(engine: Engine, url: str, fake_url: str) -> tuple[float, str]:
    """Seconds from due to the last recorded; and a note on CPU use."""
    from notifications.models import Message

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="terrain-bench-sms-") as folder:
        pids = [process.pid for process in _dispatchers(url, fake_url, folder, stack)]
        _note(f"{DISPATCHERS} dispatchers ready; {MESSAGES:,} reminders due now")
        cpu_before = _cpu_seconds(pids)
        with engine.begin() as connection:
            due = datetime.now(UTC)
            connection.execute(
                update(Message)
                .where(Message.key.like("reminder:bench:%"))
                .values(not_before=due - timedelta(seconds=1))
            )
        while True:
            with engine.connect() as connection:
                waiting = connection.execute(
                    select(func.count()).where(Message.status.in_(("pending", "sending")))
                ).scalar_one()
            if waiting == 0:
                break
            time.sleep(0.2)  # polling the outbox while the dispatchers send
        cpu_after = _cpu_seconds(pids)
        with engine.connect() as connection:
            last = connection.execute(select(func.max(Message.status_at))).scalar_one()
        seconds = (last.replace(tzinfo=UTC) if last.tzinfo is None else last) - due
    cpu = [after - before for after, before in zip(cpu_after, cpu_before, strict=True)]
    note = f"CPU: dispatchers {cpu[0]:.0f} s, PostgreSQL {cpu[1]:.0f} s"
    return seconds.total_seconds(), note


def _check(engine: Engine, fake_url: str) -> None:
    from notifications.models import Message

    stats = read_stats(fake_url)
    assert (stats["total"], stats["duplicates"]) == (MESSAGES, 0), stats
    with engine.connect() as connection:
        rows = connection.execute(
            select(Message.status, Message.provider_id, Message.attempts, Message.claimed_by)
        ).all()
    assert len(rows) == MESSAGES
    assert {row[0] for row in rows} == {"queued"}, {row[0] for row in rows}
    assert len({row[1] for row in rows}) == MESSAGES
    assert {row[2] for row in rows} == {1}
    assert len({row[3] for row in rows}) == DISPATCHERS


def _plain_loops(fake_url: str, threads: int, count: int) -> float:
    """Seconds for `count` sends by `threads` plain loops of TwilioGateway.send, no database."""
    from notifications.gateways import OutgoingSms, TwilioGateway

    def loop(part: int) -> None:
        gateway = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, from_="CPAS", api_url=fake_url)
        for n in range(part, count, threads):
            gateway.send(OutgoingSms(n, _number(n + 500_000), BODY, 36000, None))

    workers = [threading.Thread(target=loop, args=(part,)) for part in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def run() -> list[str]:
    _note.restart()
    with (
        tempfile.TemporaryDirectory(prefix="terrain-bench-sms-") as folder,
        _database(folder) as url,
    ):
        from core.migrations import upgrade

        upgrade(url)
        backend = url.split(":", 1)[0]
        engine = make_engine(url)
        try:
            _fill(engine)
            _note(f"{MESSAGES:,} reminders queued ({backend})")
            with in_process(LATENCY) as fake_url:
                seconds, cpu = _dispatch(engine, url, fake_url)
                rate = MESSAGES / seconds
                _note(f"sent in {seconds:.1f} s ({rate:.0f}/s); {cpu}")
                _check(engine, fake_url)
            with in_process(LATENCY) as fake_url:
                reference = MESSAGES / _plain_loops(fake_url, DISPATCHERS, MESSAGES)
                _note(f"reference: {reference:.0f}/s")
                one_loop = ONE_LOOP_MESSAGES / _plain_loops(fake_url, 1, ONE_LOOP_MESSAGES)
                _note(f"one plain loop: {one_loop:.1f}/s")
        finally:
            engine.dispose()
    return [
        f"| sms: {MESSAGES:,} queued reminders, {DISPATCHERS} `terrain sms dispatch` "
        f"processes, fake Twilio at {LATENCY * 1000:.0f} ms per request ({backend}) "
        f"| {rate:.0f} messages/s ({seconds:.1f} s), 0 duplicates; "
        f"{rate / TWILIO_ALPHANUMERIC_MPS:.1f}× Twilio's default "
        f"{TWILIO_ALPHANUMERIC_MPS} segments/s for an alphanumeric sender; {cpu} "
        f"| {DISPATCHERS} plain loops of HTTP sends in one process, no database: "
        f"{reference:.0f}/s (one loop: {one_loop:.0f}/s) "
        f"| {rate / reference:.2f}× | {date.today()} |"
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
