"""Largest Contentful Paint of /login and each role's home in Lighthouse's mobile profile
(issue 20's goal: LCP ≤ 1.5 s), with the bytes Lighthouse saw transferred.

Lighthouse is not a dependency of the project (npm, run outside the repository):

    npm install --global lighthouse@12    # puts `lighthouse` on the PATH
    CHROME_PATH=/usr/bin/chromium .venv/bin/python -m bench.lcp [--runs 3]

(LIGHTHOUSE names its binary when it is not on the PATH.)

The bench seeds a temporary SQLite database with the demo, starts `terrain serve`
(gunicorn) on a free local port, logs one demo user of each role in over HTTP, and runs
Lighthouse's default mobile profile on each page (simulated slow 4G: 150 ms RTT,
1.6 Mbit/s down; 4× CPU slowdown; Moto G Power viewport) with that user's cookie,
`--runs` times; figure: the median LCP, and FCP. Reference, same run: Lighthouse on a
bare HTML page (a heading and a paragraph, no style sheet, script or image) served by
Python's http.server: what the network model alone costs, so a loaded machine shows in
the reference too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import date
from http.cookiejar import CookieJar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.page_weight import USERS

CHROME_FLAGS = "--headless=new --no-sandbox"


BARE = (
    b"<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
    b"<meta name='viewport' content='width=device-width, initial-scale=1'>"
    b"<title>Terrain</title></head><body><h1>Terrain</h1>"
    b"<p>Le travail de terrain du CPAS, m\xc3\xaame hors connexion.</p></body></html>"
)


class _Bare(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(BARE)))
        self.end_headers()
        self.wfile.write(BARE)

    def log_message(self, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cookie(base: str, username: str) -> str:
    """The session cookie of `username` logged in through /login."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no CSRF token on /login"
    form = {"csrf_token": token.group(1), "username": username, "password": "demo"}
    opener.open(f"{base}/login", urllib.parse.urlencode(form).encode()).read()
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def _lighthouse(url: str, cookie: str | None) -> dict[str, float]:
    binary = os.environ.get("LIGHTHOUSE", "lighthouse")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [
            binary,
            url,
            "--quiet",
            f"--chrome-flags={CHROME_FLAGS}",
            "--only-categories=performance",
            "--output=json",
            f"--output-path={report}",
        ]
        if cookie:
            command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        subprocess.run(command, check=True, timeout=300)  # noqa: S603 - our own command
        audits = json.loads(report.read_text())["audits"]
    return {
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "bytes": audits["total-byte-weight"]["numericValue"],
        "requests": len(audits["network-requests"]["details"]["items"]),
    }


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def run(runs: int = 3) -> list[str]:
    pages = {"login": ("/login", None), **{role: ("/", user) for role, user in USERS.items()}}
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        env = {
            **os.environ,
            "TERRAIN_INSTANCE_PATH": folder,
            "TERRAIN_DATABASE_URL": f"sqlite:///{Path(folder) / 'terrain.db'}",
            "PORT": str(port),
        }
        terrain = [str(Path(sys.executable).with_name("terrain"))]
        subprocess.run([*terrain, "db", "upgrade"], env=env, check=True)  # noqa: S603
        subprocess.run([*terrain, "seed-demo"], env=env, check=True, capture_output=True)  # noqa: S603
        server = subprocess.Popen([*terrain, "serve"], env=env)  # noqa: S603
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/healthz").read()  # noqa: S310 - local
                    break
                except OSError:
                    time.sleep(0.2)
            bare = ThreadingHTTPServer(("127.0.0.1", 0), _Bare)
            threading.Thread(target=bare.serve_forever, daemon=True).start()
            reference = [
                _lighthouse(f"http://127.0.0.1:{bare.server_port}/", None) for _ in range(runs)
            ]
            bare.shutdown()
            figures = {}
            for name, (path, user) in pages.items():
                figures[name] = [
                    _lighthouse(base + path, _cookie(base, user) if user else None)
                    for _ in range(runs)
                ]
        finally:
            server.terminate()
            server.wait(timeout=30)
    load = os.getloadavg()[0]
    ref = _median(reference, "lcp")
    rows = []
    for name, measured in figures.items():
        lcp = _median(measured, "lcp")
        spread = ", ".join(f"{run['lcp'] / 1000:.2f}" for run in measured)
        what = "/login" if name == "login" else f"home (/) of {USERS[name]} ({name})"
        rows.append(
            f"| LCP, Lighthouse mobile: {what} | LCP {lcp / 1000:.2f} s (runs {spread}), "
            f"FCP {_median(measured, 'fcp') / 1000:.2f} s; {_median(measured, 'bytes') / 1024:.1f} "
            f"KiB in {_median(measured, 'requests'):.0f} requests "
            f"| bare HTML page (no CSS, script or image): LCP {ref / 1000:.2f} s "
            f"| {lcp / ref:.2f}× (goal: LCP ≤ 1.5 s) | {date.today()}, load {load:.1f} |"
        )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    for row in run(parser.parse_args().runs):
        print(row, flush=True)
