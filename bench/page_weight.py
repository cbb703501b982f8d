"""Page weight of the app shell: what a cold load of /login and of each role's home
transfers, compressed (issue 20's budget: 100 KiB).

Figure: the page's HTML and every file it loads (scripts, style sheets, icons, the icon
sprite, the manifest), each as the app sends it to a browser that accepts gzip (the
app compresses pages and serves its static files precompressed), summed; the raw column
is the same bytes decompressed. HTTP headers not counted. Reference: the 100 KiB
budget. Deterministic: no timing.
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

from bench.demo import demo_app, seeded_demo

BUDGET = 100 * 1024
# Whose home is measured: one demo user per role.
USERS = {
    "street_educator": "rue1",
    "aide": "aide1",
    "reception": "accueil",
    "social_worker": "as1",
    "coordinator": "coordination",
    "admin": "admin",
    "crew": "mobile1",
}
LOADED = re.compile(
    r'<(?:script|link|img|use)\b[^>]*?\b(?:src|href)="(/[^"#?]*)(?:[#?][^"]*)?"[^>]*>'
)


HEADERS = {"Accept-Encoding": "gzip, deflate, br"}


def _sizes(response) -> tuple[int, int, bytes]:
    """(bytes sent, bytes decompressed, decompressed body) of one answer."""
    sent = response.get_data()
    body = gzip.decompress(sent) if response.headers.get("Content-Encoding") == "gzip" else sent
    response.close()
    return len(sent), len(body), body


def _weigh(client, path: str) -> tuple[int, int, list[str]]:
    """(raw bytes, transferred bytes, files) of `path` and what it loads."""
    page = client.get(path, headers=HEADERS)
    assert page.status_code == 200, (path, page.status_code)
    packed, raw, html = _sizes(page)
    files = sorted(set(LOADED.findall(html.decode())))
    for name in files:
        response = client.get(name, headers=HEADERS)
        assert response.status_code == 200, (name, response.status_code)
        sent, size, _body = _sizes(response)
        packed += sent
        raw += size
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

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine, factory = seeded_demo(url)
        app = demo_app(folder, url)
        results = {"/login": _weigh(app.test_client(), "/login")}
        for role, username in USERS.items():
            client = app.test_client()
            with factory() as session:
                _log_in(client, session, username)
            results[role] = _weigh(client, "/")
        # The aide's day (issue 18), as the demo seeds it: her visits of today and the
        # next 2 days (the QR decoder is not in it: it loads on the scan tap only).
        client = app.test_client()
        with factory() as session:
            _log_in(client, session, "aide1")
        results["aide_day"] = _weigh(client, "/aide-a-domicile/ma-journee")
        # The crew's phone (issue 19): the round of today, kept offline like Ma journée.
        client = app.test_client()
        with factory() as session:
            _log_in(client, session, "mobile1")
        results["crew_round"] = _weigh(client, "/tournees/ma-tournee")
        engine.dispose()
    return results


def run() -> list[str]:
    rows = []
    for name, (raw, packed, files) in measure().items():
        what = (
            "/login"
            if name == "/login"
            else "Ma journée of aide1 (demo)"
            if name == "aide_day"
            else "Ma tournée of mobile1 (demo)"
            if name == "crew_round"
            else f"home (/) of the {name.replace('_', ' ')}"
        )
        scripts = sum(name.endswith(".js") for name in files)
        rows.append(
            f"| page weight, cold load: {what} ({len(files)} files, {scripts} scripts) "
            f"| {packed / 1024:.1f} KiB transferred ({raw / 1024:.1f} KiB uncompressed) "
            f"| budget 100 KiB | {packed / BUDGET:.2f}× | {date.today()} |"
        )
    return rows


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    time.tzset()
    for line in run():
        print(line)
