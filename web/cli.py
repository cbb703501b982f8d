"""The `terrain` command: demo, serve, scheduler, sms dispatch, db upgrade, seed-demo,
user create, team create, cpas create/list, check."""

from __future__ import annotations

import atexit
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from typing import Any

import click

from core.config import Settings


def _settings() -> Settings:
    return Settings.from_env()


def _session_factory(settings: Settings):
    from core.db import make_engine, make_session_factory

    return make_session_factory(make_engine(settings.database_url))


@click.group()
def main() -> None:
    """Terrain: field work for CPAS/OCMW."""
    from core import testmode
    from web.domains import install

    # Before any command: gunicorn's workers and the scheduler inherit a moved clock.
    testmode.apply()
    # Every command sees every domain: tables, jobs, what they register.
    install()


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


@main.command("assets")
def build_assets() -> None:
    """Build the static files: minified, content-hashed, precompressed (.static-build/)."""
    from web.assets import BUILD_DIR, build

    manifest = build()
    click.echo(f"{len(manifest.names)} static files built in {BUILD_DIR}.")


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
        [
            "admin",
            "coordinator",
            "social_worker",
            "reception",
            "aide",
            "street_educator",
            "crew",
        ]
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


@main.group()
def team() -> None:
    """Teams and antennes, each in one CPAS."""


@team.command("create")
@click.argument("code")
@click.option("--name", required=True, help="Name in French.")
@click.option("--name-nl", default="", help="Name in Dutch, when it differs.")
@click.option(
    "--kind", type=click.Choice(["antenne", "home_care", "street", "mobile"]), required=True
)
@click.option("--cpas", "cpas_code", required=True, help="Code of its CPAS (terrain cpas list).")
@click.option("--city", default="", help="Town of its office.")
@click.option("--postcode", default="")
@click.option("--address", default="")
def team_create(
    code: str,
    name: str,
    name_nl: str,
    kind: str,
    cpas_code: str,
    city: str,
    postcode: str,
    address: str,
) -> None:
    """Add a team or antenne to a CPAS."""
    from core import accounts

    settings = _settings()
    with _session_factory(settings)() as session:
        try:
            created = accounts.create_team(
                session,
                code=code,
                name=name,
                name_nl=name_nl,
                kind=kind,
                cpas_code=cpas_code,
                city=city,
                postcode=postcode,
                address=address,
            )
        except accounts.AccountError as error:
            raise click.ClickException(_account_error_text(error)) from error
        session.commit()
        click.echo(f"Team {created.code} created in CPAS {cpas_code}.")


def _account_error_text(error: Any) -> str:
    return {
        ("username", "invalid"): "username: use 2-40 lower-case letters, digits, '.', '_' or '-'",
        ("username", "taken"): "username: already used",
        ("password", "too_short"): "password: at least 10 characters",
        ("password", "too_long"): "password: at most 200 characters",
        ("password", "same_as_username"): "password: must differ from the username",
        ("display_name", "invalid"): "name: required, at most 120 characters",
        ("code", "invalid"): "code: use 2-40 lower-case letters, digits or '-'",
        ("code", "taken"): "code: already used",
        ("cpas", "unknown"): "cpas: no CPAS with this code (see terrain cpas list)",
        ("name", "invalid"): "name: required, at most 120 characters",
        ("kind", "unknown"): "kind: antenne, home_care, street or mobile",
    }.get((error.field, error.code), f"{error.field}: {error.code}")


@main.group()
def cpas() -> None:
    """The CPAS this installation serves."""


@cpas.command("create")
@click.option("--code", required=True, help="Short code used in addresses (e.g. charleroi).")
@click.option("--name-fr", required=True, help='Name in French ("CPAS de Charleroi").')
@click.option("--name-nl", default="", help='Name in Dutch ("OCMW van Charleroi").')
@click.option("--region", type=click.Choice(["brussels", "wallonia", "flanders"]), required=True)
@click.option("--regime", type=click.Choice(["fr", "nl", "bilingual"]), required=True)
@click.option("--postcodes", default="", help="Postcodes served, comma-separated.")
@click.option("--communes", default="", help="Communes served, comma-separated.")
@click.option(
    "--funder",
    type=click.Choice(["iriscare", "aviq", "vaph"]),
    default=None,
    help="Home-care funder (default: the region's).",
)
@click.option("--sms-sender", default="CPAS", help="SMS sender: a name (11 characters) or +32….")
@click.option("--sms-replies/--no-sms-replies", default=False, help="The sender gets replies.")
@click.option("--phone", default="", help="Public phone number.")
@click.option("--email", default="", help="Public email address.")
@click.option("--address", default="", help="Public address.")
def cpas_create(
    code: str,
    name_fr: str,
    name_nl: str,
    region: str,
    regime: str,
    postcodes: str,
    communes: str,
    funder: str | None,
    sms_sender: str,
    sms_replies: bool,
    phone: str,
    email: str,
    address: str,
) -> None:
    """Add a CPAS (its teams are created afterwards, each in one CPAS)."""
    from core import organisations
    from core.errors import Invalid

    settings = _settings()
    with _session_factory(settings)() as session:
        try:
            created = organisations.create_cpas(
                session,
                code=code,
                name_fr=name_fr,
                name_nl=name_nl,
                region=region,
                language_regime=regime,
                postcodes=postcodes.split(","),
                communes=communes.split(","),
                homecare_funder=funder,
                sms_sender=sms_sender,
                sms_replies=sms_replies,
                phone=phone,
                email=email,
                address=address,
            )
        except Invalid as invalid:
            raise click.ClickException(
                "; ".join(
                    f"{field}: {_CPAS_ERRORS.get(error.code, error.code)}"
                    + (f" ({error.params['postcode']})" if "postcode" in error.params else "")
                    for field, error in invalid.errors.items()
                )
            ) from invalid
        session.commit()
        click.echo(f"CPAS {created.code} created ({created.name_fr}).")


_CPAS_ERRORS = {
    "invalid_code": "use 2-40 lower-case letters, digits or '-'",
    "code_taken": "already used",
    "required": "required",
    "too_long": "too long",
    "unknown_choice": "unknown choice",
    "invalid_postcode": "four digits each",
    "postcode_taken": "already served by another CPAS",
    "postcode_conflict": "another CPAS has just taken one of them",
    "commune_taken": "already served by another CPAS",
    "invalid_commune": "a commune's name of at most 80 characters",
    "too_many": "too many (60 at most)",
    "invalid_sender": "a name of at most 11 letters or digits, or a number +32…",
}


@cpas.command("list")
def cpas_list() -> None:
    """List the CPAS with their region, regime, postcodes and number of teams."""
    from core import organisations

    settings = _settings()
    with _session_factory(settings)() as session:
        for found in organisations.list_cpas(session):
            click.echo(
                "\t".join(
                    [
                        found.code,
                        found.name_fr,
                        found.region,
                        found.language_regime,
                        ",".join(found.postcodes or []),
                        f"{organisations.count_teams(session, found.id)} teams",
                        f"sms {found.sms_sender}" + (" (replies)" if found.sms_replies else ""),
                    ]
                )
            )


@main.group()
def services() -> None:
    """Appointment services shared by several CPAS (docs/cpas.md, "Shared services")."""


_SHARING_ERRORS = {
    "unknown_choice": "unknown (see terrain cpas list / terrain services shared)",
    "used_by_other_cpas": "places of another CPAS use it: split it instead",
    "no_cpas_uses_it": "no CPAS's place uses it: give it a CPAS instead",
    "code_taken": "no free code for a copy",
}


def _shared_service(session: Any, code: str) -> Any:
    """The shared service with this code, else a clear error."""
    from sqlalchemy import select

    from appointments.models import Service

    found = session.scalar(select(Service).where(Service.code == code.strip()))
    if found is None or found.cpas_id is not None:
        raise click.ClickException(f"{code}: no shared service with this code")
    return found


def _sharing_error(invalid: Any) -> click.ClickException:
    return click.ClickException(
        "; ".join(
            f"{field}: {_SHARING_ERRORS.get(error.code, error.code)}"
            for field, error in invalid.errors.items()
        )
    )


@services.command("shared")
def services_shared() -> None:
    """List the services of no CPAS and the CPAS whose places use each."""
    from appointments import sharing

    with _session_factory(_settings())() as session:
        page = sharing.shared_services(session, None)
        assert page is not None  # the command line may
        for item in page.services:
            users = ",".join(cpas.code for cpas in item.cpas) or "-"
            click.echo(f"{item.service.code}\t{item.service.name_fr}\t{users}")


@services.command("give")
@click.argument("code")
@click.option("--cpas", "cpas_code", required=True, help="The CPAS it becomes (its code).")
def services_give(code: str, cpas_code: str) -> None:
    """Make the shared service CODE one CPAS's (only its places may use it)."""
    from appointments import sharing
    from core.errors import Invalid

    with _session_factory(_settings())() as session:
        service = _shared_service(session, code)
        try:
            sharing.give_cpas(session, service, cpas_code, actor=None)
        except Invalid as invalid:
            raise _sharing_error(invalid) from invalid
        session.commit()
        click.echo(f"{code}: now {cpas_code.strip().lower()}'s.")


@services.command("split")
@click.argument("code")
def services_split(code: str) -> None:
    """Split the shared service CODE into one service per CPAS using it."""
    from appointments import sharing
    from core.errors import Invalid
    from core.organisations import Cpas

    with _session_factory(_settings())() as session:
        service = _shared_service(session, code)
        try:
            made = sharing.split_service(session, service, actor=None)
        except Invalid as invalid:
            raise _sharing_error(invalid) from invalid
        lines = [f"{copy.code}\t{session.get(Cpas, copy.cpas_id).code}" for copy in made]
        session.commit()
        click.echo(f"{code}: split into {len(made)} services:")
        for line in lines:
            click.echo(line)


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
    """Migrate, load the demo data, start the scheduler and serve on 127.0.0.1.

    The database is the embedded SQLite one. `terrain scheduler` runs as a child
    process (it sends the outbox's SMS through the console gateway, so the "SMS"
    pages show every message) and is stopped with the server (Ctrl+C).
    """
    from core.migrations import upgrade
    from web.demo import LOGINS, seed_all

    settings = _settings()
    port = port or settings.port
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    with _session_factory(settings)() as session:
        seed_all(session)
        session.commit()
    _start_scheduler_child()
    click.echo("")
    click.echo(f"Terrain is running: http://127.0.0.1:{port}/")
    click.echo("Demo logins (password: demo):")
    for username, description in LOGINS:
        click.echo(f"  {username:<16} {description}")
    click.echo("Stop with Ctrl+C.")
    click.echo("")
    _run_gunicorn("127.0.0.1", port, settings.workers)


def _start_scheduler_child() -> subprocess.Popen:
    """`terrain scheduler` beside the demo's server, stopped when the demo stops: at exit
    (gunicorn's master exits through sys.exit on SIGINT / SIGTERM), on SIGHUP before
    gunicorn takes the signals over, and by itself when its parent disappears."""
    child = subprocess.Popen([sys.executable, "-m", "web.cli", "scheduler", "--exit-with-parent"])
    owner = os.getpid()

    def stop_child() -> None:
        # gunicorn's workers are forks of this process and run atexit handlers too.
        if os.getpid() != owner or child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()

    atexit.register(stop_child)

    def on_signal(signum: int, _frame: Any) -> None:
        stop_child()
        sys.exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    return child


@main.command()
@click.option("--exit-with-parent", is_flag=True, hidden=True)
def scheduler(exit_with_parent: bool) -> None:
    """Run the periodic jobs (SMS dispatch, reminders, clean-up) until stopped.

    One process, never inside the web workers; SIGTERM or Ctrl+C stop it cleanly.
    Starting two by mistake sends nothing twice.
    """
    from core.scheduler import JobContext, load_jobs, run

    settings = _settings()
    _configure_logging(settings)
    jobs = load_jobs()
    context = JobContext(
        session_factory=_session_factory(settings),
        settings=settings,
        gateway=_gateway(settings),
    )
    clean = run(context, jobs, exit_with_parent=exit_with_parent)
    if not clean:
        os._exit(1)  # a job thread that will not end must not keep the process alive


@main.group()
def sms() -> None:
    """SMS: the outbox."""


@sms.command("dispatch")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option(
    "--worker", default=None, help="Name recorded on the messages it claims (default host:pid)."
)
@click.option(
    "--interval",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds between two looks at the outbox (without --once).",
)
def sms_dispatch(once: bool, worker: str | None, interval: float) -> None:
    """Send the outbox's due messages through TERRAIN_SMS_GATEWAY.

    Without --once it keeps looking every --interval seconds until SIGTERM or Ctrl+C:
    an extra dispatcher beside the scheduler's. Any number may run at once, on any
    machine: each message is sent once.
    """
    from notifications.dispatch import DispatchReport, dispatch_due, worker_name
    from notifications.jobs import status_callback

    settings = _settings()
    _configure_logging(settings)
    sessions = _session_factory(settings)
    gateway = _gateway(settings)()
    worker = worker or worker_name()
    callback = status_callback(settings, gateway)
    stopping = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stopping.set())
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    click.echo(f"dispatcher {worker} ready ({gateway.name} gateway)")
    total = DispatchReport()
    try:
        while not stopping.is_set():
            report = dispatch_due(
                sessions,
                gateway,
                status_callback_url=callback,
                worker=worker,
                stop=stopping.is_set,
                secret_key=settings.secret_key,
            )
            for name in ("claimed", "sent", "retried", "failed", "dropped", "released"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if once:
                break
            stopping.wait(interval)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    click.echo(
        f"dispatcher {worker}: {total.sent} sent, {total.retried} to retry, "
        f"{total.failed} failed, {total.dropped} dropped as stale"
    )


def _gateway(settings: Settings):
    """The configured SMS gateway, made once (a configuration error stops here)."""
    from core.scheduler import shared
    from notifications.gateways import make_gateway

    try:
        made = make_gateway(settings)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    return shared(lambda: made)


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


# Paths that carry a secret (the token of the link in a confirmation SMS): the access
# log shows them masked, so whoever reads the logs cannot open the appointment.
SECRET_PATH = re.compile(r"^/r/[^/]+")


def loggable_path(path: str) -> str:
    return SECRET_PATH.sub("/r/…", path)


# Control characters (CR, LF, NUL, ESC…), and the Unicode line breaks, that a request
# can carry into the access log (its path is percent-decoded): written raw they would
# forge log lines or move the terminal's cursor.
_CONTROL = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"  # doubled, so an escape the client typed itself reads differently
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def log_safe(value: object) -> object:
    """A log atom with its control characters and backslashes escaped, \\x0d style."""
    return _CONTROL.sub(_escape_control, value) if isinstance(value, str) else value


# No client address, no query and no referrer in the access log: personal data.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def _access_logger_class() -> type:
    from gunicorn.glogging import Logger

    class AccessLogger(Logger):
        def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
            """The atoms ACCESS_LOG_FORMAT names, and no other: gunicorn's own atoms hold
            a copy of every request and response header and of the whole environ (the
            session cookie among them), built on every request for a line of six."""
            status = resp.status
            sent = getattr(resp, "sent", None)
            return {
                "t": self.now(),
                "m": log_safe(environ.get("REQUEST_METHOD", "-")),
                "U": log_safe(loggable_path(environ.get("PATH_INFO", ""))),
                "s": status.split(None, 1)[0] if isinstance(status, str) else status,
                "b": "-" if sent is None else str(sent),
                "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            }

    return AccessLogger


def _drop_server_header() -> None:
    """No `Server: gunicorn` in responses: it tells a scanner which server to attack.

    gunicorn (checked with 27.0.1) writes it in `Response.default_headers` with no
    setting to turn it off, so the line is dropped from what that method returns."""
    from gunicorn.http import wsgi

    original = wsgi.Response.default_headers
    if getattr(original, "terrain_without_server", False):
        return

    def default_headers(self):  # type: ignore[no-untyped-def]
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.terrain_without_server = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers  # type: ignore[method-assign]


def _forget_inherited_connections(server: Any, _worker: Any) -> None:
    """A forked worker drops the pool it inherited from the master (connections opened
    while the app was built): two processes must never share one connection."""
    app = getattr(server.app, "callable", None)
    engine = app.extensions.get("terrain_engine") if app is not None else None
    if engine is not None:
        engine.dispose(close=False)


def _run_gunicorn(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    _drop_server_header()

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
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            self.cfg.set("logger_class", _access_logger_class())
            self.cfg.set("forwarded_allow_ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))
            # The app is built once, in the master, and the workers are forks of it: a
            # worker (and one restarted after a crash) is ready at once instead of
            # spending about a second of CPU on create_app() each.
            self.cfg.set("preload_app", True)
            self.cfg.set("post_fork", _forget_inherited_connections)

        def load(self):
            from web import create_app

            return create_app()

    TerrainServer().run()


if __name__ == "__main__":
    main()
