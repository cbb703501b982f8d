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

A change of the template itself (`template_changed`: its weekday, hours, period, vehicle,
name) reaches the same rounds: those still on the template's days take its hours and
vehicle, under the same checks as a new round (the vehicle free, the stops within the
hours; refused otherwise, naming the rounds and stops in the way); those no longer on its
days are cancelled through the one cancellation of a dated round
(`dated.cancel_planned`: the people of its stops are told, its places closed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core import clock, sync
from core.accounts import User
from core.errors import FieldError, Invalid
from rounds import dated as rounds_dated
from rounds import places
from rounds.dated import round_stops
from rounds.live_models import StopNotice
from rounds.models import Permanence, Round, RoundStop, RoundStopRemoval, RoundTemplate


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


# --- The template itself changed --------------------------------------------------------

LISTED = 6  # rounds or stops named in a refusal, then "…"


@dataclass(frozen=True)
class LeftAlone:
    """A dated round the template's change did not reach, and why: `started`,
    `finished`, `cancelled`, or `own_hours` (its hours or vehicle were no longer the
    template's before the change)."""

    round_id: uuid.UUID
    day: date
    name: str
    why: str


@dataclass(frozen=True)
class TemplateFollowed:
    """What a change of a template did to its dated rounds from today on: rounds that
    followed, rounds cancelled (no longer on its days), rounds made for its new days, new
    days left out (the vehicle taken then), the rounds left alone, and the booked
    appointments stranded (closed places, or the stops' places' new hours)."""

    followed: int = 0
    cancelled: int = 0
    made: int = 0
    clashes: int = 0
    left: tuple[LeftAlone, ...] = ()
    stranded: tuple = ()


def on_template(template: RoundTemplate, day: date) -> bool:
    """Whether the template runs that day (its weekday, within its period)."""
    return (
        day.weekday() == template.weekday
        and template.active_from <= day
        and (template.active_until is None or day <= template.active_until)
    )


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _outside(session: Session, dated: Round, starts: time, ends: time) -> list[str]:
    """The round's stops (not skipped; a moved one where it moved) outside `starts`–`ends`."""
    found = []
    for line in rounds_dated.round_lines(session, dated):
        stop = line.stop
        arrival = stop.moved_to or stop.planned_arrival
        if stop.status == "skipped" or arrival is None:
            continue
        length = 0
        if stop.planned_arrival is not None and stop.planned_departure is not None:
            length = _minutes(stop.planned_departure) - _minutes(stop.planned_arrival)
        first, last = _minutes(arrival), _minutes(arrival) + length
        if first < _minutes(starts) or last > _minutes(ends):
            found.append(f"{dated.day:%d/%m/%Y} {_hhmm(first)}–{_hhmm(last)} {line.name}".rstrip())
    return found


def _listed(items: list[str]) -> str:
    shown = "; ".join(items[:LISTED])
    return shown + (" …" if len(items) > LISTED else "")


def template_changed(
    session: Session,
    actor: User,
    template: RoundTemplate,
    before: tuple[uuid.UUID, time, time],
    reason: str,
) -> TemplateFollowed:
    """The template (already changed) reaches its dated rounds from today on, locked
    until commit. `before`: its vehicle and hours before the change. Invalid (nothing
    to keep: the caller's transaction is rolled back) when a round that would follow
    finds its vehicle taken or a stop outside the new hours. Rounds made for new days
    are the caller's (generation)."""
    rounds = list(
        session.scalars(
            select(Round)
            .where(Round.template_id == template.id, Round.day >= _today())
            .order_by(Round.day, Round.id)
            .with_for_update()
        )
    )
    wanted = (template.vehicle_id, template.starts, template.ends, template.name)
    to_follow: list[Round] = []
    to_cancel: list[Round] = []
    left: list[LeftAlone] = []
    for dated in rounds:
        if not on_template(template, dated.day):
            if dated.status == "planned":
                to_cancel.append(dated)
            elif dated.status in ("started", "finished"):
                left.append(LeftAlone(dated.id, dated.day, dated.name, dated.status))
            continue
        if (dated.vehicle_id, dated.starts, dated.ends, dated.name) == wanted:
            continue
        if dated.status != "planned":
            left.append(LeftAlone(dated.id, dated.day, dated.name, dated.status))
        elif (dated.vehicle_id, dated.starts, dated.ends) != before:
            left.append(LeftAlone(dated.id, dated.day, dated.name, "own_hours"))
        else:
            to_follow.append(dated)
    clashes: list[str] = []
    outside: list[str] = []
    if to_follow:
        rounds_dated.lock_vehicle(session, template.vehicle_id)
    for dated in to_follow:
        clash = rounds_dated.round_clash(
            session, template.vehicle_id, dated.day, template.starts, template.ends, dated.id
        )
        if clash is not None:
            clashes.append(
                f"{clash.day:%d/%m/%Y} {clash.starts:%H:%M}–{clash.ends:%H:%M} {clash.name}"
            )
        refilled = dated.kind in rounds_dated.STOP_OF_KIND and dated.vehicle_id != wanted[0]
        if not refilled:
            outside.extend(_outside(session, dated, template.starts, template.ends))
    errors: dict[str, FieldError] = {}
    if clashes:
        errors["vehicle_id"] = FieldError("rounds_in_the_way", {"rounds": _listed(clashes)})
    if outside:
        errors["starts"] = FieldError("round_stops_outside", {"stops": _listed(outside)})
    if errors:
        raise Invalid(errors)
    stranded: list = []
    for dated in to_follow:
        new_vehicle = dated.vehicle_id != template.vehicle_id
        names = [
            name
            for name, value in zip(("vehicle_id", "starts", "ends", "name"), wanted, strict=True)
            if getattr(dated, name) != value
        ]
        dated.vehicle_id, dated.starts, dated.ends, dated.name = wanted
        dated.revision += 1
        rounds_dated._saved(session, actor, dated, entity_type="rounds_round", fields=names)
        if new_vehicle:  # a meal or ride round takes its new vehicle's plan of the day
            rounds_dated.fill_from_plan(session, dated)
    for dated in to_cancel:
        stranded.extend(rounds_dated.cancel_planned(session, actor, dated, reason))
    session.flush()
    return TemplateFollowed(
        followed=len(to_follow),
        cancelled=len(to_cancel),
        left=tuple(left),
        stranded=tuple(stranded),
    )
