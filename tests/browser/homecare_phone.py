"""The home aide's phone in the browser tests: her day's visits, opened, tapped offline."""

from __future__ import annotations

from datetime import date, time, timedelta

from playwright.sync_api import BrowserContext, Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import accounts, sync
from homecare import cards
from homecare.calendar import local_moment
from homecare.models import Beneficiary, CarePlan, ProofRule, Visit
from notifications import services as notify
from tests.browser.helpers import login
from tests.browser.offline import PAGES_KEPT, controlled, eventually, outbox, wait_for_outbox

DAY = "/aide-a-domicile/ma-journee"
AT_THE_DOOR = {"latitude": 50.8551, "longitude": 4.3612}


def prepare_visits(sessions: sessionmaker[Session], today: date) -> dict[str, str]:
    """Five visits of five households given to aide1 on the site's day `today`: names → ids."""
    # From 14:00, 45 minutes apart: one under the card's code (its card made), one under
    # GPS, the others under no proof.
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


def open_day(phone: BrowserContext) -> Page:
    """A new page of `phone` on aide1's day, kept by the worker, its CSP complaints watched."""
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
    controlled(page)
    page.goto(DAY)  # kept by the worker once it controls the page
    eventually(page, PAGES_KEPT, [DAY])
    return page


def visit_card(page: Page, visit_id: str) -> Locator:
    """The visit's card on the day's page."""
    return page.locator(f'article[data-visit="{visit_id}"]')


def wait_until_ready(page: Page) -> None:
    """The page (again) in the engine's hands: its forms saved on the phone."""
    page.wait_for_load_state()
    expect(page.locator("form[data-offline-op]").first).to_have_attribute("data-offline-ready", "")


def submit(page: Page, button: Locator) -> None:
    """Click `button` of an offline form: one more op in the outbox, the page ready again."""
    before = len(outbox(page)["ops"])
    with page.expect_navigation():
        button.click()
    wait_until_ready(page)
    wait_for_outbox(page, f"(o) => o.ops.length > {before}")


def tap(page: Page, visit_id: str, step: str) -> None:
    """Tap the visit's `step` button (checkin, checkout)."""
    submit(page, visit_card(page, visit_id).locator(f'button[data-step="{step}"]'))
