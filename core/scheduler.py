"""The scheduler: the periodic jobs that domains declare in their `jobs.py`.

`terrain scheduler` runs them with APScheduler in a process of its own, never inside a
web worker. Each installed domain's descriptor names its jobs module (`Domain.jobs`,
core/plugins.py), which exposes `JOBS: list[Job]`. A job is a plain function of a
`JobContext` (session factory, settings, gateway); it must be safe to run in two
schedulers at once (row locks, unique keys), because an operator may start a second
scheduler by mistake, or on purpose on a second machine. The domains are installed
first (web/domains.py): what they register (their SMS subject kinds: the dispatcher asks
them whether a message is still current) is in place before any job runs.

Every job runs at most once at a time in a process (`max_instances=1`), late runs are
merged into one (`coalesce`), a run more than `MISFIRE_GRACE_SECONDS` late is skipped.
A failing job is logged (its exception's type and where it was raised, never its
message: messages of database errors carry the row's values, phone numbers included)
and runs again at its next time. SIGTERM and SIGINT stop the scheduler: no new run
starts, running jobs are told through `context.stopping` and waited for.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session

from core import plugins
from core.config import Settings

log = logging.getLogger("terrain.scheduler")

MISFIRE_GRACE_SECONDS = 10
# How long a stopping scheduler waits for running jobs (they stop between batches).
STOP_GRACE_SECONDS = 30.0
# How soon the main thread runs a stop signal's handler (see `run`).
WAKE_SECONDS = 0.5


@dataclass(frozen=True)
class JobContext:
    """What a job gets: a fresh `Session` per unit of work, the settings, the gateway."""

    session_factory: Callable[[], Session]
    settings: Settings
    # The SMS gateway of this process (made once, shared by the jobs; Any: core does not
    # import notifications).
    gateway: Callable[[], Any]
    # Set when the scheduler stops: long jobs check it between batches.
    stopping: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Job:
    name: str  # "sms.dispatch": domain, dot, what it does
    run: Callable[[JobContext], object]
    every_seconds: float


def load_jobs(modules: Iterable[str] | None = None) -> list[Job]:
    """Every installed domain's JOBS, in order (or those of `modules`); two jobs with one
    name are a programming error."""
    jobs: list[Job] = []
    for name in plugins.job_modules() if modules is None else modules:
        jobs.extend(importlib.import_module(name).JOBS)
    names = [job.name for job in jobs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"two jobs share a name: {', '.join(duplicates)}")
    return jobs


def shared(factory: Callable[[], Any]) -> Callable[[], Any]:
    """`factory()` made once, on first use, whatever the thread."""
    lock = threading.Lock()
    made: list[Any] = []

    def get() -> Any:
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return get


def where(error: BaseException) -> str:
    """Where an exception was raised, as "file:line in function" frames: no message."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    return " < ".join(
        f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"
        for frame in reversed(frames)
    )


class _Running:
    """How many job runs are in progress (a stopping scheduler waits for zero)."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    def __enter__(self) -> None:
        with self._changed:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._changed:
            self._count -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout=timeout)


def run_job(job: Job, context: JobContext) -> object:
    """One run of `job`: its result, or None after a failure (logged, not raised)."""
    started = time.monotonic()
    try:
        result = job.run(context)
    except Exception as error:  # a job failing must not stop the others
        log.error("job %s failed: %s at %s", job.name, type(error).__name__, where(error))
        return None
    if result:
        log.info("job %s: %s (%.1f s)", job.name, result, time.monotonic() - started)
    return result


class _QuietSkips(logging.Filter):
    """APScheduler warns each time a run is skipped because the previous one still runs
    (a dispatch working through a large broadcast): expected, so kept out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


def make_scheduler(
    context: JobContext,
    jobs: Sequence[Job],
    *,
    scheduler_class: type[BaseScheduler] = BackgroundScheduler,
    running: _Running | None = None,
) -> BaseScheduler:
    """A scheduler (not started) with every job, each first run at once."""
    scheduler = scheduler_class(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=max(4, len(jobs)))},
        job_defaults={
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
    )
    running = running or _Running()
    now = datetime.now(UTC)

    for job in jobs:

        def execute(job: Job = job) -> None:
            with running:
                run_job(job, context)

        scheduler.add_job(
            execute,
            IntervalTrigger(seconds=job.every_seconds, timezone=UTC),
            id=job.name,
            name=job.name,
            next_run_time=now,
        )
    return scheduler


def run(context: JobContext, jobs: Sequence[Job], *, exit_with_parent: bool = False) -> bool:
    """Run `jobs` until SIGTERM or SIGINT (or, with `exit_with_parent`, until the process
    that started this one is gone). Returns False when a job was still running after
    STOP_GRACE_SECONDS."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_QuietSkips())
    running = _Running()
    # The scheduler's loop runs in a thread of its own; the main thread only waits.
    scheduler = make_scheduler(context, jobs, running=running)
    stopped = threading.Event()
    received: list[int] = []  # the signals, the first one named in the log

    def stop(signum: int, _frame: Any = None) -> None:
        # A signal handler only sets flags (the main thread then stops the scheduler):
        # the locks a shutdown takes may be held by the very code it interrupted.
        received.append(signum)
        stopped.set()
        context.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if exit_with_parent:
        parent = os.getppid()

        def watch_parent() -> None:
            while not stopped.wait(1.0):
                if os.getppid() != parent:
                    os.kill(os.getpid(), signal.SIGTERM)
                    return

        threading.Thread(target=watch_parent, name="watch-parent", daemon=True).start()
    log.info(
        "scheduler started (pid %s): %s",
        os.getpid(),
        ", ".join(f"{job.name} every {job.every_seconds:g} s" for job in jobs),
    )
    if not stopped.is_set():
        scheduler.start()
    # Python runs a signal's handler in the main thread only, and the kernel may hand the
    # signal to any thread (a job's): a main thread blocked without a timeout would not
    # run it until it woke up for another reason (the next job, up to minutes later). A
    # short timed wait runs it within WAKE_SECONDS.
    while not stopped.wait(WAKE_SECONDS):
        pass
    _shutdown(scheduler, signal.Signals(received[0]).name)
    clean = running.wait_idle(STOP_GRACE_SECONDS)
    if clean:
        log.info("scheduler stopped")
    else:
        log.warning("scheduler stopped with a job still running")
    return clean


def _shutdown(scheduler: BaseScheduler, reason: str) -> None:
    log.info("scheduler stopping (%s)", reason)
    with contextlib.suppress(SchedulerNotRunningError):
        scheduler.pause()  # no new run between now and the shutdown
        scheduler.shutdown(wait=False)
