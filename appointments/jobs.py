"""The periodic jobs of appointments, run by `terrain scheduler` (core/scheduler.py).

None yet: confirmations, reminders and waiting-list offers are put in the outbox by the
booking itself (keyed, in the booking's transaction) and sent by the notifications
dispatcher. Importing this module registers, for the scheduler's process, what the
dispatcher must know about appointments: the SMS subject kind "appointment" (a
message about a cancelled or past appointment is dropped, not sent), the attendance
source and the "appointments on a day" audience (`appointments.notifications`).
"""

from __future__ import annotations

from appointments import notifications as _registrations  # noqa: F401
from core.scheduler import Job

JOBS: list[Job] = []
