"""Exactly once across processes: two `terrain scheduler` processes started by mistake
on PostgreSQL, over 300 due messages, sending through the real twilio library to the
fake Twilio (tests/live/outbox.py says how they race). PostgreSQL only; skipped without
TEST_DATABASE_URL. The four dispatchers are in tests/live/test_sms_dispatchers.py.
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


def test_two_schedulers_by_mistake_send_each_message_once(outbox_db, tmp_path):
    url, engine = outbox_db
    ids = fill(engine, "scheduler", 300)
    with in_process(latency=0.02) as fake_url, ExitStack() as stack:
        env = terrain_env(url, fake_url, tmp_path)
        logs = [tmp_path / f"scheduler-{n}.log" for n in range(2)]
        processes = [stack.enter_context(terrain(["scheduler"], env, log)) for log in logs]
        for process, log in zip(processes, logs, strict=True):
            wait_for_line(log, "scheduler started", process)
        make_due(engine, "scheduler")
        wait_until_sent(engine, "scheduler")
        stop_all(processes, logs)
        workers = check_sent_once(engine, "scheduler", ids, fake_url)
    assert len(workers) == 2  # both schedulers' dispatch jobs took part
    for log in logs:
        text = log.read_text()
        assert "scheduler stopping (SIGTERM)" in text and "scheduler stopped" in text
        assert "failed" not in text
