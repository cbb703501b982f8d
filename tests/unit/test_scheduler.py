"""core.scheduler: the job registry, one run at a time, failures logged without data,
a clean stop on SIGTERM."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session

from core.config import PROJECT_ROOT, Settings
from core.scheduler import (
    MISFIRE_GRACE_SECONDS,
    Job,
    JobContext,
    load_jobs,
    make_scheduler,
    run_job,
    shared,
)


def context() -> JobContext:
    settings = Settings(
        instance_path=Path("/nonexistent"), database_url="sqlite://", secret_key="t"
    )
    return JobContext(session_factory=Session, settings=settings, gateway=lambda: None)


def test_the_domains_jobs_are_loaded():
    names = [job.name for job in load_jobs()]
    assert names[:2] == ["sms.dispatch", "sms.expand_broadcasts"]
    assert "sms.expire_stale" in names


def test_two_jobs_with_one_name_are_refused():
    with pytest.raises(ValueError, match=r"sms\.dispatch"):
        load_jobs(["notifications.jobs", "notifications.jobs"])


def test_a_failing_job_is_logged_without_its_message(caplog):
    def leaky(_context: JobContext) -> None:
        raise ValueError("could not send to +32470123456: 'Rendez-vous demain'")

    with caplog.at_level(logging.INFO, logger="terrain.scheduler"):
        assert run_job(Job("test.leaky", leaky, 1), context()) is None
    [record] = caplog.records
    text = record.getMessage()
    assert text.startswith("job test.leaky failed: ValueError at test_scheduler.py:")
    assert "in leaky" in text
    assert "+32470123456" not in caplog.text and "Rendez-vous" not in caplog.text


def test_a_quiet_run_logs_nothing_and_a_busy_one_its_counts(caplog):
    with caplog.at_level(logging.INFO, logger="terrain.scheduler"):
        run_job(Job("test.quiet", lambda _c: None, 1), context())
        assert caplog.records == []
        run_job(Job("test.busy", lambda _c: {"sent": 3}, 1), context())
    assert "job test.busy: {'sent': 3}" in caplog.text


def test_jobs_run_one_at_a_time_and_a_failure_does_not_stop_the_others():
    running = 0
    overlaps = 0
    runs = {"slow": 0, "broken": 0}
    lock = threading.Lock()

    def slow(_context: JobContext) -> None:
        nonlocal running, overlaps
        with lock:
            running += 1
            overlaps += running > 1
            runs["slow"] += 1
        time.sleep(0.25)
        with lock:
            running -= 1

    def broken(_context: JobContext) -> None:
        with lock:
            runs["broken"] += 1
        raise RuntimeError("boom")

    jobs = [Job("test.slow", slow, 0.05), Job("test.broken", broken, 0.05)]
    scheduler = make_scheduler(context(), jobs, scheduler_class=BackgroundScheduler)
    apscheduler_log = logging.getLogger("apscheduler")
    level = apscheduler_log.level
    apscheduler_log.setLevel(logging.ERROR)  # "skipped: maximum number of instances"
    scheduler.start()
    try:
        for job in scheduler.get_jobs():
            assert (job.max_instances, job.coalesce) == (1, True)
            assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS
        time.sleep(1.0)
    finally:
        scheduler.shutdown(wait=True)
        apscheduler_log.setLevel(level)
    assert overlaps == 0
    assert 2 <= runs["slow"] <= 5  # 0.25 s each, never two at once
    assert runs["broken"] >= 5  # it failed every time and kept its rhythm


def test_shared_makes_the_thing_once():
    made = []

    def factory() -> object:
        made.append(1)
        time.sleep(0.01)
        return object()

    get = shared(factory)
    results = []
    threads = [threading.Thread(target=lambda: results.append(get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and len({id(result) for result in results}) == 1


SCRIPT = textwrap.dedent(
    """
    import logging, signal, sys, threading, time
    from pathlib import Path
    from core.config import Settings
    from core.scheduler import Job, JobContext, run

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")

    def patient(context):
        print("job started", flush=True)
        if "--signal-own-thread" in sys.argv:
            time.sleep(0.5)  # the main thread is waiting by then
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
        while not context.stopping.wait(0.05):
            pass
        time.sleep(0.2)  # finishing its batch
        print("job finished", flush=True)

    settings = Settings(instance_path=Path("/nonexistent"), database_url="sqlite://",
                        secret_key="t")
    context = JobContext(lambda: None, settings, lambda: None)
    clean = run(context, [Job("test.patient", patient, 60)])
    print("exit clean" if clean else "exit unclean", flush=True)
    """
)


def _stopped_cleanly(output: str) -> None:
    tail = output.splitlines()
    assert tail.index("job finished") < tail.index("exit clean"), output
    assert "scheduler stopping (SIGTERM)" in output and "scheduler stopped" in output


def test_sigterm_stops_the_scheduler_after_its_running_job():
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 20
        while "job started" not in lines and time.monotonic() < deadline:
            lines.append(process.stdout.readline().strip())
        assert "job started" in lines, lines
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    _stopped_cleanly(output)


def test_a_signal_that_a_job_thread_receives_stops_the_scheduler_at_once():
    """The kernel may hand SIGTERM to any thread; Python runs its handler in the main
    thread only, which must not sleep until the next job (60 s here) before it does."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, "--signal-own-thread"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0, result.stdout
    _stopped_cleanly(result.stdout)
