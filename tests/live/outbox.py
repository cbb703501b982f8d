"""What the live outbox tests share: real `terrain` processes on PostgreSQL sending
through the real twilio library to the fake Twilio, itself a process of its own
(tests/live/test_sms_dispatchers.py, tests/live/test_sms_schedulers.py).

The messages are committed first with a due time a day away; once every process has
said it is ready, one UPDATE makes them all due at once, so the processes really race.
Each message goes to its own number with its own text: the fake counts every (number,
text) it accepts, so a message sent twice is a duplicate there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, update

from core import clock, testmode
from core.config import PROJECT_ROOT
from core.db import make_engine
from notifications.models import Contact, Message
from tests import zygote
from tests.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, read_stats
from tests.support import migrated_database

PUBLIC_URL = "https://terrain.example"
READY_TIMEOUT = 30.0
# The suite's test settings (its clock, cheap password hashing) stay: the processes are
# forked from the zygote, whose imports were made with them (tests.zygote).
TEST_SETTINGS = ("TERRAIN_TESTING", *testmode.TEST_SETTINGS)
DONE_TIMEOUT = 60.0


def outbox_database() -> Iterator[tuple[str, Engine]]:
    with migrated_database("smsd") as url:
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()


def terrain_env(url: str, fake_url: str, folder: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # The suite's clock stays (the test's own, which fill() and make_due() use).
        if not key.startswith(("TWILIO_", "TERRAIN_")) or key in TEST_SETTINGS
    }
    env.update(
        TERRAIN_DATABASE_URL=url,
        TERRAIN_INSTANCE_PATH=str(folder),
        TERRAIN_SECRET_KEY="live-sms-secret",
        TERRAIN_PUBLIC_URL=PUBLIC_URL,
        TERRAIN_LOG_LEVEL="INFO",
        TERRAIN_SMS_GATEWAY="twilio",
        TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN,
        TWILIO_FROM="CPAS",
        TWILIO_API_URL=fake_url,
    )
    return env


@contextmanager
def terrain(
    args: list[str], env: dict[str, str], log: Path
) -> Iterator[zygote.Forked | subprocess.Popen]:
    """A `terrain` process writing to `log`; SIGTERM (then SIGKILL) when leaving."""
    # Forked from the zygote that imported the app once (tests.zygote).
    process = zygote.start(args, env, PROJECT_ROOT, log)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for_line(log: Path, text: str, process: zygote.Forked | subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)  # polling while the process imports and connects
    pytest.fail(f"{text!r} never came; output:\n{log.read_text(errors='replace')[-3000:]}")


def fill(engine: Engine, tag: str, count: int) -> dict[str, int]:
    """`count` committed messages due in a day, each to its own number; body → id."""
    now = clock.now()
    later = now + timedelta(days=1)
    with engine.begin() as connection:
        contact_id = connection.execute(
            insert(Contact).values(display_name=f"Live {tag}", language="fr").returning(Contact.id)
        ).scalar_one()
        rows = [
            {
                "key": f"live:{tag}:{n}",
                "contact_id": contact_id,
                "to": f"+3247{n % 10}{n + 100_000:06d}",  # never the fake's opted-out one
                "language": "fr",
                "category": "reminder",
                "body": f"CPAS: rappel {tag} numéro {n}",
                "segments": 1,
                "encoding": "UCS-2",
                "status": "pending",
                "not_before": later,
                "valid_until": later + timedelta(hours=2),
                "attempts": 0,
                "created_at": now,
                "status_at": now,
            }
            for n in range(count)
        ]
        connection.execute(insert(Message), rows)
        found = connection.execute(
            select(Message.body, Message.id).where(Message.key.like(f"live:{tag}:%"))
        ).all()
    return dict(found)


def make_due(engine: Engine, tag: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Message)
            .where(Message.key.like(f"live:{tag}:%"))
            .values(not_before=clock.now() - timedelta(seconds=1))
        )


def wait_until_sent(engine: Engine, tag: str) -> float:
    """Seconds until no message of `tag` is pending or being sent."""
    start = time.monotonic()
    while time.monotonic() - start < DONE_TIMEOUT:
        with engine.connect() as connection:
            waiting = connection.execute(
                select(func.count()).where(
                    Message.key.like(f"live:{tag}:%"),
                    Message.status.in_(("pending", "sending")),
                )
            ).scalar_one()
        if waiting == 0:
            return time.monotonic() - start
        time.sleep(0.2)  # polling the outbox while the processes send
    pytest.fail(f"{waiting} messages of {tag} still waiting after {DONE_TIMEOUT:.0f} s")


def check_sent_once(engine: Engine, tag: str, ids: dict[str, int], fake_url: str) -> set[str]:
    """Every message sent once, recorded once; returns the workers that sent them."""
    stats = read_stats(fake_url)
    assert (stats["total"], stats["duplicates"], stats["distinct"]) == (len(ids), 0, len(ids))
    with engine.connect() as connection:
        rows = connection.execute(
            select(Message.status, Message.provider_id, Message.claimed_by, Message.attempts).where(
                Message.key.like(f"live:{tag}:%")
            )
        ).all()
    assert len(rows) == len(ids)
    assert {status for status, *_ in rows} == {"queued"}
    assert len({provider_id for _, provider_id, _, _ in rows}) == len(ids)
    assert {attempts for *_, attempts in rows} == {1}
    with urllib.request.urlopen(f"{fake_url}/_fake/messages", timeout=10) as response:  # noqa: S310
        sent = json.loads(response.read())["sent"]
    assert {form["Body"]: form["StatusCallback"] for form in sent} == {
        body: f"{PUBLIC_URL}/sms/status?m={message_id}" for body, message_id in ids.items()
    }
    assert {form["From"] for form in sent} == {"CPAS"}
    return {worker for _, _, worker, _ in rows}


def stop_all(processes: list[zygote.Forked | subprocess.Popen], logs: list[Path]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process, log in zip(processes, logs, strict=True):
        assert process.wait(timeout=20) == 0, log.read_text(errors="replace")[-3000:]
        text = log.read_text(errors="replace")
        assert "+3247" not in text and "rappel" not in text  # no number, no text in logs
