"""The one list of Terrain's domains: the only module that names them.

Adding a domain is a line here plus its own packages (docs/architecture.md, "Adding a
domain"). `DOMAINS` are the descriptors core's registries take (core/plugins.py); `WEB`
are the domains' pages (web/plugins.py; a domain without pages has none). `install()`
fills both sides' registries; the app, the `terrain` command, the migrations and the
tests call it before anything else.
"""

from __future__ import annotations

from appointments.domain import DOMAIN as APPOINTMENTS
from core import plugins
from homecare.domain import DOMAIN as HOMECARE
from notifications.domain import DOMAIN as NOTIFICATIONS
from outreach.domain import DOMAIN as OUTREACH
from rounds.domain import DOMAIN as ROUNDS
from web.appointments import WEB as APPOINTMENTS_WEB
from web.homecare import WEB as HOMECARE_WEB
from web.notifications import WEB as NOTIFICATIONS_WEB
from web.outreach import WEB as OUTREACH_WEB
from web.plugins import WebDomain, install_web
from web.rounds import WEB as ROUNDS_WEB

# In this order: the scheduler's jobs, the audit log's kinds of record; demo data follow
# each domain's declared dependencies.
DOMAINS: tuple[plugins.Domain, ...] = (NOTIFICATIONS, APPOINTMENTS, OUTREACH, HOMECARE, ROUNDS)
# In this order: blueprints, the audit log's labels (menu entries carry their position).
WEB: tuple[WebDomain, ...] = (
    OUTREACH_WEB,
    APPOINTMENTS_WEB,
    NOTIFICATIONS_WEB,
    HOMECARE_WEB,
    ROUNDS_WEB,
)


def install() -> None:
    """Fill core's and the web's registries with every domain (idempotent)."""
    plugins.install(DOMAINS)
    install_web(WEB)
