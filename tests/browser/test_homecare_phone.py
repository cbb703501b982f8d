"""The aide's phone at 360 px, offline (issue 18): one sync, then no network; five
visits done (arrive/leave and tasks; one with the household card's code typed, one
with a GPS fix taken through the emulated position, one where nobody answered); a
reload without network shows each visit as the phone holds it; back online, each
report reaches the server once and the coordinator's alert SMS is queued once.
axe on the page online and offline, nothing wider than the phone, no CSP complaint.

A live site of this module's own (`live_site("hcphone")`), its clock at 14:00
(HOMECARE_CLOCK): the test moves five of the team's visits to aide1 this afternoon.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import clock
from homecare import cards
from homecare.models import Visit, VisitReport
from notifications.models import Message
from tests.browser.helpers import (
    HOMECARE_CLOCK,
    LiveServer,
    check_page,
    live_server_fixture,
    live_sessions_fixture,
    new_phone_context,
)
from tests.browser.homecare_phone import (
    AT_THE_DOOR,
    DAY,
    open_day,
    prepare_visits,
    submit,
    tap,
    visit_card,
    wait_until_ready,
)
from tests.browser.offline import outbox, wait_for_outbox, wait_for_records

pytestmark = pytest.mark.browser

phone_server = live_server_fixture("hcphone", **HOMECARE_CLOCK)
sessions = live_sessions_fixture("phone_server")


@pytest.fixture()
def phone(chromium: Browser, phone_server: LiveServer) -> Iterator[BrowserContext]:
    context = new_phone_context(
        chromium, phone_server.url, geolocation=AT_THE_DOOR, permissions=["geolocation"]
    )
    yield context
    context.close()


def _report(page: Page, visit_id: str, outcome: str = "normal") -> None:
    form = visit_card(page, visit_id).locator("form[data-visit-report]")
    for box in form.locator("input[name=tasks_done]").all():
        box.check()
    form.locator("select[name=outcome]").select_option(outcome)
    form.locator("textarea[name=note]").fill(f"Note {outcome}")
    submit(page, form.locator("button[type=submit]"))


def test_five_visits_offline_reach_the_server_once_with_one_alert(
    phone: BrowserContext, phone_server: LiveServer, sessions: sessionmaker[Session]
):
    ids = prepare_visits(sessions, clock.to_local(phone_server.now()).date())
    page = open_day(phone)
    # One sync: the five visits are on the phone.
    visit_ids = [ids[key] for key in ("plain", "code", "gps", "nobody", "fifth")]
    wait_for_records(page, "homecare.visit", visit_ids)
    expect(visit_card(page, ids["code"]).locator("input[name=code]")).to_be_visible()
    check_page(page)

    wait_until_ready(page)
    phone.set_offline(True)
    # Plain, fifth: arrive, leave, report. A minute instead of 30: the reason is asked.
    for key in ("plain", "fifth"):
        tap(page, ids[key], "checkin")
        tap(page, ids[key], "checkout")
        expect(visit_card(page, ids[key]).locator("fieldset[data-variance]")).to_be_visible()
        if key == "plain":
            visit_card(page, ids[key]).locator("select[name=variance_reason]").select_option(
                "household_request"
            )
        _report(page, ids[key])
    # The card's code typed (no camera here).
    visit_card(page, ids["code"]).locator("input[name=code]").fill(ids["card"].lower())
    tap(page, ids["code"], "checkin")
    tap(page, ids["code"], "checkout")
    _report(page, ids["code"])
    # One GPS fix at each tap, from the emulated position.
    tap(page, ids["gps"], "checkin")
    tap(page, ids["gps"], "checkout")
    _report(page, ids["gps"])
    # Nobody answered: the report alone.
    _report(page, ids["nobody"], "nobody_answered")
    ops = outbox(page)["ops"]
    assert len(ops) == 13
    gps = [op for op in ops if op["data"]["visit_id"] == ids["gps"] and "at" in op["data"]]
    assert {op["data"]["latitude"] for op in gps} == {AT_THE_DOOR["latitude"]}
    # The page drawn again from what the phone holds, and after a reload offline.
    page.reload()
    wait_until_ready(page)
    for key in ("plain", "code", "gps", "fifth"):
        card = visit_card(page, ids[key])
        expect(card).to_have_attribute("data-local", "waiting")
        expect(card.locator("[data-local-state]")).to_contain_text(re.compile(r"\d\d:\d\d"))
    expect(visit_card(page, ids["nobody"])).to_have_attribute("data-local", "waiting")
    check_page(page)

    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for_outbox(page, "(o) => o.ops.length === 0")
    with sessions() as session:
        reports = {
            str(report.visit_id): report
            for report in session.scalars(
                select(VisitReport).where(
                    VisitReport.visit_id.in_([uuid.UUID(value) for value in visit_ids])
                )
            )
        }
        assert set(reports) == set(visit_ids)
        assert (
            session.scalar(
                select(func.count())
                .select_from(VisitReport)
                .where(VisitReport.visit_id.in_([uuid.UUID(value) for value in visit_ids]))
            )
            == 5
        )
        assert reports[ids["code"]].proof == "code" and reports[ids["code"]].verified
        assert reports[ids["gps"]].proof == "gps" and reports[ids["gps"]].verified
        assert reports[ids["plain"]].verified and reports[ids["plain"]].submitted
        assert reports[ids["plain"]].variance_reason == "household_request"
        assert reports[ids["fifth"]].variance_minutes is not None
        assert reports[ids["fifth"]].variance_reason is None  # kept: "reason missing"
        assert reports[ids["plain"]].clock_offset_s is not None
        assert abs(reports[ids["plain"]].clock_offset_s) < 600
        assert reports[ids["nobody"]].outcome == "nobody_answered"
        key = f"homecare:alert:{ids['nobody']}:nobody_answered"
        assert (
            session.scalar(select(func.count()).select_from(Message).where(Message.key == key)) == 1
        )
        done = session.scalars(
            select(Visit.status).where(Visit.id.in_([uuid.UUID(ids["plain"])]))
        ).one()
        assert done == "done"
    # Online again: the page says everything is sent.
    page.goto(DAY)
    expect(visit_card(page, ids["plain"])).to_have_attribute("data-local", "sent")


def test_the_vendored_decoder_reads_the_printed_cards_qr(chromium: Browser):
    """The QR the card page draws (segno) read back by the jsQR the phone loads, from a
    picture of it as the camera gives one (pixels on a canvas, a white margin)."""
    from pathlib import Path

    code = "ACD3FG"
    svg = cards.qr_svg(code)
    context = chromium.new_context(viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.set_content("<!doctype html><title>QR</title>")
        page.add_script_tag(
            path=str(Path(__file__).resolve().parents[2] / "static/vendor/jsqr/jsQR.js")
        )
        found = page.evaluate(
            """async (svg) => {
                const image = new Image();
                image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
                await image.decode();
                const canvas = document.createElement("canvas");
                canvas.width = canvas.height = 480;
                const context = canvas.getContext("2d");
                context.fillStyle = "#fff";
                context.fillRect(0, 0, 480, 480);
                context.drawImage(image, 60, 60, 360, 360);
                const pixels = context.getImageData(0, 0, 480, 480);
                const result = jsQR(pixels.data, 480, 480, {inversionAttempts: "dontInvert"});
                return result && result.data;
            }""",
            svg,
        )
    finally:
        context.close()
    assert found == code
