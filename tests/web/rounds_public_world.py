"""A public minibus stop on 8 May 2031 and its SMS subscription: test_rounds_public and _stops."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import accounts, clock
from notifications.models import Message
from rounds import services
from rounds.models import Round, RoundStop, Stop, StopSubscription
from tests.db.rounds_world import FIRST, MAY_DAY, _minibus_round
from tests.support import sms_text, text_of

TODAY = MAY_DAY + timedelta(days=7)  # Thursday 8 May 2031
MORNING = datetime(2031, 5, 8, 6, 0, tzinfo=UTC)  # 08:00 in Brussels
NUMBER = "+32470112233"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(MORNING) as traveller:
        yield traveller


@pytest.fixture()
def coord(db) -> accounts.User:
    found = accounts.find_user(db, "mobile-coord")
    assert found is not None
    return found


@pytest.fixture()
def stop(db, coord) -> Stop:
    _minibus_round(db, coord, coord.team_id)
    services.generate_rounds(db, coord.team_id, FIRST, 3, actor=coord)
    found = db.scalar(select(Stop).where(Stop.name == "Monceau, église"))
    db.commit()
    assert found is not None and found.public_slug == "monceau-eglise"
    return found


@pytest.fixture()
def en(browser):
    browser.client.set_cookie("terrain_lang", "en")
    return browser


def today_round(db, stop: Stop) -> tuple[Round, list[RoundStop]]:
    rnd = db.scalar(
        select(Round)
        .join(RoundStop, RoundStop.round_id == Round.id)
        .where(RoundStop.stop_id == stop.id, Round.day == TODAY)
    )
    assert rnd is not None
    return rnd, services.round_stops(db, rnd.id)


def local(hour: int, minute: int = 0) -> datetime:
    return clock.as_utc(datetime(2031, 5, 8, hour, minute, tzinfo=clock.BRUSSELS))


def last_code(db) -> str:
    db.expire_all()
    message = db.scalar(
        select(Message).where(Message.key.like("phone-check:%")).order_by(Message.id.desc())
    )
    assert message is not None
    return re.search(r"\b(\d{6})\b", sms_text(message)).group(1)


def subscribe(browser, db, slug: str, number: str = NUMBER, *, leave: bool = False):
    path = f"/arret/{slug}/{'quitter' if leave else 'sms'}"
    assert browser.get(path).status_code == 200
    asked = browser.post(path, {"phone": number, "sms_language": "fr"})
    assert asked.status_code == 302, text_of(asked)[:400]
    assert browser.get(f"/arret/{slug}/code").status_code == 200
    return browser.post(f"/arret/{slug}/code", {"code": last_code(db)})


def running(db, stop: Stop) -> list[StopSubscription]:
    db.expire_all()
    return list(
        db.scalars(
            select(StopSubscription).where(
                StopSubscription.stop_id == stop.id, StopSubscription.stopped_at.is_(None)
            )
        )
    )
