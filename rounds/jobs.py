"""The periodic job of rounds, run by `terrain scheduler` (core/scheduler.py):
`rounds.announce` tells a public stop's subscribers that the minibus runs late there or
will not come (rounds/live.py `announce_due`), once per change — the notices' unique key
and the outbox keys keep two schedulers from sending twice. Results are counts only.
"""

from __future__ import annotations

from core import clock
from core.db import committed
from core.scheduler import Job, JobContext
from rounds import live


def announce(context: JobContext) -> dict[str, int] | None:
    session = context.session_factory()
    try:
        sent = committed(session, lambda: live.announce_due(session, clock.now()))
    finally:
        session.close()
    return {"sms": sent} if sent else None


JOBS: list[Job] = [Job("rounds.announce", announce, every_seconds=60)]
