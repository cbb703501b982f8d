"""The `terrain` command on a database of its own."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core import accounts, clock, organisations
from core.audit import AuditEntry
from core.db import make_engine, make_session_factory
from rounds.models import MealOrder
from tests.support import demo_template, fresh_database, migrated_database, own_database
from web.cli import main


def _env(url: str, instance) -> dict[str, str]:
    return {
        "TERRAIN_DATABASE_URL": url,
        "TERRAIN_INSTANCE_PATH": str(instance),
        "TERRAIN_SECRET_KEY": "cli-secret",
    }


@pytest.fixture()
def cli_env(tmp_path):
    with fresh_database("cli") as url:
        yield _env(url, tmp_path)


@pytest.fixture()
def migrated_env(tmp_path):
    """A copy of the run's migrated empty database (what `terrain db upgrade` makes, once
    per run): for the tests of what comes after it."""
    with migrated_database("cli") as url:
        yield _env(url, tmp_path)


@pytest.fixture()
def demo_env(tmp_path):
    """A copy of the run's demo database (migrated and seeded once per run by the same
    commands): for the tests of what comes after `db upgrade` and `seed-demo`."""
    with own_database("cli", template=demo_template()) as url:
        yield _env(url, tmp_path)


def _run(env, *args, input=None):
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_check_fails_before_migrations_and_passes_after(cli_env):
    result = _run(cli_env, "check")
    assert result.exit_code == 1 and "terrain db upgrade" in result.output
    assert _run(cli_env, "db", "upgrade").exit_code == 0
    result = _run(cli_env, "check")
    assert result.exit_code == 0 and result.output.startswith("ok")


def test_seed_demo_twice_creates_everything_once(migrated_env):
    first = _run(migrated_env, "seed-demo")
    assert first.exit_code == 0 and "15 users" in first.output and "3 cpas" in first.output
    second = _run(migrated_env, "seed-demo")
    assert second.exit_code == 0 and "0 users" in second.output
    engine = make_engine(migrated_env["TERRAIN_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        assert accounts.count_users(session) == 18  # core's 15, rounds' mobile-coord and crew
    engine.dispose()


def test_seed_demo_started_before_midnight_is_the_demo_of_that_day(migrated_env, monkeypatch):
    """seed-demo takes seconds: started at 23:59:59 on a Sunday, every domain seeds
    Sunday's demo (the rounds' meal orders of "today" were refused as past after
    midnight). The clock here moves a second at each reading."""
    sunday = datetime(2026, 12, 6, 23, 59, 59, tzinfo=clock.BRUSSELS)
    readings = itertools.count()

    class FastClock(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return clock.as_utc(sunday) + timedelta(seconds=next(readings))

    monkeypatch.setattr(clock, "datetime", FastClock)
    # The command moves the clock from its environment (the suite's --clock otherwise):
    # to Sunday at the fast clock's first reading; the suite's is put back afterwards.
    monkeypatch.setattr(clock, "_offset", clock.offset())
    moved = {"TERRAIN_CLOCK_START": sunday.isoformat(), "TERRAIN_CLOCK_ANCHOR": sunday.isoformat()}
    result = _run({**migrated_env, **moved}, "seed-demo")
    assert result.exit_code == 0, result.output
    monkeypatch.undo()
    engine = make_engine(migrated_env["TERRAIN_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        days = session.scalars(
            select(MealOrder.day).where(MealOrder.weekly_id.is_(None)).distinct()
        ).all()
        assert days == [sunday.date()]
        assert session.scalar(select(func.count(func.distinct(AuditEntry.at)))) == 1
    engine.dispose()


def test_user_create_asks_the_password_twice(demo_env):
    result = _run(
        demo_env,
        "user",
        "create",
        "j.peeters",
        "--name",
        "Jan Peeters",
        "--role",
        "reception",
        "--team",
        "bxl-marolles",
        "--language",
        "nl",
        input="een-lang-wachtwoord\neen-lang-wachtwoord\n",
    )
    assert result.exit_code == 0, result.output
    assert "een-lang-wachtwoord" not in result.output
    engine = make_engine(demo_env["TERRAIN_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        user = accounts.find_user(session, "j.peeters")
        assert (user.role, user.team.code, user.language) == ("reception", "bxl-marolles", "nl")
    engine.dispose()


def test_user_create_refuses_bad_input_clearly(demo_env):
    taken = _run(
        demo_env,
        "user",
        "create",
        "admin",
        "--name",
        "X",
        "--role",
        "admin",
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert taken.exit_code != 0 and "already used" in taken.output
    short = _run(
        demo_env,
        "user",
        "create",
        "newbie",
        "--name",
        "X",
        "--role",
        "aide",
        input="short\nshort\n",
    )
    assert short.exit_code != 0 and "at least 10" in short.output
    team = _run(
        demo_env,
        "user",
        "create",
        "newbie",
        "--name",
        "X",
        "--role",
        "aide",
        "--team",
        "atlantis",
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert team.exit_code != 0 and "atlantis" in team.output


def test_cpas_create_and_list(migrated_env):
    created = _run(
        migrated_env,
        "cpas",
        "create",
        "--code",
        "ottignies",
        "--name-fr",
        "CPAS d'Ottignies-Louvain-la-Neuve",
        "--region",
        "wallonia",
        "--regime",
        "fr",
        "--postcodes",
        "1340, 1341,1348",
        "--communes",
        "Ottignies-Louvain-la-Neuve",
    )
    assert created.exit_code == 0, created.output
    assert "CPAS ottignies created" in created.output
    engine = make_engine(migrated_env["TERRAIN_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        found = organisations.get_cpas(session, "ottignies")
        assert (found.region, found.language_regime, found.homecare_funder) == (
            "wallonia",
            "fr",
            "aviq",
        )
        assert found.postcodes == ["1340", "1341", "1348"]
        assert (found.sms_sender, found.sms_replies) == ("CPAS", False)
    engine.dispose()
    listed = _run(migrated_env, "cpas", "list")
    assert listed.exit_code == 0
    assert "ottignies\tCPAS d'Ottignies-Louvain-la-Neuve\twallonia\tfr\t1340,1341,1348" in (
        listed.output
    )


def test_team_create_puts_the_team_in_its_cpas(migrated_env):
    _run(
        migrated_env,
        "cpas",
        "create",
        "--code",
        "namur",
        "--name-fr",
        "CPAS de Namur",
        "--region",
        "wallonia",
        "--regime",
        "fr",
        "--postcodes",
        "5000",
    )
    base = ["team", "create", "nam-centre", "--name", "Antenne Centre", "--kind", "antenne"]
    unknown = _run(migrated_env, *base, "--cpas", "atlantis")
    assert unknown.exit_code != 0 and "no CPAS with this code" in unknown.output
    created = _run(migrated_env, *base, "--cpas", "namur", "--city", "Namur", "--postcode", "5000")
    assert created.exit_code == 0, created.output
    taken = _run(migrated_env, *base, "--cpas", "namur")
    assert taken.exit_code != 0 and "already used" in taken.output
    engine = make_engine(migrated_env["TERRAIN_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        team = accounts.get_team(session, "nam-centre")
        assert (team.cpas.code, team.kind, team.postcode) == ("namur", "antenne", "5000")
    engine.dispose()
    assert "1 teams" in _run(migrated_env, "cpas", "list").output


def test_cpas_create_refuses_bad_input_clearly(demo_env):
    base = ["cpas", "create", "--name-fr", "X", "--region", "wallonia", "--regime", "fr"]
    taken = _run(demo_env, *base, "--code", "charleroi")
    assert taken.exit_code != 0 and "code: already used" in taken.output
    served = _run(demo_env, *base, "--code", "autre", "--postcodes", "6000")
    assert served.exit_code != 0 and "already served by another CPAS (6000)" in served.output
    bad = _run(demo_env, *base, "--code", "Bad Code!", "--postcodes", "60")
    assert bad.exit_code != 0 and "lower-case" in bad.output and "four digits" in bad.output
    sender = _run(demo_env, *base, "--code", "autre", "--sms-sender", "CPAS de Namur")
    assert sender.exit_code != 0 and "at most 11" in sender.output
    region = _run(demo_env, *base[:4], "--region", "mars", "--regime", "fr", "--code", "x1")
    assert region.exit_code != 0 and "mars" in region.output
    engine = make_engine(demo_env["TERRAIN_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        assert [c.code for c in organisations.list_cpas(session)] == [
            "bruxelles",
            "charleroi",
            "schaerbeek",
        ]
    engine.dispose()


def test_the_access_log_masks_the_token_of_an_sms_link():
    from web.cli import loggable_path

    assert loggable_path("/r/Zx9_secret-token") == "/r/…"
    assert loggable_path("/r/Zx9_secret-token/appointment.ics") == "/r/…/appointment.ics"
    assert loggable_path("/sms/") == "/sms/"


def test_the_access_log_reads_only_what_its_line_prints_and_escapes_it():
    """The logger class `terrain serve` uses: its atoms are the six of its format, no
    header, cookie or environ entry among them, and the line they make carries no raw
    CR, LF, NUL or ESC (the path is percent-decoded: a client chooses its bytes)."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import SafeAtoms

    from web.cli import ACCESS_LOG_FORMAT, _access_logger_class

    config = Config()
    config.set("accesslog", "-")
    logger = _access_logger_class()(config)
    evil = "a\r\nforged\x00\x1b[2J\u2028\\x0a"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/x%0d%0a",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": f"/r/token/{evil}",
        "QUERY_STRING": evil,
        "HTTP_USER_AGENT": evil,
        "HTTP_COOKIE": "session=secret-cookie",
    }
    response = SimpleNamespace(status="404 NOT FOUND", headers=[("X-Echo", evil)], sent=10)
    request = SimpleNamespace(headers=[("COOKIE", "session=secret-cookie")])
    atoms = logger.atoms(response, request, environ, timedelta(seconds=1, milliseconds=3))
    assert set(atoms) == {"t", "m", "U", "s", "b", "M"}
    assert atoms["U"] == "/r/…/a\\x0d\\x0aforged\\x00\\x1b[2J\\u2028\\\\x0a"
    line = ACCESS_LOG_FORMAT % SafeAtoms(atoms)
    assert line.endswith(' "GET /r/…/a\\x0d\\x0aforged\\x00\\x1b[2J\\u2028\\\\x0a" 404 10 1003ms')
    assert not any(char in line for char in "\r\n\x00\x1b\u2028"), line
    assert "secret-cookie" not in line and "token" not in line
    unsent = SimpleNamespace(status=500, headers=[], sent=None)
    assert logger.atoms(unsent, request, environ, timedelta(0))["b"] == "-"
