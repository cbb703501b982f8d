"""Test helpers shared by the db, web and browser suites."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# --- The suite's clock ----------------------------------------------------------------
# `pytest --clock=MODE` (or TEST_CLOCK=MODE) runs the whole suite, live servers and the
# browser's clock included, on a clock moved to a time of day that has broken tests:
#   real      the wall clock (default)
#   evening   today at 22:55, Brussels time
#   midnight  today at 23:59, Brussels time (the run crosses midnight)
#   dst       five minutes before the next change of summer/winter time (a Sunday)
#   an ISO instant with its offset, e.g. 2026-10-25T02:55:00+02:00
# The clock ticks from there (core.clock.start_at): TERRAIN_CLOCK_START/_ANCHOR in the
# environment carry it to every `terrain` subprocess, with TERRAIN_TESTING=1.
CLOCK_MODES = ("real", "evening", "midnight", "dst")


def next_dst_change(after: datetime) -> datetime:
    """The first instant after `after` at which Brussels changes its UTC offset."""
    from core.clock import BRUSSELS

    moment = as_hour(after)
    offset = moment.astimezone(BRUSSELS).utcoffset()
    for _ in range(24 * 400):
        moment += timedelta(hours=1)
        if moment.astimezone(BRUSSELS).utcoffset() != offset:
            return moment
    raise AssertionError("no change of offset within 400 days")


def as_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def clock_start(mode: str, real_now: datetime | None = None) -> datetime | None:
    """The instant the suite's clock starts at for `mode` (None: the wall clock)."""
    from core.clock import BRUSSELS

    real_now = real_now or datetime.now(UTC)
    today: date = real_now.astimezone(BRUSSELS).date()
    if mode == "real":
        return None
    if mode == "evening":
        return datetime.combine(today, time(22, 55), BRUSSELS)
    if mode == "midnight":
        return datetime.combine(today, time(23, 59), BRUSSELS)
    if mode == "dst":
        return next_dst_change(real_now) - timedelta(minutes=5)
    try:
        moment = datetime.fromisoformat(mode)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"--clock={mode!r}: one of {', '.join(CLOCK_MODES)}, or an ISO instant with "
            "its offset (2026-10-25T02:55:00+02:00)"
        )
    return moment


def clock_env(start: datetime, anchor: datetime | None = None) -> dict[str, str]:
    """The environment that starts a `terrain` process's clock at `start` (at the real
    instant `anchor`, now by default)."""
    anchor = anchor or datetime.now(UTC)
    return {
        "TERRAIN_TESTING": "1",
        "TERRAIN_CLOCK_START": start.isoformat(),
        "TERRAIN_CLOCK_ANCHOR": anchor.isoformat(),
    }


def planning_week(seeded: datetime) -> tuple[datetime, date]:
    """A Thursday 09:00 UTC at least a day after `seeded`, and the Monday after it, whose
    week holds no holiday of the demo's Brussels CPAS: a week to plan from the demo's
    home care, seeded at `seeded` (the suite's clock, whatever --clock moved it to)."""
    from core import clock, organisations

    day = clock.to_local(seeded).date() + timedelta(days=1)
    while True:
        thursday = day + timedelta(days=(3 - day.weekday()) % 7)
        monday = thursday + timedelta(days=4)
        week = {monday + timedelta(days=n) for n in range(7)}
        closed = {
            holiday.day
            for year in {monday.year, (monday + timedelta(days=6)).year}
            for holiday in organisations.default_holidays("brussels", "bilingual", year)
        }
        if not week & closed:
            return datetime.combine(thursday, time(9), UTC), monday
        day = monday


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def worker_tag() -> str:
    """The xdist worker's id ("gw0"…), or "main": in the names of databases and schemas,
    so that the workers of one run, and parallel runs, never share one."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _admin_engine():
    return create_engine(postgres_url(), isolation_level="AUTOCOMMIT")


# --- Commits that do not wait for the disk ----------------------------------------------
# The suite's databases are thrown away at the end, so a commit need not wait for an
# fsync (about 5 ms each on this machine's disk, thousands of them in a run). PostgreSQL:
# synchronous_commit=off in every database and schema the suite makes; a commit stays
# atomic, isolated and visible to the others at once, only a crash of the PostgreSQL
# server itself (which no test causes) could lose the last ones. SQLite: the files in a
# RAM-backed folder (/dev/shm), where fsync costs nothing.
ASYNC_COMMIT = "synchronous_commit=off"
SCRATCH_MIN_FREE = 2 * 1024**3  # bytes: a small /dev/shm (a container's 64 MB) is not used


@cache
def scratch_folder() -> str | None:
    """The folder of the suite's SQLite files: TERRAIN_TEST_SCRATCH, else /dev/shm when it
    is there with room to spare, else None (the system's temporary folder)."""
    chosen = os.environ.get("TERRAIN_TEST_SCRATCH", "").strip()
    if chosen:
        return chosen
    shm = Path("/dev/shm")  # noqa: S108 - only as the parent of mkdtemp folders (0700)
    try:
        roomy = shutil.disk_usage(shm).free >= SCRATCH_MIN_FREE
    except OSError:
        return None
    return str(shm) if roomy and os.access(shm, os.W_OK) else None


def _sqlite_folder(tag: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=f"terrain-{tag}-", dir=scratch_folder())


@contextmanager
def fresh_database(tag: str) -> Iterator[str]:
    """A URL to an empty database of its own, removed afterwards.

    SQLite: a file in a temporary folder. PostgreSQL (TEST_DATABASE_URL): a new
    schema in that database, selected through the connection's search_path, so
    parallel runs and the live servers of browser tests never see each other's rows.
    """
    base = postgres_url()
    if base is None:
        with _sqlite_folder(tag) as folder:
            yield f"sqlite:///{Path(folder) / 'terrain.db'}"
        return
    schema = f"t_{tag}_{worker_tag()}_{secrets.token_hex(4)}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        options = f"-csearch_path={schema} -c{ASYNC_COMMIT}".replace("=", "%3D")
        yield f"{base}{separator}options={options.replace(' ', '%20')}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def own_database(tag: str, template: str | None = None) -> Iterator[str]:
    """A URL to a database of its own, removed afterwards (even when the test fails; a
    PostgreSQL one in the background, by the end of the session: wait_for_drops()):
    empty, or a copy of the database at `template` (another own_database's URL, which
    nothing may be connected to meanwhile).

    SQLite: a file in a temporary folder (a file copy). PostgreSQL: a database of its
    own on TEST_DATABASE_URL's server (`CREATE DATABASE … TEMPLATE`).
    """
    base = postgres_url()
    if base is None:
        with _sqlite_folder(tag) as folder:
            path = Path(folder) / "terrain.db"
            if template is not None:
                source = Path(make_url(template).database or "")
                for suffix in ("", "-wal"):  # a WAL left by a crash holds rows too
                    if Path(f"{source}{suffix}").exists():
                        shutil.copyfile(f"{source}{suffix}", f"{path}{suffix}")
            yield f"sqlite:///{path}"
        return
    name = f"t_{tag}_{worker_tag()}_{secrets.token_hex(4)}".lower()
    copy = ""
    if template is not None:
        copy = f' TEMPLATE "{make_url(template).database}"'
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
            setting, value = ASYNC_COMMIT.split("=")
            connection.execute(text(f'ALTER DATABASE "{name}" SET {setting} TO {value}'))
    finally:
        admin.dispose()
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_later(name)


# A DROP DATABASE waits for a checkpoint of the whole server (seconds, when other
# databases are busy): the suite's databases are dropped by threads of their own while
# the tests go on, and the end of the session waits for them (wait_for_drops()). Several
# drops at once wait for one checkpoint together, where one after the other each waited
# for its own (six copies of the demo: 14 s in a row, under 2 s at once).
DROP_THREADS = 4
_dropper: ThreadPoolExecutor | None = None
_drops: list[Future] = []


def _drop_later(name: str) -> None:
    global _dropper
    if _dropper is None:
        _dropper = ThreadPoolExecutor(max_workers=DROP_THREADS, thread_name_prefix="drop-database")
    _drops.append(_dropper.submit(_drop_database, name))


def _drop_database(name: str) -> None:
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def wait_for_drops() -> None:
    """Return once every database handed to the dropping thread is gone (raises the
    first failure)."""
    while _drops:
        _drops.pop(0).result()


# --- The demo template -----------------------------------------------------------------
# Migrating and seeding takes seconds (more on PostgreSQL): it is done once per run, for
# every xdist worker at once, through the real commands, into a template that every live
# site, and each worker's own database, copies (own_database(tag, template=
# demo_template())). The first worker to need it builds it under a file lock; the others
# wait for it. The run (pytest's controller process) names it (TERRAIN_TEST_RUN, which its
# workers inherit) and removes it at its very end (remove_run_template()).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
RUN_VARIABLE = "TERRAIN_TEST_RUN"


def start_run() -> None:
    """Name this run's shared files (pytest's controller, before its workers start), and
    remove what runs that were killed before their end left behind."""
    _remove_abandoned_runs()
    os.environ[RUN_VARIABLE] = f"{os.getpid()}_{secrets.token_hex(4)}"


def _remove_abandoned_runs() -> None:
    """The run folders (and PostgreSQL templates) of runs whose controller is gone."""
    for folder in Path(scratch_folder() or tempfile.gettempdir()).glob("terrain-run-*_*"):
        run = folder.name.removeprefix("terrain-run-")
        if not re.fullmatch(r"\d+_[0-9a-f]+", run) or Path(f"/proc/{run.split('_')[0]}").exists():
            continue
        if postgres_url() is not None:
            _drop_run_templates(run)
        shutil.rmtree(folder, ignore_errors=True)


def share_bytecode() -> None:
    """With PYTHONDONTWRITEBYTECODE, every process of the run (xdist workers, about a
    hundred `terrain` subprocesses) would compile the project's modules from source
    again, a quarter of a second of CPU each: the run's processes write them once, into
    the `__pycache__` folders beside the sources that git ignores, as Python does by
    default. (A PYTHONPYCACHEPREFIX folder instead would ignore the compiled files of
    the virtualenv's packages and cost more than it saves.) The controller, before its
    workers start."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def _run_id() -> str:
    run = os.environ.get(RUN_VARIABLE, "")
    if not re.fullmatch(r"\d+_[0-9a-f]+", run):
        start_run()  # a process outside pytest's controller: a run of its own
        run = os.environ[RUN_VARIABLE]
    return run


def _run_folder() -> Path:
    """This run's folder of shared files: the lock, the marker, the SQLite template."""
    folder = Path(scratch_folder() or tempfile.gettempdir()) / f"terrain-run-{_run_id()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


# The run's templates: name -> (SQLite file stem, PostgreSQL database prefix, commands).
# The demo template starts as a copy of the schema template: the migrations run once per
# run, not once per template.
_TEMPLATES = {
    "demo": ("template", "t_tpl_", (["seed-demo"],)),
    "schema": ("schema", "t_tsc_", (["db", "upgrade"],)),
}
_TEMPLATE_BASE = {"demo": "schema"}


def _template_url(folder: Path, kind: str = "demo") -> str:
    stem, prefix, _ = _TEMPLATES[kind]
    base = postgres_url()
    if base is None:
        return f"sqlite:///{folder / f'{stem}.db'}"
    return make_url(base).set(database=f"{prefix}{_run_id()}").render_as_string(hide_password=False)


def terrain_command() -> list[str]:
    """The `terrain` command of this virtualenv."""
    script = Path(sys.executable).parent / "terrain"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "web.cli"]


def terrain_env(database_url: str, instance: str | Path) -> dict[str, str]:
    """The environment of a `terrain` subprocess on `database_url`: the suite's own (its
    test settings included), without what would point it elsewhere."""
    env = {
        **os.environ,
        "TERRAIN_DATABASE_URL": database_url,
        "TERRAIN_INSTANCE_PATH": str(instance),
        "TERRAIN_SECRET_KEY": secrets.token_urlsafe(32),
    }
    for name in ("PORT", "TERRAIN_HOST", "TERRAIN_WORKERS", "TERRAIN_PUBLIC_URL"):
        env.pop(name, None)
    return env


def migrate_and_seed(
    env: dict[str, str], steps: tuple[list[str], ...] = (["db", "upgrade"], ["seed-demo"])
) -> None:
    """`terrain db upgrade`, then `terrain seed-demo` (or `steps`), in `env` (forked from
    the zygote that imported the app once: tests.zygote); a failure fails the test."""
    import pytest

    from tests import zygote

    with tempfile.TemporaryDirectory(prefix="terrain-step-") as folder:
        log = Path(folder) / "output.log"
        for step in steps:
            status = zygote.run(step, env, PROJECT_ROOT, log, timeout=180)
            if status != 0:
                pytest.fail(
                    f"`terrain {' '.join(step)}` failed ({status}):\n"
                    f"{log.read_text(errors='replace')}",
                    pytrace=False,
                )


def _empty_template(url: str, base: str | None = None) -> None:
    """An empty database at `url`, or a copy of the template at `base`: what a failed
    build left is removed first."""
    if postgres_url() is None:
        path = make_url(url).database or ""
        Path(path).unlink(missing_ok=True)
        Path(f"{path}-wal").unlink(missing_ok=True)
        if base is not None:
            source = make_url(base).database or ""
            for suffix in ("", "-wal"):
                if Path(f"{source}{suffix}").exists():
                    shutil.copyfile(f"{source}{suffix}", f"{path}{suffix}")
        return
    name = make_url(url).database
    copy = f' TEMPLATE "{make_url(base).database}"' if base is not None else ""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
            setting, value = ASYNC_COMMIT.split("=")
            connection.execute(text(f'ALTER DATABASE "{name}" SET {setting} TO {value}'))
    finally:
        admin.dispose()


def demo_template() -> str:
    """The URL of this run's template: a copy of schema_template() (`terrain db upgrade`)
    seeded with the demo data by `terrain seed-demo` on the suite's clock, by the first
    process (xdist worker) that needs it, while the others wait; removed by
    remove_run_template() at the end of the run. Never connect to it: copy it."""
    return _run_template("demo")


def schema_template() -> str:
    """The URL of this run's migrated empty database (`terrain db upgrade` only), made and
    removed as demo_template(). Never connect to it: copy it (migrated_database)."""
    return _run_template("schema")


@contextmanager
def migrated_database(tag: str) -> Iterator[str]:
    """A URL to a database of its own at the latest migration and empty, removed
    afterwards: a copy of schema_template() (the migrations run once per run, not once
    per test, which cost seconds each)."""
    with own_database(tag, template=schema_template()) as url:
        yield url


_made_templates: dict[str, str] = {}


def _run_template(kind: str) -> str:
    """The URL of the run's template `kind`, built by the first process that asks (under
    the run's file lock) while the others wait."""
    if kind in _made_templates:
        return _made_templates[kind]
    base = _run_template(_TEMPLATE_BASE[kind]) if kind in _TEMPLATE_BASE else None
    folder = _run_folder()
    url = _template_url(folder, kind)
    stem, _, steps = _TEMPLATES[kind]
    ready = folder / f"{stem}.ready"
    with (folder / f"{stem}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not ready.exists():
            _empty_template(url, base)
            with tempfile.TemporaryDirectory(prefix="terrain-tpl-") as instance:
                migrate_and_seed(terrain_env(url, instance), steps)
            ready.write_text(url)
    _made_templates[kind] = url
    return url


# The workers of a run start (imports, collection: seconds of CPU each) before their first
# test asks for the demo template; one of them then builds it while the other waits, a core
# idle. The controller starts the build at once instead, in a thread running the same
# commands, while the workers start; the first worker to need it waits for what is left.
_early: threading.Thread | None = None


def build_demo_template_early() -> None:
    """Start building the run's demo template in the background (pytest's controller of a
    distributed run)."""
    global _early

    def build() -> None:
        # pytest.fail's Failed included: the worker that needs it tries again, in a test.
        with contextlib.suppress(BaseException):
            _run_template("demo")

    _early = threading.Thread(target=build, name="demo-template", daemon=True)
    _early.start()


def _wait_for_early_build() -> None:
    if _early is not None:
        _early.join()


# --- Templates on a clock of their own -----------------------------------------------------
# A live site on a clock of its own (tests.browser.helpers.live_site(tag, clock_start)) holds
# the demo data seeded on that clock. `terrain seed-demo` takes seconds (more on
# PostgreSQL): it runs once per run and clock, into a template (a copy of schema_template()
# seeded on that clock) that every site on that clock copies, whichever xdist worker it is
# on: the modules of one clock share the seed, each still has a site of its own.
CLOCK_PREFIX = "t_tck_"
_clock_templates: dict[datetime, tuple[str, datetime]] = {}


def clock_template(start: datetime) -> tuple[str, datetime]:
    """The URL of this run's template seeded with the demo data on a clock started at
    `start`, and what that clock read once the seed was done: a site copying it starts
    its clock there, so that nothing it holds comes from its future. Built by the first
    process that asks (under the run's file lock) while the others wait; removed with
    the run (remove_run_template()). Never connect to it: copy it."""
    if start in _clock_templates:
        return _clock_templates[start]
    folder = _run_folder()
    stamp = start.astimezone(UTC).strftime("%Y%m%dt%H%M%S")
    base = postgres_url()
    if base is None:
        url = f"sqlite:///{folder / f'clock-{stamp}.db'}"
    else:
        name = f"{CLOCK_PREFIX}{_run_id()}_{stamp}"
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    ready = folder / f"clock-{stamp}.ready"
    with (folder / f"clock-{stamp}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not ready.exists():
            _empty_template(url, schema_template())
            anchor = datetime.now(UTC)
            with tempfile.TemporaryDirectory(prefix="terrain-tpl-") as instance:
                env = {**terrain_env(url, instance), **clock_env(start, anchor)}
                migrate_and_seed(env, steps=(["seed-demo"],))
            ready.write_text((start + (datetime.now(UTC) - anchor)).isoformat())
    made = (url, datetime.fromisoformat(ready.read_text()))
    _clock_templates[start] = made
    return made


def _drop_run_templates(run: str) -> None:
    """The PostgreSQL template databases of the run `run` (the demo and schema templates,
    clock_template()'s): dropped at once, to wait for one checkpoint together."""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            names = connection.scalars(text("SELECT datname FROM pg_database")).all()
    finally:
        admin.dispose()
    prefixes = (
        *(f"{prefix}{run}" for _, prefix, _ in _TEMPLATES.values()),
        f"{CLOCK_PREFIX}{run}_",
    )
    ours = [name for name in names if name.startswith(prefixes)]
    with ThreadPoolExecutor(max_workers=max(len(ours), 1)) as pool:
        list(pool.map(_drop_database, ours))


def remove_run_template() -> None:
    """Remove this run's shared files and template databases (pytest's controller, once
    its workers are done)."""
    _wait_for_early_build()
    run = os.environ.get(RUN_VARIABLE, "")
    if not run:
        return
    folder = Path(scratch_folder() or tempfile.gettempdir()) / f"terrain-run-{run}"
    if folder.is_dir():
        if postgres_url() is not None:
            _drop_run_templates(run)
        shutil.rmtree(folder, ignore_errors=True)


def close_templates() -> None:
    """Wait for every database this process dropped in the background to be gone (end of
    the session; the run's template goes with the run: remove_run_template())."""
    _made_templates.clear()
    _clock_templates.clear()
    wait_for_drops()


def template_bytecode_cache():
    """Jinja's compiled templates, shared by the suite's processes and kept from one run
    to the next, as Python's `__pycache__` (share_bytecode): each template is compiled
    once, not once per xdist worker and run (a second and a half of CPU each). Jinja
    compiles again a template whose source (or Jinja) changed: it checks both."""
    from jinja2 import FileSystemBytecodeCache

    folder = PROJECT_ROOT / ".jinja-cache"
    folder.mkdir(exist_ok=True)
    return FileSystemBytecodeCache(str(folder))


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page without a csrf-token meta tag"
    return match.group(1)


def text_of(response) -> str:
    """A test client response's body, as text."""
    return response.get_data(as_text=True)


def sms_text(message, key: str = "test-secret") -> str:
    """The text the dispatcher hands the gateway for an outbox row: its masked secrets
    derived again with the application's key (the row holds none in clear)."""
    from notifications.masking import reveal

    return reveal(message.body, message.secret_slots, key)


def staff_member(db, username: str, role, team_code: str, display_name: str = ""):
    """The member of staff `username` with `role` in the team `team_code`: made once
    (password unused: tests log in directly), committed."""
    from core import accounts

    found = accounts.find_user(db, username)
    if found is None:
        found = accounts.create_user(
            db,
            username=username,
            display_name=display_name or username,
            password="unused-password",
            role=role,
            team=accounts.get_team(db, team_code),
            check_password=False,
        )
        db.commit()
    return found


def cpas_admin(db, team_code: str = "bxl-marolles", username: str = "admin-bxl"):
    """An administrator of the CPAS of `team_code` (by default the CPAS de Bruxelles):
    with several CPAS, the demo's `admin` is the platform administrator, who manages no
    team's settings (docs/cpas.md). Made once, committed."""
    from core.roles import Role

    return staff_member(db, username, Role.ADMIN, team_code, f"Admin {team_code}")


def place_team(session, team_code: str = "bxl-marolles") -> int:
    """The id of the team a test's appointments place belongs to (every place has one:
    docs/cpas.md): `team_code` of the demo, else (an empty database) a test antenne of a
    test CPAS, made once."""
    from core import accounts, organisations

    team = accounts.get_team(session, team_code) or accounts.get_team(session, "t-antenne")
    if team is None:
        if organisations.get_cpas(session, "t-cpas") is None:
            organisations.create_cpas(
                session,
                code="t-cpas",
                name_fr="CPAS de Test",
                name_nl="OCMW Test",
                region="brussels",
                language_regime="bilingual",
            )
        team = accounts.create_team(
            session,
            code="t-antenne",
            name="Antenne de test",
            kind="antenne",
            cpas_code="t-cpas",
            city="Bruxelles",
        )
        session.flush()
    return team.id


@contextmanager
def open_today(engine) -> Iterator[None]:
    """The CPAS of the test places' team (`place_team`) open today and tomorrow while in
    the block, closed again after: the suite's clock may fall on a holiday (--clock=dst
    is Easter Sunday 2027), when a desk takes no walk-in, or run into one."""
    from sqlalchemy.orm import Session

    from core import clock, organisations

    with Session(engine) as session:
        cpas_id = organisations.cpas_id_of_team(session, place_team(session))
        assert cpas_id is not None
        today = clock.to_local(clock.now()).date()
        closed = sorted(
            organisations.closed_days(session, cpas_id, today, today + timedelta(days=1))
        )
        for day in closed:
            organisations.set_holiday(session, cpas_id, day, closed=False)
        session.commit()
    try:
        yield
    finally:
        if closed:
            with Session(engine) as session:
                for day in closed:
                    organisations.set_holiday(session, cpas_id, day, closed=True)
                session.commit()
