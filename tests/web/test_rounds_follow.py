"""Dated rounds following their template through the pages (issue 19): the template's
page says how many dated rounds followed a stop added, changed or removed, and lists the
booked appointments its place's new hours leave out; the dated round's expected times
poll alone (a fragment without the forms); a restored stop reopens its place; the links
page lists (when, never who) the appointments a new link strands. Another
mobile team's coordinator, another CPAS's, the crew and a home aide are refused like an
unknown page; public pages and the API description show none of it. The clock is
frozen."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from appointments.models import Closure
from core import clock
from rounds import services
from rounds.models import RoundStop, Stop
from tests.db.rounds_live_world import _place
from tests.support import text_of
from tests.web.rounds_world import _three_weeks, coord, frozen, outsiders

__all__ = ["coord", "frozen", "outsiders"]  # the fixtures, from tests/web/rounds_world.py


def _flashes(browser, template_id) -> str:
    return text_of(browser.get(f"/tournees/modeles/{template_id}"))


def test_the_template_page_says_how_many_rounds_follow(frozen, login, db, coord, outsiders):
    rounds, (first, second) = _three_weeks(db, coord)
    template_id = first.template_id
    browser = login("mobile-coord")
    add = {"stop_id": str(first.stop_id), "starts": "12:30", "ends": "13:00", "topic": "jobs"}
    for outsider in outsiders:
        response = login(outsider).post(f"/tournees/modeles/{template_id}/arrets", data=add)
        assert response.status_code in (403, 404), outsider
    assert all(len(services.round_stops(db, r.id)) == 2 for r in rounds)
    response = browser.post(f"/tournees/modeles/{template_id}/arrets", data=add)
    assert response.status_code == 302
    page = _flashes(browser, template_id)
    assert "Stop added to the round." in page
    assert "3 dated rounds not started yet follow the change." in page
    assert all(len(services.round_stops(db, r.id)) == 3 for r in rounds)
    # Changed in place: the rounds take the new hours.
    change = {"stop_id": str(second.stop_id), "starts": "11:15", "ends": "12:15"}
    response = browser.post(
        f"/tournees/permanences/{second.id}",
        data=change | {"topic": "social", "version": str(second.version)},
    )
    assert response.status_code == 302
    assert "3 dated rounds not started yet follow the change." in _flashes(browser, template_id)
    for dated in rounds:
        arrivals = [s.planned_arrival for s in services.round_stops(db, dated.id)]
        assert arrivals == [time(9), time(11, 15), time(12, 30)]
    # Removed: out of the rounds, refused to outsiders.
    for outsider in outsiders:
        response = login(outsider).post(f"/tournees/permanences/{first.id}/retirer")
        assert response.status_code in (403, 404), outsider
    response = browser.post(f"/tournees/permanences/{first.id}/retirer")
    assert response.status_code == 302
    page = _flashes(browser, template_id)
    assert "Stop removed from the round." in page
    assert "3 dated rounds not started yet follow the change." in page
    for dated in rounds:
        assert [s.planned_arrival for s in services.round_stops(db, dated.id)] == [
            time(11, 15),
            time(12, 30),
        ]


def test_appointments_the_new_hours_leave_out_are_listed(frozen, login, db, coord):
    from tests.db.appointments_world import Agenda

    _rounds, (_first, second) = _three_weeks(db, coord)
    agenda = Agenda(db)
    agenda.location.kind, agenda.location.team_id = "mobile_stop", coord.team_id
    db.flush()
    services.link_place(
        db, coord, coord.team_id, {"stop_id": str(second.stop_id), "location": agenda.location.code}
    )
    at = datetime.combine(date(2031, 5, 13), time(11, 0), tzinfo=clock.BRUSSELS)
    agenda.book(clock.as_utc(at))
    db.commit()
    browser = login("mobile-coord")
    change = {"stop_id": str(second.stop_id), "starts": "11:30", "ends": "12:30"}
    response = browser.post(
        f"/tournees/permanences/{second.id}",
        data=change | {"topic": "social", "version": str(second.version)},
    )
    assert response.status_code == 302
    page = _flashes(browser, second.template_id)
    assert "1 booked appointment no longer fits the stop&#39;s hours: 13/05/2031 11:00." in page
    assert "Move it or call the person from the reception desk." in page


def test_the_round_s_expected_times_poll_alone(frozen, login, client, db, coord, outsiders):
    rounds, _permanences = _three_weeks(db, coord)
    dated = rounds[0]
    browser = login("mobile-coord")
    page = text_of(browser.get(f"/tournees/dates/{dated.id}"))
    assert 'id="round-etas"' in page and "data-rounds-live" in page
    assert f'hx-get="/tournees/dates/{dated.id}/heures"' in page
    assert "Skip or move this stop" in page
    fragment = browser.client.get(
        f"/tournees/dates/{dated.id}/heures", headers={"HX-Request": "true"}
    )
    body = text_of(fragment)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'id="round-etas"' in body and "<form" not in body
    assert "expected at 09:00" in body
    for outsider in outsiders:
        response = login(outsider).get(f"/tournees/dates/{dated.id}/heures")
        assert response.status_code in (403, 404), outsider
    anonymous = client.get(f"/tournees/dates/{dated.id}/heures")
    assert anonymous.status_code in (302, 401, 404) and "round-etas" not in text_of(anonymous)
    unknown = f"/tournees/dates/{uuid.uuid4()}/heures"
    assert browser.get(unknown).status_code == 404


def test_a_restored_stop_reopens_its_place_and_nothing_leaks(frozen, login, client, db, coord):
    rounds, (first, _second) = _three_weeks(db, coord)
    dated = rounds[1]
    location = _place(db, coord, first.stop_id)
    db.commit()
    stop = services.round_stops(db, dated.id)[0]
    browser = login("mobile-coord")
    url = f"/tournees/dates/{dated.id}/arrets/{stop.id}"
    reason = "Travaux rue du Marché 12"
    assert browser.post(f"{url}/sauter", data={"reason": reason}).status_code == 302
    db.refresh(stop)
    closure_id = stop.closure_id
    assert db.get(Closure, closure_id).location_id == location.id
    response = browser.post(f"{url}/retablir", data={"version": str(stop.version)})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Closure, closure_id) is None
    assert db.get(RoundStop, stop.id).closure_id is None
    place = services.Stop
    slug = db.get(place, first.stop_id).public_slug
    public = text_of(client.get(f"/arret/{slug}"))
    assert reason not in public and "Travaux" not in public
    openapi = text_of(client.get("/api/openapi.json"))
    assert reason not in openapi and "rounds_stop_restored" not in openapi
    assert "closure_id" not in openapi and "permanence_id" not in openapi


def test_the_links_page_lists_the_appointments_a_link_strands(frozen, login, db, coord):
    from tests.db.appointments_world import Agenda

    _rounds, (_first, second) = _three_weeks(db, coord)
    agenda = Agenda(db)
    agenda.location.kind, agenda.location.team_id = "mobile_stop", coord.team_id
    db.flush()
    # Booked before the link, out of the stop's hours (Tuesdays 09:00-10:30, 11:00-12:30).
    for day, moment in ((14, time(10)), (13, time(10, 30))):
        at = datetime.combine(date(2031, 5, day), moment, tzinfo=clock.BRUSSELS)
        agenda.book(clock.as_utc(at))
    db.commit()
    browser = login("mobile-coord")
    form = {"stop_id": str(second.stop_id), "location": agenda.location.code}
    response = browser.post("/tournees/lieux/lier", data=form)
    assert response.status_code == 200
    page = text_of(response)
    assert "The stop is now its appointments place." in page
    assert "2 booked appointments no longer fit the stop's hours." in page
    assert page.index("13/05/2031 10:30") < page.index("14/05/2031 10:00")
    for day in ("2031-05-13", "2031-05-14"):  # each to the reception desk's day
        assert f"/accueil/?location={agenda.location.code}&amp;day={day}" in page
    assert "Amina Test" not in page  # when and where only, never who
    db.expire_all()
    linked = db.get(Stop, second.stop_id)
    assert linked is not None and linked.location_id == agenda.location.id  # saved
