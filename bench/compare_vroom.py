"""The library comparison behind docs/planning.md: the same instances solved by pyvroom.

Not part of `make bench` and not a dependency: `pip install pyvroom` in the venv, then
`python -m bench.compare_vroom [--seconds-rc208 10 --seconds-gh 60 --seconds-city 10]`.
It prints one line per instance with the same cost conventions as bench/planning.py.
The city week is given to VROOM with what it supports natively (skills, windows, breaks,
shifts, per-mode durations, the same continuity cap as skills); transfers are planned as
two separate single visits and not synchronised, so VROOM's city figure is a lower bound
of the work it would need.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from datetime import timedelta

import numpy as np

from bench import city
from bench.planning import read_vrplib, route_cost, shared_dir
from core import routing


def _vrptw(name: str, seconds: float) -> dict:
    import vroom  # optional: only this comparison needs it

    path = shared_dir() / "benchmarks" / "vrptw" / f"{name}.vrp"
    instance = read_vrplib(path)
    scale = 100
    ticks = np.ceil(instance.distances() * scale - 1e-9).astype(np.uint32)
    problem = vroom.Input()
    problem.set_durations_matrix("car", ticks)
    depot = instance.windows[0]
    for k in range(instance.vehicles):
        problem.add_vehicle(
            vroom.Vehicle(
                k,
                start=0,
                end=0,
                capacity=[instance.capacity],
                time_window=vroom.TimeWindow(depot[0] * scale, depot[1] * scale),
            )
        )
    for i in range(1, len(instance.numbers)):
        a, b = instance.windows[i]
        problem.add_job(
            vroom.Job(
                i,
                location=i,
                default_service=instance.service[i] * scale,
                delivery=[instance.demand[i]],
                time_windows=[vroom.TimeWindow(a * scale, b * scale)],
            )
        )
    started = time.monotonic()
    solution = problem.solve(
        exploration_level=5, nb_threads=2, timeout=timedelta(seconds=seconds)
    ).to_dict()
    elapsed = time.monotonic() - started
    routes = [[s["id"] for s in r["steps"] if s["type"] == "job"] for r in solution["routes"]]
    return {
        "instance": name,
        "seconds": seconds,
        "elapsed": round(elapsed, 1),
        "routes": len(routes),
        "unassigned": len(solution.get("unassigned", [])),
        "distance_truncated": round(route_cost(instance, routes, truncate=True), 1),
        "distance": round(route_cost(instance, routes), 2),
    }


def _city(seconds: float) -> dict:
    import vroom

    problem = city.make_city(1)
    modes = sorted({w.mode for w in problem.workers})
    matrix = routing.build_matrix(routing._places(problem), modes)
    problem.matrix = matrix
    allowed = routing._allowed_by_household(problem, matrix)
    skill_id: dict[str, int] = {}

    def sid(name: str) -> int:
        return skill_id.setdefault(name, len(skill_id) + 1)

    v = vroom.Input()
    for mode in modes:
        v.set_durations_matrix(mode, np.ceil(matrix.minutes[mode] * 60).astype(np.uint32))
    vehicles = []
    for w in problem.workers:
        skills = {sid(s) for s in w.skills}
        skills |= {sid(f"house:{h}") for h, ids in allowed.items() if w.id in ids}
        for k, shift in enumerate(w.shifts):
            vid = len(vehicles)
            vehicles.append((w.id, k))
            breaks = []
            if shift.pause:
                pw = shift.pause.window
                breaks = [
                    vroom.Break(
                        vid,
                        [vroom.TimeWindow(pw.start * 60, pw.end * 60)],
                        shift.pause.duration * 60,
                    )
                ]
            cap = routing._shift_cap(w, shift, problem)
            v.add_vehicle(
                vroom.Vehicle(
                    vid,
                    start=matrix.index[w.start],
                    end=matrix.index[w.end or w.start],
                    profile=w.mode,
                    skills=skills,
                    # VROOM bounds no working time: the shift is cut to the same cap instead.
                    time_window=vroom.TimeWindow(
                        shift.start * 60,
                        min(
                            shift.end,
                            shift.start + cap + (shift.pause.duration if shift.pause else 0),
                        )
                        * 60,
                    ),
                    breaks=breaks,
                )
            )
    ids = {}
    n = 0
    for job in problem.jobs:
        skills = {sid(s) for s in job.skills}
        if job.household in allowed:
            skills.add(sid(f"house:{job.household}"))
        for _ in range(job.aides):
            n += 1
            ids[n] = job.id
            v.add_job(
                vroom.Job(
                    n,
                    location=matrix.index[job.place],
                    default_service=(job.duration + job.buffer) * 60,
                    skills=skills,
                    time_windows=[vroom.TimeWindow(w.start * 60, w.end * 60) for w in job.windows],
                )
            )
    started = time.monotonic()
    solution = v.solve(
        exploration_level=5, nb_threads=2, timeout=timedelta(seconds=seconds)
    ).to_dict()
    elapsed = time.monotonic() - started
    travel = sum(r.get("duration", 0) for r in solution["routes"]) / 60
    planned = sum(1 for r in solution["routes"] for s in r["steps"] if s["type"] == "job")
    return {
        "instance": "city week (VROOM, transfers not synchronised)",
        "seconds": seconds,
        "elapsed": round(elapsed, 1),
        "planned_visits": planned,
        "unassigned": len(solution.get("unassigned", [])),
        "travel_hours": round(travel / 60, 1),
        "travel_minutes_a_visit": round(travel / max(planned, 1), 1) if planned else math.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare_vroom")
    parser.add_argument("--seconds-rc208", type=float, default=10)
    parser.add_argument("--seconds-gh", type=float, default=60)
    parser.add_argument("--seconds-city", type=float, default=10)
    parser.add_argument("--only", choices=["RC208", "city", "RC2_10_5"])
    args = parser.parse_args()
    if args.only in (None, "RC208"):
        print(json.dumps(_vrptw("RC208", args.seconds_rc208)), flush=True)
    if args.only in (None, "city"):
        print(json.dumps(_city(args.seconds_city)), flush=True)
    if args.only in (None, "RC2_10_5"):
        print(json.dumps(_vrptw("RC2_10_5", args.seconds_gh)), flush=True)


if __name__ == "__main__":
    main()
