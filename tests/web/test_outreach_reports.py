"""Street indicators (/outreach/indicateurs): who sees which team, the figures equal
outreach.indicators' for the demo data, the downloads parse back and match, bad input is
answered 422. Users are switched to English so the assertions read the msgids."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl
import pytest

from core import accounts, clock, organisations
from core.accounts import Team
from outreach import indicators
from outreach.demo import demo_id
from outreach.models import Encounter
from tests.conftest import Browser, log_in_directly
from tests.support import text_of

URL = "/outreach/indicateurs"


def street_team(db) -> Team:
    team = accounts.get_team(db, "bxl-rue-nord")
    assert team is not None
    return team


def other_street_team(db) -> Team:
    team = Team(
        code="rue-charleroi",
        name="Équipe de rue Charleroi",
        kind="street",
        city="X",
        cpas_id=organisations.get_cpas(db, "charleroi").id,
    )
    db.add(team)
    db.flush()
    return team


def demo_month(db) -> date:
    """The Brussels month of the demo's latest encounter (whatever day the suite runs)."""
    encounter = db.get(Encounter, demo_id("e4"))
    return clock.to_local(encounter.occurred_at).date().replace(day=1)


def figures_on(page: str) -> dict[str, str]:
    return dict(re.findall(r'<dd data-figure="([a-z_]+)">([^<]*)</dd>', page))


def as_number(text: str) -> float | None:
    return None if text == "—" else float(text.replace(",", ""))


@pytest.mark.parametrize("username", ["aide1", "accueil", "as1"])
def test_other_roles_are_refused(login, username):
    browser = login(username)
    for path in (URL, f"{URL}.csv", f"{URL}.xlsx"):
        assert browser.get(path).status_code == 403, (username, path)


def test_anonymous_visitors_go_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_a_street_educator_sees_their_team_only(login, db):
    other = other_street_team(db)
    browser = login("rue1")
    page = text_of(browser.get(URL))
    assert "Équipe de rue Bruxelles-Nord" in page
    assert 'id="f-team"' not in page  # one team: no picker
    assert "Charleroi" not in page
    for path in (URL, f"{URL}.csv", f"{URL}.xlsx"):
        assert browser.get(f"{path}?team={other.code}").status_code == 403
    # A code that is no street team: a field error, not a 500.
    response = browser.get(f"{URL}?team=bxl-saf")
    assert response.status_code == 422
    assert "Choose from the list." in text_of(response)


def test_a_coordinator_sees_their_street_team_only(login, db):
    other = other_street_team(db)
    page = text_of(login("coordination").get(URL))  # coordinator of a home-care service
    assert "Your team is not a street team" in page
    assert "data-figure" not in page
    coordinator = accounts.find_user(db, "coordination")
    coordinator.team_id = street_team(db).id
    db.flush()
    browser = login("coordination")
    page = text_of(browser.get(URL))
    assert "Équipe de rue Bruxelles-Nord" in page and "data-figure" in page
    assert browser.get(f"{URL}?team={other.code}").status_code == 403


def test_an_admin_picks_any_street_team(login, db):
    other = other_street_team(db)
    browser = login("admin")
    page = text_of(browser.get(URL))
    assert 'id="f-team"' in page
    assert f'value="{other.code}"' in page and 'value="bxl-rue-nord"' in page
    assert 'value="bxl-saf"' not in page  # not a street team
    page = text_of(browser.get(f"{URL}?team={other.code}"))
    assert figures_on(page)["contacts"] == "0"


def test_the_figures_are_those_of_outreach_indicators(login, db):
    month = demo_month(db)
    team = street_team(db)
    expected = indicators.monthly(db, team.id, month)
    assert expected.contacts > 0, "the demo has encounters in that month"
    response = login("rue1").get(f"{URL}?month={month:%Y-%m}")
    assert response.status_code == 200
    page = text_of(response)
    shown = figures_on(page)
    assert int(shown["contacts"]) == expected.contacts
    assert int(shown["distinct_people"]) == expected.distinct_people
    assert int(shown["new_people"]) == expected.new_people
    assert int(shown["maraudes"]) == expected.maraudes
    assert as_number(shown["hours_out"]) == expected.hours_out
    assert int(shown["referrals_made"]) == expected.referrals_made
    assert int(shown["referrals_completed"]) == expected.referrals_completed
    assert as_number(shown["median_days"]) == expected.median_days_to_first_referral
    assert int(shown["homeless"]) == indicators.homeless_people(db, team.id, month)
    # Charts, each with its table; no person named anywhere.
    assert page.count('role="img"') == 5
    assert page.count("<table>") == 5
    for key in ("contacts", "needs", "ethos", "ages", "referrals"):
        assert f'id="chart-{key}"' in page and f'id="{key}-figures"' in page
    assert "Momo" not in page and "La grande" not in page
    # The need and the age band raised in the demo appear with their labels and counts.
    assert "Shelter for the night" in page and "18–25" in page


def test_downloads_hold_the_twelve_months(login, db):
    month = demo_month(db)
    team = street_team(db)
    index = month.year * 12 + month.month - 1 - 11
    first = date(index // 12, index % 12 + 1, 1)
    series = indicators.months(db, team.id, first, month)
    browser = login("rue1")

    response = browser.get(f"{URL}.csv?month={month:%Y-%m}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert f"terrain-rue-bxl-rue-nord-{first:%Y-%m}-{month:%Y-%m}.csv" in disposition
    body = text_of(response)
    assert "Momo" not in body and "Gare du Nord" not in body
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    header = rows[0]
    assert len(rows) == 13  # the header and 12 months
    assert "Requests: Shelter for the night" in header
    assert "Age band: 18–25" in header
    assert "ETHOS: Living rough (public space, no shelter)" in header
    for line, expected in zip(rows[1:], series, strict=True):
        cells = dict(zip(header, line, strict=True))
        assert cells["Month"] == f"{expected.month:%Y-%m}"
        assert int(cells["Contacts"]) == expected.contacts
        assert int(cells["Distinct people"]) == expected.distinct_people
        assert int(cells["Requests: Shelter for the night"]) == expected.requests["shelter"]
        assert int(cells["Age band: 18–25"]) == expected.age_bands["18_25"]
        ethos_1 = int(cells["ETHOS: Living rough (public space, no shelter)"])
        assert ethos_1 == expected.ethos.get("ethos_1", 0)

    response = browser.get(f"{URL}.xlsx?month={month:%Y-%m}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == header
    last = dict(zip(header, values[-1], strict=True))
    assert last["Contacts"] == series[-1].contacts  # typed numbers, not text
    assert last["Hours out"] == series[-1].hours_out
    assert last["Referrals made"] == series[-1].referrals_made


@pytest.mark.parametrize(
    "query",
    ["month=2026-13", "month=tomorrow", "month=2999-01", "month=0001-01", "team=nope"],
)
def test_bad_filters_are_answered_422(login, query):
    browser = login("rue1")
    response = browser.get(f"{URL}?{query}")
    assert response.status_code == 422, query
    assert 'aria-invalid="true"' in text_of(response)
    assert browser.get(f"{URL}.csv?{query}").status_code == 422


def test_the_street_page_and_the_outreach_tabs_link_here(app, login):
    assert f'href="{URL}"' in text_of(login("rue1").get("/outreach/"))
    with app.test_request_context():
        from flask import url_for

        people, partners = url_for("outreach_files.people"), url_for("outreach_admin.partners")
    # Coordinators and admins: a tab of the outreach section (reached from the menu).
    for username, path in (("coordination", people), ("admin", partners)):
        browser = login(username)
        assert f'href="{path}"' in text_of(browser.get("/")), username
        assert f'href="{URL}"' in text_of(browser.get(path)), username
    page = text_of(login("admin").get(URL))
    assert f'<a href="{URL}" aria-current="page">' in page


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_the_page_in_french_and_dutch(app, db, language):
    user = accounts.find_user(db, "admin")
    user.language = language
    db.flush()
    browser = Browser(app.test_client())
    log_in_directly(browser.client, db, "admin")
    response = browser.get(URL)
    assert response.status_code == 200
    assert text_of(response).count('role="img"') == 5
    assert browser.get(f"{URL}.xlsx").status_code == 200
