"""The periodic jobs of appointments, run by `terrain scheduler` (core/scheduler.py).

One: the purge of the one-time SMS codes' checks (a day old). Confirmations,
reminders and waiting-list offers are put in the outbox by the
booking itself (keyed, in the booking's transaction) and sent by the notifications
dispatcher. What the dispatcher must know about appointments (the SMS subject kind
"appointment": a message about a cancelled or past appointment is dropped, not sent) is
registered by the domain's installation (appointments/domain.py), in the scheduler's
process as in the web's.
"""

from __future__ import annotations

from appointments import verification
from core.scheduler import Job, JobContext


def purge_phone_checks(context: JobContext) -> dict[str, int] | None:
    """The one-time SMS codes' checks are kept a day (appointments/verification.py)."""
    with context.session_factory() as session:
        deleted = verification.purge(session)
        session.commit()
    return {"deleted": deleted} if deleted else None


JOBS: list[Job] = [
    Job("appointments.purge_phone_checks", purge_phone_checks, every_seconds=3600),
]
