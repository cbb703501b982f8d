"""The coordinator's live day (/aide-a-domicile/aujourdhui) and review queue
(/aide-a-domicile/a-verifier): the page and its polling fragment, the late SMS sent once,
accept / correct / reject (with the stale form's 409), the billing export counting only
validated visits, and who may open what (an aide, another team's or CPAS's coordinator:
403 or 404)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from core import accounts, clock, organisations, sync
from core.accounts import Team
from core.roles import Role
from homecare import live, reports
from homecare.calendar import local_moment
from homecare.models import Beneficiary, ProofRule, Visit, VisitReport
from notifications import services as notify
from notifications.models import Message
from tests.conftest import Browser, log_in_directly
from tests.support import staff_member

LIVE = "/aide-a-domicile/aujourdhui"
QUEUE = "/aide-a-domicile/a-verifier"


def _today():
    return clock.to_local(clock.now()).date()


def _visit_today(db, *, starts_ago: int = 20, consent: bool = True) -> Visit:
    """A demo visit moved to today, started `starts_ago` minutes ago, given to aide1; its
    household with a mobile and (or not) its consent to service SMS."""
    today = _today()
    visit = db.scalars(
        select(Visit)
        .where(Visit.status == "planned", Visit.aide_id.is_(None))
        .order_by(Visit.day.desc(), Visit.id)
    ).first()
    assert visit is not None
    aide = accounts.find_user(db, "aide1")
    start = clock.now() - timedelta(minutes=starts_ago)
    visit.aide_id, visit.day = aide.id, clock.to_local(start).date()
    visit.earliest_start = visit.latest_start = visit.planned_start = start
    visit.duration_minutes = 60
    sync.stamp(db, visit, sync.team_scope(visit.team_id), aide, None)
    household = db.get(Beneficiary, visit.beneficiary_id)
    assert household is not None
    household.emergency_name, household.emergency_phone = "Fils: Karim", "0475 99 88 77"
    contact = (
        notify.get_contact(db, household.contact_id) if household.contact_id else None
    ) or notify.create_contact(
        db,
        actor=None,
        display_name=household.name,
        language="nl",
        phones=["0470 11 22 33"],
        reference=f"homecare.beneficiary:{household.id}",
    )
    contact.language = "nl"
    household.contact_id = contact.id
    if consent:
        notify.set_consent(
            db, contact, category="service_change", granted=True, method="form", actor=None
        )
    db.flush()
    assert visit.day == today or starts_ago > 0
    return visit


def test_the_page_shows_a_late_visit_and_refreshes_itself(login, db):
    visit = _visit_today(db)
    browser = login("coordination")
    page = browser.get(LIVE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-visit="{visit.id}" data-state="late"' in html
    assert 'hx-trigger="every 30s, hc-live-refresh"' in html and "data-hc-live" in html
    assert "<html" in html
    fragment = browser.get(LIVE, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith("{#") is False
    assert "<html" not in fragment and 'id="hc-live"' in fragment
    assert f'data-visit="{visit.id}" data-state="late"' in fragment
    # The menu has it.
    assert 'href="/aide-a-domicile/aujourdhui"' in html


def test_the_late_sms_is_sent_once(login, db):
    visit = _visit_today(db)
    browser = login("coordination")
    browser.get(LIVE)
    first = browser.post(f"{LIVE}/visites/{visit.id}/retard", {})
    second = browser.post(f"{LIVE}/visites/{visit.id}/retard", {})
    assert first.status_code == second.status_code == 302
    messages = list(db.scalars(select(Message).where(Message.key == live.late_key(visit.id))))
    assert len(messages) == 1 and messages[0].language == "nl"
    page = browser.get(LIVE).get_data(as_text=True)
    assert "already told" in page or "data-late-sms" in page
    assert "data-late-sms" in page


def test_no_consent_says_so_and_sends_nothing(login, db):
    visit = _visit_today(db, consent=False)
    browser = login("coordination")
    browser.get(LIVE)
    answer = browser.post(f"{LIVE}/visites/{visit.id}/retard", {})
    assert answer.status_code == 422
    assert "has not agreed to SMS" in answer.get_data(as_text=True)
    assert not db.scalar(
        select(func.count()).select_from(Message).where(Message.key == live.late_key(visit.id))
    )


def test_a_problem_shows_the_emergency_contact(login, db):
    visit = _visit_today(db, starts_ago=30)
    aide = accounts.find_user(db, "aide1")
    entry = reports.read_entry(
        "report",
        {
            "id": str(reports.report_id_for(visit.id, aide.id)),
            "visit_id": str(visit.id),
            "outcome": "nobody_answered",
        },
    )
    reports.save(db, aide, entry)
    db.flush()
    html = login("coordination").get(LIVE).get_data(as_text=True)
    assert f'data-visit="{visit.id}" data-state="problem"' in html
    assert "Fils: Karim" in html and "tel:0475 99 88 77" in html


def _unverified(db) -> tuple[Visit, VisitReport]:
    """A visit of yesterday whose report could not be verified (GPS asked, none)."""
    visit = _visit_today(db, starts_ago=24 * 60)
    db.merge(ProofRule(team_id=visit.team_id, service="family_aide", mode="gps", radius_m=150))
    db.merge(ProofRule(team_id=visit.team_id, service="home_help", mode="gps", radius_m=150))
    db.merge(ProofRule(team_id=visit.team_id, service="day_care", mode="gps", radius_m=150))
    db.merge(ProofRule(team_id=visit.team_id, service="night_care", mode="gps", radius_m=150))
    db.flush()
    aide = accounts.find_user(db, "aide1")
    start = clock.as_utc(visit.planned_start)
    entry = reports.read_entry(
        "report",
        {
            "id": str(uuid.uuid4()),
            "visit_id": str(visit.id),
            "arrived_at": (start + timedelta(minutes=5)).isoformat(),
            "left_at": (start + timedelta(minutes=65)).isoformat(),
            "unverified_reason": "no_signal",
        },
    )
    report = reports.save(db, aide, entry)
    db.flush()
    assert not report.verified
    return visit, report


def _visits_billed(db, browser: Browser, visit: Visit) -> int:
    household = db.get(Beneficiary, visit.beneficiary_id)
    answer = browser.get(f"/aide-a-domicile/heures/facturation.csv?month={visit.day:%Y-%m}")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    # The visits column by its name (FR "Visites", NL "Bezoeken", EN "Visits"): other
    # columns (meals delivered…) may follow it.
    column = next(
        i for i, name in enumerate(rows[0]) if name.lower() in ("visites", "bezoeken", "visits")
    )
    # The demo has two households of one name: the visits billed under that name.
    return sum(int(row[column]) for row in rows[1:] if len(row) > 1 and row[1] == household.name)


def test_accept_counts_the_visit_and_a_stale_form_is_a_409(login, db):
    visit, report = _unverified(db)
    browser = login("coordination")
    billed = _visits_billed(db, browser, visit)
    queue = browser.get(QUEUE).get_data(as_text=True)
    assert f'data-report="{report.id}"' in queue
    form = browser.get(f"{QUEUE}/{report.id}")
    assert form.status_code == 200
    stale = browser.post(
        f"{QUEUE}/{report.id}", {"version": report.version - 1, "decision": "accepted"}
    )
    assert stale.status_code == 409
    assert 'data-alert="conflict"' in stale.get_data(as_text=True)
    done = browser.post(f"{QUEUE}/{report.id}", {"version": report.version, "decision": "accepted"})
    assert done.status_code == 302
    db.refresh(visit)
    assert (visit.status, visit.validation) == ("done", "review")
    assert _visits_billed(db, browser, visit) == billed + 1
    assert f'data-report="{report.id}"' not in browser.get(QUEUE).get_data(as_text=True)


def test_correct_with_bad_times_then_good_ones_and_reject_needs_a_reason(login, db):
    visit, report = _unverified(db)
    browser = login("coordination")
    day = clock.to_local(visit.planned_start).date().isoformat()
    bad = browser.post(
        f"{QUEUE}/{report.id}",
        {"version": report.version, "decision": "corrected", "day": day, "start": "25:00"},
    )
    assert bad.status_code == 422
    db.refresh(visit)
    assert visit.status == "planned"
    no_reason = browser.post(
        f"{QUEUE}/{report.id}", {"version": report.version, "decision": "rejected"}
    )
    assert no_reason.status_code == 422
    rejected = browser.post(
        f"{QUEUE}/{report.id}",
        {"version": report.version, "decision": "rejected", "reason": "Pas venue"},
    )
    assert rejected.status_code == 302
    db.refresh(report)
    db.refresh(visit)
    assert (report.review, report.review_reason, visit.status) == (
        "rejected",
        "Pas venue",
        "planned",
    )


def test_correcting_the_times(login, db):
    visit, report = _unverified(db)
    browser = login("coordination")
    start = clock.to_local(visit.planned_start)
    answer = browser.post(
        f"{QUEUE}/{report.id}",
        {
            "version": report.version,
            "decision": "corrected",
            "day": start.date().isoformat(),
            "start": f"{start:%H:%M}",
            "end": f"{start + timedelta(minutes=45):%H:%M}",
        },
    )
    assert answer.status_code == 302
    db.refresh(visit)
    assert visit.validation == "review"
    assert (visit.actual_end - visit.actual_start) == timedelta(minutes=45)


@pytest.mark.parametrize("username", ["aide1", "accueil", "as1", "rue1", "admin"])
def test_other_roles_are_refused(login, db, username):
    browser = login(username)
    for path in (LIVE, QUEUE):
        assert browser.get(path).status_code == 403, (username, path)


@pytest.mark.parametrize("cpas", ["bruxelles", "charleroi"])
def test_another_teams_coordinator_finds_nothing(app, db, cpas):
    visit, report = _unverified(db)
    late = _visit_today(db)
    team = Team(
        code=f"hc-live-{cpas}",
        name="SAF ailleurs",
        kind="home_care",
        city="Ailleurs",
        cpas_id=organisations.get_cpas(db, cpas).id,
    )
    db.add(team)
    db.flush()
    staff_member(db, f"coord-live-{cpas}", Role.COORDINATOR, team.code, "Coord")
    browser = Browser(app.test_client())
    log_in_directly(browser.client, db, f"coord-live-{cpas}")
    page = browser.get(LIVE)
    assert page.status_code == 200
    assert str(late.id) not in page.get_data(as_text=True)
    assert str(report.id) not in browser.get(QUEUE).get_data(as_text=True)
    assert browser.get(f"{QUEUE}/{report.id}").status_code == 404
    assert (
        browser.post(
            f"{QUEUE}/{report.id}", {"version": report.version, "decision": "accepted"}
        ).status_code
        == 404
    )
    assert browser.post(f"{LIVE}/visites/{late.id}/retard", {}).status_code == 404
    assert browser.post(f"{LIVE}/visites/{uuid.uuid4()}/retard", {}).status_code == 404
    db.refresh(visit)
    assert visit.status == "planned"
    assert not db.scalar(
        select(func.count()).select_from(Message).where(Message.key == live.late_key(late.id))
    )


def test_french_and_dutch(db, app):
    _visit_today(db)
    for language, word in (("fr", "Aujourd"), ("nl", "Vandaag")):
        user = accounts.find_user(db, "coordination")
        user.language = language
        db.flush()
        browser = Browser(app.test_client())
        log_in_directly(browser.client, db, "coordination")
        assert word in browser.get(LIVE).get_data(as_text=True), language


def test_the_late_evening(login, db):
    """At 22:10 Brussels a 21:45 visit not started is late (frozen clock)."""
    evening = local_moment(_today(), time(22, 10))
    with clock.frozen(evening):
        visit = _visit_today(db, starts_ago=25)
        html = login("coordination").get(LIVE).get_data(as_text=True)
    assert f'data-visit="{visit.id}" data-state="late"' in html
