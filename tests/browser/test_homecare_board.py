"""The home-care planning board on a tablet (1024×768), in real Chromium against a live
server of this module's own (`live_site("hcboard")`), its clock at 14:00 of the suite's
day (or the next working day: HOMECARE_CLOCK). The coordinator plans NEXT week (every visit still to
come): generates it, asks the optimiser (the scheduler's job is run here, in-process,
on the live site's database), watches the progress until the board reloads, drags one
visit onto another aide's other day and sees the warning before saving, then marks an
aide ill for 3 days and accepts the proposal. axe checks the board and the proposal."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.db import make_engine
from homecare import runs
from homecare.calendar import monday_of
from homecare.models import PlanningRun, Visit
from tests.browser.helpers import (
    HOMECARE_CLOCK,
    LiveServer,
    assert_accessible,
    en,
    install_clock,
    live_server_fixture,
    live_sessions_fixture,
    log_in,
    open_from_menu,
)

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}

board_server = live_server_fixture("hcboard", **HOMECARE_CLOCK)
board_sessions = live_sessions_fixture("board_server")


def _run_the_job(sessions, week) -> PlanningRun:
    """What `terrain scheduler` does every 2 s: claim the queued run and carry it out."""
    with sessions() as session:
        run = session.scalar(
            select(PlanningRun).where(PlanningRun.week == week).order_by(PlanningRun.id.desc())
        )
        run.seconds = 1
        session.commit()
    runs.run_pending(sessions)
    with sessions() as session:
        return session.get(PlanningRun, run.id)


def test_plan_drag_and_replan_an_ill_aide_on_a_tablet(
    chromium: Browser, board_server: LiveServer, board_sessions
):
    week = monday_of(clock.to_local(board_server.now()).date()) + timedelta(days=7)
    context = chromium.new_context(base_url=board_server.url, viewport=TABLET, locale="fr-BE")
    context.set_default_timeout(15_000)
    install_clock(context, board_server.url)
    page: Page = context.new_page()
    try:
        log_in(page, "coordination")
        open_from_menu(page, "/aide-a-domicile/planning")
        page.goto(f"/aide-a-domicile/planning?week={week.isoformat()}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(en("Home care planning"))

        # Generate the week, then ask the optimiser: a progress bar until it is done.
        page.get_by_role("button", name=en("Generate the week's visits")).click()
        expect(page.locator("table.hc-board")).to_be_visible()
        page.get_by_role("button", name=en("Optimise the week")).click()
        expect(page.locator("#hc-run progress")).to_be_visible()
        assert _run_the_job(board_sessions, week).status == "done"
        # The polled fragment hears the run is over and the board reloads.
        expect(page.locator("#hc-run")).to_contain_text(re.compile(r"\d+"))
        expect(page.locator("#hc-run progress")).to_have_attribute("value", "100")
        expect(page.locator("table.hc-board a.hc-visit").first).to_be_visible()
        assert_accessible(page)

        # Drag the first planned visit onto the next aide's cell of the next day: the
        # other day is outside its window, so a warning is certain.
        chip = page.locator("table.hc-board a.hc-visit").first
        cell = chip.locator("xpath=ancestor::td[1]")
        column = int(cell.evaluate("td => td.cellIndex"))
        row = int(cell.evaluate("td => td.parentElement.sectionRowIndex"))
        rows = page.locator("table.hc-board tbody tr")
        other_row = row + 1 if row + 1 < rows.count() else row - 1
        other_column = column + 1 if column < 7 else column - 1
        target = rows.nth(other_row).locator("td, th").nth(other_column)
        chip.drag_to(target)
        # (The gesture may pick up the chip that scrolled under the pointer: any visit.)
        expect(page).to_have_url(re.compile(r"/planning/visits/[0-9a-f-]{36}\?aide=\d+&day="))
        expect(page.locator("#hc-warnings [data-warning]").first).to_be_visible()
        page.get_by_role("button", name=en("Save")).click()
        save_anyway = page.get_by_role("button", name=en("Save anyway"))
        expect(save_anyway).to_be_visible()
        save_anyway.click()
        expect(page.locator(".flash-success, [role=status]").first).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_contain_text(en("Home care planning"))

        # An aide falls ill for 3 days from Tuesday: record it, re-plan, accept.
        engine = make_engine(board_server.database_url)
        try:
            with Session(engine) as session:
                visit = session.scalar(
                    select(Visit)
                    .where(
                        Visit.day == week + timedelta(days=1),
                        Visit.aide_id.is_not(None),
                        Visit.status == "planned",
                    )
                    .order_by(Visit.planned_start)
                    .limit(1)
                )
                assert visit is not None
                ill = visit.aide_id
        finally:
            engine.dispose()
        page.get_by_role("link", name=en("An aide is ill")).click()
        page.get_by_label(en("Aide")).select_option(str(ill))
        page.get_by_label(en("First day away")).fill((week + timedelta(days=1)).isoformat())
        page.get_by_label(en("Number of days")).fill("3")
        page.get_by_role("button", name=en("Record and re-plan")).click()
        expect(page.locator("#hc-run progress")).to_be_visible()
        assert _run_the_job(board_sessions, week).status == "done"
        review = page.get_by_role("link", name=en("Review the proposal"))
        expect(review).to_be_visible()
        review.click()
        expect(page.locator("tr[data-proposal]").first).to_be_visible()
        assert_accessible(page)
        page.get_by_role("button", name=en("Accept the proposal")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(en("Home care planning"))
        with board_sessions() as session:
            run = session.scalar(
                select(PlanningRun)
                .where(PlanningRun.week == week, PlanningRun.kind == "replan")
                .limit(1)
            )
            assert run is not None and run.accepted_at is not None
            moved = [session.get(Visit, uuid.UUID(c["visit"])) for c in run.result["changes"]]
            assert moved and all(v.aide_id != ill for v in moved)
    finally:
        context.close()
