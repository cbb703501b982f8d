"""The aide's day, at /aide-a-domicile/ma-journee: her visits of today and the next 2
days in order, with what she needs at each door (issue 18). Only an aide; the records
are those her phone's feed holds (homecare/sync.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint

from core import audit, clock
from core.roles import Permission, Role
from homecare import sync as homecare_sync
from web import db
from web.common import actor, not_found
from web.permissions import requires
from web.rendering import render

bp = Blueprint("homecare_day", __name__, url_prefix="/aide-a-domicile")


def _local(value: str | None) -> datetime | None:
    return clock.to_local(datetime.fromisoformat(value)) if value else None


@bp.get("/ma-journee")
@requires(Permission.HOMECARE_VISITS)
def index() -> Any:
    user = actor()
    if user.role != Role.AIDE:
        return not_found()
    session = db.session()
    entries = homecare_sync.day_of(session, user)
    if entries:
        # Households' files read: logged as any read of a personal file.
        audit.record(
            session,
            actor=user,
            action="read",
            entity_type="homecare_visit",
            entity_id=user.id,
            details={"day_page": len(entries)},
        )
        session.commit()
    days: dict[str, list[dict[str, Any]]] = {}
    for visit, household in entries:
        start = _local(visit["planned_start"]) or _local(visit["earliest_start"])
        assert start is not None
        days.setdefault(visit["day"], []).append(
            {
                "visit": visit,
                "household": household,
                "start": start.strftime("%H:%M"),
                "latest": (_local(visit["latest_start"]) or start).strftime("%H:%M"),
            }
        )
    return render("homecare/day/index.html", days=days)
