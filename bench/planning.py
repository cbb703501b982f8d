"""Planning benchmark: VRPLIB VRPTW instances and a Brussels home-care week, through
core/routing.py.

`python -m bench.planning --instance FILE.vrp [--seconds N]` prints one JSON line
`{"instance", "seconds", "routes": [[client numbers as in the file], …]}`. Without
`--instance` it runs RC208 (10 s), RC2_10_5 (60 s) and the city week (10 s) and prints
results-table rows.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from core import routing
from core.routing import Job, Matrix, Point, Problem, Shift, Window, Worker

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-12-05"


def shared_dir() -> Path:
    """../shared beside the project (CI), or beside a parent (a git worktree)."""
    for parent in [ROOT, *ROOT.parents]:
        candidate = parent.parent / "shared"
        if (candidate / "benchmarks").is_dir():
            return candidate
    return ROOT.parent / "shared"


# --- VRPLIB ------------------------------------------------------------------------------


@dataclass
class Instance:
    """A VRPTW instance as read from a VRPLIB file; node 0 is the depot."""

    name: str
    vehicles: int
    capacity: int
    coords: list[tuple[float, float]] = field(default_factory=list)
    matrix: np.ndarray | None = None  # travel times (EXPLICIT), else Euclidean from coords
    demand: list[int] = field(default_factory=list)
    windows: list[tuple[int, int]] = field(default_factory=list)
    service: list[int] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # node numbers as in the file

    def distances(self) -> np.ndarray:
        """Travel between nodes: the explicit matrix, or unrounded Euclidean distances."""
        if self.matrix is not None:
            return self.matrix
        xy = np.array(self.coords, dtype=float)
        return np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))


def read_vrplib(path: Path) -> Instance:
    """Read a VRPLIB VRPTW file: EUC_2D or EXPLICIT FULL_MATRIX, service time header or section."""
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        upper = line.split(":")[0].strip().upper()
        if upper.endswith("_SECTION"):
            current = upper
            sections[current] = []
            continue
        # A header is "KEY : value"; section rows start with a number (or -1).
        if ":" in line and not line[0].isdigit() and line[0] != "-":
            key, value = line.split(":", 1)
            header[key.strip().upper()] = value.strip()
            current = None
            continue
        if current is None:
            raise ValueError(f"{path.name}: unexpected line {line!r}")
        sections[current].append(line.split())
    size = int(header["DIMENSION"])
    weight_type = header.get("EDGE_WEIGHT_TYPE", "EUC_2D").upper()
    instance = Instance(
        name=header.get("NAME", path.stem),
        vehicles=int(header.get("VEHICLES", size)),
        capacity=int(header.get("CAPACITY", 10**9)),
    )
    if weight_type == "EUC_2D":
        rows = sections["NODE_COORD_SECTION"]
        instance.numbers = [int(r[0]) for r in rows]
        instance.coords = [(float(r[1]), float(r[2])) for r in rows]
    elif weight_type == "EXPLICIT":
        if header.get("EDGE_WEIGHT_FORMAT", "FULL_MATRIX").upper() != "FULL_MATRIX":
            raise ValueError(f"{path.name}: only EDGE_WEIGHT_FORMAT FULL_MATRIX is read")
        values = [float(v) for row in sections["EDGE_WEIGHT_SECTION"] for v in row]
        if len(values) != size * size:
            raise ValueError(f"{path.name}: the matrix has {len(values)} values, not {size}²")
        instance.matrix = np.array(values).reshape(size, size)
        instance.numbers = list(range(1, size + 1))
    else:
        raise ValueError(f"{path.name}: EDGE_WEIGHT_TYPE {weight_type} is not read")
    position = {number: i for i, number in enumerate(instance.numbers)}

    def column(section: str, default: list) -> list:
        if section not in sections:
            return default
        out = list(default)
        for row in sections[section]:
            out[position[int(row[0])]] = [int(float(v)) for v in row[1:]]
        return out

    instance.demand = [
        d[0] if isinstance(d, list) else d for d in column("DEMAND_SECTION", [0] * size)
    ]
    horizon = 10**9
    instance.windows = [tuple(w) for w in column("TIME_WINDOW_SECTION", [[0, horizon]] * size)]
    service = int(float(header.get("SERVICE_TIME", 0)))
    instance.service = [
        s[0] if isinstance(s, list) else s for s in column("SERVICE_TIME_SECTION", [service] * size)
    ]
    depots = [int(r[0]) for r in sections.get("DEPOT_SECTION", [["1"]]) if int(r[0]) != -1]
    if depots and position[depots[0]] != 0:
        raise ValueError(f"{path.name}: the depot must be the first node")
    return instance


def to_problem(instance: Instance) -> Problem:
    """The instance as a routing Problem: one worker per vehicle, one job per client."""
    n = len(instance.numbers)
    points = [Point(float(i), 0.0) for i in range(n)]  # identifiers; travel comes from the matrix
    distances = instance.distances()
    matrix = Matrix(points=points, minutes={"vrp": distances}, km=distances)
    depot_window = instance.windows[0]
    workers = [
        Worker(
            id=f"v{k}",
            start=points[0],
            shifts=(Shift(depot_window[0], depot_window[1]),),
            capacity=instance.capacity,
            mode="vrp",
        )
        for k in range(instance.vehicles)
    ]
    jobs = [
        Job(
            id=str(i),
            place=points[i],
            duration=instance.service[i],
            windows=(Window(*instance.windows[i]),),
            demand=instance.demand[i],
        )
        for i in range(1, n)
    ]
    return Problem(
        workers=workers, jobs=jobs, matrix=matrix, balance_hours=False, ticks_per_minute=100
    )


def solve_instance(
    instance: Instance, seconds: float, seed: int = 1, processes: int = 1
) -> list[list[int]]:
    """Routes as lists of node positions (1…n−1), depot excluded."""
    solution = routing.solve(to_problem(instance), seconds=seconds, seed=seed, processes=processes)
    if solution.unassigned:
        missing = ", ".join(u.id for u in solution.unassigned[:5])
        raise RuntimeError(
            f"{instance.name}: {len(solution.unassigned)} clients unplanned ({missing}…)"
        )
    return [[int(stop.id) for stop in route.stops] for route in solution.routes if route.stops]


def route_cost(instance: Instance, routes: list[list[int]], *, truncate: bool = False) -> float:
    """Total distance; `truncate`: each edge truncated to one decimal (DIMACS convention)."""
    d = instance.distances()
    total = 0.0
    for route in routes:
        for a, b in zip([0, *route], [*route, 0], strict=True):
            total += math.floor(d[a, b] * 10) / 10 if truncate else d[a, b]
    return total


def feasible(instance: Instance, routes: list[list[int]]) -> list[str]:
    """Recomputed from the file: windows, capacity, every client once, depot closing time."""
    d = instance.distances()
    problems: list[str] = []
    seen = sorted(c for r in routes for c in r)
    if seen != list(range(1, len(instance.numbers))):
        problems.append("clients missing or repeated")
    if len(routes) > instance.vehicles:
        problems.append("too many routes")
    for route in routes:
        if sum(instance.demand[c] for c in route) > instance.capacity:
            problems.append(f"capacity exceeded on {route[:3]}…")
        t, here = float(instance.windows[0][0]), 0
        for c in route:
            t = max(t + d[here, c], instance.windows[c][0])
            if t > instance.windows[c][1] + 1e-6:
                problems.append(
                    f"client {instance.numbers[c]} starts at {t:.2f} > {instance.windows[c][1]}"
                )
            t += instance.service[c]
            here = c
        if t + d[here, 0] > instance.windows[0][1] + 1e-6:
            problems.append("back after the depot closes")
    return problems


def best_known(path: Path) -> float:
    for line in reversed(path.with_suffix(".sol").read_text().splitlines()):
        if line.lower().startswith("cost"):
            return float(line.split()[1])
    raise ValueError(f"{path}: no cost line")


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.planning")
    parser.add_argument("--instance", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=1, help="searches side by side")
    args = parser.parse_args(argv)
    if args.instance is None:
        for row in run():
            print(row, flush=True)
        return 0
    instance = read_vrplib(args.instance)
    routes = solve_instance(instance, args.seconds, args.seed, args.processes)
    numbers = [[instance.numbers[c] for c in route] for route in routes]
    print(json.dumps({"instance": instance.name, "seconds": args.seconds, "routes": numbers}))
    return 0


# --- The rows ----------------------------------------------------------------------------


def _cpu() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _vrptw_row(name: str, seconds: float, target: float, processes: int = 1) -> str:
    path = shared_dir() / "benchmarks" / "vrptw" / f"{name}.vrp"
    instance = read_vrplib(path)
    started, cpu = time.monotonic(), _cpu()
    routes = solve_instance(instance, seconds, processes=processes)
    elapsed, cpu = time.monotonic() - started, _cpu() - cpu
    problems = feasible(instance, routes)
    exact = route_cost(instance, routes)
    truncated = route_cost(instance, routes, truncate=True)
    bks = best_known(path)
    bks_routes = best_known_routes(path)
    bks_exact = route_cost(instance, bks_routes)
    status = "feasible" if not problems else f"INFEASIBLE: {problems[0]}"
    side = f", {processes} searches side by side" if processes > 1 else ""
    what = f"planning: {name} ({len(instance.numbers) - 1} clients), {seconds:g} s, pyvrp{side}"
    figure = (
        f"{len(routes)} routes, distance {truncated:,.1f} with edges truncated to 0.1 "
        f"({exact:,.2f} unrounded), {elapsed:.1f} s ({cpu:.1f} s of CPU), {status}"
    )
    reference = f"best-known {bks:,.1f} ({bks_exact:,.2f} unrounded, {len(bks_routes)} routes)"
    ratio = (
        f"{truncated / bks:.4f}× ({exact / bks_exact:.4f}× unrounded; target ≤ {1 + target:.2f}×)"
    )
    return f"| {what} | {figure} | {reference} | {ratio} | {TODAY} |"


def best_known_routes(path: Path) -> list[list[int]]:
    """The .sol file's routes as node positions (its client numbers are the file's − 1)."""
    routes = []
    for line in path.with_suffix(".sol").read_text().splitlines():
        if line.lower().startswith("route"):
            routes.append([int(c) for c in line.split(":", 1)[1].split()])
    return routes


def run() -> list[str]:
    """Every planning row: RC208, RC2_10_5, the city week."""
    from bench import city

    rows = [_vrptw_row("RC208", 10, 0.01)]
    print(rows[-1], file=sys.stderr, flush=True)
    rows.append(_vrptw_row("RC2_10_5", 60, 0.03))
    print(rows[-1], file=sys.stderr, flush=True)
    rows.append(city.row(seconds=10, seed=1, today=TODAY))
    return rows


_ = (date, random)  # kept for readers of the city generator

if __name__ == "__main__":
    raise SystemExit(_cli(sys.argv[1:]))
