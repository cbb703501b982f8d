"""`terrain` commands forked from a process that has imported Terrain once.

A `terrain` process spends about 1.3 s of CPU importing the app's modules before its
command starts (the domains, SQLAlchemy, Flask, openpyxl…): the suite's live servers and
templates, a few dozen of them per run, would pay it each time. Instead, each process
of the run (xdist worker) keeps a zygote, multiprocessing's forkserver, which imports
them once (tests.zygote_preload); every command is a fork of it that runs `terrain
<args>` through the real entry point (web.cli.main) in the command's own environment,
working folder and output file, as a subprocess would: `terrain serve` still starts
gunicorn, its master and its workers, and a command's test settings (clock, cheap
hashing) are put into force by the command itself (core.testmode.apply()).

The only state the imports take from the environment is core.accounts' password hasher
(TERRAIN_TESTING, TERRAIN_CHEAP_PASSWORD_HASHING): a command whose environment differs
from the zygote's there runs as an ordinary subprocess instead (`start`). The zygote
holds no thread and no connection, so forking it is safe.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
from contextlib import suppress
from multiprocessing import forkserver
from pathlib import Path

# What the modules read from the environment when they are imported (core.accounts).
IMPORT_TIME_SETTINGS = ("TERRAIN_TESTING", "TERRAIN_CHEAP_PASSWORD_HASHING")

_context = multiprocessing.get_context("forkserver")
_zygote_settings: dict[str, str | None] | None = None


class Forked:
    """A `terrain` command forked from the zygote: the part of subprocess.Popen that the
    suite uses (pid, poll, wait, returncode, send_signal, kill). Its exit status comes
    through the zygote, its parent: a negative status is the signal that ended it, as
    with Popen."""

    def __init__(self, process: multiprocessing.process.BaseProcess):
        self._process = process
        self.pid: int = process.pid or 0
        self.args = process.name

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        if self._process.exitcode is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return code


def _run(args: list[str], env: dict[str, str], cwd: str, log: str, new_session: bool) -> None:
    """In the forked child: `terrain <args>` in `env` and `cwd`, its output (stdout and
    stderr) appended to `log`; in a session (process group) of its own if `new_session`."""
    if new_session:
        os.setsid()
    output = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    from web.cli import main

    main(args=args, prog_name="terrain")  # exits (SystemExit) with the command's status


def _settings(env: dict[str, str]) -> dict[str, str | None]:
    return {name: env.get(name) for name in IMPORT_TIME_SETTINGS}


def can_fork(env: dict[str, str]) -> bool:
    """Whether a command in `env` may be forked from this process's zygote (started now
    if it is not yet, in this process's environment)."""
    global _zygote_settings
    if _zygote_settings is None:
        _context.set_forkserver_preload(["tests.zygote_preload"])
        forkserver.ensure_running()  # in this environment, which it imports with
        _zygote_settings = _settings(dict(os.environ))
    return _settings(env) == _zygote_settings


def start(
    args: list[str], env: dict[str, str], cwd: Path, log: Path, *, new_session: bool = False
) -> Forked | subprocess.Popen:
    """`terrain <args>` in `env`, its output appended to `log`: forked from the zygote,
    else (another password-hashing setting) an ordinary subprocess."""
    if not can_fork(env):
        from tests.support import terrain_command

        with log.open("ab") as output:
            return subprocess.Popen(
                [*terrain_command(), *args],
                cwd=cwd,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=new_session,
            )
    # Made here, as Popen's caller makes it: whoever reads it right after the start finds
    # it (empty) even before the forked child has opened it.
    log.touch(mode=0o600, exist_ok=True)
    process = _context.Process(
        target=_run,
        args=(args, env, str(cwd), str(log), new_session),
        name=f"terrain {' '.join(args)}",
        # Ended (SIGTERM) when this process exits, should a test leave one running.
        daemon=True,
    )
    process.start()
    return Forked(process)


def run(args: list[str], env: dict[str, str], cwd: Path, log: Path, timeout: float) -> int:
    """`terrain <args>` to its end (start()); its exit status."""
    process = start(args, env, cwd, log)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        raise
