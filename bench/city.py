"""A generated home-care week around Brussels-Nord, and a greedy baseline to compare with.

1,000 visits (Monday to Friday) to 250 households within about 5 km of Brussels-Nord;
60 aides on foot, by bike, public transport or car, with skills, shifts, contracts of
19 to 38 hours, a lunch break for full-timers, households who already know one or two
aides, at most 3 aides per household over the week, and a few two-aide transfers.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime

from core import routing
from core.routing import Break, Job, Point, Problem, Route, Shift, Solution, Stop, Window, Worker

CENTRE = Point(50.8603, 4.3617)  # Brussels-Nord
DAY = 1440


def _around(rng: random.Random, radius_km: float) -> Point:
    r = radius_km * math.sqrt(rng.random())
    a = rng.random() * 2 * math.pi
    dlat = r * math.cos(a) / 111.32
    dlon = r * math.sin(a) / (111.32 * math.cos(math.radians(CENTRE.lat)))
    return Point(round(CENTRE.lat + dlat, 6), round(CENTRE.lon + dlon, 6))


def _km(a: Point, b: Point) -> float:
    return math.hypot(
        (a.lat - b.lat) * 111.32, (a.lon - b.lon) * 111.32 * math.cos(math.radians(a.lat))
    )


def make_city(seed: int = 1, visits: int = 1000, aides: int = 60, households: int = 250) -> Problem:
    """The week, reproducible from its seed."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible instance, not a secret)
    modes = ["walk"] * 6 + ["bike"] * 18 + ["transit"] * 18 + ["car"] * 18
    rng.shuffle(modes)
    workers = []
    for k in range(aides):
        contract = rng.choice([19 * 60, 28 * 60 + 30, 30 * 60 + 24, 38 * 60, 38 * 60])
        early = rng.random() < 0.3
        start, end = (420, 930) if early else (480, 990)
        lunch = contract >= 38 * 60  # full-timers take 30 minutes between 12:00 and 13:30
        skills = {"care"} if rng.random() < 0.7 else set()
        if "care" in skills and rng.random() < 0.3:
            skills.add("hoist")
        workers.append(
            Worker(
                id=f"aide{k:02d}",
                start=_around(rng, 5.0),
                shifts=tuple(
                    Shift(
                        d * DAY + start,
                        d * DAY + end,
                        Break(Window(d * DAY + 720, d * DAY + 810), 30) if lunch else None,
                    )
                    for d in range(5)
                ),
                skills=frozenset(skills),
                max_minutes_per_day=8 * 60,
                contract_minutes=contract,
                mode=modes[k],
            )
        )
    homes = [_around(rng, 5.0) for _ in range(households)]
    known: dict[str, list[str]] = {}
    jobs = []
    for v in range(visits):
        h = v % households
        household = f"h{h:03d}"
        day = (v // households + h) % 5
        if household not in known:
            # The aides a household knows are aides of its neighbourhood (a past plan).
            near = sorted(workers, key=lambda w: _km(w.start, homes[h]))[:8]
            known[household] = [w.id for w in rng.sample(near, rng.choice([1, 2]))]
        kind = rng.random()
        if kind < 0.25:  # morning care: toilet, dressing
            window, duration, skills = Window(420, 600), rng.choice([30, 45, 60]), {"care"}
        elif kind < 0.55:  # family help in the morning
            window, duration, skills = Window(540, 720), rng.choice([45, 60, 90]), {"care"}
        elif kind < 0.85:  # cleaning, any time of the day
            window, duration, skills = Window(480, 900), rng.choice([60, 90, 120]), set()
        else:  # afternoon shopping or company
            window, duration, skills = Window(780, 900), rng.choice([45, 60, 90]), set()
        aides_needed = 1
        if v % 100 == 7:  # a transfer with a hoist: two aides at the same minute
            window, duration, skills, aides_needed = Window(540, 600), 30, {"care", "hoist"}, 2
        jobs.append(
            Job(
                id=f"v{v:04d}",
                place=homes[h],
                duration=duration,
                windows=(Window(day * DAY + window.start, day * DAY + window.end),),
                skills=frozenset(skills),
                buffer=rng.choice([3, 5, 5, 8]),
                household=household,
                aides=aides_needed,
            )
        )
    return Problem(
        workers=workers,
        jobs=jobs,
        origin=datetime(2026, 12, 7),
        known_workers=known,
        max_workers_per_household=3,
        unknown_worker_penalty=15,
    )


# --- Greedy baseline ---------------------------------------------------------------------


def greedy(problem: Problem) -> Solution:
    """Earliest deadline first, each visit appended to the route where it costs least."""
    # Same rules as the optimiser (skills, windows, shifts, breaks at the start place,
    # daily and contract hours, continuity cap and preference, transfers at a common start);
    # travel times from the same matrix, rounded up to the same tick. Contract hours are
    # checked over the week (the optimiser caps each shift at its share).
    matrix = problem.matrix or routing.build_matrix(
        routing._places(problem), sorted({w.mode for w in problem.workers})
    )
    tpm = problem.ticks_per_minute

    def leg(worker: Worker, a: Point, b: Point) -> float:
        return math.ceil(matrix.travel(worker.mode, a, b) * tpm - 1e-9) / tpm

    state: dict[tuple[str, int], dict] = {}
    for w in problem.workers:
        for k, s in enumerate(w.shifts):
            state[(w.id, k)] = {"t": None, "here": w.start, "stops": [], "break": s.pause is None}
    worked: dict[str, float] = defaultdict(float)
    seen: dict[str, set[str]] = defaultdict(set)
    known = {h: set(ids) for h, ids in problem.known_workers.items()}
    cap = problem.max_workers_per_household

    def attempt(
        w: Worker, k: int, job: Job, start_at: float | None
    ) -> tuple[float, list[Stop]] | None:
        s = w.shifts[k]
        st = state[(w.id, k)]
        t = s.start if st["t"] is None else st["t"]
        here = st["here"]
        stops: list[Stop] = []
        departure = None
        travel = 0.0
        window = job.windows[0]
        if not st["break"] and s.pause:
            # Take the break first when this visit would end after the break window opens.
            guess = max(t + leg(w, here, job.place), window.start) + job.duration + job.buffer
            if guess > s.pause.window.start and st["stops"]:
                place = s.pause.place or w.start
                arrival = t + leg(w, here, place)
                start = max(arrival, s.pause.window.start)
                if start > s.pause.window.end:
                    return None
                stops.append(
                    Stop(
                        "break",
                        w.id,
                        place,
                        arrival,
                        start,
                        start + s.pause.duration,
                        arrival - t,
                        0.0,
                    )
                )
                travel += arrival - t
                t, here = start + s.pause.duration, place
        arrival = t + leg(w, here, job.place)
        start = max(arrival, window.start if start_at is None else start_at)
        if start > (window.end if start_at is None else start_at):
            return None
        if st["t"] is None and not stops:
            departure = start - leg(w, here, job.place)  # leave home just in time
            arrival = start
        end = start + job.duration + job.buffer
        back = end + leg(w, job.place, w.end or w.start)
        first = st["stops"][0].arrival - st["stops"][0].travel if st["stops"] else departure
        pauses = sum(x.end - x.start for x in [*st["stops"], *stops] if x.kind == "break")
        day_work = back - first - pauses
        if back > s.end or day_work > min(w.max_minutes_per_day or 10**9, s.end - s.start):
            return None
        before = state[(w.id, k)].get("work", 0.0)
        if w.contract_minutes is not None and worked[w.id] - before + day_work > w.contract_minutes:
            return None
        travel += (
            arrival - (departure if departure is not None else t)
            if departure is None
            else leg(w, here, job.place)
        )
        stops.append(
            Stop(
                "job",
                job.id,
                job.place,
                arrival,
                start,
                end,
                arrival - t if departure is None else leg(w, here, job.place),
                0.0,
            )
        )
        return travel, stops

    def score(w: Worker, job: Job, travel: float) -> float:
        penalty = (
            problem.unknown_worker_penalty
            if job.household in known and w.id not in known[job.household]
            else 0
        )
        return travel * w.travel_cost + penalty

    def allowed(w: Worker, job: Job) -> bool:
        if not job.skills <= w.skills:
            return False
        if cap is not None and job.household and w.id not in seen[job.household]:
            return len(seen[job.household]) < cap
        return True

    def commit(w: Worker, k: int, job: Job, stops: list[Stop]) -> None:
        st = state[(w.id, k)]
        for stop in stops:
            if stop.kind == "break":
                st["break"] = True
        st["stops"] += stops
        last = st["stops"][-1]
        st["t"], st["here"] = last.end, last.place
        first = st["stops"][0]
        s = w.shifts[k]
        back = last.end + leg(w, last.place, w.end or w.start)
        pauses = sum(x.end - x.start for x in st["stops"] if x.kind == "break")
        work = back - (first.arrival - first.travel) - pauses
        worked[w.id] += work - st.get("work", 0.0)
        st["work"] = work
        if job.household:
            seen[job.household].add(w.id)
        del s

    unassigned: list[routing.Unassigned] = []
    for job in sorted(problem.jobs, key=lambda j: (j.windows[0].end, j.windows[0].start, j.id)):
        options = []
        for w in problem.workers:
            if not allowed(w, job):
                continue
            for k, _s in enumerate(w.shifts):
                if job.aides == 2:
                    continue
                found = attempt(w, k, job, None)
                if found:
                    options.append((score(w, job, found[0]), w.id, k, found[1]))
        if job.aides == 2:
            for start_at in (
                job.windows[0].start,
                (job.windows[0].start + job.windows[0].end) // 2,
                job.windows[0].end,
            ):
                pairs = []
                for w in problem.workers:
                    if not allowed(w, job):
                        continue
                    for k in range(len(w.shifts)):
                        found = attempt(w, k, job, start_at)
                        if found:
                            pairs.append((score(w, job, found[0]), w.id, k, found[1]))
                pairs.sort(key=lambda o: o[0])
                chosen = []
                for option in pairs:
                    if all(option[1] != c[1] for c in chosen):
                        chosen.append(option)
                    if len(chosen) == 2:
                        break
                if len(chosen) == 2:
                    options = chosen
                    break
            if len(options) == 2:
                for _c, wid, k, stops in options:
                    commit(next(w for w in problem.workers if w.id == wid), k, job, stops)
                continue
            unassigned.append(routing.Unassigned(job.id, routing.Reason.NO_PAIR))
            continue
        if not options:
            unassigned.append(routing.Unassigned(job.id, routing.Reason.NO_ROOM))
            continue
        _c, wid, k, stops = min(options, key=lambda o: (o[0], o[1], o[2]))
        commit(next(w for w in problem.workers if w.id == wid), k, job, stops)

    routes = []
    for w in problem.workers:
        for k, _s in enumerate(w.shifts):
            st = state[(w.id, k)]
            if not st["stops"]:
                continue
            stops = tuple(st["stops"])
            last = stops[-1]
            back = last.end + leg(w, last.place, w.end or w.start)
            departure = stops[0].arrival - stops[0].travel
            travel = sum(x.travel for x in stops) + back - last.end
            pauses = sum(x.end - x.start for x in stops if x.kind == "break")
            routes.append(
                Route(w.id, k, departure, back, stops, travel, 0.0, back - departure - pauses)
            )
    return Solution(tuple(routes), tuple(unassigned), problem.origin)


# --- Measures ----------------------------------------------------------------------------


def continuity(problem: Problem, solution: Solution) -> tuple[float, float, int]:
    """(mean aides per household, share of visits by an aide the household knew, max aides)."""
    per = solution.workers_by_household(problem)
    household = {j.id: j.household for j in problem.jobs}
    by_known = total = 0
    for route in solution.routes:
        for stop in route.stops:
            if stop.kind == "job":
                total += 1
                by_known += route.worker in problem.known_workers.get(household[stop.id] or "", ())
    counts = [len(v) for v in per.values()] or [0]
    return statistics.mean(counts), by_known / max(total, 1), max(counts)


def fairness(problem: Problem, solution: Solution) -> tuple[float, float]:
    """(mean, standard deviation) of planned working time ÷ contract, over the aides."""
    worked = solution.working()
    ratios = [
        worked.get(w.id, 0.0) / w.contract_minutes for w in problem.workers if w.contract_minutes
    ]
    return statistics.mean(ratios), statistics.pstdev(ratios)


def row(seconds: float = 10, seed: int = 1, today: str = "") -> str:
    """The city row: the optimiser against the greedy baseline, same run."""
    problem = make_city(seed)
    started = time.monotonic()
    problem.matrix = routing.build_matrix(
        routing._places(problem), sorted({w.mode for w in problem.workers})
    )
    base_started = time.monotonic()
    base = greedy(problem)
    base_elapsed = time.monotonic() - base_started
    base_errors = routing.check(problem, base)
    started, cpu = time.monotonic(), time.process_time()
    plan = routing.solve(problem, seconds=seconds, seed=seed)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    errors = routing.check(problem, plan)
    mean_aides, known_share, most = continuity(problem, plan)
    b_mean, b_known, b_most = continuity(problem, base)
    f_mean, f_sd = fairness(problem, plan)
    bf_mean, bf_sd = fairness(problem, base)
    transfers = [j.id for j in problem.jobs if j.aides == 2]
    done = {s.id for r in plan.routes for s in r.stops}
    print(f"city: optimiser errors {errors[:3]}, greedy errors {base_errors[:3]}", file=sys.stderr)
    n_plan = len(problem.jobs) - len(plan.unassigned)
    n_base = len(problem.jobs) - len(base.unassigned)
    per_plan, per_base = plan.travel / max(n_plan, 1), base.travel / max(n_base, 1)
    what = (
        f"planning: city week, {len(problem.jobs)} visits, {len(problem.workers)} aides, "
        f"Brussels-Nord, solve(seconds={seconds:g})"
    )
    figure = (
        f"planned in {elapsed:.1f} s ({cpu:.1f} s of CPU): {n_plan} visits "
        f"({sum(t in done for t in transfers)}/{len(transfers)} transfers), "
        f"travel {plan.travel / 60:,.1f} h ({per_plan:.1f} min a "
        f"visit); {mean_aides:.2f} aides a household (max {most}), {known_share:.0%} of visits "
        f"by a known aide; hours ÷ contract {f_mean:.2f} ± {f_sd:.2f}; "
        f"check(): {len(errors)} errors"
    )
    reference = (
        f"greedy insertion ({base_elapsed:.1f} s): {n_base} visits, travel "
        f"{base.travel / 60:,.1f} h ({per_base:.1f} min a visit); {b_mean:.2f} aides a household "
        f"(max {b_most}), {b_known:.0%} known; hours ÷ contract {bf_mean:.2f} ± {bf_sd:.2f}; "
        f"check(): {len(base_errors)} errors"
    )
    ratio = (
        f"{plan.travel / base.travel:.2f}× total travel, {per_plan / per_base:.2f}× a visit "
        f"(target ≤ 0.85×)"
    )
    return f"| {what} | {figure} | {reference} | {ratio} | {today} |"
