"""Street outreach's scheduled job: the retention purge, once a day.

Safe in two schedulers at once: deleting what is already deleted deletes nothing, and
the second run's report says zero.
"""

from __future__ import annotations

from core.scheduler import Job, JobContext
from outreach import retention

DAY = 24 * 3600


def purge(context: JobContext) -> dict[str, int] | None:
    with context.session_factory() as session:
        report = retention.purge_expired(session)
        session.commit()
        counts = {key: value for key, value in report.counts.items() if isinstance(value, int)}
    done = {key: value for key, value in counts.items() if value}
    return done or None


JOBS: list[Job] = [Job("outreach.purge", purge, every_seconds=DAY)]
