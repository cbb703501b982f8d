"""Fixtures: a migrated database (SQLite, or PostgreSQL with TEST_DATABASE_URL) holding
the demo data; each test runs inside a transaction that is rolled back afterwards."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import make_engine
from core.demo import DEMO_PASSWORD
from tests.support import (
    CLOCK_MODES,
    CSRF_META,
    build_demo_template_early,
    clock_env,
    clock_start,
    close_templates,
    demo_template,
    own_database,
    remove_run_template,
    share_bytecode,
    start_run,
    template_bytecode_cache,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        default=os.environ.get("TEST_CLOCK") or "real",
        help=(
            f"run the whole suite on a clock moved to: {', '.join(CLOCK_MODES)} or an ISO "
            "instant with its offset (default: TEST_CLOCK, else real); see tests/support.py"
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    """The suite's test settings, in this process and, through the environment, in every
    `terrain` subprocess (and xdist worker) started afterwards."""
    from core import testmode

    os.environ["TERRAIN_TESTING"] = "1"
    if not hasattr(config, "workerinput"):  # the controller (or the only process)
        start_run()  # names the run's template, which its workers share
        share_bytecode()
    # argon2id at its smallest cost: logins and seeds by the thousand (never the default).
    os.environ["TERRAIN_CHEAP_PASSWORD_HASHING"] = "1"
    # xdist's workers inherit the controller's clock: one moved clock for the whole run.
    if not os.environ.get("TERRAIN_CLOCK_START"):
        start = clock_start(config.getoption("--clock"), datetime.now(UTC))
        if start is not None:
            os.environ.update(clock_env(start))
    testmode.apply()
    # Every domain in core's registries (tables, op types, jobs, SMS kinds), as in the app.
    from web.domains import install

    install()
    if _distributed(config) and not hasattr(config, "workerinput"):
        build_demo_template_early()
    # pytest-xdist sorts the files by their number of tests unless told not to: the long
    # files of one or two tests (live processes, browser) would start last.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def _distributed(config: pytest.Config) -> bool:
    """A run on xdist's workers that may need the demo template (not only unit tests)."""
    if config.getoption("collectonly") or config.getoption("dist", "no") == "no":
        return False
    if not config.getoption("tx", None):
        return False
    unit = Path(__file__).resolve().parent / "unit"
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return not paths or not all(path.is_relative_to(unit) for path in paths)


# The longest test files, longest first (measured with `--durations`, in a run of the
# whole suite on PostgreSQL): pytest-xdist keeps a file on one worker (--dist loadfile)
# and hands the files out in this order, so the long ones start early and the short ones
# fill the gaps at the end; one long file started last would leave the other worker idle.
# (xdist would sort the files by their number of tests instead: see pytest_configure.)
LONGEST_FIRST = (
    "browser/test_sync.py",
    "browser/test_outreach_phone.py",
    "browser/test_outreach_files.py",
    "browser/test_sms.py",
    "live/test_sms_dispatchers.py",
    "browser/test_appointments_setup.py",
    "web/test_extreme_input.py",
    "web/test_permissions.py",
    "browser/test_appointments_public.py",
    "browser/test_rounds_edits.py",
    "browser/test_homecare_records.py",
    "browser/test_homecare_board.py",
    "browser/test_homecare_phone.py",
    "live/test_sms_schedulers.py",
    "browser/test_pwa.py",
    "db/test_appointment_slots_properties.py",
    "browser/test_outreach_reports.py",
    "browser/test_rounds_more.py",
    "browser/test_homecare_live.py",
    "browser/test_rounds_follow.py",
    "browser/test_appointments_desk.py",
    "browser/test_rounds_stops.py",
    "browser/test_homecare_open.py",
    "browser/test_homecare_redraw.py",
    "browser/test_layout.py",
)


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # once every worker is done
        remove_run_template()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent

    def rank(item: pytest.Item) -> int:
        path = item.path.relative_to(here).as_posix() if item.path.is_relative_to(here) else ""
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file, and of the others, stays


def pytest_report_header(config: pytest.Config) -> str:
    from core import clock

    return f"terrain clock: {clock.now().astimezone(clock.BRUSSELS).isoformat()} (Brussels)"


@pytest.fixture(scope="session", autouse=True)
def _templates() -> Iterator[None]:
    """The templates this process built (tests.support.demo_template) go at the end."""
    yield
    close_templates()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database of this session's (of this xdist worker's) own: a copy of the demo
    template, migrated and seeded by `terrain db upgrade` and `terrain seed-demo`."""
    with own_database("suite", template=demo_template()) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


def session_on(connection: Connection) -> Session:
    """A session on `connection` whose commits are savepoints (its outer transaction is
    rolled back at the end): the `db` fixture's, and the app's of make_app()."""
    return Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture()
def db(connection: Connection) -> Iterator[Session]:
    session = session_on(connection)
    yield session
    session.close()


@pytest.fixture()
def sessions(connection: Connection) -> Callable[[], Session]:
    """New sessions on the test's connection, as a job or a dispatcher opens them; their
    commits are savepoints of the test's transaction."""
    return lambda: session_on(connection)


# The optimiser's iterations per search in the tests that plan (capped_search): what they
# check holds from the solver's first descent on (they pass with a single iteration); a
# capped search ends in a fraction of its seconds and gives the same plan whatever the
# machine's load (core.routing.SEARCH_ITERATIONS).
SEARCH_ITERATIONS = 100


@pytest.fixture()
def capped_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every search of the optimiser in this test stops after SEARCH_ITERATIONS iterations
    (or its seconds, whichever comes first)."""
    from core import routing

    monkeypatch.setattr(routing, "SEARCH_ITERATIONS", SEARCH_ITERATIONS)


@pytest.fixture()
def empty_outbox(db: Session) -> None:
    """The demo's waiting SMS set aside, so a dispatch sends only the test's own."""
    from sqlalchemy import update

    from notifications.models import Message

    db.execute(
        update(Message)
        .where(Message.status.in_(("pending", "sending")))
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    db.commit()


def make_app(connection: Connection, database_url: str, tmp_path: Path, **env: str) -> Flask:
    """The app on the test's connection; `env` adds settings (TWILIO_AUTH_TOKEN…)."""
    from web import create_app

    settings = Settings.from_env(
        {
            "TERRAIN_INSTANCE_PATH": str(tmp_path),
            "TERRAIN_DATABASE_URL": database_url,
            "TERRAIN_SECRET_KEY": "test-secret",
            **env,
        }
    )
    app = create_app(
        settings,
        TESTING=True,
        TERRAIN_SESSION_FACTORY=lambda: session_on(connection),
        TERRAIN_ENGINE=connection.engine,
    )
    app.jinja_env.bytecode_cache = template_bytecode_cache()
    return app


class _TestConnection:
    """The connection of the test under way, which the session's app serves."""

    current: Connection | None = None

    @classmethod
    def session(cls) -> Session:
        assert cls.current is not None, "the session's app used outside a test's `app`"
        return session_on(cls.current)


@pytest.fixture(scope="session")
def _session_app(engine: Engine, database_url: str, tmp_path_factory) -> Flask:
    """One app for the session (building one takes a good part of a second): each test's
    `app` points it at the test's connection and gives it its first config back."""
    from web import create_app

    settings = Settings.from_env(
        {
            "TERRAIN_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
            "TERRAIN_DATABASE_URL": database_url,
            "TERRAIN_SECRET_KEY": "test-secret",
        }
    )
    app = create_app(
        settings,
        TESTING=True,
        TERRAIN_SESSION_FACTORY=_TestConnection.session,
        TERRAIN_ENGINE=engine,
    )
    app.jinja_env.bytecode_cache = template_bytecode_cache()
    app.extensions["terrain_test_config"] = dict(app.config)
    return app


@pytest.fixture()
def app(connection: Connection, _session_app: Flask) -> Iterator[Flask]:
    """The app on the test's connection (the session's app; see make_app for one with
    settings of its own)."""
    config = _session_app.extensions["terrain_test_config"]
    _session_app.config.clear()
    _session_app.config.update(config)
    _TestConnection.current = connection
    try:
        yield _session_app
    finally:
        _TestConnection.current = None


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Browser:
    """A test client that behaves like a user's browser: it sends the CSRF token."""

    def __init__(self, client: FlaskClient):
        self.client = client
        self.token = ""

    def get(self, path: str, **kwargs):
        response = self.client.get(path, **kwargs)
        if response.mimetype == "text/html":
            found = CSRF_META.search(response.get_data(as_text=True))
            self.token = found.group(1) if found else self.token
        return response

    def post(self, path: str, data: dict | None = None, **kwargs):
        if not self.token:
            self.get("/login")
        payload = {"csrf_token": self.token, **(data or {})}
        return self.client.post(path, data=payload, **kwargs)

    def login(self, username: str, password: str = DEMO_PASSWORD):
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self.get("/")
        return response


@pytest.fixture()
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


DEMO_USER_FOR_ROLE = {
    "admin": "admin",
    "coordinator": "coordination",
    "social_worker": "as1",
    "reception": "accueil",
    "aide": "aide1",
    "street_educator": "rue1",
    "crew": "mobile1",
}


def log_in_directly(client: FlaskClient, db: Session, username: str) -> str:
    """Put a logged-in session in the client's cookie without the password round trip;
    returns the login session's token (the cookie's `sid`)."""
    from core import accounts, clock

    user = accounts.find_user(db, username)
    assert user is not None
    token = accounts.start_login_session(db, user)
    db.commit()
    now = clock.now().timestamp()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["sid"] = token
        session["_fresh"] = True
        session["login_at"] = now
        session["seen_at"] = now
        session["password_at"] = user.password_changed_at.timestamp()
    return token


@pytest.fixture()
def login(app: Flask, db: Session) -> Callable[[str], Browser]:
    """`login(username)`: a Browser of its own, logged in directly as that user, whose
    language is switched to English first (so the assertions read the msgids)."""
    from core import accounts

    def login_as(username: str) -> Browser:
        user = accounts.find_user(db, username)
        user.language = "en"
        db.flush()
        browser = Browser(app.test_client())
        log_in_directly(browser.client, db, username)
        browser.get("/")
        return browser

    return login_as
