"""The one list of Terrain's domains: the only module that names them.

Adding a domain is one line here plus its own package (docs/architecture.md, "Adding a
domain"). `install()` hands the list to core's registries (core/plugins.py); the app,
the `terrain` command, the migrations and the tests call it before anything else.
"""

from __future__ import annotations

from appointments.domain import DOMAIN as APPOINTMENTS
from core import plugins
from homecare.domain import DOMAIN as HOMECARE
from notifications.domain import DOMAIN as NOTIFICATIONS
from outreach.domain import DOMAIN as OUTREACH

# In this order: the scheduler's jobs, the audit log's kinds of record; demo data follow
# each domain's declared dependencies. (Rounds joins when it has something to plug in.)
DOMAINS: tuple[plugins.Domain, ...] = (NOTIFICATIONS, APPOINTMENTS, OUTREACH, HOMECARE)


def install() -> None:
    """Fill core's registries with every domain (idempotent)."""
    plugins.install(DOMAINS)
