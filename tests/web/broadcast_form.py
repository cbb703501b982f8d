"""The broadcast compose form (`form`): test_sms_broadcasts and test_cpas_regimes."""

from __future__ import annotations

from tests.db.broadcasts_world import BODIES


def form(team_id: int, **changes) -> dict[str, str]:
    data = {
        "audience": "team_contacts",
        "team_id": str(team_id),
        "category": "service_change",
        "body_fr": BODIES["fr"],
        "body_nl": BODIES["nl"],
        "body_en": "",
        "action": "preview",
    }
    data.update(changes)
    return data
