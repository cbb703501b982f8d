"""Open visits and timesheets through the pages and the Sync API (issue 18): the demo's
open visit offered to the aides who could take it, taken by the first who accepts (the
second sees it taken, no error page), withdrawn and offered again by the coordinator;
the aide's timesheet signed with her password; who signed, in the coordinator's list
and in the payroll file."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, time, timedelta

from sqlalchemy import select

from core import accounts, clock
from core.demo import DEMO_PASSWORD
from homecare.calendar import local_moment
from homecare.demo import demo_id
from homecare.models import Timesheet, Visit, VisitOffer, VisitOfferAide

DAY = "/aide-a-domicile/ma-journee"
SHEET = "/aide-a-domicile/ma-feuille-d-heures"
OFFER_VISIT = demo_id("example-offer-visit")
OFFER = demo_id("example-offer")


def _offer_page(visit_id=OFFER_VISIT) -> str:
    return f"/aide-a-domicile/planning/visits/{visit_id}/offre"


def _offered(db) -> set[int]:
    return set(db.scalars(select(VisitOfferAide.aide_id).where(VisitOfferAide.offer_id == OFFER)))


def test_the_first_aide_to_accept_gets_it_the_second_sees_it_taken(login, db):
    aide1, aide2 = accounts.find_user(db, "aide1"), accounts.find_user(db, "aide2")
    assert {aide1.id, aide2.id} <= _offered(db)
    first, second = login("aide1"), login("aide2")
    page = first.get(DAY).get_data(as_text=True)
    assert f'data-offer="{OFFER}"' in page and "Visits offered" in page
    assert 'data-offline-op="homecare.visit.accept_offer"' in page
    assert second.get(DAY).get_data(as_text=True).count(f'data-offer="{OFFER}"') == 1
    form = {"op_id": str(uuid.uuid4()), "offer_id": str(OFFER)}
    won = first.post(f"{DAY}/offres/{OFFER}/accepter", form)
    again = first.post(f"{DAY}/offres/{OFFER}/accepter", form)  # a double tap
    lost = second.post(f"{DAY}/offres/{OFFER}/accepter", {"op_id": str(uuid.uuid4())})
    assert won.status_code == again.status_code == lost.status_code == 302
    assert "The visit is yours" in first.get(DAY).get_data(as_text=True)
    shown = second.get(DAY).get_data(as_text=True)
    assert "Another aide already took this visit" in shown
    assert f'data-offer="{OFFER}"' not in shown
    db.expire_all()
    assert db.get(Visit, OFFER_VISIT).aide_id == aide1.id
    # Through the API the loser gets a defined rejection code, with its sentence.
    answer = second.client.post(
        "/api/sync",
        json={
            "ops": [
                {
                    "id": str(uuid.uuid4()),
                    "type": "homecare.visit.accept_offer",
                    "data": {"offer_id": str(OFFER)},
                }
            ]
        },
        headers={"X-CSRFToken": second.token},
    ).get_json()["results"][0]
    assert answer["status"] == "rejected"
    assert answer["errors"]["offer_id"]["code"] == "offer_taken"
    assert "already took" in answer["errors"]["offer_id"]["message"]
    # Her feed now holds the visit, with its household.
    changes = first.client.get("/api/sync").get_json()["changes"]
    assert str(OFFER_VISIT) in {c["id"] for c in changes if c["type"] == "homecare.visit"}


def test_an_aide_not_offered_it_and_other_roles_are_refused(login, db):
    aide3 = accounts.find_user(db, "aide3")  # no personal care: not offered
    assert aide3.id not in _offered(db)
    browser = login("aide3")
    assert f'data-offer="{OFFER}"' not in browser.get(DAY).get_data(as_text=True)
    refused = browser.post(f"{DAY}/offres/{OFFER}/accepter", {"op_id": str(uuid.uuid4())})
    assert refused.status_code == 302
    assert "This offer is not one made to you" in browser.get(DAY).get_data(as_text=True)
    assert browser.get(_offer_page()).status_code in (403, 404)
    for username in ("rue1", "coordination"):
        other = login(username)
        response = other.post(f"{DAY}/offres/{OFFER}/accepter", {"op_id": str(uuid.uuid4())})
        assert response.status_code in (403, 404)
        assert other.get(SHEET).status_code in (403, 404)
    assert login("rue1").get(_offer_page()).status_code in (403, 404)
    db.expire_all()
    assert db.get(VisitOffer, OFFER).status == "open"


def _board_card(browser, db) -> str:
    """The offered visit's card on the planning board's week."""
    day = db.get(Visit, OFFER_VISIT).day
    html = browser.get(f"/aide-a-domicile/planning?week={day.isoformat()}").get_data(as_text=True)
    start = html.index(f'data-visit="{OFFER_VISIT}"')
    return html[start : html.index("</a>", start)]


def test_the_coordinator_withdraws_and_offers_again(login, db):
    browser = login("coordination")
    # The board's week marks the visit on offer without opening it.
    card = _board_card(browser, db)
    assert "data-offered" in card and "On offer to the aides" in card
    page = browser.get(_offer_page())
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-offer-problem="offer_already_open"' in html
    withdrawn = browser.post(
        f"/aide-a-domicile/planning/offres/{OFFER}/retirer", {"visit_id": str(OFFER_VISIT)}
    )
    assert withdrawn.status_code == 302
    again = browser.post(
        f"/aide-a-domicile/planning/offres/{OFFER}/retirer", {"visit_id": str(OFFER_VISIT)}
    )
    assert again.status_code == 302  # a clear message, not an error page
    html = browser.get(_offer_page()).get_data(as_text=True)
    assert "This visit is no longer offered" in html
    assert "data-offered" not in _board_card(browser, db)
    assert "data-candidate=" in html and "min of travel" in html
    nobody = browser.post(_offer_page(), {})
    assert nobody.status_code == 422 and "Tick at least one aide." in nobody.get_data(as_text=True)
    bad = browser.post(_offer_page(), {"aide_ids": ["x"]})
    assert bad.status_code == 422
    aide2 = accounts.find_user(db, "aide2")
    made = browser.post(_offer_page(), {"aide_ids": [str(aide2.id)]})
    assert made.status_code == 302
    db.expire_all()
    offers = db.scalars(select(VisitOffer).where(VisitOffer.visit_id == OFFER_VISIT)).all()
    assert sorted(o.status for o in offers) == ["open", "withdrawn"]
    assert "data-offered" in _board_card(browser, db)
    assert browser.get(_offer_page(uuid.uuid4())).status_code == 404
    unknown = browser.post(f"/aide-a-domicile/planning/offres/{uuid.uuid4()}/retirer", {})
    assert unknown.status_code == 404
    # The board's change form links to the offer page.
    change = browser.get(f"/aide-a-domicile/planning/visits/{OFFER_VISIT}")
    assert "data-offer-link" in change.get_data(as_text=True)


def _last_month() -> str:
    first = clock.to_local(clock.now()).date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1).isoformat()


def _give_done(db, username: str, day: date) -> None:
    """A demo visit done by `username` on `day`, 10:00-11:00 (when the demo has none)."""
    visit = db.scalars(select(Visit).order_by(Visit.id)).first()
    start = local_moment(day, time(10))
    visit.aide_id, visit.day, visit.status = accounts.find_user(db, username).id, day, "done"
    visit.earliest_start = visit.latest_start = visit.planned_start = start
    visit.actual_start, visit.actual_end, visit.km = start, start + timedelta(hours=1), 2.0
    visit.validation = "coordinator"  # only validated visits count (homecare/hours.py)
    db.commit()


def test_the_aide_signs_her_month_and_payroll_shows_it(login, db):
    day = _last_month()
    aide = login("aide2")
    page = aide.get(f"{SHEET}?period=month&day={day}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-sheet-state="unsigned"' in html
    if "data-sheet-line=" not in html:  # the demo's done visits start with the year
        _give_done(db, "aide2", date.fromisoformat(day) + timedelta(days=9))
        html = aide.get(f"{SHEET}?period=month&day={day}").get_data(as_text=True)
    assert "data-sheet-line=" in html
    digest = html.split('name="lines_hash" value="')[1].split('"')[0]
    form = {"period": "month", "day": day, "lines_hash": digest}
    wrong = aide.post(f"{SHEET}/signer", {**form, "password": "not-her-password"})
    assert wrong.status_code == 422
    assert "This is not your password" in wrong.get_data(as_text=True)
    bad = aide.post(f"{SHEET}/signer", {**form, "period": "year", "password": DEMO_PASSWORD})
    assert bad.status_code == 422  # shown again, nothing signed
    signed = aide.post(f"{SHEET}/signer", {**form, "password": DEMO_PASSWORD})
    assert signed.status_code == 302
    assert 'data-sheet-state="signed"' in aide.get(f"{SHEET}?period=month&day={day}").get_data(
        as_text=True
    )
    aide2 = accounts.find_user(db, "aide2")
    assert db.scalar(select(Timesheet.aide_id).where(Timesheet.aide_id == aide2.id)) == aide2.id
    coordinator = login("coordination")
    month = day[:7]
    listing = coordinator.get(f"/aide-a-domicile/heures/feuilles?month={month}")
    assert listing.status_code == 200
    assert f'data-aide="{aide2.id}" data-state="signed"' in listing.get_data(as_text=True)
    payroll = coordinator.get(f"/aide-a-domicile/heures/paie.csv?month={month}")
    rows = list(csv.reader(io.StringIO(payroll.get_data(as_text=True).lstrip("\ufeff"))))
    column = rows[0].index("Timesheet")
    states = {row[1]: row[column] for row in rows[1:]}
    assert states[aide2.display_name] == "Signed"
    assert "Not signed" in states.values() or len(states) == 1
    # Nobody else reads the list; the aide's page is hers only.
    assert login("aide1").get(f"/aide-a-domicile/heures/feuilles?month={month}").status_code in (
        403,
        404,
    )
