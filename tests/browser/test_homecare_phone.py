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
from datetime import date, time, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import accounts, clock, sync
from homecare import cards
from homecare.calendar import local_moment
from homecare.models import Beneficiary, CarePlan, ProofRule, Visit, VisitReport
from notifications import services as notify
from notifications.models import Message
from tests.browser.helpers import (
    HOMECARE_CLOCK,
    LiveServer,
    check_page,
    live_server_fixture,
    live_sessions_fixture,
    login,
    new_phone_context,
    service_worker_ready,
)
from tests.browser.test_sync import OUTBOX, PAGES_KEPT, eventually, wait_for_outbox

pytestmark = pytest.mark.browser

HOLDS_VISITS = f"""async (ids) => {{
    const held = (await ({OUTBOX})()).records.filter((r) => r.type === "homecare.visit");
    return ids.every((id) => held.some((r) => r.id === id));
}}"""

DAY = "/aide-a-domicile/ma-journee"
AT_THE_DOOR = {"latitude": 50.8551, "longitude": 4.3612}

phone_server = live_server_fixture("hcphone", **HOMECARE_CLOCK)
sessions = live_sessions_fixture("phone_server")


@pytest.fixture()
def phone(chromium: Browser, phone_server: LiveServer) -> Iterator[BrowserContext]:
    context = new_phone_context(
        chromium, phone_server.url, geolocation=AT_THE_DOOR, permissions=["geolocation"]
    )
    yield context
    context.close()


def _prepare(sessions: sessionmaker[Session], today: date) -> dict[str, str]:
    """Five visits of five households given to aide1 this afternoon (of the site's day
    `today`): one under the card's code, one under GPS; the card of the first made.
    Returns names → ids."""
    with sessions() as session:
        coordinator = accounts.find_user(session, "coordination")
        aide = accounts.find_user(session, "aide1")
        assert coordinator is not None and aide is not None
        chosen: list[Visit] = []
        for visit in session.scalars(
            select(Visit).where(Visit.team_id == coordinator.team_id).order_by(Visit.id)
        ):
            if visit.beneficiary_id not in {other.beneficiary_id for other in chosen}:
                chosen.append(visit)
            if len(chosen) == 5:
                break
        assert len(chosen) == 5
        for number, visit in enumerate(chosen):
            visit.day, visit.aide_id, visit.second_aide_id, visit.aides = today, aide.id, None, 1
            visit.status, visit.actual_start, visit.actual_end = "planned", None, None
            start = local_moment(today, time(14)) + timedelta(minutes=45 * number)
            visit.earliest_start = visit.latest_start = visit.planned_start = start
            visit.duration_minutes = 30
            sync.stamp(session, visit, sync.team_scope(visit.team_id), coordinator, None)
        code_plan = session.get(CarePlan, chosen[1].plan_id)
        gps_plan = session.get(CarePlan, chosen[2].plan_id)
        assert code_plan is not None and gps_plan is not None
        code_plan.service, gps_plan.service = "home_help", "day_care"
        for service, mode in (("home_help", "code"), ("day_care", "gps")):
            rule = session.get(ProofRule, (coordinator.team_id, service))
            if rule is None:
                session.add(
                    ProofRule(team_id=coordinator.team_id, service=service, mode=mode, radius_m=150)
                )
            else:
                rule.mode, rule.radius_m = mode, 150
        for plan in {visit.plan_id for visit in chosen} - {code_plan.id, gps_plan.id}:
            rule_plan = session.get(CarePlan, plan)
            assert rule_plan is not None
            rule_plan.service = "family_aide"
        session.execute(
            ProofRule.__table__.delete().where(
                ProofRule.team_id == coordinator.team_id, ProofRule.service == "family_aide"
            )
        )
        household = session.get(Beneficiary, chosen[2].beneficiary_id)
        assert household is not None
        household.latitude, household.longitude = AT_THE_DOOR["latitude"], AT_THE_DOOR["longitude"]
        card = cards.issue_card(session, coordinator, chosen[1].beneficiary_id)
        if notify.contact_for_user(session, coordinator.id) is None:
            notify.create_contact(
                session,
                actor=None,
                display_name="Coordination",
                language="fr",
                phones=["0470 11 22 33"],
                user_id=coordinator.id,
            )
        session.commit()
        return {
            "plain": str(chosen[0].id),
            "code": str(chosen[1].id),
            "gps": str(chosen[2].id),
            "nobody": str(chosen[3].id),
            "fifth": str(chosen[4].id),
            "card": card.code,
        }


def _card(page: Page, visit_id: str):
    return page.locator(f'article[data-visit="{visit_id}"]')


def _ops(page: Page) -> int:
    return len(page.evaluate(OUTBOX)["ops"])


def _ready(page: Page) -> None:
    """The page (again) in the engine's hands: its forms saved on the phone."""
    page.wait_for_load_state()
    expect(page.locator("form[data-offline-op]").first).to_have_attribute("data-offline-ready", "")


def _submit(page: Page, button) -> None:
    before = _ops(page)
    with page.expect_navigation():
        button.click()
    _ready(page)
    wait_for_outbox(page, f"(o) => o.ops.length > {before}")


def _tap(page: Page, visit_id: str, step: str) -> None:
    _submit(page, _card(page, visit_id).locator(f'button[data-step="{step}"]'))


def _report(page: Page, visit_id: str, outcome: str = "normal") -> None:
    form = _card(page, visit_id).locator("form[data-visit-report]")
    for box in form.locator("input[name=tasks_done]").all():
        box.check()
    form.locator("select[name=outcome]").select_option(outcome)
    form.locator("textarea[name=note]").fill(f"Note {outcome}")
    _submit(page, form.locator("button[type=submit]"))


def test_five_visits_offline_reach_the_server_once_with_one_alert(
    phone: BrowserContext, phone_server: LiveServer, sessions: sessionmaker[Session]
):
    ids = _prepare(sessions, clock.to_local(phone_server.now()).date())
    page = phone.new_page()
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_errors.append(message.text)  # type: ignore[attr-defined]
        ),
    )
    login(page, "aide1")
    page.goto(DAY)
    service_worker_ready(page)
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.goto(DAY)  # kept by the worker once it controls the page
    eventually(page, PAGES_KEPT, [DAY])
    # One sync: the five visits are on the phone.
    visit_ids = [ids[key] for key in ("plain", "code", "gps", "nobody", "fifth")]
    eventually(page, HOLDS_VISITS, visit_ids)
    expect(_card(page, ids["code"]).locator("input[name=code]")).to_be_visible()
    check_page(page)

    _ready(page)
    phone.set_offline(True)
    # Plain, fifth: arrive, leave, report. A minute instead of 30: the reason is asked.
    for key in ("plain", "fifth"):
        _tap(page, ids[key], "checkin")
        _tap(page, ids[key], "checkout")
        expect(_card(page, ids[key]).locator("fieldset[data-variance]")).to_be_visible()
        if key == "plain":
            _card(page, ids[key]).locator("select[name=variance_reason]").select_option(
                "household_request"
            )
        _report(page, ids[key])
    # The card's code typed (no camera here).
    _card(page, ids["code"]).locator("input[name=code]").fill(ids["card"].lower())
    _tap(page, ids["code"], "checkin")
    _tap(page, ids["code"], "checkout")
    _report(page, ids["code"])
    # One GPS fix at each tap, from the emulated position.
    _tap(page, ids["gps"], "checkin")
    _tap(page, ids["gps"], "checkout")
    _report(page, ids["gps"])
    # Nobody answered: the report alone.
    _report(page, ids["nobody"], "nobody_answered")
    ops = page.evaluate(OUTBOX)["ops"]
    assert len(ops) == 13
    gps = [op for op in ops if op["data"]["visit_id"] == ids["gps"] and "at" in op["data"]]
    assert {op["data"]["latitude"] for op in gps} == {AT_THE_DOOR["latitude"]}
    # The page drawn again from what the phone holds, and after a reload offline.
    page.reload()
    _ready(page)
    for key in ("plain", "code", "gps", "fifth"):
        card = _card(page, ids[key])
        expect(card).to_have_attribute("data-local", "waiting")
        expect(card.locator("[data-local-state]")).to_contain_text(re.compile(r"\d\d:\d\d"))
    expect(_card(page, ids["nobody"])).to_have_attribute("data-local", "waiting")
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
    expect(_card(page, ids["plain"])).to_have_attribute("data-local", "sent")


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
