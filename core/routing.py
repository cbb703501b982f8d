"""The planning optimiser: workers, visits and rides in plain dataclasses, solved with PyVRP.

Every domain that plans rounds (home care, meals, minibus rides) describes its day or week
as a `Problem` and calls `solve(problem, seconds=…, seed=…)`; `check(problem, solution)`
re-verifies any `Solution` against every rule. Times are whole minutes counted from
`Problem.origin` (a datetime, e.g. Monday 00:00 Europe/Brussels); the solver works in
ticks (`ticks_per_minute`, 60 by default: seconds) so that short legs are not rounded
away. docs/planning.md explains how each rule is modelled. This module imports no Flask
and no domain; it is the only place that imports the solver library.
"""

from __future__ import annotations

import json
import math
import time
import urllib.request
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.IteratedLocalSearch import IteratedLocalSearch
from pyvrp.PenaltyManager import PenaltyManager
from pyvrp.search import LocalSearch, PerturbationManager, compute_neighbours
from pyvrp.solve import SolveParams
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

# --- Problem ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Point:
    """A place: latitude and longitude in degrees (or any x, y with an explicit matrix)."""

    lat: float
    lon: float


@dataclass(frozen=True)
class Window:
    """A service may start at any minute in [start, end] (inclusive)."""

    start: int
    end: int


@dataclass(frozen=True)
class Break:
    """A break of `duration` minutes starting inside `window`, at `place` (None: start place)."""

    window: Window
    duration: int
    place: Point | None = None


@dataclass(frozen=True)
class Shift:
    """When a worker is available: leave the start place at or after `start`, be back by `end`."""

    start: int
    end: int
    pause: Break | None = None


@dataclass(frozen=True)
class Worker:
    """An aide, a driver or a minibus with its crew."""

    id: str
    start: Point
    shifts: tuple[Shift, ...]
    end: Point | None = None  # None: back to `start`
    skills: frozenset[str] = frozenset()
    capacity: int | None = None  # meals carried at once; None: no limit
    seats: int | None = None  # passengers at once (rides); None: no limit
    max_minutes_per_day: int | None = None  # working time of one shift, breaks excluded
    contract_minutes: int | None = None  # working time over the whole problem (the week)
    mode: str = "car"  # a key of TRAVEL_MODES (or of an explicit matrix)
    travel_cost: int = 1  # cost of one minute of this worker's travel


@dataclass(frozen=True)
class Job:
    """A visit at one place: `duration` minutes of service plus `buffer` on arrival."""

    id: str
    place: Point
    duration: int
    windows: tuple[Window, ...] = ()  # empty: any time inside a shift
    skills: frozenset[str] = frozenset()
    optional: bool = False  # may stay unassigned at a cost (`priority` hours of travel)
    priority: int = 1  # weight of leaving it unassigned, 1 to 10
    demand: int = 0  # meals dropped here
    buffer: int = 0  # parking, stairs, entry: added to the service time
    household: str | None = None  # for continuity of care
    aides: int = 1  # 2: a transfer, two workers starting at the same minute
    worker: str | None = None  # only this worker may do it (a visit kept as planned)


@dataclass(frozen=True)
class Ride:
    """A pickup-and-delivery pair: the same worker picks someone up, then drops them off."""

    id: str
    pickup: Point
    delivery: Point
    pickup_window: Window | None = None
    delivery_window: Window | None = None
    pickup_duration: int = 2
    delivery_duration: int = 2
    seats: int = 1
    skills: frozenset[str] = frozenset()
    optional: bool = False
    priority: int = 1
    buffer: int = 0  # added at both ends
    household: str | None = None


@dataclass(frozen=True)
class TravelMode:
    """Door-to-door speed: straight-line km × `detour` ÷ `kmh`, plus `overhead` minutes a leg."""

    kmh: float
    detour: float
    overhead: float = 0.0


# Brussels defaults: walking 4.5 km/h; bike 14 km/h; public transport ~13 km/h door to door
# with 6 minutes of waiting and walking to the stop per leg; car 20 km/h in city traffic.
TRAVEL_MODES: dict[str, TravelMode] = {
    "walk": TravelMode(kmh=4.5, detour=1.3),
    "bike": TravelMode(kmh=14.0, detour=1.3),
    "transit": TravelMode(kmh=13.0, detour=1.4, overhead=6.0),
    "car": TravelMode(kmh=20.0, detour=1.4),
}


@dataclass
class Matrix:
    """Travel between `points`: minutes per mode, and km (straight line × first mode's detour)."""

    points: list[Point]
    minutes: dict[str, np.ndarray]
    km: np.ndarray
    index: dict[Point, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {point: i for i, point in enumerate(self.points)}

    def travel(self, mode: str, a: Point, b: Point) -> float:
        """Minutes from a to b for this mode."""
        return float(self.minutes[mode][self.index[a], self.index[b]])


@dataclass
class Problem:
    """Everything the optimiser needs; see the module docstring for units."""

    workers: Sequence[Worker]
    jobs: Sequence[Job] = ()
    rides: Sequence[Ride] = ()
    origin: datetime | None = None  # minute 0; Solution.at() turns minutes into datetimes
    known_workers: Mapping[str, Sequence[str]] = field(default_factory=dict)  # household → ids
    max_workers_per_household: int | None = None  # continuity cap over the whole problem
    unknown_worker_penalty: int = 10  # minutes of travel a visit by an unknown worker costs
    balance_hours: bool = True  # fairness: load workers in proportion to their contracts
    fairness_weight: float = 0.5  # cost of a minute above a worker's fair share
    matrix: Matrix | None = None  # None: build_matrix() over every place
    osrm_url: str | None = None  # used by build_matrix() only when set (never in tests)
    ticks_per_minute: int = 60

    def minute(self, moment: datetime) -> int:
        """A datetime as whole minutes from `origin` (rounded down), for windows and shifts."""
        if self.origin is None:
            raise ValueError("the problem has no origin")
        return int((moment - self.origin).total_seconds() // 60)


# --- Travel times ------------------------------------------------------------------------

EARTH_KM = 6371.0088


def haversine_km(points: Sequence[Point]) -> np.ndarray:
    """Great-circle distances between every pair of points, in km."""
    lat = np.radians(np.array([p.lat for p in points], dtype=float))
    lon = np.radians(np.array([p.lon for p in points], dtype=float))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def build_matrix(
    points: Sequence[Point],
    modes: Sequence[str] = tuple(TRAVEL_MODES),
    *,
    travel_modes: Mapping[str, TravelMode] = TRAVEL_MODES,
    osrm_url: str | None = None,
) -> Matrix:
    """Travel minutes per mode, offline (haversine × detour ÷ speed), or car from OSRM if set."""
    unique = list(dict.fromkeys(points))
    km = haversine_km(unique) if unique else np.zeros((0, 0))
    minutes: dict[str, np.ndarray] = {}
    for mode in dict.fromkeys(modes):
        spec = travel_modes[mode]
        m = km * spec.detour / spec.kmh * 60.0
        if spec.overhead:
            m = m + spec.overhead * (km > 0)
        minutes[mode] = m
    if osrm_url and unique and "car" in minutes:
        minutes["car"], km = osrm_table(osrm_url, unique)
    return Matrix(points=unique, minutes=minutes, km=km * (1 if osrm_url else _detour(modes)))


def _detour(modes: Sequence[str]) -> float:
    # Kilometres reported are road-ish: the straight line times the first mode's detour.
    return TRAVEL_MODES[modes[0]].detour if modes and modes[0] in TRAVEL_MODES else 1.0


def osrm_table(base_url: str, points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
    """Car minutes and km from an OSRM server's /table/v1/driving (only when configured)."""
    coords = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in points)
    url = f"{base_url.rstrip('/')}/table/v1/driving/{coords}?annotations=duration,distance"
    if not url.startswith(("http://", "https://")):
        raise ValueError("the OSRM address must start with http:// or https://")
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (checked above)
        body = json.load(response)
    if body.get("code") != "Ok":
        raise RuntimeError(f"OSRM answered {body.get('code')}: {body.get('message', '')}")
    durations = np.array(body["durations"], dtype=float) / 60.0
    distances = np.array(body["distances"], dtype=float) / 1000.0
    return durations, distances


# --- Solution ----------------------------------------------------------------------------


class Reason(StrEnum):
    """Why a job or ride stayed unassigned."""

    NO_SKILL = "no_worker_with_skills"
    CONTINUITY = "continuity_cap"
    CAPACITY = "over_capacity"
    HOURS = "over_contract_hours"
    WINDOW = "window_unreachable"
    NO_PAIR = "no_two_aides_at_once"
    NO_ROOM = "no_room_in_plan"


@dataclass(frozen=True)
class Stop:
    """One stop of a route; times in minutes from the problem's origin."""

    kind: str  # "job", "pickup", "delivery" or "break"
    id: str  # the job's or ride's id; the worker's id for a break
    place: Point
    arrival: float
    start: float
    end: float
    travel: float  # minutes from the previous place
    km: float


@dataclass(frozen=True)
class Route:
    """What one worker does in one shift."""

    worker: str
    shift: int  # index in Worker.shifts
    departure: float
    back: float
    stops: tuple[Stop, ...]
    travel: float  # minutes, including the way back
    km: float
    working: float  # back − departure, breaks excluded


@dataclass(frozen=True)
class Unassigned:
    id: str
    reason: Reason


@dataclass(frozen=True)
class Solution:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    origin: datetime | None = None

    @property
    def travel(self) -> float:
        """Total travel minutes."""
        return sum(route.travel for route in self.routes)

    @property
    def km(self) -> float:
        return sum(route.km for route in self.routes)

    def working(self) -> dict[str, float]:
        """Working minutes per worker over the whole problem."""
        totals: dict[str, float] = defaultdict(float)
        for route in self.routes:
            totals[route.worker] += route.working
        return dict(totals)

    def workers_by_household(self, problem: Problem) -> dict[str, set[str]]:
        """Which workers each household sees (continuity of care)."""
        household = {job.id: job.household for job in problem.jobs}
        household |= {ride.id: ride.household for ride in problem.rides}
        seen: dict[str, set[str]] = defaultdict(set)
        for route in self.routes:
            for stop in route.stops:
                if stop.kind != "break" and household.get(stop.id):
                    seen[household[stop.id]].add(route.worker)  # type: ignore[index]
        return dict(seen)

    def at(self, minutes: float) -> datetime:
        """The datetime of a time in minutes (needs Problem.origin)."""
        if self.origin is None:
            raise ValueError("the problem has no origin")
        return self.origin + timedelta(minutes=minutes)


# --- Internal model ----------------------------------------------------------------------

_MANDATORY_PRIZE = 10**6  # per priority unit: above any detour, within pyvrp's penalties' reach
_BREAK_PRIZE = 2 * 10**7  # above every mandatory visit: a break is never dropped for a visit
_FORBIDDEN = 10**9  # an edge a worker may not take (skills, continuity, others' breaks)
_COST_SCALE = 10  # cost units per tick of travel, so fairness weights can be fractional


@dataclass
class _Node:
    """One pyvrp client (a job in one of its windows, a twin, a break) or shipment."""

    kind: str  # job | twin | break | ride
    ref: str  # job id, ride id, or worker id for a break
    place: Point
    service: int  # minutes, buffer included
    window: Window | None
    need: frozenset[str]
    household: str | None
    shift: int = -1  # breaks: the shift they belong to
    twin: int = 0  # 0 or 1 for the two halves of a transfer
    only: str | None = None  # the one worker allowed (a break's owner, a pinned visit)


@dataclass
class _Vehicle:
    workers: list[Worker]
    shift: int


def _validate(problem: Problem) -> None:
    ids = [w.id for w in problem.workers]
    if len(set(ids)) != len(ids):
        raise ValueError("worker ids must be unique")
    task_ids = [j.id for j in problem.jobs] + [r.id for r in problem.rides]
    if len(set(task_ids)) != len(task_ids):
        raise ValueError("job and ride ids must be unique")
    for worker in problem.workers:
        for shift in worker.shifts:
            if shift.end < shift.start:
                raise ValueError(f"worker {worker.id}: a shift ends before it starts")
            if shift.pause and shift.pause.window.end < shift.pause.window.start:
                raise ValueError(f"worker {worker.id}: a break window ends before it starts")
    for job in problem.jobs:
        if job.duration < 0 or job.buffer < 0:
            raise ValueError(f"job {job.id}: negative duration")
        if job.aides not in (1, 2):
            raise ValueError(f"job {job.id}: one or two aides only")
        if any(w.end < w.start for w in job.windows):
            raise ValueError(f"job {job.id}: a window ends before it starts")
        if job.worker is not None and job.worker not in ids:
            raise ValueError(f"job {job.id}: unknown worker {job.worker}")
        if job.worker is not None and job.aides == 2:
            raise ValueError(f"job {job.id}: a transfer cannot be kept to one worker")
        if job.aides == 2 and job.duration + job.buffer <= 0:
            raise ValueError(f"job {job.id}: a two-aide visit needs a duration")
    if not 1 <= problem.ticks_per_minute <= 6000:
        raise ValueError("ticks_per_minute must be between 1 and 6000")


def _places(problem: Problem) -> list[Point]:
    places: list[Point] = []
    for worker in problem.workers:
        places += [worker.start, worker.end or worker.start]
        places += [s.pause.place for s in worker.shifts if s.pause and s.pause.place]
    places += [job.place for job in problem.jobs]
    for ride in problem.rides:
        places += [ride.pickup, ride.delivery]
    return places


class _Plan:
    """The problem turned into pyvrp data, and the way back."""

    def __init__(self, problem: Problem, matrix: Matrix) -> None:
        self.problem = problem
        self.matrix = matrix
        self.tpm = problem.ticks_per_minute
        self.workers = {w.id: w for w in problem.workers}

    def ticks(self, minutes: float) -> int:
        return math.ceil(minutes * self.tpm - 1e-9)

    def travel(self, worker: Worker, a: Point, b: Point) -> int:
        """Travel in ticks (rounded up, so the triangle inequality survives rounding)."""
        return self.ticks(self.matrix.travel(worker.mode, a, b))


def _pause_place(worker: Worker, shift: Shift) -> Point:
    assert shift.pause is not None
    return shift.pause.place or worker.start


def _window_list(job: Job, worker: Worker, shift: Shift) -> list[Window]:
    return list(job.windows) or [Window(shift.start, shift.end)]


# --- Feasibility of one task alone (unassigned reasons) ---------------------------------


def _alone_ok(
    plan: _Plan, worker: Worker, shift: Shift, stops: list[tuple[Point, int, list[Window]]]
) -> bool:
    """Can this worker do these stops in order, alone in this shift (ticks)?"""
    t = shift.start * plan.tpm
    here = worker.start
    for place, service, windows in stops:
        t += plan.travel(worker, here, place)
        starts = [
            max(t, w.start * plan.tpm)
            for w in windows
            if max(t, w.start * plan.tpm) <= w.end * plan.tpm
        ]
        if not starts:
            return False
        t = min(starts) + service * plan.tpm
        here = place
    t += plan.travel(worker, here, worker.end or worker.start)
    return t <= shift.end * plan.tpm


def _shift_cap(worker: Worker, shift: Shift, problem: Problem) -> int:
    """Most working minutes in this shift: shift length, daily maximum, contract share."""
    cap = shift.end - shift.start - (shift.pause.duration if shift.pause else 0)
    if worker.max_minutes_per_day is not None:
        cap = min(cap, worker.max_minutes_per_day)
    if worker.contract_minutes is not None:
        total = sum(s.end - s.start for s in worker.shifts) or 1
        cap = min(cap, int(worker.contract_minutes * (shift.end - shift.start) / total))
    return max(cap, 0)


def _reason(plan: _Plan, task: Job | Ride, allowed: set[str] | None) -> Reason:
    """The first rule that keeps this task out of every plan, else NO_ROOM."""
    problem = plan.problem
    pinned = getattr(task, "worker", None)
    candidates = [w for w in problem.workers if pinned is None or w.id == pinned]
    skilled = [w for w in candidates if task.skills <= w.skills]
    if not skilled:
        return Reason.NO_SKILL
    if allowed is not None:
        skilled = [w for w in skilled if w.id in allowed]
        if not skilled:
            return Reason.CONTINUITY
    if isinstance(task, Job):
        fits = [w for w in skilled if w.capacity is None or task.demand <= w.capacity]
        service = task.duration + task.buffer
        stops_of = lambda w, s: [(task.place, service, _window_list(task, w, s))]  # noqa: E731
    else:
        fits = [w for w in skilled if w.seats is None or task.seats <= w.seats]
        service = task.pickup_duration + task.delivery_duration + 2 * task.buffer

        def stops_of(w: Worker, s: Shift) -> list[tuple[Point, int, list[Window]]]:
            return [
                (
                    task.pickup,
                    task.pickup_duration + task.buffer,
                    [task.pickup_window or Window(s.start, s.end)],
                ),
                (
                    task.delivery,
                    task.delivery_duration + task.buffer,
                    [task.delivery_window or Window(s.start, s.end)],
                ),
            ]

    if not fits:
        return Reason.CAPACITY
    if not any(w.shifts for w in fits):
        return Reason.WINDOW  # nobody who could do it works at all in this period
    hours_ok = [w for w in fits if any(_shift_cap(w, s, problem) >= service for s in w.shifts)]
    if not hours_ok:
        return Reason.HOURS
    # Stop at the first worker (two for a transfer) who can do it alone: a thousand visits
    # and hundreds of workers would otherwise cost seconds before the search starts.
    needed = task.aides if isinstance(task, Job) else 1
    reachable = 0
    for w in hours_ok:
        if any(_alone_ok(plan, w, s, stops_of(w, s)) for s in w.shifts):
            reachable += 1
            if reachable >= needed:
                return Reason.NO_ROOM
    return Reason.WINDOW if reachable == 0 else Reason.NO_PAIR


# --- Continuity --------------------------------------------------------------------------


def _allowed_by_household(
    problem: Problem, matrix: Matrix, prefer: Mapping[str, Sequence[str]] | None = None
) -> dict[str, set[str]]:
    """Each household's K allowed workers: preferred, known, then near ones with hours left."""
    # A share of each household's minutes is booked against every chosen worker, so the
    # households of a dense area do not all pick the same aides.
    cap = problem.max_workers_per_household
    if cap is None:
        return {}
    tasks: dict[str, list[Job | Ride]] = defaultdict(list)
    for task in [*problem.jobs, *problem.rides]:
        if task.household:
            tasks[task.household].append(task)
    workers = {w.id: w for w in problem.workers}
    capacity = {
        w.id: float(sum(_shift_cap(w, s, problem) for s in w.shifts)) or 1.0
        for w in problem.workers
    }
    booked: dict[str, float] = defaultdict(float)

    def minutes(task: Job | Ride) -> float:
        if isinstance(task, Job):
            return (task.duration + task.buffer + 15) * task.aides
        return task.pickup_duration + task.delivery_duration + 30

    allowed: dict[str, set[str]] = {}
    # The busiest households choose first.
    order = sorted(tasks, key=lambda h: (-sum(minutes(t) for t in tasks[h]), h))
    for household in order:
        its = tasks[household]
        place = its[0].place if isinstance(its[0], Job) else its[0].pickup
        known = [w for w in problem.known_workers.get(household, ()) if w in workers]

        def rank(w: Worker, place: Point = place) -> float:
            km = float(matrix.km[matrix.index[w.start], matrix.index[place]])
            return (1.0 + km) * (1.0 + 3.0 * booked[w.id] / capacity[w.id])

        by_rank = sorted(problem.workers, key=lambda w: (rank(w), w.id))
        pinned = [t.worker for t in its if isinstance(t, Job) and t.worker]
        first = [*pinned, *(prefer or {}).get(household, ())]
        ranked = list(dict.fromkeys([*first, *known, *(w.id for w in by_rank)]))
        chosen: list[str] = []
        # First make sure each task has its qualified workers (rarest skills and
        # transfers first), then fill up to the cap.
        for task in sorted(its, key=lambda t: -len(t.skills) - 10 * (getattr(t, "aides", 1) - 1)):
            needed = getattr(task, "aides", 1)
            for w in ranked:
                have = sum(task.skills <= workers[c].skills for c in chosen)
                if have >= needed or len(chosen) >= cap:
                    break
                if task.skills <= workers[w].skills and w not in chosen:
                    chosen.append(w)
        for w in ranked:
            if len(chosen) >= cap:
                break
            if w not in chosen and any(t.skills <= workers[w].skills for t in its):
                chosen.append(w)
        share = sum(minutes(t) for t in its) / max(len(chosen), 1)
        for w in chosen:
            booked[w] += share
        allowed[household] = set(chosen)
    return allowed


_Item = tuple[
    str, int
]  # ("node", client index) | ("pickup", ride index) | ("delivery", ride index)


# --- Building the solver's data ----------------------------------------------------------


class _Model:
    """Nodes, vehicles and pyvrp data for one problem (twin windows change between rounds)."""

    def __init__(
        self, plan: _Plan, jobs: list[Job], rides: list[Ride], allowed: dict[str, set[str]]
    ):
        self.plan = plan
        problem = plan.problem
        tpm = plan.tpm
        self.allowed = allowed
        self.starts: dict[str, int] = {}  # each transfer's common start (minutes) this round
        self.nodes: list[_Node] = []
        self.groups: list[list[int]] = []  # client indices of a multi-window job
        self.twins: dict[str, tuple[int, int]] = {}
        self.rides = rides
        self.prize: list[int] = []

        def prize(task: Job | Ride) -> int:
            weight = max(1, min(10, task.priority))
            if task.optional:
                return weight * 60 * tpm * _COST_SCALE
            return weight * _MANDATORY_PRIZE

        for job in jobs:
            service = job.duration + job.buffer
            if job.aides == 2:
                first = len(self.nodes)
                for half in (0, 1):
                    self.nodes.append(
                        _Node(
                            "twin",
                            job.id,
                            job.place,
                            service,
                            job.windows[0],
                            job.skills,
                            job.household,
                            twin=half,
                        )
                    )
                    # Each half earns its prize alone: weigh transfers up so the search makes
                    # room for both halves (a lone half is removed afterwards).
                    self.prize.append(3 * prize(job))
                self.twins[job.id] = (first, first + 1)
                continue
            indices = []
            for window in job.windows or (None,):
                indices.append(len(self.nodes))
                self.nodes.append(
                    _Node(
                        "job",
                        job.id,
                        job.place,
                        service,
                        window,
                        job.skills,
                        job.household,
                        only=job.worker,
                    )
                )
                self.prize.append(prize(job))
            if len(indices) > 1:
                self.groups.append(indices)
        self.break_node: dict[tuple[str, int], int] = {}
        for worker in problem.workers:
            for k, shift in enumerate(worker.shifts):
                if shift.pause:
                    self.nodes.append(
                        _Node(
                            "break",
                            worker.id,
                            _pause_place(worker, shift),
                            shift.pause.duration,
                            shift.pause.window,
                            frozenset(),
                            None,
                            shift=k,
                            only=worker.id,
                        )
                    )
                    self.prize.append(_BREAK_PRIZE)
                    self.break_node[(worker.id, k)] = len(self.nodes) - 1
        self.ride_prize = [prize(ride) for ride in rides]

        # Vehicles: identical workers without breaks share a vehicle type per shift.
        self.vehicles: list[_Vehicle] = []
        signature: dict[tuple, list[Worker]] = defaultdict(list)
        for worker in problem.workers:
            individual = problem.known_workers or problem.max_workers_per_household is not None
            if any(s.pause for s in worker.shifts) or individual:
                key: tuple = (worker.id,)
            else:
                key = (
                    worker.start,
                    worker.end,
                    worker.shifts,
                    worker.skills,
                    worker.capacity,
                    worker.seats,
                    worker.max_minutes_per_day,
                    worker.contract_minutes,
                    worker.mode,
                    worker.travel_cost,
                )
            signature[key].append(worker)
        for workers in signature.values():
            for k in range(len(workers[0].shifts)):
                self.vehicles.append(_Vehicle(workers, k))

        # Locations: depots first, then one per (place, skills, household, break owner).
        self.loc_keys: list[tuple] = []
        self.loc_index: dict[tuple, int] = {}

        def loc(key: tuple) -> int:
            if key not in self.loc_index:
                self.loc_index[key] = len(self.loc_keys)
                self.loc_keys.append(key)
            return self.loc_index[key]

        self.depot_of: dict[Point, int] = {}
        for worker in problem.workers:
            for place in (worker.start, worker.end or worker.start):
                if place not in self.depot_of:
                    self.depot_of[place] = len(self.depot_of)
                    loc(("depot", place))
        self.node_loc = []
        for node in self.nodes:
            owner = node.only
            self.node_loc.append(loc(("client", node.place, node.need, node.household, owner)))
        self.ride_loc = [
            (
                loc(("client", r.pickup, r.skills, r.household, None)),
                loc(("client", r.delivery, r.skills, r.household, None)),
            )
            for r in rides
        ]
        self._matrices()
        self.prepare(jobs)

    def _matrices(self) -> None:
        plan, problem = self.plan, self.plan.problem
        matrix = plan.matrix
        places = [key[1] for key in self.loc_keys]
        idx = np.array([matrix.index[p] for p in places], dtype=int)
        tpm = plan.tpm
        base: dict[str, np.ndarray] = {}
        for mode in {w.mode for w in problem.workers}:
            minutes = matrix.minutes[mode][np.ix_(idx, idx)]
            base[mode] = np.ceil(minutes * tpm - 1e-9).astype(np.int64)
        self.base_ticks = base
        known_by_worker: dict[str, set[str]] = defaultdict(set)
        for household, ids in problem.known_workers.items():
            for wid in ids:
                known_by_worker[wid].add(household)
        households_known = set(problem.known_workers)
        penalty = problem.unknown_worker_penalty * tpm * _COST_SCALE
        self.profile_of: dict[str, int] = {}
        self.distances: list[np.ndarray] = []
        self.durations: list[np.ndarray] = []
        seen: dict[tuple, int] = {}
        for vehicle in self.vehicles:
            worker = vehicle.workers[0]
            if worker.id in self.profile_of:
                continue
            cols = np.zeros(len(self.loc_keys), dtype=np.int64)
            for j, key in enumerate(self.loc_keys):
                if key[0] != "client":
                    continue
                _, _, need, household, owner = key
                barred = household in self.allowed and worker.id not in self.allowed[household]
                if (
                    (owner is not None and owner != worker.id)
                    or not need <= worker.skills
                    or barred
                ):
                    cols[j] = _FORBIDDEN
                elif household in households_known and household not in known_by_worker[worker.id]:
                    cols[j] = penalty
            sig = (worker.mode, worker.travel_cost, cols.tobytes())
            if sig not in seen:
                seen[sig] = len(self.distances)
                dist = base[worker.mode] * (worker.travel_cost * _COST_SCALE) + cols[None, :]
                np.fill_diagonal(dist, 0)
                self.distances.append(np.minimum(dist, _FORBIDDEN))
                self.durations.append(base[worker.mode])
            for w in vehicle.workers:
                self.profile_of[w.id] = seen[sig]

    def data(self, starts: Mapping[str, int]) -> pyvrp.ProblemData:
        """pyvrp data, with each transfer's twins fixed to start at starts[job id] (minutes)."""
        problem, tpm = self.plan.problem, self.plan.tpm
        locations = [pyvrp.Location(x=float(k[1].lon), y=float(k[1].lat)) for k in self.loc_keys]
        depots = [pyvrp.Depot(location=self.loc_index[("depot", p)]) for p in self.depot_of]
        clients = []
        for i, node in enumerate(self.nodes):
            window = node.window
            if node.kind == "twin":
                s = starts[node.ref] * tpm
                early, late = s, s
            elif window is None:
                early, late = 0, _HORIZON
            else:
                early, late = window.start * tpm, window.end * tpm
            # Both halves of a transfer carry its meals: check() counts them on each route.
            demand = self._demand[node.ref] if node.kind in ("job", "twin") else 0
            clients.append(
                pyvrp.Client(
                    location=self.node_loc[i],
                    delivery=[demand, 0],
                    pickup=[0, 0],
                    service_duration=node.service * tpm,
                    tw_early=early,
                    tw_late=late,
                    prize=self.prize[i],
                    required=False,
                    group=self._group_of.get(i),
                    name=f"{node.kind}:{node.ref}",
                )
            )
        groups = [pyvrp.ClientGroup(clients=g, required=False) for g in self.groups]
        shipments = []
        for r, ride in enumerate(self.rides):
            pw = ride.pickup_window or Window(0, _HORIZON // tpm)
            dw = ride.delivery_window or Window(0, _HORIZON // tpm)
            shipments.append(
                pyvrp.Shipment(
                    pickup_location=self.ride_loc[r][0],
                    delivery_location=self.ride_loc[r][1],
                    pickup_tw_early=pw.start * tpm,
                    pickup_tw_late=min(pw.end * tpm, _HORIZON),
                    pickup_service_duration=(ride.pickup_duration + ride.buffer) * tpm,
                    delivery_tw_early=dw.start * tpm,
                    delivery_tw_late=min(dw.end * tpm, _HORIZON),
                    delivery_service_duration=(ride.delivery_duration + ride.buffer) * tpm,
                    amount=[0, ride.seats],
                    prize=self.ride_prize[r],
                    required=False,
                    name=f"ride:{ride.id}",
                )
            )
        vehicle_types = []
        for vehicle in self.vehicles:
            worker = vehicle.workers[0]
            shift = worker.shifts[vehicle.shift]
            pause = shift.pause.duration if shift.pause else 0
            cap = _shift_cap(worker, shift, problem)
            target = self._targets.get((worker.id, vehicle.shift), cap)
            vehicle_types.append(
                pyvrp.VehicleType(
                    num_available=len(vehicle.workers),
                    capacity=[
                        _BIG_LOAD if worker.capacity is None else worker.capacity,
                        _BIG_LOAD if worker.seats is None else worker.seats,
                    ],
                    start_depot=self.depot_of[worker.start],
                    end_depot=self.depot_of[worker.end or worker.start],
                    tw_early=shift.start * tpm,
                    tw_late=shift.end * tpm,
                    shift_duration=(target + pause) * tpm,
                    max_overtime=(cap - target) * tpm,
                    unit_overtime_cost=round(problem.fairness_weight * _COST_SCALE),
                    unit_distance_cost=1,
                    unit_duration_cost=0,
                    profile=self.profile_of[worker.id],
                    name=f"{worker.id}#{vehicle.shift}",
                )
            )
        return pyvrp.ProblemData(
            locations,
            clients,
            depots,
            vehicle_types,
            self.distances,
            self.durations,
            groups,
            shipments,
        )

    def describe(self, item: _Item, shift: Shift) -> tuple[Point, int, int, int]:
        """Place, service, earliest and latest start of an item, in ticks."""
        tpm = self.plan.tpm
        kind, i = item
        if kind == "node":
            node = self.nodes[i]
            if node.kind == "twin":
                s = self.starts[node.ref] * tpm
                return node.place, node.service * tpm, s, s
            window = node.window or Window(shift.start, shift.end)
            return node.place, node.service * tpm, window.start * tpm, window.end * tpm
        ride = self.rides[i]
        if kind == "pickup":
            window = ride.pickup_window or Window(shift.start, shift.end)
            return (
                ride.pickup,
                (ride.pickup_duration + ride.buffer) * tpm,
                window.start * tpm,
                window.end * tpm,
            )
        window = ride.delivery_window or Window(shift.start, shift.end)
        return (
            ride.delivery,
            (ride.delivery_duration + ride.buffer) * tpm,
            window.start * tpm,
            window.end * tpm,
        )

    def demand(self, item: _Item) -> int:
        """Meals an item drops: a visit's, on each half of a transfer; none for breaks, rides."""
        if item[0] != "node" or self.nodes[item[1]].kind == "break":
            return 0
        return self._demand.get(self.nodes[item[1]].ref, 0)

    def may(self, worker: Worker, item: _Item) -> bool:
        """Whether this worker may do this item at all (the solver only prices the rule)."""
        if item[0] == "node":
            node = self.nodes[item[1]]
            if node.only is not None and node.only != worker.id:
                return False
            need, household = node.need, node.household
        else:
            ride = self.rides[item[1]]
            need, household = ride.skills, ride.household
        if not need <= worker.skills:
            return False
        return not (household in self.allowed and worker.id not in self.allowed[household])

    def prepare(self, jobs: list[Job]) -> None:
        """Demands, group membership and the fair working targets."""
        plan, problem = self.plan, self.plan.problem
        self._demand = {job.id: job.demand for job in jobs}
        self._group_of = {i: g for g, members in enumerate(self.groups) for i in members}
        self._targets: dict[tuple[str, int], int] = {}
        if not problem.balance_hours:
            return
        caps = {
            (w.id, k): _shift_cap(w, s, problem)
            for w in problem.workers
            for k, s in enumerate(w.shifts)
        }
        total_cap = sum(caps.values()) or 1
        # Work to share: service time plus a typical leg (the mean of each mode's matrix).
        legs = (
            np.mean([m.mean() for m in self.base_ticks.values()]) / plan.tpm
            if self.base_ticks
            else 0
        )
        work = sum((j.duration + j.buffer) * j.aides + legs * j.aides for j in jobs)
        work += sum(
            r.pickup_duration + r.delivery_duration + 2 * r.buffer + 2 * legs for r in self.rides
        )
        load = min(1.0, 1.15 * work / total_cap)
        for key, cap in caps.items():
            self._targets[key] = min(cap, math.ceil(cap * load))


_HORIZON = 1 << 40
_BIG_LOAD = 1 << 30


# --- Schedules and repair ----------------------------------------------------------------


@dataclass
class _Timed:
    item: _Item
    place: Point
    arrival: int
    start: int
    end: int
    travel: int


class _Schedule:
    """Earliest times of one route in ticks, its departure delayed to cut waiting."""

    def __init__(self, model: _Model, worker: Worker, shift_index: int, items: list[_Item]):
        plan = model.plan
        tpm = plan.tpm
        shift = worker.shifts[shift_index]
        self.problem_item: _Item | None = None  # the first item that breaks a rule
        self.timed: list[_Timed] = []
        t = shift.start * tpm
        here = worker.start
        waits: list[int] = []
        lates: list[int] = []
        load = sum(model.demand(item) for item in items)
        if worker.capacity is not None and load > worker.capacity:
            self.problem_item = next((it for it in reversed(items) if model.demand(it) > 0), None)
        seats = 0
        for item in items:
            if self.problem_item is None and not model.may(worker, item):
                self.problem_item = item
            place, service, early, late = model.describe(item, shift)
            leg = plan.travel(worker, here, place)
            arrival = t + leg
            start = max(arrival, early)
            if start > late and self.problem_item is None:
                self.problem_item = item
            end = start + service
            self.timed.append(_Timed(item, place, arrival, start, end, leg))
            waits.append(start - arrival)
            lates.append(late)
            if item[0] == "pickup":
                seats += model.rides[item[1]].seats
                if worker.seats is not None and seats > worker.seats and self.problem_item is None:
                    self.problem_item = item
            elif item[0] == "delivery":
                seats -= model.rides[item[1]].seats
            t, here = end, place
        home = worker.end or worker.start
        self.last_leg = plan.travel(worker, here, home)
        self.back = t + self.last_leg
        # Leave later when the first stops would only wait: cut the waiting, keep every start.
        cumulative, delay = 0, sum(waits)
        for timed, wait, late in zip(self.timed, waits, lates, strict=True):
            cumulative += wait
            delay = min(delay, late - timed.start + cumulative)
        delay = max(0, delay)
        self.departure = shift.start * tpm + delay
        self._retime(model, worker, shift, items, delay)
        pauses = sum(
            t.end - t.start
            for t in self.timed
            if t.item[0] == "node" and model.nodes[t.item[1]].kind == "break"
        )
        self.working = self.back - self.departure - pauses
        if self.problem_item is None and self.back > shift.end * tpm:
            self.problem_item = _last_work(model, items)
        cap = _shift_cap(worker, shift, plan.problem) * tpm
        if self.problem_item is None and self.working > cap:
            self.problem_item = _last_work(model, items)

    def _retime(
        self, model: _Model, worker: Worker, shift: Shift, items: list[_Item], delay: int
    ) -> None:
        # Recompute forward from the delayed departure (exact, simpler than shifting).
        plan = model.plan
        t = shift.start * plan.tpm + delay
        for timed in self.timed:
            _place, service, early, _late = model.describe(timed.item, shift)
            timed.arrival = t + timed.travel
            timed.start = max(timed.arrival, early)
            timed.end = timed.start + service
            t = timed.end
        self.back = t + self.last_leg


def _last_work(model: _Model, items: list[_Item]) -> _Item | None:
    for item in reversed(items):
        if item[0] != "node" or model.nodes[item[1]].kind != "break":
            return item
    return items[-1] if items else None


# --- Solving -----------------------------------------------------------------------------


def _candidates(job: Job) -> list[int]:
    """Common start minutes to try for a transfer: each window's start, middle and end."""
    starts: list[int] = []
    for w in job.windows:
        starts += [w.start, (w.start + w.end) // 2, w.end]
    return list(dict.fromkeys(starts))


def _solver_routes(model: _Model, best: pyvrp.Solution) -> dict[tuple[str, int], list[_Item]]:
    """pyvrp routes → {(worker id, shift index): items}."""
    used: dict[int, int] = defaultdict(int)
    routes: dict[tuple[str, int], list[_Item]] = {}
    for route in best.routes():
        vt = route.vehicle_type()
        vehicle = model.vehicles[vt]
        worker = vehicle.workers[used[vt]]
        used[vt] += 1
        items: list[_Item] = []
        for activity in route:
            if activity.is_client():
                items.append(("node", activity.idx))
            elif activity.is_pickup():
                items.append(("pickup", activity.idx))
            elif activity.is_delivery():
                items.append(("delivery", activity.idx))
        routes[(worker.id, vehicle.shift)] = items
    return routes


def _partners(model: _Model, item: _Item) -> set[_Item]:
    """The item and what must go with it: the other twin, the other end of a ride."""
    kind, i = item
    if kind in ("pickup", "delivery"):
        return {("pickup", i), ("delivery", i)}
    node = model.nodes[i]
    if node.kind == "twin":
        a, b = model.twins[node.ref]
        return {("node", a), ("node", b)}
    return {item}


def _repair(
    model: _Model, routes: dict[tuple[str, int], list[_Item]]
) -> dict[tuple[str, int], _Schedule]:
    """Drop what breaks a rule (and its partner) until every route holds; lone twins too."""
    workers = model.plan.workers
    while True:
        schedules: dict[tuple[str, int], _Schedule] = {}
        drop: set[_Item] = set()
        for key, items in routes.items():
            # A break only matters when the route works on both sides of it.
            work = [
                k
                for k, it in enumerate(items)
                if not (it[0] == "node" and model.nodes[it[1]].kind == "break")
            ]
            if work:
                items[:] = [it for k, it in enumerate(items) if k in work or work[0] < k < work[-1]]
            else:
                items.clear()
            if not items:
                continue
            schedule = _Schedule(model, workers[key[0]], key[1], items)
            if schedule.problem_item is None and _skips_break(model, key, schedule):
                schedule = _with_break(model, key, items) or schedule
                if schedule.problem_item is None and _skips_break(model, key, schedule):
                    schedule.problem_item = _last_work(model, items)
            if schedule.problem_item is not None:
                drop |= _partners(model, schedule.problem_item)
            schedules[key] = schedule
        placed = {it for items in routes.values() for it in items}
        for a, b in model.twins.values():
            if (("node", a) in placed) != (("node", b) in placed):
                drop |= {("node", a), ("node", b)}
        for kind, i in [it for it in placed if it[0] in ("pickup", "delivery")]:
            if ("pickup", i) not in placed or ("delivery", i) not in placed:
                drop |= _partners(model, (kind, i))
        if not drop:
            return schedules
        for items in routes.values():
            items[:] = [it for it in items if it not in drop]


def _skips_break(model: _Model, key: tuple[str, int], schedule: _Schedule) -> bool:
    """A route that works on both sides of its break window must hold its break."""
    shift = model.plan.workers[key[0]].shifts[key[1]]
    if shift.pause is None:
        return False
    tpm = model.plan.tpm
    kinds = [model.nodes[t.item[1]].kind if t.item[0] == "node" else "ride" for t in schedule.timed]
    if "break" in kinds:
        return False
    work = [t for t, kind in zip(schedule.timed, kinds, strict=True) if kind != "break"]
    return (
        bool(work)
        and work[0].start < shift.pause.window.start * tpm
        and work[-1].end > shift.pause.window.end * tpm
    )


def _with_break(model: _Model, key: tuple[str, int], items: list[_Item]) -> _Schedule | None:
    """Put the worker's break back at the first position where every rule still holds."""
    node = model.break_node.get(key)
    if node is None:
        return None
    worker = model.plan.workers[key[0]]
    for position in range(1, len(items)):
        trial = [*items[:position], ("node", node), *items[position:]]
        schedule = _Schedule(model, worker, key[1], trial)
        if schedule.problem_item is None:
            items[:] = trial
            return schedule
    return None


def _warm_start(model: _Model, data: pyvrp.ProblemData, routes: dict[tuple[str, int], list[_Item]]):
    """The previous round's routes as a pyvrp solution (None when pyvrp refuses it)."""
    slots: dict[tuple[str, int], int] = {}
    for vt, vehicle in enumerate(model.vehicles):
        for worker in vehicle.workers:
            slots[(worker.id, vehicle.shift)] = vt
    kinds = {
        "node": pyvrp.ActivityType.CLIENT,
        "pickup": pyvrp.ActivityType.PICKUP,
        "delivery": pyvrp.ActivityType.DELIVERY,
    }
    out = []
    try:
        for key, items in routes.items():
            if items:
                activities = [pyvrp.Activity(kinds[kind], i) for kind, i in items]
                out.append(pyvrp.Route(data, activities, slots[key]))
        return pyvrp.Solution(data, out)
    except (ValueError, RuntimeError, IndexError, TypeError):
        return None


def _usage(model: _Model, routes: dict[tuple[str, int], list[_Item]]) -> dict[str, list[str]]:
    """Household → the workers that served it, most visits first."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (worker_id, _shift), items in routes.items():
        for kind, i in items:
            household = model.nodes[i].household if kind == "node" else model.rides[i].household
            if household:
                counts[household][worker_id] += 1
    return {h: sorted(c, key=lambda w: (-c[w], w)) for h, c in counts.items()}


def _score(
    model: _Model,
    routes: dict[tuple[str, int], list[_Item]],
    schedules: dict[tuple[str, int], _Schedule],
) -> tuple[int, int]:
    """(prizes of what is left out, travel ticks): lower is better."""
    placed = {it for items in routes.values() for it in items}
    missing = sum(
        p
        for i, p in enumerate(model.prize)
        if ("node", i) not in placed and model.nodes[i].kind == "twin"
    )
    jobs_in = {model.nodes[i].ref for kind, i in placed if kind == "node"}
    missing += sum(
        p
        for i, p in enumerate(model.prize)
        if model.nodes[i].kind == "job" and model.nodes[i].ref not in jobs_in
    )
    missing += sum(p for r, p in enumerate(model.ride_prize) if ("pickup", r) not in placed)
    travel = sum(sum(t.travel for t in s.timed) + s.last_leg for s in schedules.values())
    return missing, travel


def _neighbours(model: _Model, data: pyvrp.ProblemData):
    """pyvrp's granular neighbourhood, computed on one profile (the first mode's travel)."""
    # Its cost grows with the number of profiles: one per worker would spend seconds here.
    base = next(iter(model.base_ticks.values()))
    proxy = data.replace(
        vehicle_types=[vt.replace(profile=0) for vt in data.vehicle_types()],
        distance_matrices=[base * _COST_SCALE],
        duration_matrices=[base],
    )
    return compute_neighbours(proxy, SolveParams().neighbourhood)


# A cap on the search's iterations besides its time (whichever comes first ends it), for
# tests: a capped search gives the same plan whatever the machine's load, and a small
# problem stops once it has had its iterations instead of searching for the whole budget.
# None (no cap) in production; solve(iterations=…) overrides it for one call.
SEARCH_ITERATIONS: int | None = None


def _stop(seconds: float, iterations: int | None):
    if iterations is None:
        return MaxRuntime(seconds)
    return MultipleCriteria([MaxIterations(iterations), MaxRuntime(seconds)])


def _search(
    data: pyvrp.ProblemData,
    seconds: float,
    seed: int,
    initial,
    neighbours,
    iterations: int | None = None,
) -> pyvrp.Solution:
    """pyvrp.solve() (pyvrp 0.14's own steps) with a neighbourhood computed once."""
    params = SolveParams()
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    perturbation = PerturbationManager(params.perturbation)
    ls = LocalSearch(data, rng, neighbours, perturbation)
    for op in params.operators:
        if op.supports(data):
            ls.add_operator(op(data))
    pm = PenaltyManager(params.penalty.midpoint_penalties(data), params.penalty)
    ends = time.monotonic() + seconds
    if initial is None:
        initial = ls(
            pyvrp.Solution.make_random(data, rng), pm.max_cost_evaluator(), exhaustive=True
        )
    algo = IteratedLocalSearch(data, pm, ls, initial, params.ils)
    # The first descent above counts against the same limit.
    left = max(ends - time.monotonic(), 0.01)
    with warnings.catch_warnings():
        # pyvrp warns when its penalties hit their bound on a plan it cannot make feasible;
        # _repair removes what breaks a rule and says why, so the warning is only noise.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        stop = _stop(left, iterations)
        return algo.run(stop, False, False, params.display_interval).best


def _matrix_for(problem: Problem) -> Matrix:
    """The problem's own matrix (checked to cover every place and mode), or a built one."""
    modes = sorted({w.mode for w in problem.workers})
    if problem.matrix is None:
        unknown = [m for m in modes if m not in TRAVEL_MODES]
        if unknown:
            raise ValueError(f"unknown travel mode {unknown[0]!r}")
        return build_matrix(_places(problem), modes, osrm_url=problem.osrm_url)
    matrix = problem.matrix
    missing = [p for p in _places(problem) if p not in matrix.index]
    if missing:
        raise ValueError(f"the matrix has no row for {missing[0]}")
    unknown = [m for m in modes if m not in matrix.minutes]
    if unknown:
        raise ValueError(f"the matrix has no travel mode {unknown[0]!r}")
    return matrix


def _search_job(args: tuple) -> pyvrp.Solution:
    """One search in a worker process (module level, so that it pickles)."""
    return _search(*args)


def _searches(
    data, seconds: float, seed: int, initial, neighbours, pool, iterations: int | None
) -> pyvrp.Solution:
    """One search, or one per process with seeds seed, seed + 1, … keeping the cheapest."""
    if pool is None:
        return _search(data, seconds, seed, initial, neighbours, iterations)
    jobs = [
        (data, seconds, seed + k, initial, neighbours, iterations) for k in range(pool._max_workers)
    ]
    found = list(pool.map(_search_job, jobs))
    evaluator = pyvrp.CostEvaluator([0.0] * data.num_load_dimensions, 0.0, 0.0)
    feasible = [s for s in found if s.is_feasible()] or found
    return min(feasible, key=evaluator.cost)


def solve(
    problem: Problem,
    *,
    seconds: float = 5.0,
    seed: int = 0,
    processes: int = 1,
    iterations: int | None = None,
) -> Solution:
    """Plan every job and ride within `seconds` (wall clock, everything included) and, if
    given (or SEARCH_ITERATIONS is set), within `iterations` of each search."""
    # processes > 1 runs that many searches side by side (another seed each, in worker
    # processes) and keeps the cheapest: one per core for a benchmark or a batch job,
    # never inside a web request.
    iterations = SEARCH_ITERATIONS if iterations is None else iterations
    if processes > 1:
        with ProcessPoolExecutor(processes) as pool:
            return _solve(problem, seconds, seed, pool, iterations)
    return _solve(problem, seconds, seed, None, iterations)


def _solve(
    problem: Problem, seconds: float, seed: int, pool, iterations: int | None = None
) -> Solution:
    """solve() with an optional process pool."""
    # The seed makes a run repeatable only when the search ends on the same iteration: a
    # time limit makes that depend on the machine's load.
    deadline = time.monotonic() + seconds
    _validate(problem)
    for job in problem.jobs:
        if job.aides == 2 and not job.windows:
            raise ValueError(f"job {job.id}: a two-aide visit needs a time window")
    matrix = _matrix_for(problem)
    plan = _Plan(problem, matrix)
    allowed = _allowed_by_household(problem, matrix)

    # Tasks nobody could do even alone are not given to the solver (their reason is known).
    def possible(task: Job | Ride) -> bool:
        return (
            _reason(plan, task, allowed.get(task.household) if task.household else None)
            is Reason.NO_ROOM
        )

    jobs = [job for job in problem.jobs if possible(job)]
    rides = [ride for ride in problem.rides if possible(ride)]
    # With a continuity cap, a first round plans freely; each household then keeps the K
    # aides that served it most, and the next rounds plan within that choice.
    free_round = problem.max_workers_per_household is not None
    model = _Model(plan, jobs, rides, {} if free_round else allowed)
    candidates = {job.id: _candidates(job) for job in jobs if job.aides == 2}
    tries = dict.fromkeys(candidates, 0)
    model.starts = {job_id: c[0] for job_id, c in candidates.items()}
    rounds = 1 if not candidates else min(3, max(len(c) for c in candidates.values()))
    rounds += int(free_round)
    routes: dict[tuple[str, int], list[_Item]] = {}
    best: tuple[tuple[int, int], dict[tuple[str, int], _Schedule]] | None = None
    neighbours = None
    # What follows the search (repair, reasons) takes a few percent of the budget.
    reserve = min(0.5, 0.05 * seconds) + 0.0005 * len(problem.jobs)
    if not model.vehicles or not (model.nodes or model.rides):
        rounds = 0  # nothing to plan, or nobody to plan it: every task gets its reason
        best = (_score(model, routes, {}), {})
    for round_ in range(rounds):
        data = model.data(model.starts)
        initial = _warm_start(model, data, routes) if routes else None
        if neighbours is None:
            neighbours = _neighbours(model, data)
        budget = (deadline - time.monotonic() - reserve) / (rounds - round_)
        if free_round:
            budget = 0.4 * (deadline - time.monotonic() - reserve)
        found = _searches(
            data, max(budget, 0.01), seed + 10 * round_, initial, neighbours, pool, iterations
        )
        routes = _solver_routes(model, found)
        if free_round:
            free_round = False
            allowed = _allowed_by_household(problem, matrix, prefer=_usage(model, routes))
            model.allowed = allowed
            model._matrices()
            _repair(model, routes)  # drops what the cap now bars; the rest starts the next round
            continue
        schedules = _repair(model, routes)
        score = _score(model, routes, schedules)
        if best is None or score < best[0]:
            best = (score, schedules)
        placed = {it for items in routes.values() for it in items}
        failed = [j for j, (a, _b) in model.twins.items() if ("node", a) not in placed]
        # A transfer that found no pair moves to its next start; when every transfer is
        # placed but other visits were crowded out, the transfers move so they can return.
        movable = failed or (list(model.twins) if score[0] else [])
        moved = False
        for job_id in movable:
            if tries[job_id] + 1 < len(candidates[job_id]):
                tries[job_id] += 1
                model.starts[job_id] = candidates[job_id][tries[job_id]]
                moved = True
        if not moved:
            break
    assert best is not None
    return _verified(model, best[1], allowed)


def _verified(
    model: _Model, schedules: dict[tuple[str, int], _Schedule], allowed: dict[str, set[str]]
) -> Solution:
    """_solution(), re-checked with check(): what breaks a rule is dropped, with its reason."""
    # A safety net that should never act: _repair already keeps every rule. If a rule it
    # misses ever slips through (as transfers' meals once did), the offending stops move to
    # the unassigned list instead of reaching a worker's round.
    problem = model.plan.problem
    routes = {key: [t.item for t in s.timed] for key, s in schedules.items()}
    for _ in range(sum(len(items) for items in routes.values()) + 1):
        solution = _solution(model, schedules, allowed)
        errors = _check(problem, solution, model.plan.matrix, 1e-6)
        if not errors:
            return solution
        drop = _culprits(model, routes, errors)
        if not drop:
            break
        for items in routes.values():
            items[:] = [it for it in items if it not in drop]
        schedules = _repair(model, routes)
    return _solution(model, {}, allowed)  # nothing planned is better than a broken plan


def _culprits(
    model: _Model, routes: dict[tuple[str, int], list[_Item]], errors: list[str]
) -> set[_Item]:
    """The items to drop (with their partners) for check()'s errors; empty if none is known."""
    drop: set[_Item] = set()

    def ref(item: _Item) -> str:
        return model.nodes[item[1]].ref if item[0] == "node" else model.rides[item[1]].id

    def household(item: _Item) -> str | None:
        return (
            model.nodes[item[1]].household if item[0] == "node" else model.rides[item[1]].household
        )

    for error in errors:
        words = error.replace(":", " ").split()
        found: set[_Item] = set()
        for (worker_id, shift), items in routes.items():
            mine = error.startswith((f"{worker_id}#{shift} ", f"{worker_id}#{shift}:"))
            if items and (mine or error.startswith(f"{worker_id} works ")):
                # The last meal when too many are carried, else the last piece of work.
                meals = [it for it in items if model.demand(it) > 0]
                last = meals[-1] if "meals" in error and meals else _last_work(model, items)
                found |= {last} if last else set()
        if not found and error.startswith("household "):
            # Keep the household with the worker who serves it most; the others let go.
            name = error.removeprefix("household ").rsplit(" sees ", 1)[0]
            theirs = {
                key: [it for it in items if household(it) == name] for key, items in routes.items()
            }
            keep = max(theirs, key=lambda key: len(theirs[key]))
            found = {it for key, items in theirs.items() if key != keep for it in items}
        if not found:
            found = {it for items in routes.values() for it in items if ref(it) in words}
        for item in found:
            drop |= _partners(model, item)
    return drop


def _solution(
    model: _Model, schedules: dict[tuple[str, int], _Schedule], allowed: dict[str, set[str]]
) -> Solution:
    plan, problem = model.plan, model.plan.problem
    tpm = plan.tpm
    matrix = plan.matrix
    done: set[str] = set()
    out: list[Route] = []
    for (worker_id, shift_index), schedule in sorted(
        schedules.items(), key=lambda kv: (kv[0][0], kv[0][1])
    ):
        worker = plan.workers[worker_id]
        stops = []
        here = worker.start
        km_total = 0.0
        for timed in schedule.timed:
            kind, i = timed.item
            if kind == "node":
                node = model.nodes[i]
                stop_kind, ref = ("break" if node.kind == "break" else "job"), node.ref
            else:
                stop_kind, ref = kind, model.rides[i].id
            km = float(matrix.km[matrix.index[here], matrix.index[timed.place]])
            km_total += km
            stops.append(
                Stop(
                    stop_kind,
                    ref,
                    timed.place,
                    timed.arrival / tpm,
                    timed.start / tpm,
                    timed.end / tpm,
                    timed.travel / tpm,
                    km,
                )
            )
            if stop_kind != "break":
                done.add(ref)
            here = timed.place
        home = worker.end or worker.start
        km_total += float(matrix.km[matrix.index[here], matrix.index[home]])
        travel = sum(t.travel for t in schedule.timed) + schedule.last_leg
        out.append(
            Route(
                worker_id,
                shift_index,
                schedule.departure / tpm,
                schedule.back / tpm,
                tuple(stops),
                travel / tpm,
                km_total,
                schedule.working / tpm,
            )
        )
    unassigned = [
        Unassigned(
            task.id, _reason(plan, task, allowed.get(task.household) if task.household else None)
        )
        for task in [*problem.jobs, *problem.rides]
        if task.id not in done
    ]
    return Solution(tuple(out), tuple(unassigned), problem.origin)


# --- Checking a solution -----------------------------------------------------------------


def check(problem: Problem, solution: Solution, *, tolerance: float = 1e-6) -> list[str]:
    """Every rule a plan must keep, re-verified from the problem alone; [] when all hold."""
    return _check(problem, solution, _matrix_for(problem), tolerance)


def _check(problem: Problem, solution: Solution, matrix: Matrix, tolerance: float) -> list[str]:
    """check() with the travel matrix given (solve() re-checks without asking OSRM again)."""
    # Legs are re-timed with the same travel model (rounded up to a tick, as the solver does).
    errors: list[str] = []
    eps = tolerance + 1.0 / problem.ticks_per_minute  # one tick of rounding either way
    plan = _Plan(problem, matrix)
    workers = plan.workers
    jobs = {job.id: job for job in problem.jobs}
    rides = {ride.id: ride for ride in problem.rides}
    visits: dict[str, list[tuple[str, float]]] = defaultdict(list)  # job id → (worker, start)
    ride_steps: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    worked: dict[str, float] = defaultdict(float)
    shifts_used: set[tuple[str, int]] = set()
    for route in solution.routes:
        worker = workers.get(route.worker)
        if worker is None or not 0 <= route.shift < len(worker.shifts):
            errors.append(f"route of unknown worker or shift {route.worker}#{route.shift}")
            continue
        if (route.worker, route.shift) in shifts_used:
            errors.append(f"{route.worker} has two routes in shift {route.shift}")
        shifts_used.add((route.worker, route.shift))
        shift = worker.shifts[route.shift]
        where = f"{route.worker}#{route.shift}"
        if route.departure < shift.start - tolerance:
            errors.append(f"{where} leaves before the shift starts")
        t, here = route.departure, worker.start
        meals = sum(jobs[s.id].demand for s in route.stops if s.kind == "job" and s.id in jobs)
        if worker.capacity is not None and meals > worker.capacity:
            errors.append(f"{where} carries {meals} meals > capacity {worker.capacity}")
        seats = 0
        pauses = 0.0
        for stop in route.stops:
            leg = plan.travel(worker, here, stop.place) / plan.tpm
            if stop.arrival < t + leg - eps:
                errors.append(
                    f"{where} reaches {stop.id} at {stop.arrival:.2f}, before {t + leg:.2f}"
                )
            if stop.start < stop.arrival - tolerance:
                errors.append(f"{where} starts {stop.id} before arriving")
            if stop.kind == "break":
                pause = shift.pause
                if pause is None or stop.id != worker.id:
                    errors.append(f"{where} has a break it does not own")
                else:
                    service, windows, place = (
                        pause.duration,
                        [pause.window],
                        _pause_place(worker, shift),
                    )
                    pauses += stop.end - stop.start
            elif stop.kind == "job":
                job = jobs.get(stop.id)
                if job is None:
                    errors.append(f"{where} visits unknown job {stop.id}")
                    continue
                service, windows, place = job.duration + job.buffer, list(job.windows), job.place
                if not job.skills <= worker.skills:
                    errors.append(
                        f"{where} lacks skills {sorted(job.skills - worker.skills)} for {job.id}"
                    )
                if job.worker is not None and job.worker != worker.id:
                    errors.append(f"{where} does {job.id}, kept for {job.worker}")
                visits[job.id].append((worker.id, stop.start))
            else:
                ride = rides.get(stop.id)
                if ride is None:
                    errors.append(f"{where} carries unknown ride {stop.id}")
                    continue
                pickup = stop.kind == "pickup"
                service = (ride.pickup_duration if pickup else ride.delivery_duration) + ride.buffer
                window = ride.pickup_window if pickup else ride.delivery_window
                windows, place = (
                    ([window] if window else []),
                    (ride.pickup if pickup else ride.delivery),
                )
                if not ride.skills <= worker.skills:
                    errors.append(f"{where} lacks skills for ride {ride.id}")
                seats += ride.seats if pickup else -ride.seats
                if worker.seats is not None and seats > worker.seats:
                    errors.append(f"{where} carries {seats} passengers > {worker.seats} seats")
                ride_steps[ride.id].append((worker.id, stop.kind, stop.start))
            if place != stop.place:
                errors.append(f"{where}: {stop.id} is not at its place")
            if windows and not any(
                w.start - tolerance <= stop.start <= w.end + tolerance for w in windows
            ):
                errors.append(f"{where}: {stop.id} starts at {stop.start:.2f}, outside its windows")
            if not shift.start - tolerance <= stop.start and stop.end <= shift.end + tolerance:
                errors.append(f"{where}: {stop.id} lies outside the shift")
            if abs(stop.end - stop.start - service) > eps:
                errors.append(
                    f"{where}: {stop.id} lasts {stop.end - stop.start:.2f}, not {service}"
                )
            t, here = stop.end, stop.place
        back = t + plan.travel(worker, here, worker.end or worker.start) / plan.tpm
        if route.back < back - eps or route.back > shift.end + tolerance:
            errors.append(
                f"{where} is back at {route.back:.2f} (earliest {back:.2f}, shift end {shift.end})"
            )
        working = route.back - route.departure - pauses
        if abs(working - route.working) > eps:
            errors.append(f"{where} reports {route.working:.2f} working minutes, not {working:.2f}")
        cap = worker.max_minutes_per_day
        if cap is not None and working > cap + eps:
            errors.append(f"{where} works {working:.1f} min > {cap} a day")
        if shift.pause and route.stops:
            # A route working on both sides of the break window must hold the break.
            has = any(s.kind == "break" for s in route.stops)
            work = [s for s in route.stops if s.kind != "break"]
            spans = (
                work[0].start < shift.pause.window.start and work[-1].end > shift.pause.window.end
            )
            if spans and not has:
                errors.append(f"{where} works through its break window without a break")
        worked[worker.id] += working
    for worker in problem.workers:
        if (
            worker.contract_minutes is not None
            and worked[worker.id] > worker.contract_minutes + eps
        ):
            total, contract = worked[worker.id], worker.contract_minutes
            errors.append(f"{worker.id} works {total:.1f} min > contract {contract}")
    unassigned = {u.id for u in solution.unassigned}
    for job in problem.jobs:
        done = visits.get(job.id, [])
        if job.id in unassigned:
            if done:
                errors.append(f"{job.id} is both planned and unassigned")
            continue
        if len(done) != job.aides:
            errors.append(f"{job.id} has {len(done)} visits, needs {job.aides}, and no reason")
        elif job.aides == 2:
            (w1, s1), (w2, s2) = done
            if w1 == w2:
                errors.append(f"{job.id}: both aides are {w1}")
            if abs(s1 - s2) > tolerance:
                errors.append(f"{job.id}: the two aides start at {s1:.2f} and {s2:.2f}")
    for ride in problem.rides:
        steps = ride_steps.get(ride.id, [])
        if ride.id in unassigned:
            if steps:
                errors.append(f"ride {ride.id} is both planned and unassigned")
            continue
        kinds = [kind for _w, kind, _s in steps]
        if kinds != ["pickup", "delivery"] or len({w for w, _k, _s in steps}) != 1:
            errors.append(f"ride {ride.id}: not one pickup then one delivery by the same worker")
    cap = problem.max_workers_per_household
    if cap is not None:
        for household, seen in solution.workers_by_household(problem).items():
            if len(seen) > cap:
                errors.append(f"household {household} sees {len(seen)} workers > {cap}")
    return errors
