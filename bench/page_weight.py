"""Page weight of the app shell: what a cold load of /login and of each role's home
transfers, compressed (issue 20's budget: 100 KiB).

Figure: the page's HTML and every file it loads (scripts, style sheets, icons, the icon
sprite, the manifest), each gzip-compressed (level 6, as a reverse proxy would), summed;
HTTP headers not counted. Reference: the 100 KiB budget. Deterministic: no timing.
`python -m bench.page_weight` prints the rows.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
import time
from datetime import date
from pathlib import Path

from core.config import Settings
from core.db import make_engine, make_session_factory
from core.migrations import upgrade

BUDGET = 100 * 1024
# Whose home is measured: one demo user per role.
USERS = {
    "street_educator": "rue1",
    "aide": "aide1",
    "reception": "accueil",
    "social_worker": "as1",
    "coordinator": "coordination",
    "admin": "admin",
}
LOADED = re.compile(
    r'<(?:script|link|img|use)\b[^>]*?\b(?:src|href)="(/[^"#?]*)(?:[#?][^"]*)?"[^>]*>'
)


def _gzip(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6, mtime=0))


def _weigh(client, path: str) -> tuple[int, int, list[str]]:
    """(raw bytes, gzip bytes, files) of `path` and what it loads."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    html = page.get_data()
    files = sorted(set(LOADED.findall(html.decode())))
    raw, packed = len(html), _gzip(html)
    for name in files:
        response = client.get(name)
        assert response.status_code == 200, (name, response.status_code)
        body = response.get_data()
        raw += len(body)
        packed += _gzip(body)
        response.close()
    return raw, packed, files


def _log_in(client, session, username: str) -> None:
    from core import accounts, clock

    user = accounts.find_user(session, username)
    token = accounts.start_login_session(session, user)
    session.commit()
    now = clock.now().timestamp()
    with client.session_transaction() as cookie:
        cookie.update(
            _user_id=str(user.id),
            sid=token,
            _fresh=True,
            login_at=now,
            seen_at=now,
            password_at=user.password_changed_at.timestamp(),
        )


def measure() -> dict[str, tuple[int, int, list[str]]]:
    """{"/login" or role: (raw, gzip, files)} on a freshly seeded demo database."""
    from web import create_app
    from web.demo import seed_all

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session:
            seed_all(session)
            session.commit()
        settings = Settings.from_env(
            {
                "TERRAIN_INSTANCE_PATH": folder,
                "TERRAIN_DATABASE_URL": url,
                "TERRAIN_SECRET_KEY": "bench",
            }
        )
        app = create_app(settings)
        results = {"/login": _weigh(app.test_client(), "/login")}
        for role, username in USERS.items():
            client = app.test_client()
            with factory() as session:
                _log_in(client, session, username)
            results[role] = _weigh(client, "/")
        engine.dispose()
    return results


def run() -> list[str]:
    rows = []
    for name, (raw, packed, files) in measure().items():
        what = "/login" if name == "/login" else f"home (/) of the {name.replace('_', ' ')}"
        scripts = sum(name.endswith(".js") for name in files)
        rows.append(
            f"| page weight, cold load: {what} ({len(files)} files, {scripts} scripts) "
            f"| {packed / 1024:.1f} KiB gzip ({raw / 1024:.1f} KiB raw) "
            f"| budget 100 KiB | {packed / BUDGET:.2f}× | {date.today()} |"
        )
    return rows


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    time.tzset()
    for line in run():
        print(line)
