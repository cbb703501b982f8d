"""Exactly once across processes: four `terrain sms dispatch` processes on PostgreSQL
over 2,000 due messages, sending through the real twilio library to the fake Twilio
(tests/live/outbox.py says how they race). PostgreSQL only (SQLite has one writer at a
time: nothing to race); skipped without TEST_DATABASE_URL. The two schedulers started
by mistake are in tests/live/test_sms_schedulers.py (a file each: the two long tests
can run on both xdist workers at once).
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from tests.fake_twilio import in_process
from tests.live.outbox import (
    check_sent_once,
    fill,
    make_due,
    outbox_database,
    stop_all,
    terrain,
    terrain_env,
    wait_for_line,
    wait_until_sent,
)
from tests.live.support import POSTGRES_ONLY

pytestmark = POSTGRES_ONLY


@pytest.fixture(scope="module")
def outbox_db():
    yield from outbox_database()


def test_four_dispatcher_processes_send_2000_messages_once(outbox_db, tmp_path):
    url, engine = outbox_db
    ids = fill(engine, "dispatch", 2000)
    with in_process(latency=0.005) as fake_url, ExitStack() as stack:
        env = terrain_env(url, fake_url, tmp_path)
        logs = [tmp_path / f"dispatcher-{n}.log" for n in range(4)]
        processes = [
            stack.enter_context(
                terrain(["sms", "dispatch", "--worker", f"d{n}", "--interval", "0.2"], env, logs[n])
            )
            for n in range(4)
        ]
        for n, (process, log) in enumerate(zip(processes, logs, strict=True)):
            wait_for_line(log, f"dispatcher d{n} ready (twilio gateway)", process)
        make_due(engine, "dispatch")
        wait_until_sent(engine, "dispatch")
        stop_all(processes, logs)
        workers = check_sent_once(engine, "dispatch", ids, fake_url)
    assert workers == {"d0", "d1", "d2", "d3"}  # all four took part
    sent_by = [
        int(log.read_text().rsplit(": ", 1)[1].split(" sent")[0]) for log in logs
    ]  # "dispatcher dN: 512 sent, ..."
    assert sum(sent_by) == 2000 and min(sent_by) > 0
