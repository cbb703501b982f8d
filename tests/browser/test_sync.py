"""Offline sync on the phone: the IndexedDB outbox, sending it, conflicts, refusals,
an expired session, the logout guard and the pages kept for offline use.

Real Chromium against the real live server. `context.set_offline(True)` cuts the
network of the pages and of the service worker alike; what the server holds is read
through the Sync API in the same logged-in context.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from typing import Any

from playwright.sync_api import Page, Route, expect

from outreach.demo import demo_id
from tests.browser.helpers import (
    assert_accessible,
    translated,
)
from tests.browser.offline import eventually, outbox, wait_for_outbox
from tests.browser.outreach_phone import (
    OFFLINE_PAGES,
    Phones,
    form,
    indicator,
    log_in,
    phones_fixture,
    save,
    user_id,
)

SYNC_WAIT = 20_000  # ms: a failed send is tried again after 5 s


def fr(msgid: str, **values: Any) -> str:
    text = translated("fr", msgid)
    return text % values if values else text


kept_phones, phones = phones_fixture()


def feed(page: Page) -> list[dict[str, Any]]:
    """The whole feed of the logged-in user (a first pull: everything)."""
    body: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    token = ""
    for _ in range(10):
        response = page.request.get(f"/api/sync?since={token}")
        if response.status >= 500:  # a busy SQLite answers 500 now and then: once more
            time.sleep(0.5)
            continue
        assert response.ok, response.text()
        body = response.json()
        changes += body["changes"]
        token = body["token"]
        if not body["more"]:
            return changes
    raise AssertionError(f"the feed did not end: {body}")


def encounters_on_server(page: Page) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for change in feed(page):
        if change["type"] == "outreach.encounter":
            found.setdefault(change["id"], []).append(change["record"])
    return found


def online(what: str, language: str = "fr") -> str:
    """The header's words while online: "En ligne · tout est envoyé"."""
    return f"{translated(language, 'Online')} · {what}"


def new_encounter(page: Page, nickname: str, place: str | None = None, new_place: str = "") -> None:
    """Fill the "new encounter" form for a new person; `place` is an option's label."""
    entry = form(page)
    entry.locator("select[name=person_id]").select_option(index=0)  # "a new person"
    entry.locator("[name=nickname]").fill(nickname)
    places = entry.locator("select[name=place_id]")
    if new_place:
        places.select_option(value=places.locator("option[data-new]").get_attribute("value"))
        entry.locator("[name=place_name]").fill(new_place)
    elif place:
        places.select_option(label=place)
    entry.locator("[name=needs][value=food]").check()
    entry.locator("[name=note]").fill(f"Note de {nickname}")
    saved = len(outbox(page)["ops"])
    save(page)
    # Saved, and the form made ready for the next one (typing sooner would be reset).
    wait_for_outbox(page, f"(o) => o.ops.length > {saved}")
    expect(entry).not_to_have_attribute("data-saving", re.compile(".*"))


def expect_saved_offline(page: Page) -> None:
    expect(page.locator("[data-offline-status]")).to_have_text(
        fr("Saved on this phone. It is sent as soon as there is a network.")
    )


def test_encounters_made_offline_survive_a_reload_and_are_sent_once(phones: Phones):
    tag = secrets.token_hex(3)
    context, page = phones.of("rue1")
    page.goto("/outreach/encounters/new")
    expect(indicator(page)).to_have_accessible_name(online(fr("all sent")))

    context.set_offline(True)
    new_encounter(page, f"Alpha {tag}", new_place=f"Square {tag}")
    expect_saved_offline(page)
    # The new place stays chosen for the next encounter, and the new person is offered.
    places = form(page).locator("select[name=place_id]")
    expect(places.locator("option:checked")).to_have_text(f"Square {tag}")
    expect(
        form(page).locator("select[name=person_id] option", has_text=f"Alpha {tag}")
    ).to_have_count(1)
    new_encounter(page, f"Bravo {tag}", place="Gare du Nord, quai 3")
    new_encounter(page, f"Charlie {tag}", place="Parc Maximilien, côté Petit-Château")
    expect(indicator(page)).to_contain_text(fr("%(count)s waiting", count=3))

    ops = outbox(page)["ops"]
    assert len(ops) == 3 and {op["status"] for op in ops} == {"pending"}, ops
    ids = [op["data"]["id"] for op in ops]
    assert len(set(ids)) == 3

    # A reload without network: the kept page, and the outbox is still there.
    page.reload()
    expect(form(page)).to_be_visible()
    expect(indicator(page)).to_contain_text(fr("%(count)s waiting", count=3))
    before, after = fr("Offline since %(time)s", time="\x00").split("\x00")
    offline_since = re.escape(before) + r"\d{2}:\d{2}" + re.escape(after)
    # The words say "Offline · 3 waiting"; the title adds since when.
    expect(indicator(page)).to_have_accessible_name(
        f"{fr('Offline')} · {fr('%(count)s waiting', count=3)}"
    )
    expect(indicator(page)).to_have_attribute("title", re.compile(offline_since))
    assert_accessible(page)
    # (A page that is not kept gives the offline page: the network is really gone.)
    page.goto("/profile")
    expect(page.locator(".offline")).to_be_visible()

    page.goto("/outreach/")
    pending = page.locator("#pending-encounters")
    expect(pending).to_be_visible()
    expect(pending.locator("li")).to_have_count(3)
    expect(pending).to_contain_text(f"Alpha {tag}")
    expect(pending).to_contain_text(f"Square {tag}")
    expect(pending).to_contain_text("Gare du Nord, quai 3")
    assert_accessible(page)

    page.goto("/sync")
    expect(page.locator("[data-outbox-list=pending] > li")).to_have_count(3)
    expect(page.locator("[data-outbox-section=problems]")).to_be_hidden()
    expect(page.locator("[data-sync-summary]")).to_have_text(fr("%(count)s waiting", count=3))
    assert_accessible(page)

    context.set_offline(False)
    expect(indicator(page)).to_have_accessible_name(online(fr("all sent")), timeout=SYNC_WAIT)
    expect(page.locator("[data-outbox-section=pending]")).to_be_hidden()
    expect(page.locator("[data-sync-summary]")).to_have_text(
        fr("Nothing is waiting on this phone.")
    )
    assert outbox(page)["ops"] == []

    on_server = encounters_on_server(page)
    for encounter_id in ids:
        assert len(on_server.get(encounter_id, [])) == 1, encounter_id
    by_note = {records[0]["note"]: records[0] for records in on_server.values()}
    assert by_note[f"Note de Bravo {tag}"]["place_id"] == str(demo_id("gare-nord"))
    assert by_note[f"Note de Alpha {tag}"]["needs"] == ["food"]
    changes = feed(page)
    assert not [key for key, n in Counter((c["type"], c["id"]) for c in changes).items() if n > 1]
    # The new place and people came back in the download.
    records = outbox(page)["records"]
    assert any(
        r["type"] == "outreach.place" and r["record"]["name"] == f"Square {tag}" for r in records
    )


def test_a_double_tap_on_save_makes_one_op(phones: Phones):
    tag = secrets.token_hex(3)
    context, page = phones.of("rue1")
    page.goto("/outreach/")
    # Through the app's own (boosted) links: the form is set up after the swap too.
    page.get_by_role("link", name=fr("New encounter")).first.click()
    expect(page).to_have_url(re.compile(r"/outreach/encounters/new$"))
    expect(form(page)).to_have_attribute("data-offline-ready", "")
    context.set_offline(True)

    entry = form(page)
    entry.locator("[name=nickname]").fill(f"Delta {tag}")
    entry.locator("button[type=submit]").dblclick()
    expect_saved_offline(page)
    # Two submits of the same action in one go (the button had no time to turn off).
    entry.locator("[name=nickname]").fill(f"Echo {tag}")
    entry.evaluate("form => { form.requestSubmit(); form.requestSubmit(); }")
    expect(indicator(page)).to_contain_text(fr("%(count)s waiting", count=2))
    ops = outbox(page)["ops"]
    assert sorted(op["data"]["nickname"] for op in ops) == [f"Delta {tag}", f"Echo {tag}"], ops
    # A second tap landing just after a quick save meets the emptied form: it is ignored,
    # not answered "fields to correct" (as when the phone saves between the two taps).
    expect(entry).not_to_have_attribute("data-saving", re.compile(".*"))
    entry.locator("[name=nickname]").fill(f"Foxtrot {tag}")
    entry.evaluate(
        """form => new Promise((done) => {
            const watch = new MutationObserver(() => {
                if (!form.hasAttribute("data-just-saved")) { return; }
                watch.disconnect();
                form.requestSubmit();  // the second tap, right after the save
                done();
            });
            watch.observe(form, { attributes: true });
            form.requestSubmit();
        })"""
    )
    expect_saved_offline(page)
    expect(entry.locator("[aria-invalid]")).to_have_count(0)
    expect(indicator(page)).to_contain_text(fr("%(count)s waiting", count=3))
    assert len(outbox(page)["ops"]) == 3

    # A new place takes its coordinates from one GPS fix.
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"latitude": 50.8603, "longitude": 4.3617})
    places = entry.locator("select[name=place_id]")
    places.select_option(value=places.locator("option[data-new]").get_attribute("value"))
    entry.get_by_role("button", name=fr("Use my position")).click()
    expect(entry.locator("[name=latitude]")).to_have_value("50.860300")
    expect(entry.locator("[name=longitude]")).to_have_value("4.361700")
    expect(page.locator("[data-offline-status]")).to_have_text(fr("Position filled in."))

    context.set_offline(False)
    expect(indicator(page)).to_have_accessible_name(online(fr("all sent")), timeout=SYNC_WAIT)
    on_server = encounters_on_server(page)
    for op in ops:
        assert len(on_server[op["data"]["id"]]) == 1


def edit_offline(page: Page, note: str) -> None:
    entry = form(page)
    entry.locator("[name=note]").fill(note)
    save(page)


def test_conflicts_show_both_versions_and_the_user_chooses(phones: Phones):
    # Karim and Lotte change the same two encounters, each phone offline (a tab per
    # encounter); Karim's phone sends first.
    kept, dropped = str(demo_id("e2")), str(demo_id("e4"))
    (karim, _), (lotte, _) = phones.of("rue1"), phones.of("rue2")
    tag = secrets.token_hex(3)
    tabs: dict[str, list[Page]] = {}
    for username in ("rue1", "rue2"):  # Lotte reads Dutch
        context, first = phones.of(username)
        tabs[username] = [first, context.new_page()]
        for page, encounter_id in zip(tabs[username], (kept, dropped), strict=True):
            page.goto(f"/outreach/encounters/{encounter_id}/edit")
            expect(form(page)).to_have_attribute("data-offline-ready", "")
        context.set_offline(True)
        for page, encounter_id in zip(tabs[username], (kept, dropped), strict=True):
            edit_offline(page, f"{username} {tag} {encounter_id[:8]}")
            expect(page.locator("[data-offline-status]")).to_have_text(
                translated(
                    "fr" if username == "rue1" else "nl",
                    "Saved on this phone. It is sent as soon as there is a network.",
                )
            )
    first, second = tabs["rue1"][0], tabs["rue2"][0]

    karim.set_offline(False)
    expect(indicator(first)).to_have_accessible_name(online(fr("all sent")), timeout=SYNC_WAIT)
    lotte.set_offline(False)
    expect(indicator(second)).to_have_accessible_name(
        online(translated("nl", "%(count)s to correct") % {"count": 2}, "nl"), timeout=SYNC_WAIT
    )

    second.goto("/sync")
    items = second.locator("[data-outbox-list=problems] > li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text(translated("nl", "Changed by somebody else meanwhile"))
    item = items.filter(has_text=f"rue2 {tag} {kept[:8]}")
    mine = item.locator("[data-version=mine] [data-field=note] dd")
    theirs = item.locator("[data-version=theirs] [data-field=note] dd")
    expect(mine).to_have_text(f"rue2 {tag} {kept[:8]}")
    expect(theirs).to_have_text(f"rue1 {tag} {kept[:8]}")
    for name in ("occurred_at", "contact_type", "needs", "given"):
        expect(item.locator(f"[data-version=theirs] [data-field={name}] dd")).not_to_be_empty()
    assert_accessible(second)

    item.get_by_role("button", name=translated("nl", "Keep my version")).click()
    other = items.filter(has_text=f"rue2 {tag} {dropped[:8]}")
    other.get_by_role("button", name=translated("nl", "Keep the saved version")).click()
    expect(indicator(second)).to_have_accessible_name(
        online(translated("nl", "all sent"), "nl"), timeout=SYNC_WAIT
    )
    expect(second.locator("[data-outbox-section=problems]")).to_be_hidden()
    on_server = encounters_on_server(second)
    assert on_server[kept][0]["note"] == f"rue2 {tag} {kept[:8]}"
    assert on_server[dropped][0]["note"] == f"rue1 {tag} {dropped[:8]}"
    assert outbox(second)["ops"] == []


def test_an_expired_session_keeps_the_outbox_until_the_next_login(phones: Phones, live_server: str):
    tag = secrets.token_hex(3)
    context, page = phones.of("rue1")
    page.goto("/outreach/encounters/new")
    expect(form(page)).to_have_attribute("data-offline-ready", "")
    context.set_offline(True)
    new_encounter(page, f"Foxtrot {tag}", place="Place Liedts, sous l'abribus")
    expect_saved_offline(page)
    op = outbox(page)["ops"][0]

    context.clear_cookies()  # the session ends while the phone is offline
    context.set_offline(False)
    banner = page.locator("[data-sync-banner]")
    expect(banner).to_be_visible(timeout=SYNC_WAIT)
    expect(banner).to_contain_text(
        fr("Your session has ended. Log in again to send what this phone holds: nothing is lost.")
    )
    expect(indicator(page)).to_contain_text(fr("1 waiting"))
    assert [o["id"] for o in outbox(page)["ops"]] == [op["id"]]
    assert_accessible(page)

    link = banner.get_by_role("link", name=fr("Log in"))
    expect(link).to_have_attribute("href", "/login?next=%2Foutreach%2Fencounters%2Fnew")
    link.click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.locator("[name=username]").fill("rue1")
    page.locator("[name=password]").fill("demo")
    with page.expect_navigation():
        page.locator("form[action^='/login'] button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/outreach/encounters/new")
    # The page load sends what waited.
    expect(indicator(page)).to_have_accessible_name(online(fr("all sent")), timeout=SYNC_WAIT)
    assert outbox(page)["ops"] == []
    assert len(encounters_on_server(page)[op["data"]["id"]]) == 1


def test_a_refused_op_is_shown_corrected_or_discarded(phones: Phones):
    tag = secrets.token_hex(3)
    _, page = phones.of("rue1")
    page.goto("/outreach/encounters/new")
    expect(form(page)).to_have_attribute("data-offline-ready", "")

    # Online: the server refuses at once, the form shows why and keeps everything.
    entry = form(page)
    entry.locator("[name=nickname]").fill(f"Golf {tag}")
    entry.locator("[name=note]").evaluate("(note) => { note.value = 'x'.repeat(2001); }")
    save(page)
    too_long = fr("Too long: at most %(max)s characters.", max=2000)
    expect(page.locator("#note-error")).to_have_text(too_long, timeout=SYNC_WAIT)
    expect(entry.locator("[name=note]")).to_have_attribute("aria-invalid", "true")
    expect(entry.locator("[name=nickname]")).to_have_value(f"Golf {tag}")
    expect(indicator(page)).to_have_accessible_name(online(fr("1 to correct")))
    assert_accessible(page)

    # A second refused op: a time in the future.
    page.goto("/outreach/encounters/new")
    entry = form(page)
    expect(entry).to_have_attribute("data-offline-ready", "")
    entry.locator("[name=nickname]").fill(f"Hotel {tag}")
    entry.locator("[name=occurred_at]").fill("2099-01-01T10:00")
    save(page)
    expect(page.locator("#occurred_at-error")).to_be_visible(timeout=SYNC_WAIT)
    expect(indicator(page)).to_have_accessible_name(online(fr("%(count)s to correct", count=2)))

    page.goto("/sync")
    problems = page.locator("[data-outbox-list=problems] > li")
    expect(problems).to_have_count(2)
    golf = problems.filter(has_text=f"Golf {tag}")
    hotel = problems.filter(has_text=f"Hotel {tag}")
    expect(golf.locator("[data-field=note]")).to_contain_text(too_long)
    expect(hotel.locator("[data-field=occurred_at]")).to_contain_text(
        fr("This time is in the future. Check the phone's clock and the time.")
    )
    assert_accessible(page)

    # Discard asks first; "no" keeps it.
    page.once("dialog", lambda dialog: dialog.dismiss())
    hotel.get_by_role("button", name=fr("Discard")).click()
    expect(problems).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    hotel.get_by_role("button", name=fr("Discard")).click()
    expect(problems).to_have_count(1)

    # Correct: the form comes back with the op's values and the server's message.
    golf.get_by_role("link", name=fr("Correct")).click()
    expect(page).to_have_url(re.compile(r"/outreach/encounters/new#draft="))
    entry = form(page)
    expect(entry.locator("[name=nickname]")).to_have_value(f"Golf {tag}")
    expect(page.locator("#note-error")).to_have_text(too_long)
    expect(page.get_by_role("heading", level=1)).to_have_text(fr("Correct the change"))
    entry.locator("[name=note]").fill("Corrigé.")
    save(page)
    expect(page).to_have_url(re.compile(r"/sync$"))
    expect(indicator(page)).to_have_accessible_name(online(fr("all sent")), timeout=SYNC_WAIT)
    assert outbox(page)["ops"] == []
    golf_records = [
        records
        for records in encounters_on_server(page).values()
        if records[0]["note"] == "Corrigé."
    ]
    assert len(golf_records) == 1 and len(golf_records[0]) == 1


def test_sending_follows_the_server_limits_and_a_stale_token(phones: Phones):
    tag = secrets.token_hex(3)
    context, page = phones.of("rue1")
    page.goto("/outreach/encounters/new")
    expect(form(page)).to_have_attribute("data-offline-ready", "")
    context.set_offline(True)
    for name in ("Juliet", "Kilo", "Lima"):
        new_encounter(page, f"{name} {tag}")
    expect(indicator(page)).to_contain_text(fr("%(count)s waiting", count=3))
    ids = [op["data"]["id"] for op in outbox(page)["ops"]]

    sizes: list[int] = []

    def server_limits(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        ops = route.request.post_data_json["ops"]
        sizes.append(len(ops))
        if len(sizes) == 1:
            route.fulfill(
                status=429, headers={"Retry-After": "1"}, json={"error": "too_many_requests"}
            )
        elif len(ops) > 1:
            route.fulfill(status=413, json={"error": "too_large"})
        else:
            route.continue_()

    context.route("**/api/sync", server_limits)
    # The page's token went stale (a new session): /api/me gives a fresh one.
    page.evaluate("document.querySelector('meta[name=csrf-token]').content = 'stale'")
    context.set_offline(False)
    expect(indicator(page)).to_have_accessible_name(online(fr("all sent")), timeout=SYNC_WAIT)
    # 429 (waited 1 s), 413 (halved until one op fits), then one op per request; the
    # first single op met the stale token and was sent again with the fresh one.
    assert sizes[:2] == [3, 3] and set(sizes[2:]) == {1} and len(sizes) == 6, sizes
    on_server = encounters_on_server(page)
    assert all(len(on_server[encounter_id]) == 1 for encounter_id in ids)


PUT_OTHER_USERS = """async (users) => {
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("terrain-offline");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    const transaction = db.transaction(["users", "ops"], "readwrite");
    for (const [user, daysAgo] of users) {
        transaction.objectStore("users").put({user, token: "", pulled_at: 0,
            seen_at: Date.now() - daysAgo * 86400000});
        transaction.objectStore("ops").put({id: crypto.randomUUID(), user, status: "pending",
            type: "outreach.encounter.create", base_version: null, created: Date.now(),
            client_at: new Date().toISOString(), data: {}});
    }
    await new Promise((resolve) => { transaction.oncomplete = resolve; });
    db.close();
}"""


def test_a_phone_forgets_users_gone_for_14_days_and_whoever_logs_out(
    phones: Phones, live_server: str
):
    _, page = phones.of("rue2")
    me = user_id(page)
    expect(indicator(page)).to_be_visible()
    wait_for_outbox(page, "(o) => o.users.length > 0")
    # Two colleagues used this phone before: one 15 days ago, one yesterday.
    page.evaluate(PUT_OTHER_USERS, [["9001", 15], ["9002", 1]])
    page.reload()
    wait_for_outbox(page, "(o) => !o.users.some((u) => u.user === '9001')")
    stored = outbox(page)
    assert {row["user"] for row in stored["ops"]} == {"9002"}
    assert {row["user"] for row in stored["users"]} == {"9002", me}

    page.goto("/profile")
    with page.expect_navigation():
        page.locator("form[data-logout] button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/login")
    stored = outbox(page)
    # Nothing of whoever logged out; the colleague's own outbox waits for them.
    assert not [row for rows in stored.values() for row in rows if row.get("user") == me], stored
    assert {row["user"] for row in stored["ops"]} == {"9002"}
    assert page.evaluate("caches.has('terrain-pages')") is False


KEPT_PAGES = """async () => {
    if (!(await caches.has("terrain-pages"))) { return {}; }
    const cache = await caches.open("terrain-pages");
    const kept = {};
    for (const request of await cache.keys()) {
        const response = await cache.match(request);
        kept[new URL(request.url).pathname] = response.headers.get("X-Terrain-User");
    }
    return kept;
}"""


def test_kept_pages_are_the_offline_views_of_the_last_user_only(phones: Phones):
    context, page = phones.of("rue1")
    karim = user_id(page)
    page.goto("/profile")
    page.goto("/outreach/")
    assert page.request.get("/api/sync").ok
    kept = page.evaluate(KEPT_PAGES)
    # Only the offline views: no other page, no API answer, no htmx fragment.
    assert kept == dict.fromkeys(OFFLINE_PAGES, karim), kept

    # Karim's session ends without a logout; Lotte logs in on the same phone.
    context.clear_cookies()
    log_in(page, "rue2")
    lotte = user_id(page)
    assert lotte != karim
    eventually(
        page,
        f"() => ({KEPT_PAGES})().then((kept) => "
        f"Object.values(kept).length > 0 && Object.values(kept).every((u) => u === '{lotte}'))",
    )


def test_the_offline_pages_are_accessible_at_360_px(phones: Phones):
    _, page = phones.of("rue1")
    for path in OFFLINE_PAGES:
        page.goto(path)
        expect(indicator(page)).to_be_visible()
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 360, f"{path} scrolls sideways: {width} px"
        assert_accessible(page)


def test_logout_waits_for_the_outbox_then_wipes_the_phone(phones: Phones, live_server: str):
    tag = secrets.token_hex(3)
    _, page = phones.of("rue1")
    me = user_id(page)
    page.goto("/outreach/encounters/new")
    entry = form(page)
    expect(entry).to_have_attribute("data-offline-ready", "")
    entry.locator("[name=nickname]").fill(f"India {tag}")
    entry.locator("[name=occurred_at]").fill("2099-01-01T10:00")
    save(page)
    expect(indicator(page)).to_have_accessible_name(online(fr("1 to correct")), timeout=SYNC_WAIT)

    page.goto("/profile")
    page.locator("form[data-logout] button[type=submit]").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        fr(
            "This phone holds changes that are not sent yet. Send them first, or "
            "discard them knowingly before logging out."
        )
    )
    expect(page).to_have_url(f"{live_server}/profile")
    assert_accessible(page)
    # Sending does not help a refused change: still blocked.
    dialog.get_by_role("button", name=fr("Send now")).click()
    expect(dialog.locator("[data-dialog-status]")).to_have_text(
        fr("Some changes need you: see below.")
    )
    dialog.get_by_role("button", name=fr("Cancel")).click()
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(f"{live_server}/profile")

    page.locator("form[data-logout] button[type=submit]").click()
    with page.expect_navigation():
        page.get_by_role("dialog").get_by_role(
            "button", name=fr("Discard them and log out")
        ).click()
    expect(page).to_have_url(f"{live_server}/login")
    stored = outbox(page)
    assert not [row for rows in stored.values() for row in rows if row.get("user") == me], stored
    assert page.evaluate("caches.has('terrain-pages')") is False
