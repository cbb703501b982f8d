"""Dated rounds follow later changes of their template's stops.

When a minibus template's stop (a permanence) is added, changed or removed, the dated
rounds already made from it that have not started (status `planned`, today or later,
Europe/Brussels) take the change: a round stop added, changed or taken out, the stops
put back in time order (a minibus round's published order). What a coordinator decided
stays: a skipped or moved stop keeps its exception, a cancelled round stays cancelled
and keeps its stops, and rounds started, finished or gone by never change.

A stop taken out is kept as a `RoundStopRemoval`, so the crew's phones hear of it as a
deletion (rounds/live_sync.py, type `rounds.stop`). Each round that changed is touched
for the feed and its revision grows (the key of "once per change" messages).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core import clock, sync
from core.accounts import User
from rounds import places
from rounds.dated import round_stops
from rounds.live_models import StopNotice
from rounds.models import Permanence, Round, RoundStop, RoundStopRemoval


def _today() -> date:
    return clock.to_local(clock.now()).date()


def _touch(session: Session, record) -> None:
    sync.touch(session, record, sync.team_scope(record.team_id))


def following_rounds(session: Session, template_id: uuid.UUID) -> list[Round]:
    """The template's dated rounds that follow it: planned (not started, not cancelled),
    today or later; locked until commit, so a crew's start waits for the change."""
    return list(
        session.scalars(
            select(Round)
            .where(
                Round.template_id == template_id,
                Round.status == "planned",
                Round.day >= _today(),
            )
            .order_by(Round.day, Round.id)
            .with_for_update()
        )
    )


def _in_time_order(session: Session, dated: Round) -> None:
    """A minibus round's stops numbered in time order (its published order)."""
    stops = sorted(
        round_stops(session, dated.id),
        key=lambda stop: (stop.planned_arrival is None, stop.planned_arrival, str(stop.id)),
    )
    for position, stop in enumerate(stops, start=1):
        if stop.position != position:
            stop.position = position
            _touch(session, stop)


def _changed(session: Session, dated: Round) -> None:
    _in_time_order(session, dated)
    dated.revision += 1
    _touch(session, dated)
    session.flush()


def _stop_of(session: Session, dated: Round, permanence_id: uuid.UUID) -> RoundStop | None:
    return session.scalar(
        select(RoundStop).where(
            RoundStop.round_id == dated.id, RoundStop.permanence_id == permanence_id
        )
    )


def added(session: Session, permanence: Permanence) -> int:
    """A template's new stop reaches its following rounds; how many rounds changed."""
    count = 0
    for dated in following_rounds(session, permanence.template_id):
        if _stop_of(session, dated, permanence.id) is not None:
            continue
        stop = RoundStop(
            id=uuid.uuid4(),
            team_id=dated.team_id,
            round_id=dated.id,
            position=0,
            kind="public_stop",
            stop_id=permanence.stop_id,
            permanence_id=permanence.id,
            topic=permanence.topic,
            planned_arrival=permanence.starts,
            planned_departure=permanence.ends,
            status="planned",
            outcome="",
            reason="",
            version=1,
            changed_at=clock.now(),
        )
        session.add(stop)
        _touch(session, stop)
        session.flush()
        _changed(session, dated)
        count += 1
    return count


def changed(session: Session, actor: User, permanence: Permanence) -> int:
    """A template's stop changed in place: its following rounds' stop takes the new
    stop, hours and topic, keeping a skip or a move; how many rounds changed. A skipped
    stop that moves to another place closes that place instead (appointments)."""
    count = 0
    for dated in following_rounds(session, permanence.template_id):
        stop = _stop_of(session, dated, permanence.id)
        if stop is None:
            continue
        new = (permanence.stop_id, permanence.topic, permanence.starts, permanence.ends)
        old = (stop.stop_id, stop.topic, stop.planned_arrival, stop.planned_departure)
        if new == old:
            continue
        moved_place = stop.stop_id != permanence.stop_id
        if moved_place and stop.status == "skipped":
            places.reopen_for_stop(session, actor, stop)
        stop.stop_id, stop.topic = permanence.stop_id, permanence.topic
        stop.planned_arrival, stop.planned_departure = permanence.starts, permanence.ends
        _touch(session, stop)
        session.flush()
        if moved_place and stop.status == "skipped":
            places.close_for_round(session, actor, dated, stop.reason, round_stop_id=stop.id)
        _changed(session, dated)
        count += 1
    return count


def removed(session: Session, actor: User, permanence: Permanence) -> int:
    """A template's stop about to be removed: taken out of its following rounds (kept
    as a removal for the phones; a skip's closure of the place is lifted, its notices
    go, so nothing queued about it is sent); rounds made before keep their stop, no
    longer linked. How many rounds changed."""
    count = 0
    for dated in following_rounds(session, permanence.template_id):
        stop = _stop_of(session, dated, permanence.id)
        if stop is None:
            continue
        if stop.status == "skipped":
            places.reopen_for_stop(session, actor, stop)
        session.execute(delete(StopNotice).where(StopNotice.round_stop_id == stop.id))
        removal = RoundStopRemoval(
            id=stop.id,
            team_id=dated.team_id,
            round_id=dated.id,
            version=1,
            changed_at=clock.now(),
            changed_by_id=actor.id,
        )
        session.add(removal)
        _touch(session, removal)
        session.delete(stop)
        session.flush()
        _changed(session, dated)
        count += 1
    session.execute(
        update(RoundStop)
        .where(RoundStop.permanence_id == permanence.id)
        .values(permanence_id=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return count
