"""The opening every coordinator's rounds page shares: the team the signed-in user
coordinates (anybody else: the 404 of an unknown page) and the day or week asked for
with `?jour=YYYY-MM-DD` (today when absent or unreadable)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import wraps
from typing import Any

from flask import request

from core import clock
from rounds import access
from web.common import actor, not_found


@dataclass(frozen=True)
class Scope:
    """The coordinator's team and the day the page is about."""

    team_id: int
    day: date

    @property
    def monday(self) -> date:
        return self.day - timedelta(days=self.day.weekday())

    @property
    def previous_week(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def following_week(self) -> date:
        return self.monday + timedelta(days=7)


def asked_day(raw: str | None = None) -> date:
    """The day asked for (`raw`, else ?jour=), today in Brussels when absent or unreadable."""
    text = raw if raw is not None else request.args.get("jour")
    return clock.parse_day(text or "") or clock.to_local(clock.now()).date()


def current() -> Scope | None:
    """The signed-in coordinator's scope, None for anybody else."""
    user = actor()
    if not access.coordinates(user, user.team_id):
        return None
    return Scope(user.team_id, asked_day())


def coordinated(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view of the coordinator's team: called with the Scope first, 404 for anybody
    else (the same answer as an unknown page)."""

    @wraps(view)
    def opened(*args: Any, **kwargs: Any) -> Any:
        scope = current()
        if scope is None:
            return not_found()
        return view(scope, *args, **kwargs)

    return opened
