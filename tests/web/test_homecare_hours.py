"""Home care's hours pages (/aide-a-domicile/heures, /aide-a-domicile/indicateurs): who
may open them, the demo's quota alert, a visit marked done through the form (conflict,
bad input, undo), the quota form, and the exports' content."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from core import accounts, clock, organisations
from core.accounts import Team
from core.db import make_engine
from core.roles import Role
from homecare.models import Beneficiary, Visit
from tests.conftest import Browser, log_in_directly, make_app, session_on
from tests.support import clock_template, own_database, staff_member

HOURS = "/aide-a-domicile/heures"
INDICATORS = "/aide-a-domicile/indicateurs"
PAGES = (
    HOURS,
    INDICATORS,
    f"{HOURS}/facturation.csv",
    f"{HOURS}/paie.xlsx",
    f"{INDICATORS}.csv",
)


def _done_visit(db) -> Visit:
    visit = db.scalars(
        select(Visit).where(Visit.status == "done").order_by(Visit.day.desc())
    ).first()
    assert visit is not None, "the demo marks past visits done"
    return visit


def _open_visit(db) -> Visit:
    """A past visit of the demo, with an aide, not done yet (the current week's)."""
    today = clock.to_local(clock.now()).date()
    visit = db.scalars(
        select(Visit).where(Visit.status == "planned", Visit.day < today).order_by(Visit.day)
    ).first()
    if visit is None:  # a Monday: take a done visit and put it back
        visit = _done_visit(db)
        visit.status, visit.actual_start, visit.actual_end = "planned", None, None
    if visit.aide_id is None:
        visit.aide_id = accounts.find_user(db, "aide1").id
    db.flush()
    return visit


@pytest.mark.parametrize("username", ["aide1", "accueil", "as1", "rue1", "admin"])
def test_other_roles_are_refused(login, username):
    browser = login(username)
    for path in PAGES:
        assert browser.get(path).status_code == 403, (username, path)


def test_a_coordinator_of_another_team_finds_nothing(app, db):
    team = Team(
        code="hc-elsewhere",
        name="SAF ailleurs",
        kind="home_care",
        city="Liège",
        cpas_id=organisations.get_cpas(db, "charleroi").id,
    )
    db.add(team)
    db.flush()
    staff_member(db, "coord-ailleurs", Role.COORDINATOR, team.code, "Coord")
    visit = _done_visit(db)
    browser = Browser(app.test_client())
    log_in_directly(browser.client, db, "coord-ailleurs")
    assert browser.get(f"{HOURS}/visites/{visit.id}").status_code == 404
    assert (
        browser.post(f"{HOURS}/visites/{visit.id}/annuler", {"version": visit.version}).status_code
        == 404
    )
    street = Browser(app.test_client())
    log_in_directly(street.client, db, "coordination")
    assert street.get(HOURS).status_code == 200
    coordinator_of_street = accounts.find_user(db, "coordination")
    coordinator_of_street.team = accounts.get_team(db, "bxl-rue-nord")
    db.flush()
    assert street.get(HOURS).status_code == 404
    assert street.get(INDICATORS).status_code == 404


# A Wednesday in June: the demo seeded then has months of the year's hours behind it.
JUNE = datetime(2026, 6, 17, 10, tzinfo=clock.BRUSSELS)


def test_the_demo_shows_the_quota_alert_and_the_month(tmp_path):
    """The demo as seeded on a day in June (tests.support.clock_template), its pages at
    that clock: the year's pace projects it past the family aides' quota. Seeded in
    January, a year has no pace yet (no complete month): no alert to show then."""
    template, seeded = clock_template(JUNE)
    with own_database("hours-june", template=template) as url:
        engine = make_engine(url)
        try:
            with engine.connect() as connection, clock.frozen(seeded):
                db = session_on(connection)
                accounts.find_user(db, "coordination").language = "en"
                db.flush()
                browser = Browser(make_app(connection, url, tmp_path).test_client())
                log_in_directly(browser.client, db, "coordination")
                page = browser.get(HOURS).get_data(as_text=True)
                assert 'id="quota-family_aide"' in page
                assert 'data-alert="over"' in page
                assert "At this pace the year ends at" in page
                assert "<svg" in page and 'id="by-aide"' in page
                page = browser.get(INDICATORS).get_data(as_text=True)
                assert 'id="chart-hours"' in page and 'data-figure="travel_share"' in page
                assert browser.get(f"{HOURS}?month=2026-13").status_code == 422
        finally:
            engine.dispose()


def test_french_and_dutch_pages(db, app):
    for username, language, words in (
        ("coordination", "fr", ("Heures", "Contingent", "Facturation")),
        ("coordination", "nl", ("Uren", "Contingent", "Facturatie")),
    ):
        user = accounts.find_user(db, username)
        user.language = language
        db.flush()
        browser = Browser(app.test_client())
        log_in_directly(browser.client, db, username)
        page = browser.get(HOURS).get_data(as_text=True)
        for word in words:
            assert word in page, (language, word)


def _form(visit: Visit, **changes) -> dict[str, object]:
    start = clock.to_local(visit.earliest_start)
    end = start + timedelta(minutes=visit.duration_minutes)
    form = {
        "version": visit.version,
        "day": start.date().isoformat(),
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
        "km": "2,5",
    }
    form.update(changes)
    return form


def test_mark_done_conflict_bad_input_and_undo_through_the_pages(login, db):
    browser = login("coordination")
    visit = _open_visit(db)
    url = f"{HOURS}/visites/{visit.id}"
    page = browser.get(url)
    assert page.status_code == 200 and "Mark done" in page.get_data(as_text=True)
    bad = browser.post(f"{url}/effectuee", _form(visit, start="25:00"))
    assert bad.status_code == 422
    assert "Give a time like 21:00." in bad.get_data(as_text=True)
    db.refresh(visit)
    assert visit.status == "planned"
    old = visit.version
    done = browser.post(f"{url}/effectuee", _form(visit))
    assert done.status_code == 302
    db.refresh(visit)
    assert visit.status == "done" and visit.km == 2.5
    stale = browser.post(f"{url}/effectuee", _form(visit, version=old, end="23:59"))
    assert stale.status_code == 409
    assert "Someone else changed this visit meanwhile" in stale.get_data(as_text=True)
    assert browser.post(f"{url}/annuler", {"version": old}).status_code == 409
    db.refresh(visit)
    assert visit.status == "done"
    assert browser.post(f"{url}/annuler", {"version": visit.version}).status_code == 302
    db.refresh(visit)
    assert visit.status == "planned"


def test_the_quota_form(login):
    browser = login("coordination")
    bad = browser.post(f"{HOURS}/quota", {"year": "20x6", "service": "family_aide", "hours": "-3"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Give a year like 2026." in text
    assert "Give the hours as a whole number between 0 and 1,000,000." in text
    year = clock.to_local(clock.now()).year
    good = browser.post(f"{HOURS}/quota", {"year": year, "service": "night_care", "hours": "12"})
    assert good.status_code == 302
    page = browser.get(HOURS).get_data(as_text=True)
    assert 'id="quota-night_care"' in page


def test_billing_and_payroll_exports(login, db):
    visit = _done_visit(db)
    db.get(Beneficiary, visit.beneficiary_id).name = '=HYPERLINK("http://x")'
    db.flush()
    month = f"{visit.day:%Y-%m}"
    browser = login("coordination")
    billing = browser.get(f"{HOURS}/facturation.csv?month={month}")
    assert billing.status_code == 200 and billing.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(billing.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "Month",
        "Household",
        "Contribution category",
        "Hours: Family aide",
        "Hours: Home help",
        "Hours: Day sitting",
        "Hours: Night sitting",
        "Hours in all",
        "Visits",
        "Meals delivered",  # from the meal rounds (rounds/hooks.py), 0 without a meal order
    ]
    names = [row[1] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    assert all(row[0] == month for row in rows[1:])
    payroll = browser.get(f"{HOURS}/paie.csv?month={month}")
    rows = list(csv.reader(io.StringIO(payroll.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Month", "Aide", "Hours"]
    assert "Night hours (22:00-6:00)" in rows[0] and rows[0][-3:] == [
        "Kilometres",
        "Visits",
        "Timesheet",
    ]
    assert len(rows) > 1
    workbook = openpyxl.load_workbook(
        io.BytesIO(browser.get(f"{HOURS}/paie.xlsx?month={month}").data)
    )
    sheet = workbook.active
    assert sheet.cell(1, 2).value == "Aide"
    assert isinstance(sheet.cell(2, 3).value, int | float)
    assert browser.get(f"{INDICATORS}.xlsx?month={month}").status_code == 200
