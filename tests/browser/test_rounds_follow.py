"""Dated rounds following their template, in a real browser on a 360 px phone (issue 19).

The crew's "Ma tournée" is open (kept for offline use) when the coordinator removes one
of the template's stops: the phone, offline meanwhile with a tap waiting, comes back
online, sends the tap and downloads — the open page drops the removed stop without a
reload, and the page read again offline has it no more. The coordinator's dated round
page: its expected times refresh alone (paused while the tab is hidden) and a reason
being typed in a skip form stays. axe clean, nothing wider than the phone.

A live site of this module's own, its clock at noon of a working day: the evening's
rounds are made for the site's today and changed at its clock, so the suite's clock
passing midnight meanwhile (--clock=midnight) cannot turn them into yesterday's.
"""

from __future__ import annotations

import uuid
from datetime import time

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from core import accounts, clock, organisations
from rounds import live, services
from rounds.models import Round, RoundStop, RoundTemplate
from tests.browser.helpers import (
    NOON,
    LiveServer,
    check_page,
    folder_site_fixture,
    live_server_fixture,
    live_sessions_fixture,
    login,
)
from tests.browser.offline import wait_for_op, wait_for_outbox, wait_for_records
from tests.browser.rounds_crew import PAGE, open_kept_crew_page
from tests.db.rounds_world import vehicle_data

pytestmark = pytest.mark.browser
follow_server = live_server_fixture("rounds-follow", **NOON)
sessions = live_sessions_fixture("follow_server")
live_server = folder_site_fixture("follow_server")  # the folder's `context` and `page` open there


def _evening(sessions, server: LiveServer) -> dict[str, str]:
    """A template of the site's today's weekday (two stops, 19:00 and 20:00) with today's
    round made from it, and a one-off round later that evening with one stop."""
    with sessions() as session, clock.frozen(server.now()):
        coord = accounts.find_user(session, "mobile-coord")
        team_id = coord.team_id
        vehicle = services.create_vehicle(
            session, coord, team_id, vehicle_data(kind="minibus", name="Minibus du soir")
        )
        places = [
            services.create_stop(
                session,
                coord,
                team_id,
                {
                    "vehicle_id": str(vehicle.id),
                    "name": name,
                    "address": "Place communale",
                    "postcode": "6000",
                    "city": "Charleroi",
                    "latitude": 50.41,
                    "longitude": 4.44,
                },
            )
            for name in ("Soir, place du marché", "Soir, gare de l'Ouest")
        ]
        today = live.today()
        template = services.create_template(
            session,
            coord,
            team_id,
            {
                "vehicle_id": str(vehicle.id),
                "name": "Minibus du soir",
                "kind": "minibus",
                "weekday": str(today.weekday()),
                "starts": "19:00",
                "ends": "22:00",
                "active_from": today.isoformat(),
            },
        )
        permanences = [
            services.add_permanence(
                session,
                coord,
                team_id,
                {
                    "template_id": str(template.id),
                    "stop_id": str(place.id),
                    "starts": starts,
                    "ends": ends,
                    "topic": "social",
                },
            )
            for place, (starts, ends) in zip(
                places, (("19:00", "19:30"), ("20:00", "20:30")), strict=True
            )
        ]
        # A CPAS holiday would make today's round cancelled (a regional one: the site's
        # day is no federal holiday): the CPAS opens the day for this round, then closes
        # it again.
        cpas_id = organisations.cpas_id_of_team(session, team_id)
        holiday = services.dated.closed_days(session, team_id, today, today).get(today)
        if holiday is not None:
            organisations.set_holiday(session, cpas_id, today, closed=False)
        services.generate_rounds(session, team_id, today, 1, actor=coord)
        if holiday is not None:
            organisations.set_holiday(session, cpas_id, today, closed=True)
        dated = services.rounds_between(session, team_id, today, today)
        (evening,) = [r for r in dated if r.template_id == template.id]
        stops = services.round_stops(session, evening.id)
        later = services.create_round(
            session,
            coord,
            team_id,
            {
                "vehicle_id": str(vehicle.id),
                "day": today.isoformat(),
                "kind": "minibus",
                "name": "Minibus de nuit",
                "starts": "22:00",
                "ends": "23:30",
            },
        )
        tap_stop = RoundStop(
            id=uuid.uuid4(),
            team_id=team_id,
            round_id=later.id,
            position=1,
            kind="public_stop",
            stop_id=places[0].id,
            topic="social",
            planned_arrival=time(22),
            planned_departure=time(22, 30),
            status="planned",
            outcome="",
            reason="",
            version=1,
            changed_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(tap_stop)
        session.commit()
        return {
            "round": str(evening.id),
            "kept": str(stops[0].id),
            "removed": str(stops[1].id),
            "permanence": str(permanences[1].id),
            "tap": str(tap_stop.id),
        }


def test_a_removed_stop_leaves_the_crew_s_page_offline(
    context: BrowserContext, page: Page, sessions, follow_server: LiveServer
):
    ids = _evening(sessions, follow_server)
    open_kept_crew_page(page)
    wait_for_records(page, "rounds.round", [ids["round"]])
    removed = page.locator(f'[data-stop="{ids["removed"]}"]')
    expect(removed).to_be_visible()
    check_page(page)

    context.set_offline(True)
    # The saved tap goes on to the kept page by itself: wait for that navigation, or the
    # next goto races it (net::ERR_ABORTED).
    with page.expect_navigation(wait_until="load"):
        page.locator(f'[data-stop="{ids["tap"]}"] button[data-step="arrive"]').click()
    wait_for_op(page, "rounds.stop.arrive")
    page.goto(PAGE)  # the kept page, drawn before the change
    expect(removed).to_be_visible()

    with sessions() as session, clock.frozen(follow_server.now()):
        coord = accounts.find_user(session, "mobile-coord")
        done = services.remove_permanence_and_store(session, coord, uuid.UUID(ids["permanence"]))
        assert done.rounds == 1

    # Online briefly: the tap goes, the round comes again without the stop.
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for_outbox(page, "(o) => o.ops.length === 0")
    expect(removed).to_have_count(0)  # the open page, drawn again from the records
    expect(page.locator(f'[data-stop="{ids["kept"]}"]')).to_be_visible()
    context.set_offline(True)
    page.goto(PAGE)  # read again with no network
    expect(page.locator(f'[data-stop="{ids["kept"]}"]')).to_be_visible()
    expect(removed).to_have_count(0)
    check_page(page)
    context.set_offline(False)


def test_the_round_s_times_refresh_alone_and_the_forms_stay(
    page: Page, sessions, follow_server: LiveServer
):
    ids = _evening(sessions, follow_server)
    url = f"/tournees/dates/{ids['round']}"
    login(page, "mobile-coord")
    page.goto(url)
    etas = page.locator("#round-etas")
    expect(etas).to_be_visible()
    check_page(page)
    page.locator("details summary").first.click()
    reason = page.locator("form textarea, form input[name=reason]").first
    reason.fill("Travaux sur la place")
    polls: list[str] = []
    page.on(
        "request",
        lambda request: (
            "/heures" in request.url and request.headers.get("hx-request") and polls.append(1)
        ),
    )
    page.evaluate(
        "() => { Object.defineProperty(document, 'hidden',"
        " {configurable: true, get: () => true});"
        " htmx.trigger(document.querySelector('#round-etas'), 'rounds-live-refresh'); }"
    )
    page.wait_for_timeout(500)
    assert polls == []
    with page.expect_response(lambda response: "/heures" in response.url):
        page.evaluate(
            "() => { Object.defineProperty(document, 'hidden',"
            " {configurable: true, get: () => false});"
            " document.dispatchEvent(new Event('visibilitychange')); }"
        )
    expect(page.locator("#round-etas")).to_be_visible()
    expect(page.locator("#round-etas [data-rounds-live-time]")).to_be_visible()
    assert len(polls) == 1
    expect(reason).to_have_value("Travaux sur la place")  # the form was not redrawn
    check_page(page)


def test_a_round_its_template_moved_shows_cancelled_on_the_kept_page(
    context: BrowserContext, page: Page, sessions, follow_server: LiveServer
):
    """The coordinator moves the evening template to another weekday while the crew's
    page is open offline (a tap waiting): back online, the tap goes, the download brings
    the round's deletion, and the open page says the round is cancelled, its buttons
    gone; read again offline, it is not startable either."""
    ids = _evening(sessions, follow_server)
    open_kept_crew_page(page)
    wait_for_records(page, "rounds.round", [ids["round"]])
    section = page.locator(f'section[data-round="{ids["round"]}"]')
    expect(section.locator('button[data-step="start"]')).to_be_visible()

    context.set_offline(True)
    with page.expect_navigation(wait_until="load"):
        page.locator(f'[data-stop="{ids["tap"]}"] button[data-step="arrive"]').click()
    wait_for_op(page, "rounds.stop.arrive")
    page.goto(PAGE)  # the kept page, drawn before the change

    with sessions() as session, clock.frozen(follow_server.now()):
        coord = accounts.find_user(session, "mobile-coord")
        template = session.get(
            RoundTemplate, session.get(Round, uuid.UUID(ids["round"])).template_id
        )
        form = {
            "vehicle_id": str(template.vehicle_id),
            "name": template.name,
            "kind": template.kind,
            "weekday": str((template.weekday + 1) % 7),
            "starts": "19:00",
            "ends": "22:00",
            "active_from": template.active_from.isoformat(),
            "active_until": "",
            "version": str(template.version),
            "cancel_reason": "Le soir passe au lendemain",
        }
        done = services.save_template_change(session, coord, template.id, form)
        assert done.cancelled == 1

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for_outbox(page, "(o) => o.ops.length === 0")
    expect(section.locator("[data-round-cancelled]")).to_be_visible()
    expect(section.locator("form")).to_have_count(0)
    check_page(page)
    context.set_offline(True)
    page.goto(PAGE)  # read again with no network: the round cannot be started
    expect(page.locator(f'section[data-round="{ids["round"]}"] form')).to_have_count(0)
    context.set_offline(False)
