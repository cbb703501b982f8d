""" "Ma journée" opened offline on a throttled phone (issue 18): the target is under 1 s.

Real Chromium (the system one, headless) at 360 px against `terrain serve` over a copy
of the demo database, aide1 holding five visits this afternoon (one asking for the
household card's code, one for GPS: tests/browser/test_homecare_phone.py prepares them
the same way). aide1 logs in and opens Ma journée online once (one sync: the service
worker keeps the page, the phone its records); then the network is cut and the CPU
slowed 4× through the DevTools protocol (Emulation.setCPUThrottlingRate, rate 4).

Figure: the page opened again offline, RUNS times, from `page.goto` to the moment the
engine has drawn it from what the phone holds (every form in its hands, the outbox and
records read, each visit card redrawn): p50 and p95 in ms. Reference: the same,
unthrottled, in the same run. Not a timed test: `python -m bench.aide_day`.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date

from core.db import make_engine, make_session_factory

DAY = "/aide-a-domicile/ma-journee"
RUNS = 15
TARGET_MS = 1000
# Drawn: the engine read the phone's outbox and records and drew the page from them
# (TerrainOffline.loaded() turns true just before the modules' render), every form in
# its hands.
READY = """() => {
    const forms = [...document.querySelectorAll("form[data-offline-op]")];
    return Boolean(window.TerrainOffline && window.TerrainOffline.loaded()) &&
        forms.length > 0 && forms.every((form) => form.hasAttribute("data-offline-ready"));
}"""


def _open(page) -> float:
    started = time.perf_counter()
    page.goto(DAY, wait_until="domcontentloaded")
    page.wait_for_function(READY, polling="raf")
    return (time.perf_counter() - started) * 1000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure() -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.browser.helpers import (
        CHROMIUM_ARGS,
        find_chromium,
        login,
        new_phone_context,
        run_live_server,
        service_worker_ready,
    )
    from tests.browser.test_homecare_phone import AT_THE_DOOR, HOLDS_VISITS, _prepare
    from tests.browser.test_sync import PAGES_KEPT, eventually

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("Chromium not found: set CHROMIUM_PATH")
    with run_live_server("hcbench") as server, sync_playwright() as driver:
        engine = make_engine(server.database_url)
        ids = _prepare(make_session_factory(engine))
        engine.dispose()
        browser = driver.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        context = new_phone_context(
            browser, server.url, geolocation=AT_THE_DOOR, permissions=["geolocation"]
        )
        page = context.new_page()
        login(page, "aide1")
        page.goto(DAY)
        service_worker_ready(page)
        if not page.evaluate("navigator.serviceWorker.controller !== null"):
            page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.goto(DAY)
        eventually(page, PAGES_KEPT, [DAY])
        visits = [ids[key] for key in ("plain", "code", "gps", "nobody", "fifth")]
        eventually(page, HOLDS_VISITS, visits)
        context.set_offline(True)
        devtools = context.new_cdp_session(page)
        results: dict[str, list[float]] = {}
        for name, rate in (("unthrottled", 1), ("throttled", 4)):
            devtools.send("Emulation.setCPUThrottlingRate", {"rate": rate})
            _open(page)  # warm: the worker's caches opened once
            results[name] = [_open(page) for _ in range(RUNS)]
        context.close()
        browser.close()
    return results


def run() -> list[str]:
    from tests.browser.helpers import find_chromium

    if find_chromium() is None:
        return ["| Ma journée opened offline, CPU 4× slower | not run: no Chromium | | | |"]
    results = measure()
    slow, fast = results["throttled"], results["unthrottled"]
    p50, p95 = statistics.median(slow), _percentile(slow, 0.95)
    ref50, ref95 = statistics.median(fast), _percentile(fast, 0.95)
    verdict = "under" if p95 < TARGET_MS else "OVER"
    return [
        f"| Ma journée opened offline, 5 visits, Chromium 360 px, CPU 4× slower "
        f"({RUNS} runs) | p50 {p50:.0f} ms, p95 {p95:.0f} ms ({verdict} the 1 s target) "
        f"| same, CPU not slowed: p50 {ref50:.0f} ms, p95 {ref95:.0f} ms "
        f"| {p95 / ref95:.1f}× | {date.today()} |"
    ]


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    time.tzset()
    for line in run():
        print(line, flush=True)
