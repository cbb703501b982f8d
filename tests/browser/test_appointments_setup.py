"""Appointment settings in a real browser, on a 360 px phone and on a desktop: a
coordinator creates a service, offers it at a place with an agent, gives the agent a
working plan, and the new service's free slots appear in the public API
(GET /api/appointments/slots). Then the indicators page and its downloads. axe-core on
every page, nothing wider than the phone.

A live site shared with the other appointment and desk modules only
(conftest.appointments_server): what these tests create (services with a code of their
own, plans of two demo agents at the Antenne Nord-Est) stays away from the suite's
shared site, and the other modules on this one never look at it. The coordinator
switches to English first.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import (
    VIEWPORT,
    LiveServer,
    check_page,
    en,
    log_in,
    new_page,
    open_from_menu,
)

pytestmark = pytest.mark.browser

BASE = "/parametres/rendez-vous"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def setup_server(appointments_server: LiveServer) -> LiveServer:
    """The live site this module shares with the other appointment and desk modules
    (conftest.appointments_server): what it adds is its own."""
    return appointments_server


@pytest.fixture()
def phone_page(chromium: Browser, setup_server: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, setup_server, VIEWPORT)


@pytest.fixture()
def desktop_page(chromium: Browser, setup_server: LiveServer) -> Iterator[Page]:
    yield from new_page(chromium, setup_server, DESKTOP)


def tab(page: Page, endpoint_path: str) -> None:
    page.locator(f"nav.sms-tabs a[href='{BASE}{endpoint_path}']").click()
    expect(page).to_have_url(re.compile(re.escape(BASE + endpoint_path) + "$"))
    check_page(page)


def create_service_with_a_plan(page: Page, *, agent: str, weekdays: list[str]) -> str:
    """The whole flow through the pages; returns the new service's code."""
    code = f"essai-{secrets.token_hex(3)}"
    log_in(page, "coordination")
    open_from_menu(page, f"{BASE}/services")
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Services"))
    check_page(page)

    page.get_by_role("link", name=en("New service")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(en("New service"))
    check_page(page)
    page.get_by_label(en("Code")).fill(code)
    page.get_by_label(en("Name in French")).fill("Essai de service")
    page.get_by_label(en("Name in Dutch")).fill("Testdienst")
    page.get_by_label(en("Length (minutes)")).fill("500")  # too long: refused first
    page.get_by_role("button", name=en("Save"), exact=True).click()
    field = page.get_by_label(en("Length (minutes)"))
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#duration_minutes-error")).to_have_text(
        en("Must be between %(min)s and %(max)s.", min=5, max=240)
    )
    check_page(page)  # the error state is accessible too
    field.fill("45")
    page.get_by_role("button", name=en("Save"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/services/\d+(#offer)?$"))
    expect(page.locator(".flash-success")).to_be_visible()

    page.get_by_label("Antenne Nord-Est").check()
    page.get_by_label(agent).check()
    page.get_by_role("button", name=en("Save places and agents")).click()
    expect(page.locator(".flash-success")).to_have_text(en("Places and agents saved."))
    check_page(page)

    tab(page, "/plannings")
    form = page.locator("form[action$='/plannings']")
    form.get_by_label(en("Agent")).select_option(label=agent)
    form.get_by_label(en("Place")).select_option(label="Antenne Nord-Est")
    for day in weekdays:
        form.get_by_label(day, exact=True).check()
    form.get_by_label(en("From"), exact=True).fill("13:00")
    form.get_by_label(en("To"), exact=True).fill("16:00")
    form.get_by_role("button", name=en("Add")).click()
    expect(page.locator(".flash-success")).to_have_text(en("Working plan added."))
    expect(page.get_by_role("heading", name=agent)).to_be_visible()
    check_page(page)
    return code


def slots_of(page: Page, code: str) -> list[dict]:
    response = page.request.get(
        f"/api/appointments/slots?cpas=bruxelles&service={code}&location=bxl-nord-est&days=21"
    )
    assert response.status == 200, response.text()
    return response.json()["slots"]


def test_a_new_service_gets_free_slots_on_a_phone(phone_page: Page):
    page = phone_page
    code = create_service_with_a_plan(
        page, agent="Inès Moreau", weekdays=["Monday", "Wednesday", "Friday"]
    )
    found = slots_of(page, code)
    assert found, "the new service offers slots"
    assert all(re.search(r"T1[3-5]:", slot["start"]) for slot in found[:5]), found[:5]

    tab(page, "/lieux")
    tab(page, "/fermetures")
    tab(page, "/absences")
    tab(page, "/indicateurs")
    expect(page.get_by_role("link", name=en("Download for Excel (XLSX)"))).to_be_visible()


def test_settings_and_indicators_on_a_desktop(desktop_page: Page):
    page = desktop_page
    code = create_service_with_a_plan(page, agent="Thomas Janssens", weekdays=["Friday"])
    assert slots_of(page, code)
    tab(page, "/services")
    page.get_by_role("link", name="Essai de service").first.click()
    check_page(page)
    tab(page, "/lieux")
    page.get_by_role("link", name="Antenne Nord-Est").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Antenne Nord-Est")
    check_page(page)
    tab(page, "/indicateurs")
    page.get_by_label(en("Service")).select_option(value=code)
    page.get_by_role("button", name=en("Show")).click()
    expect(page).to_have_url(re.compile(rf"service={code}"))
    check_page(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=en("Download for Excel (XLSX)")).click()
    assert download.value.suggested_filename.endswith(f"{code}.xlsx")


def test_the_platform_administrator_splits_a_shared_service(
    desktop_page: Page, setup_server: LiveServer
):
    """A service of no CPAS offered in Brussels and in Charleroi: the platform
    administrator follows the CPAS page's link, sees both CPAS, splits it (axe-core on
    both states)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from appointments.models import Location, Service, ServiceLocation
    from core.db import make_engine

    code = f"partage-{secrets.token_hex(3)}"
    engine = make_engine(setup_server.database_url)
    try:
        with Session(engine) as session:
            service = Service(
                code=code,
                name_fr="Service partagé",
                name_nl="Gedeelde dienst",
                name_en="Shared service",
                duration_minutes=30,
            )
            session.add(service)
            session.flush()
            for place in ("bxl-nord-est", "clr-dampremy"):
                location = session.scalar(select(Location).where(Location.code == place))
                session.add(ServiceLocation(service_id=service.id, location_id=location.id))
            session.commit()
    finally:
        engine.dispose()
    page = desktop_page
    log_in(page, "admin")
    page.goto("/admin/cpas")
    page.get_by_role(
        "link",
        name=en("Appointment services shared by several CPAS: give each its CPAS or split it"),
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(en("Shared services"))
    card = page.locator("li.card", has_text=code)
    expect(card).to_contain_text("CPAS de Bruxelles")
    expect(card).to_contain_text("CPAS de Charleroi")
    check_page(page)
    card.get_by_label(en("Give it to")).select_option(label="CPAS de Bruxelles")
    card.get_by_role("button", name=en("Give"), exact=True).click()
    expect(page.locator(".error")).to_contain_text(
        en(
            "Places of another CPAS offer this service or hold its appointments: split it "
            "instead, one copy per CPAS."
        )
    )
    check_page(page)  # the refusal is accessible too
    page.locator("li.card", has_text=code).get_by_role(
        "button", name=en("Split %(name)s, one copy per CPAS", name="Shared service")
    ).click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("li.card", has_text=code)).to_have_count(0)
    check_page(page)
