"""Where a long benchmark is: notes on stderr with the seconds since it (re)started."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()

    def restart(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"{self.name} [{elapsed:5.1f} s]: {message}", file=sys.stderr, flush=True)
