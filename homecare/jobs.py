"""The periodic job of home care, run by `terrain scheduler` (core/scheduler.py).

`homecare.planning_runs` carries out the planning runs coordinators asked for from the
board: each is claimed with `FOR UPDATE SKIP LOCKED` (one scheduler per run), planned
and stored in one transaction; a run killed half-way is taken again once stale
(homecare/runs.py). Results are counts only.
"""

from __future__ import annotations

from core.scheduler import Job, JobContext
from homecare import runs


def planning_runs(context: JobContext) -> dict[str, int] | None:
    counts = runs.run_pending(context.session_factory, stop=context.stopping.is_set)
    done = {name: value for name, value in counts.items() if value}
    return done or None


JOBS: list[Job] = [Job("homecare.planning_runs", planning_runs, every_seconds=2)]
