"""The periodic jobs of rounds, run by `terrain scheduler` (core/scheduler.py):

- `rounds.announce` tells a public stop's subscribers that the minibus runs late there or
  will not come (rounds/live.py `announce_due`), once per change — the notices' unique
  key and the outbox keys keep two schedulers from sending twice.
- `rounds.meal_orders` makes the coming days' dated meal orders of every mobile team's
  weekly orders (rounds/meals.py `make_due_orders`). It runs every hour rather than at a
  clock time (the scheduler's triggers are intervals): each run after the first of a day
  finds the orders made and makes nothing, and a scheduler restarted in the morning still
  makes them before the kitchen's cut-off. Idempotent under the team's row lock and the
  unique (weekly order, day eaten) key, so two schedulers make each order once.

Results are counts only.
"""

from __future__ import annotations

from core import clock
from core.db import committed
from core.scheduler import Job, JobContext
from rounds import live, meals

HOUR = 3600


def announce(context: JobContext) -> dict[str, int] | None:
    session = context.session_factory()
    try:
        sent = committed(session, lambda: live.announce_due(session, clock.now()))
    finally:
        session.close()
    return {"sms": sent} if sent else None


def meal_orders(context: JobContext) -> dict[str, int] | None:
    session = context.session_factory()
    try:
        made = meals.make_due_orders(session, clock.now())
    finally:
        session.close()
    return {"orders": made} if made else None


JOBS: list[Job] = [
    Job("rounds.announce", announce, every_seconds=60),
    Job("rounds.meal_orders", meal_orders, every_seconds=HOUR),
]
