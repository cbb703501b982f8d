"""What the real `terrain serve` (gunicorn) writes: no `Server` header in responses, and
an access log whose lines a request cannot forge (CR, LF, NUL in the path escaped)."""

from __future__ import annotations

import socket
import time
import uuid
from urllib.parse import quote, urlsplit

from tests.live.conftest import Live


def _raw_get(live: Live, target: str) -> bytes:
    """GET `target` exactly as written (no client re-encodes it); the whole answer."""
    parts = urlsplit(live.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _log_lines_with(live: Live, marker: str) -> list[str]:
    """The server log's lines holding `marker`, once the access log has written one."""
    deadline = time.monotonic() + 10
    while True:
        lines = [
            line
            for line in live.server.log_path.read_text(errors="replace").splitlines()
            if marker in line
        ]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)  # polling interval while the worker writes its access log line


def test_responses_do_not_name_the_server_software(live: Live):
    for target in ("/healthz", "/login", "/no-such-page"):
        head = _raw_get(live, target).split(b"\r\n\r\n", 1)[0].decode("latin-1")
        names = [line.split(":", 1)[0].lower() for line in head.split("\r\n")[1:]]
        assert "server" not in names, head
        assert "gunicorn" not in head.lower()


def test_control_characters_in_the_path_cannot_forge_an_access_log_line(live: Live):
    marker = uuid.uuid4().hex
    forged = f'127.0.0.1 - - [05/Dec/2026:00:00:00 +0000] "GET /admin{marker}" 200'
    target = f"/x{marker}%0d%0a{quote(forged)}%00%1b[2J%5cx0a"
    answer = _raw_get(live, target)
    assert answer.startswith(b"HTTP/1.1 404"), answer[:200]
    lines = _log_lines_with(live, marker)
    assert len(lines) == 1, lines  # one request, one line: nothing forged after a newline
    line = lines[0]
    assert "\x00" not in line and "\x1b" not in line and "\r" not in line
    assert f"/x{marker}\\x0d\\x0a127.0.0.1" in line
    assert "\\x00\\x1b[2J" in line
    assert "\\\\x0a" in line  # a backslash the client typed is doubled: no look-alike escape
