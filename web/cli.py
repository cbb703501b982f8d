"""The `terrain` command: demo, serve, db upgrade, seed-demo, user create, check."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from core.config import Settings


def _settings() -> Settings:
    return Settings.from_env()


def _session_factory(settings: Settings):
    from core.db import import_all_models, make_engine, make_session_factory

    import_all_models()
    return make_session_factory(make_engine(settings.database_url))


@click.group()
def main() -> None:
    """Terrain: field work for CPAS/OCMW."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every Alembic migration not applied yet."""
    from core.migrations import upgrade

    settings = _settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    click.echo("Database schema is up to date.")


@main.command("seed-demo")
def seed_demo() -> None:
    """Load the demo data (idempotent)."""
    from web.demo import seed_all

    settings = _settings()
    with _session_factory(settings)() as session:
        created = seed_all(session)
        session.commit()
    summary = ", ".join(f"{count} {name}" for name, count in created.items())
    click.echo(f"Demo data loaded ({summary} created).")


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("create")
@click.argument("username")
@click.option("--name", "display_name", prompt="Full name", help="Full name shown in Terrain.")
@click.option(
    "--role",
    type=click.Choice(
        ["admin", "coordinator", "social_worker", "reception", "aide", "street_educator"]
    ),
    prompt=True,
)
@click.option("--team", "team_code", default=None, help="Code of the team or antenne.")
@click.option("--language", type=click.Choice(["fr", "nl", "en"]), default=None)
@click.password_option(help="Asked interactively; never pass it on the command line.")
def user_create(
    username: str,
    display_name: str,
    role: str,
    team_code: str | None,
    language: str | None,
    password: str,
) -> None:
    """Create a staff account (the password is asked twice, hidden)."""
    from core import accounts

    settings = _settings()
    with _session_factory(settings)() as session:
        team = None
        if team_code:
            team = accounts.get_team(session, team_code)
            if team is None:
                raise click.BadParameter(f"no team with code {team_code!r}", param_hint="--team")
        try:
            created = accounts.create_user(
                session,
                username=username,
                display_name=display_name,
                password=password,
                role=role,
                team=team,
                language=language,
            )
        except accounts.AccountError as error:
            raise click.ClickException(_account_error_text(error)) from error
        session.commit()
        click.echo(f"Account {created.username} created ({role}).")


def _account_error_text(error: Any) -> str:
    return {
        ("username", "invalid"): "username: use 2-40 lower-case letters, digits, '.', '_' or '-'",
        ("username", "taken"): "username: already used",
        ("password", "too_short"): "password: at least 10 characters",
        ("password", "too_long"): "password: at most 200 characters",
        ("password", "same_as_username"): "password: must differ from the username",
        ("display_name", "invalid"): "name: required, at most 120 characters",
    }.get((error.field, error.code), f"{error.field}: {error.code}")


@main.command()
def check() -> None:
    """Check the configuration and the database (exit 1 when something is wrong)."""
    from sqlalchemy import text

    from core.migrations import alembic_config, current_revision

    settings = _settings()
    problems = []
    try:
        with _session_factory(settings)() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # a check reports every failure, whatever its kind
        problems.append(f"database unreachable ({type(exc).__name__})")
    else:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
        current = current_revision(settings.database_url)
        if current != head:
            problems.append(
                f"database schema at {current}, expected {head}: run `terrain db upgrade`"
            )
    if problems:
        for problem in problems:
            click.echo(f"FAIL {problem}", err=True)
        sys.exit(1)
    click.echo("ok: database reachable, schema up to date")


@main.command()
@click.option(
    "--host", default=None, help="Address to listen on (default TERRAIN_HOST or 127.0.0.1)."
)
@click.option("--port", type=int, default=None, help="Port (default PORT or 8000).")
@click.option(
    "--workers", type=int, default=None, help="Worker processes (default TERRAIN_WORKERS or 2)."
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the web application with gunicorn."""
    settings = _settings()
    _run_gunicorn(host or settings.host, port or settings.port, workers or settings.workers)


@main.command()
@click.option("--port", type=int, default=None, help="Port (default PORT or 8000).")
def demo(port: int | None) -> None:
    """Migrate, load the demo data and serve on 127.0.0.1 (the embedded SQLite database)."""
    from core.migrations import upgrade
    from web.demo import LOGINS, seed_all

    settings = _settings()
    port = port or settings.port
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    with _session_factory(settings)() as session:
        seed_all(session)
        session.commit()
    click.echo("")
    click.echo(f"Terrain is running: http://127.0.0.1:{port}/")
    click.echo("Demo logins (password: demo):")
    for username, description in LOGINS:
        click.echo(f"  {username:<14} {description}")
    click.echo("Stop with Ctrl+C.")
    click.echo("")
    _run_gunicorn("127.0.0.1", port, settings.workers)


def _run_gunicorn(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class TerrainServer(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # Threads keep a slow phone connection from holding a whole worker.
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            if "control_socket_disable" in self.cfg.settings:
                # One shared control socket per user would clash between servers.
                self.cfg.set("control_socket_disable", True)
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("accesslog", "-")
            # No client address and no referrer in the access log: personal data.
            self.cfg.set("access_log_format", '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms')
            self.cfg.set("forwarded_allow_ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))

        def load(self):
            from web import create_app

            return create_app()

    TerrainServer().run()


if __name__ == "__main__":
    main()
