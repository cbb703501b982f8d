"""A round template's own change reaching its dated rounds, through the pages (issue 19):
the template's page saves new hours (the rounds not started follow, the others listed),
refuses hours over another round naming it (nothing saved), answers a stale form 409,
moves the round to another weekday (the old days cancelled with the reason, the new made,
the crew's page and feed without the cancelled round). Another mobile team's coordinator,
another CPAS's, the crew and a home aide are refused like an unknown page. The clock is
frozen."""

from __future__ import annotations

from datetime import date, time

from core import accounts, clock
from rounds import live, live_sync
from rounds.models import Round, RoundTemplate
from tests.db.rounds_live_world import _form, _rounds
from tests.support import text_of
from tests.web.rounds_world import _three_weeks, coord, frozen, outsiders

__all__ = ["coord", "frozen", "outsiders"]


def test_new_hours_reach_the_dated_rounds_through_the_page(frozen, login, db, coord, outsiders):
    rounds, _permanences = _three_weeks(db, coord)
    template_id = rounds[0].template_id
    url = f"/tournees/modeles/{template_id}"
    rounds[0].status = "started"  # the first one has started: left alone, listed
    db.commit()
    for outsider in outsiders:
        browser = login(outsider)
        assert browser.get(url).status_code in (403, 404), outsider
        response = browser.post(url, data=_form(db, template_id, starts="08:00"))
        assert response.status_code in (403, 404), outsider
    assert all(r.starts == time(9) for r in _rounds(db, template_id))
    browser = login("mobile-coord")
    page = text_of(browser.get(url))
    assert "Reason for the rounds this cancels (optional)" in page
    stale = _form(db, template_id, starts="08:00")
    response = browser.post(url, data=_form(db, template_id, starts="08:00"))
    assert response.status_code == 302
    page = text_of(browser.get(url))
    assert "Round template saved." in page
    assert "2 dated rounds not started yet follow the change." in page
    assert "Left as they are: 06/05/2031 Minibus test (it has started)." in page
    assert [r.starts for r in _rounds(db, template_id)] == [time(9), time(8), time(8)]
    # A form from before that change: 409, the template shown as it is now.
    response = browser.post(url, data=stale | {"ends": "14:00"})
    assert response.status_code == 409
    assert "Someone changed this round template while you were editing it" in text_of(response)
    assert 'value="08:00"' in response.get_data(as_text=True)
    assert all(r.ends == time(13) for r in _rounds(db, template_id))


def test_hours_over_another_round_are_refused_naming_it(frozen, login, db, coord):
    rounds, _permanences = _three_weeks(db, coord)
    template_id = rounds[0].template_id
    browser = login("mobile-coord")
    one_off = {
        "vehicle_id": str(rounds[1].vehicle_id),
        "name": "Salon",
        "kind": "minibus",
        "day": "2031-05-13",
        "starts": "13:00",
        "ends": "14:00",
    }
    assert browser.post("/tournees/dates/nouveau", data=one_off).status_code == 302
    response = browser.post(
        f"/tournees/modeles/{template_id}", data=_form(db, template_id, ends="13:30")
    )
    assert response.status_code == 422
    assert (
        "The vehicle already has another round then, so the dated rounds cannot follow: "
        "13/05/2031 13:00–14:00 Salon." in text_of(response)
    )
    assert all(r.ends == time(13) for r in _rounds(db, template_id))
    assert db.get(RoundTemplate, template_id).ends == time(13)


def test_another_weekday_cancels_the_old_days_and_makes_the_new(frozen, login, db, coord):
    rounds, _permanences = _three_weeks(db, coord)
    template_id = rounds[0].template_id
    browser = login("mobile-coord")
    data = _form(db, template_id, weekday="2", cancel_reason="Le minibus passe le mercredi")
    response = browser.post(f"/tournees/modeles/{template_id}", data=data)
    assert response.status_code == 302
    page = text_of(browser.get(f"/tournees/modeles/{template_id}"))
    assert (
        "3 dated rounds no longer fall on the round&#39;s days: they are cancelled, "
        "and the people following their stops are told." in page
    )
    assert "3 dated rounds made for the round&#39;s new days." in page
    after = _rounds(db, template_id)
    assert [(r.day, r.status) for r in after] == [
        (date(2031, 5, 6), "cancelled"),
        (date(2031, 5, 7), "planned"),
        (date(2031, 5, 13), "cancelled"),
        (date(2031, 5, 14), "planned"),
        (date(2031, 5, 20), "cancelled"),
        (date(2031, 5, 21), "planned"),
    ]
    assert {r.cancel_reason for r in after if r.status == "cancelled"} == {
        "Le minibus passe le mercredi"
    }
    # The cancelled round's page says so; the dated rounds' week lists the new day.
    assert "Le minibus passe le mercredi" in text_of(browser.get(f"/tournees/dates/{after[0].id}"))
    # Saved again: nothing more.
    data = _form(db, template_id)
    assert browser.post(f"/tournees/modeles/{template_id}", data=data).status_code == 302
    page = text_of(browser.get(f"/tournees/modeles/{template_id}"))
    assert "no longer fall" not in page and "made for the round" not in page
    assert len(_rounds(db, template_id)) == 6


def test_the_crew_no_longer_sees_a_round_its_template_moved(login, db, coord):
    with clock.frozen(live.moment(date(2031, 5, 5), time(7))):  # the Monday before
        rounds, _permanences = _three_weeks(db, coord)
        template_id = rounds[0].template_id
        crew = login("mobile1")
        page = crew.get("/tournees/ma-tournee").get_data(as_text=True)
        assert str(rounds[0].id) in page  # tomorrow's
        data = _form(db, template_id, weekday="3", cancel_reason="Jeudi")
        response = login("mobile-coord").post(f"/tournees/modeles/{template_id}", data=data)
        assert response.status_code == 302
        page = crew.get("/tournees/ma-tournee").get_data(as_text=True)
        assert str(rounds[0].id) not in page
        db.expire_all()
        assert db.get(Round, rounds[0].id).status == "cancelled"
        member = accounts.find_user(db, "mobile1")
        changes = live_sync.round_changes(db, member, 0, 500)
        assert str(rounds[0].id) not in {c.id for c in changes if c.record is not None}
