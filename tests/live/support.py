"""Helpers of the live tests that race requests against the multi-worker server: the
PostgreSQL-only mark, a service of one agent written straight into the live database
(the social desk they race for), and threads started together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any
from unittest import mock

import pytest
from sqlalchemy.orm import Session

from appointments.models import (
    AgentService,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WorkingPlan,
)
from appointments.slots import location_holidays
from core import accounts, clock
from tests.support import place_team, postgres_url

# SQLite has one writer at a time: nothing races.
POSTGRES_ONLY = pytest.mark.skipif(
    postgres_url() is None, reason="PostgreSQL only: set TEST_DATABASE_URL"
)


def one_agent_service(
    session: Session,
    *,
    location: dict[str, Any],
    service: dict[str, Any],
    agent: dict[str, Any],
    hours: tuple[time, time],
) -> tuple[Service, Location, accounts.User]:
    """A service that one agent delivers at one location, both every day between
    `hours`; flushed, not committed. `location`, `service` and `agent` are the columns
    of each (the agent is a social worker whose password is never used)."""
    opens, closes = hours
    # Every place has a team (docs/cpas.md): the demo's Marolles unless one is given.
    place = Location(**{"team_id": place_team(session), **location})
    place.opening_hours = [
        OpeningHours(weekday=weekday, opens=opens, closes=closes) for weekday in range(7)
    ]
    offer = Service(**service)
    session.add_all([place, offer])
    session.flush()
    with mock.patch.object(accounts, "hash_password", lambda _password: "unused"):
        user = accounts.create_user(
            session,
            **agent,
            password="unused-password",
            role="social_worker",
            check_password=False,
        )
    session.add_all(
        [
            ServiceLocation(service_id=offer.id, location_id=place.id),
            AgentService(user_id=user.id, service_id=offer.id),
            *(
                WorkingPlan(
                    user_id=user.id,
                    location_id=place.id,
                    weekday=weekday,
                    starts=opens,
                    ends=closes,
                    valid_from=date(2020, 1, 1),
                )
                for weekday in range(7)
            ),
        ]
    )
    session.flush()
    return offer, place, user


def social_desk(
    session: Session, tag: str, hours: tuple[time, time] = (time(9), time(12))
) -> tuple[Service, Location, accounts.User]:
    """`one_agent_service` as the contention tests and bench/booking_burst.py race for it:
    a social desk of 30 minutes without buffer, bookable at once and a month ahead, at a
    place of its own open every day between `hours`; codes and username end in `tag`."""
    return one_agent_service(
        session,
        location={"code": f"live-loc-{tag}", "name": "Antenne live", "address": "Rue Haute 1"},
        service={
            "code": f"live-svc-{tag}",
            "name_fr": "Permanence sociale",
            "name_nl": "Sociale permanentie",
            "name_en": "Social desk",
            "duration_minutes": 30,
            "buffer_minutes": 0,
            "languages": ["fr"],
            "min_notice_hours": 0,
            "max_horizon_days": 30,
        },
        agent={"username": f"live-agent-{tag}", "display_name": "Agent live"},
        hours=hours,
    )


def open_days(session: Session, location: Location, count: int) -> list[date]:
    """The first `count` days from the day after tomorrow (Brussels) on which the place's
    CPAS does not close: its own holidays, not only the country's (a CPAS closes on
    2 and 15 November, as the federal administration does)."""
    first = clock.to_local(clock.now()).date() + timedelta(days=2)
    last = first + timedelta(days=2 * count + 30)
    closed = location_holidays(session, location, first, last)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day not in closed][:count]


def run_together(target: Callable[[int], None], count: int, *, timeout: float) -> None:
    """`target(0)` … `target(count - 1)`, each in a thread of its own: all started, then
    each waited for at most `timeout` seconds."""
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
