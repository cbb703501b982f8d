"""What a phone keeps for offline use, read in the browser: its outbox and its kept pages."""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.browser.helpers import service_worker_ready

# The offline engine's IndexedDB database, each of its stores read whole (all empty
# before the engine has made the database).
OUTBOX = """async () => {
    const names = (await indexedDB.databases()).map((db) => db.name);
    if (!names.includes("terrain-offline")) { return {ops: [], records: [], users: []}; }
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("terrain-offline");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    const all = (name) => new Promise((resolve, reject) => {
        const request = db.transaction(name).objectStore(name).getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    const result = {
        ops: await all("ops"), records: await all("records"), users: await all("users"),
    };
    db.close();
    return result;
}"""

# Whether the service worker keeps every one of these paths (its argument) for offline use.
PAGES_KEPT = """async (paths) => {
    if (!(await caches.has("terrain-pages"))) { return false; }
    const cache = await caches.open("terrain-pages");
    const kept = (await cache.keys()).map((request) => new URL(request.url).pathname);
    return paths.every((path) => kept.includes(path));
}"""


def controlled(page: Page) -> None:
    """Wait until the service worker controls the page (reloaded once when it was loaded
    before the worker was active: such a page may stay uncontrolled)."""
    service_worker_ready(page)
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def outbox(page: Page) -> dict[str, list[dict[str, Any]]]:
    """The phone's ops, records and users, as its IndexedDB holds them now."""
    return page.evaluate(OUTBOX)


def eventually(page: Page, script: str, arg: Any = None, timeout: float = 10.0) -> None:
    """Wait until the async `script` gives a truthy value (asked again if the page navigates)."""
    # Not wait_for_function: it takes the script's promise, always truthy, for a yes.
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(script, arg):
                return
            error = None
        except PlaywrightError as exc:  # the page is navigating: ask again
            error = exc
        assert time.monotonic() < deadline, f"still false after {timeout} s ({error}): {script}"
        page.wait_for_timeout(50)  # polling interval while the phone works


def wait_for_outbox(page: Page, condition: str) -> None:
    """Wait until `condition` (a JS function of the outbox's content) is true."""
    eventually(page, f"() => ({OUTBOX})().then({condition})")


def wait_for_op(page: Page, op_type: str) -> None:
    """Wait until an op of `op_type` waits in the phone's outbox."""
    wait_for_outbox(page, f"(o) => o.ops.some((op) => op.type === {json.dumps(op_type)})")


def wait_for_records(page: Page, record_type: str, ids: list[str], *, held: bool = True) -> None:
    """Wait until the phone holds every record of `record_type` with these ids (or none)."""
    holds = f"(id) => o.records.some((r) => r.type === {json.dumps(record_type)} && r.id === id)"
    wanted = f"{json.dumps(ids)}.every({holds})" if held else f"!{json.dumps(ids)}.some({holds})"
    wait_for_outbox(page, f"(o) => {wanted}")
