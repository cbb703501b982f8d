"""Live tests: HTTP clients (no browser) against the real server, run in every `pytest`.

One live site for the session (per xdist worker): a copy of the template that `terrain
db upgrade` and `terrain seed-demo` built (`tests.support.demo_template`; SQLite file
copy, or a PostgreSQL database of its own with TEST_DATABASE_URL), served by `terrain
serve` (gunicorn, two workers of four threads) on a free port. A test may kill the
server and start it again on the same database (`Live.crash_and_restart`); every test
makes its ops with fresh uuids, so the tests never depend on each other's records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.db import make_engine
from tests.browser.helpers import LiveServer, LiveSite, live_site
from tests.live.phone import Phone

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.live)


@dataclass
class Live:
    site: LiveSite
    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url

    def kill(self) -> None:
        """SIGKILL the whole gunicorn process group (master and workers)."""
        self.server.kill()

    def restart(self) -> None:
        """Serve the same database and instance folder again, on the same port."""
        self.server.kill()
        self.server = self.site.start(port=self.server.port)

    def phone(self, username: str) -> Phone:
        phone = Phone(self.url)
        phone.login(username)
        return phone


@pytest.fixture(scope="session")
def live() -> Iterator[Live]:
    with live_site("live") as site:
        holder = Live(site=site, server=site.start())
        try:
            yield holder
        finally:
            holder.server.stop()


@pytest.fixture(scope="session")
def database(live: Live) -> Iterator[Engine]:
    """The live server's database, read directly by the tests."""
    engine = make_engine(live.site.database_url)
    yield engine
    engine.dispose()
