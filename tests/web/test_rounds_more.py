"""Issue 19, more (h19-more): rides change and cancel under the team's cut-off rule (the
meal orders' one); a care plan's end or suspension ends or pauses its meal order (through
home care's meal service hook), orders past their cut-off kept, the coordinator told;
the indicators count the appointments kept at the linked stops and drill down per day,
CSV/XLSX following; the links page in the menu of a CPAS administrator with a mobile team
and nobody else's. The clock is frozen (users switched to English)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from core import accounts, clock
from core.audit import AuditEntry
from homecare.demo import demo_id
from homecare.models import CarePlan, CarePlanSuspension
from rounds import services
from rounds.models import MealOrder, WeeklyMealOrder, WeeklyMealPause
from tests.db.rounds_live_world import DAY, _holder, _minibus_day, _place, at
from tests.db.rounds_world import ride_data
from tests.support import cpas_admin, staff_member, text_of

PLAN = demo_id("plan-0")


def _utc(day: date, hour: int, minute: int = 0) -> datetime:
    """A Brussels wall-clock moment as UTC (summer time in these tests)."""
    return clock.as_utc(datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.BRUSSELS))


# --- Rides under the team's cut-off rule -------------------------------------------------------

RIDE_DAY = date(2031, 4, 7)  # a Monday; the default cut-off: Sunday 6 April 10:00


def test_rides_change_and_cancel_under_the_teams_rule(login, db):
    coord = accounts.find_user(db, "mobile-coord")
    with clock.frozen(datetime(2031, 3, 27, 9, 0, tzinfo=UTC)):
        ride = services.create_ride(
            db, coord, coord.team_id, ride_data(day=RIDE_DAY.isoformat(), person="M. Trajet")
        )
        db.commit()
        browser = login("mobile-coord")
        rule = {"form": "rule", "applies_from": "2031-04-07", "cutoff_days": "3"}
        response = browser.post("/tournees/repas/semaine", data=rule | {"cutoff_time": "12:00"})
        assert response.status_code == 302
        page = text_of(browser.get("/tournees/repas/semaine"))
        assert "The same rule closes the changes and cancellations of rides." in page
    form = ride_data(day=RIDE_DAY.isoformat(), person="M. Trajet", notes="Canne")
    # Friday 4 April 11:00: the team's cut-off (Friday 12:00) is ahead: the change is taken.
    with clock.frozen(_utc(date(2031, 4, 4), 11)):
        browser = login("mobile-coord")
        response = browser.post(f"/tournees/transports/{ride.id}", data=form)
        assert response.status_code == 302, text_of(response)
        db.refresh(ride)
        assert ride.notes == "Canne"
    # Friday 13:00: past the team's cut-off, though the fixed one (Sunday 10:00) is not.
    with clock.frozen(_utc(date(2031, 4, 4), 13)):
        browser = login("mobile-coord")
        response = browser.post(f"/tournees/transports/{ride.id}", data=form | {"notes": "x"})
        assert response.status_code == 422
        text = text_of(response)
        assert "04/04/2031 12:00" in text and "Nothing was saved." in text
        response = browser.post(f"/tournees/transports/{ride.id}/annuler", follow_redirects=True)
        assert "04/04/2031 12:00" in text_of(response)
        db.refresh(ride)
        assert ride.notes == "Canne" and not ride.cancelled
        rides_page = text_of(browser.get("/tournees/transports?jour=2031-04-07"))
        assert "Changes and cancellations until 04/04/2031 12:00" in rides_page
    # Before it, the one cancellation path takes it; another team's coordinator cannot.
    with clock.frozen(_utc(date(2031, 4, 4), 11, 30)):
        browser = login("mobile-coord")
        _other_mobile_team(db)
        for outsider in ("other-mobile", "coordination", "mobile1", "aide1", "admin"):
            refused = login(outsider).post(f"/tournees/transports/{ride.id}/annuler")
            assert refused.status_code in (403, 404), outsider
        db.refresh(ride)
        assert not ride.cancelled
        response = browser.post(f"/tournees/transports/{ride.id}/annuler", follow_redirects=True)
        assert "Ride cancelled." in text_of(response)
        db.refresh(ride)
        assert ride.cancelled


def _other_mobile_team(db) -> None:
    """Another mobile team of the same CPAS (Charleroi), with its coordinator."""
    if accounts.find_user(db, "other-mobile") is not None:
        return
    team = accounts.create_team(
        db, code="clr-mobile-2", name="Mobile 2", kind="mobile", cpas_code="charleroi",
        city="Charleroi",
    )  # fmt: skip
    staff_member(db, "other-mobile", "coordinator", team.code, "Autre")


def test_without_a_rule_rides_close_the_day_before_at_ten(login, db):
    coord = accounts.find_user(db, "mobile-coord")
    with clock.frozen(datetime(2031, 3, 27, 9, 0, tzinfo=UTC)):
        ride = services.create_ride(
            db, coord, coord.team_id, ride_data(day=RIDE_DAY.isoformat(), person="Mme Défaut")
        )
        db.commit()
    with clock.frozen(_utc(date(2031, 4, 6), 10)):
        response = login("mobile-coord").post(f"/tournees/transports/{ride.id}/annuler")
        assert response.status_code == 302
        db.refresh(ride)
        assert not ride.cancelled


# --- A care plan's end or suspension and its meal order ------------------------------------

MONDAY = date(2031, 4, 28)


def _mobile_team_in_brussels(db) -> accounts.Team:
    home = accounts.find_user(db, "coordination")
    team = accounts.create_team(
        db, code="bxl-repas", name="Repas Bruxelles", kind="mobile",
        cpas_code=home.team.cpas.code, city="Bruxelles",
    )  # fmt: skip
    staff_member(db, "repas-coord", "coordinator", team.code, "Repas")
    return team


def _meal_form() -> dict:
    return {
        "weekdays": ["0", "2", "4"],
        "meals": "1",
        "diet": "normal",
        "window_start": "10:00",
        "window_end": "12:00",
        "starts_on": "2031-04-30",
        "ends_on": "",
        "instructions": "",
    }


def _plan_form(plan: CarePlan, **changes) -> dict:
    """The plan's form as its page fills it, with `changes`."""
    return {
        "service": plan.service,
        "weekdays": [str(d) for d in plan.weekdays],
        "window_start": plan.window_start.strftime("%H:%M"),
        "window_end": plan.window_end.strftime("%H:%M"),
        "tolerance_minutes": str(plan.tolerance_minutes),
        "duration_minutes": str(plan.duration_minutes),
        "tasks": "\n".join(plan.tasks),
        "skills": list(plan.skills),
        "preferred_aide_ids": [str(a) for a in plan.preferred_aide_ids],
        "refused_aide_ids": [str(a) for a in plan.refused_aide_ids],
        "starts_on": plan.starts_on.isoformat(),
        "ends_on": plan.ends_on.isoformat() if plan.ends_on else "",
        "holiday_rule": plan.holiday_rule,
        "meal_order_ref": plan.meal_order_ref or "",
        "aides": str(plan.aides),
    } | changes


def _ordered(db, login) -> tuple[WeeklyMealOrder, accounts.Team]:
    """Meals ordered from the plan on Monday 28 April, their orders made for two weeks."""
    team = _mobile_team_in_brussels(db)
    browser = login("coordination")
    response = browser.post(f"/aide-a-domicile/plans/{PLAN}/repas", data=_meal_form())
    assert response.status_code == 302
    plan = db.get(CarePlan, PLAN)
    db.refresh(plan)
    weekly = db.get(WeeklyMealOrder, uuid.UUID(plan.meal_order_ref))
    services.make_orders(db, team.id, date(2031, 4, 29), 14)
    db.commit()
    return weekly, team


def _open_days(db, weekly) -> list[date]:
    return list(
        db.scalars(
            select(MealOrder.day)
            .where(MealOrder.weekly_id == weekly.id, MealOrder.cancelled.is_(False))
            .order_by(MealOrder.day)
        )
    )


def test_ending_a_care_plan_ends_its_meal_order(login, db):
    with clock.frozen(_utc(MONDAY, 10)):
        weekly, _team = _ordered(db, login)
    assert _open_days(db, weekly) == [
        date(2031, 4, 30), date(2031, 5, 2), date(2031, 5, 5),
        date(2031, 5, 7), date(2031, 5, 9), date(2031, 5, 12),
    ]  # fmt: skip
    home = accounts.find_user(db, "coordination")
    # Thursday 1 May 11:00: Friday's order is past its cut-off (Thursday 10:00).
    with clock.frozen(_utc(date(2031, 5, 1), 11)):
        browser = login("coordination")
        plan = db.get(CarePlan, PLAN)
        url = f"/aide-a-domicile/plans/{PLAN}/modifier"
        response = browser.post(url, data=_plan_form(plan, ends_on="2031-04-30"))
        assert response.status_code == 302, text_of(response)
        page = text_of(browser.get(response.headers["Location"]))
        assert "The meal order ends on Apr 30, 2031 too." in page
        assert "Deliveries cancelled: 4; kept, past the kitchen&#39;s cut-off: 1." in page
    db.refresh(weekly)
    assert weekly.ends_on == date(2031, 4, 30)
    assert _open_days(db, weekly) == [date(2031, 4, 30), date(2031, 5, 2)]  # Friday: counted
    audited = db.scalars(
        select(AuditEntry.entity_id).where(
            AuditEntry.actor_id == home.id, AuditEntry.entity_type == "rounds_weekly_meal_order"
        )
    ).all()
    assert str(weekly.id) in audited
    # The mobile team sees the order ended on its page.
    page = text_of(login("repas-coord").get(f"/tournees/repas/semaine/{weekly.id}"))
    assert "Last day of meals: 30/04/2031." in page
    # Saving the plan again with the same end changes nothing more.
    with clock.frozen(_utc(date(2031, 5, 1), 12)):
        db.refresh(plan)
        response = login("coordination").post(url, data=_plan_form(plan))
        assert response.status_code == 302
    assert _open_days(db, weekly) == [date(2031, 4, 30), date(2031, 5, 2)]


def test_suspending_a_care_plan_pauses_its_meal_order(login, db):
    with clock.frozen(_utc(MONDAY, 10)):
        weekly, team = _ordered(db, login)
    # Thursday 8 May 10:30: Friday 9's order is past its cut-off (Thursday 10:00).
    with clock.frozen(_utc(date(2031, 5, 8), 10, 30)):
        browser = login("coordination")
        response = browser.post(
            f"/aide-a-domicile/plans/{PLAN}/suspensions",
            data={"starts_on": "2031-05-09", "ends_on": "2031-05-14", "reason": "hospital"},
        )
        assert response.status_code == 302
        page = text_of(browser.get(response.headers["Location"]))
        assert "The meal order pauses from May 9, 2031 to May 14, 2031 too." in page
        assert "Deliveries cancelled: 1; kept, past the kitchen&#39;s cut-off: 1." in page
        pause = db.scalar(select(WeeklyMealPause).where(WeeklyMealPause.weekly_id == weekly.id))
        assert (pause.starts_on, pause.ends_on, pause.reason) == (
            date(2031, 5, 9), date(2031, 5, 14), "care_plan",
        )  # fmt: skip
        # The nightly job makes no order within the pause, and the later ones.
        services.make_orders(db, team.id, date(2031, 5, 9), 10)
        db.commit()
    assert _open_days(db, weekly) == [
        date(2031, 4, 30), date(2031, 5, 2), date(2031, 5, 5), date(2031, 5, 7),
        date(2031, 5, 9), date(2031, 5, 16),
    ]  # fmt: skip
    page = text_of(login("repas-coord").get(f"/tournees/repas/semaine/{weekly.id}"))
    assert "Paused" in page and "09/05/2031" in page and "14/05/2031" in page


def test_a_reference_the_meal_service_does_not_know_is_said_and_changes_nothing(login, db):
    _mobile_team_in_brussels(db)
    charleroi = db.scalar(select(WeeklyMealOrder).order_by(WeeklyMealOrder.id).limit(1))
    assert charleroi is not None  # the demo's, in CPAS de Charleroi's mobile team
    ends = charleroi.ends_on
    plan = db.get(CarePlan, PLAN)
    with clock.frozen(_utc(MONDAY, 10)):
        for reference in ("BON-42", str(charleroi.id)):
            db.refresh(plan)
            plan.meal_order_ref, plan.ends_on = reference, None
            db.commit()
            browser = login("coordination")
            response = browser.post(
                f"/aide-a-domicile/plans/{PLAN}/modifier",
                data=_plan_form(plan, ends_on="2031-05-02"),
            )
            assert response.status_code == 302
            page = text_of(browser.get(response.headers["Location"]))
            unknown = "The meal service knows no order by the plan&#39;s meal order reference"
            assert unknown in page, reference
    db.refresh(charleroi)
    assert charleroi.ends_on == ends  # another CPAS's order is out of reach


# --- Indicators: appointments kept at the stops, per-day drill-down --------------------------


def test_indicators_count_appointments_kept_and_drill_down_per_day(login, db):
    coord = accounts.find_user(db, "mobile-coord")
    with clock.frozen(at(7)):
        _dated, stops = _minibus_day(db, coord)
        location = _place(db, coord, stops[1].stop_id)  # visit 11:00–12:30
        for minute, status in ((0, "done"), (15, "checked_in"), (30, "no_show"), (45, "cancelled")):
            _holder(db, location, at(11, minute), None, status=status)
        _holder(db, location, at(13, 0), None, status="done")  # after the visit
        db.commit()
    with clock.frozen(at(18)):
        browser = login("mobile-coord")
        page = text_of(browser.get("/tournees/indicateurs?mois=2031-05"))
        assert "Appointments kept at the stops" in page and "Per day" in page
        assert "06/05/2031" in page
        body = browser.get("/tournees/indicateurs.csv?mois=2031-05").get_data(as_text=True)
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=_delimiter(body)))
        header, line = rows[0], next(row for row in rows if row[0] == "Minibus live")
        found = dict(zip(header, line, strict=True))
        assert found["Appointments kept at the stops"] == "2"
        assert found["Appointment no-shows"] == "1"
        assert found["Appointments cancelled"] == "1"
        day = text_of(browser.get(f"/tournees/indicateurs?jour={DAY.isoformat()}"))
        assert "Rounds indicators, 06/05/2031" in day and "Back to the month 05/2031" in day
        empty = text_of(browser.get("/tournees/indicateurs?jour=2031-05-11"))  # a Sunday
        assert "No round this day." in empty
        xlsx = browser.get(f"/tournees/indicateurs.xlsx?jour={DAY.isoformat()}")
        assert "2031-05-06" in xlsx.headers["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
        cells = [[c.value for c in row] for row in sheet.iter_rows()]
        kept = cells[0].index("Appointments kept at the stops")
        assert [row[kept] for row in cells[1:] if row[0] == "Minibus live"] == [2]
        assert browser.get("/tournees/indicateurs?jour=zz").status_code == 200
        for outsider in ("coordination", "mobile1", "aide1", "admin"):
            other = login(outsider)
            for path in (
                "/tournees/indicateurs?jour=2031-05-06",
                "/tournees/indicateurs.csv?jour=2031-05-06",
            ):
                assert other.get(path).status_code in (403, 404), (outsider, path)


def _delimiter(body: str) -> str:
    first = body.splitlines()[0]
    return ";" if first.count(";") > first.count(",") else ","


# --- The links page in the CPAS administrator's menu --------------------------------------


def test_the_links_page_is_in_the_menu_of_a_cpas_administrator_with_a_mobile_team(login, db):
    cpas_admin(db, "clr-dampremy", "admin-clr")
    cpas_admin(db)  # Brussels: no mobile team
    link = 'href="/tournees/lieux"'
    menu = login("admin-clr").get("/menu").get_data(as_text=True)
    assert link in menu and "Minibus stops and places" in menu
    assert link in login("admin-clr").get("/").get_data(as_text=True)
    for other in ("admin-bxl", "admin", "mobile-coord", "mobile1", "aide1", "coordination"):
        for path in ("/", "/menu"):
            assert link not in login(other).get(path).get_data(as_text=True), (other, path)
    assert login("admin-clr").get("/tournees/lieux").status_code == 200


def test_the_meal_service_follows_only_its_cpas_orders_for_its_staff(db):
    """Rounds' side of the hook: an order of the CPAS's mobile team, for staff of that
    CPAS; a plan ending before the order's first day delivers nothing (its first day
    paused)."""
    from rounds.meals import end_for_care_plan, pause_for_care_plan

    home = accounts.find_user(db, "coordination")  # CPAS de Bruxelles
    coord = accounts.find_user(db, "mobile-coord")  # CPAS de Charleroi
    charleroi = db.scalar(select(WeeklyMealOrder).order_by(WeeklyMealOrder.id).limit(1))
    clr = coord.team.cpas_id
    with clock.frozen(_utc(MONDAY, 10)):
        assert end_for_care_plan(db, home, clr, str(charleroi.id), MONDAY) is None
        assert end_for_care_plan(db, coord, home.team.cpas_id, str(charleroi.id), MONDAY) is None
        assert pause_for_care_plan(db, coord, clr, "not-an-id", MONDAY, MONDAY) is None
        first = charleroi.starts_on
        weekly, _done = end_for_care_plan(db, coord, clr, str(charleroi.id), first - timedelta(1))
        assert weekly.ends_on == first
        paused = db.scalars(select(WeeklyMealPause).where(WeeklyMealPause.weekly_id == weekly.id))
        assert [(p.starts_on, p.ends_on) for p in paused] == [(first, first)]
        again, done = end_for_care_plan(db, coord, clr, str(charleroi.id), first + timedelta(9))
        assert again.ends_on == first and done.cancelled == 0


# --- A care plan ending later again: its meal order runs again (issue 19, the inverse) -------


def test_a_care_plan_ending_later_again_reopens_its_meal_order(login, db):
    with clock.frozen(_utc(MONDAY, 10)):
        weekly, _team = _ordered(db, login)
    mobile = accounts.find_user(db, "repas-coord")
    friday = db.scalar(
        select(MealOrder).where(MealOrder.weekly_id == weekly.id, MealOrder.day == date(2031, 5, 9))
    )
    with clock.frozen(_utc(date(2031, 5, 1), 11)):
        services.cancel_order(db, mobile, friday.id)  # the household's wish, by the team
        db.commit()
        browser = login("coordination")
        plan = db.get(CarePlan, PLAN)
        url = f"/aide-a-domicile/plans/{PLAN}/modifier"
        response = browser.post(url, data=_plan_form(plan, ends_on="2031-04-30"))
        assert response.status_code == 302
    assert _open_days(db, weekly) == [date(2031, 4, 30), date(2031, 5, 2)]
    # Monday 5 May 08:00: Monday's cut-off (Sunday 10:00) is past, Wednesday's ahead.
    with clock.frozen(_utc(date(2031, 5, 5), 8)):
        browser = login("coordination")
        db.refresh(plan)
        response = browser.post(url, data=_plan_form(plan, ends_on="2031-05-16"))
        assert response.status_code == 302, text_of(response)
        page = text_of(browser.get(response.headers["Location"]))
        assert "The meal order runs again until May 16, 2031. Deliveries made again: 4." in page
    db.refresh(weekly)
    assert weekly.ends_on == date(2031, 5, 16)
    # Monday 5 stays cancelled (past its cut-off), Friday 9 too (the team cancelled it);
    # Wednesday 7 and Monday 12 are ordered again, Wednesday 14 and Friday 16 made.
    assert _open_days(db, weekly) == [
        date(2031, 4, 30), date(2031, 5, 2), date(2031, 5, 7), date(2031, 5, 12),
        date(2031, 5, 14), date(2031, 5, 16),
    ]  # fmt: skip
    restored = db.scalar(
        select(MealOrder).where(MealOrder.weekly_id == weekly.id, MealOrder.day == date(2031, 5, 7))
    )
    assert restored.cancelled_at is None and restored.cancelled_by_id is None
    home = accounts.find_user(db, "coordination")
    audited = db.scalars(
        select(AuditEntry.entity_id).where(
            AuditEntry.actor_id == home.id, AuditEntry.entity_type == "rounds_meal_order"
        )
    ).all()
    assert str(restored.id) in audited
    # The end removed: the order has none either; Monday 19 is made (the job's horizon).
    with clock.frozen(_utc(date(2031, 5, 5), 9)):
        browser = login("coordination")
        db.refresh(plan)
        response = browser.post(url, data=_plan_form(plan, ends_on=""))
        assert response.status_code == 302
        page = text_of(browser.get(response.headers["Location"]))
        assert "The meal order runs again, with no end. Deliveries made again: 1." in page
    db.refresh(weekly)
    assert weekly.ends_on is None
    assert _open_days(db, weekly)[-1] == date(2031, 5, 19)
    page = text_of(login("repas-coord").get(f"/tournees/repas/semaine/{weekly.id}"))
    assert "Last day of meals:" not in page


def test_an_end_of_the_mobile_teams_own_is_left_and_outsiders_cannot_reopen(login, db):
    from rounds.meals import reopen_for_care_plan

    with clock.frozen(_utc(MONDAY, 10)):
        weekly, _team = _ordered(db, login)
        plan = db.get(CarePlan, PLAN)
        db.refresh(plan)
        plan.ends_on = date(2031, 5, 2)
        weekly.ends_on = date(2031, 5, 7)  # the mobile team's own end, not the plan's
        db.commit()
        browser = login("coordination")
        url = f"/aide-a-domicile/plans/{PLAN}/modifier"
        response = browser.post(url, data=_plan_form(plan, ends_on="2031-05-30"))
        assert response.status_code == 302
        page = text_of(browser.get(response.headers["Location"]))
        assert "The meal order has an end of the mobile team&#39;s own" in page
        db.refresh(weekly)
        assert weekly.ends_on == date(2031, 5, 7)
        # Another CPAS's coordinator, through the hook, reaches nothing.
        coord = accounts.find_user(db, "mobile-coord")
        cpas = accounts.find_user(db, "coordination").team.cpas_id
        weekly.ends_on = date(2031, 5, 2)
        db.commit()
        assert reopen_for_care_plan(db, coord, cpas, str(weekly.id), date(2031, 5, 2), None) is None
        assert (
            reopen_for_care_plan(db, coord, coord.team.cpas_id, str(weekly.id), MONDAY, None)
            is None
        )
        db.rollback()
        db.refresh(plan)
        form = _plan_form(plan, ends_on="")
        for outsider in ("mobile-coord", "mobile1", "aide1"):
            response = login(outsider).post(url, data=form)
            assert response.status_code in (403, 404), outsider
        db.refresh(weekly)
        assert weekly.ends_on == date(2031, 5, 2)


def test_ending_a_suspension_earlier_shortens_or_lifts_the_meal_pause(login, db):
    with clock.frozen(_utc(MONDAY, 10)):
        weekly, _team = _ordered(db, login)
    base = f"/aide-a-domicile/plans/{PLAN}/suspensions"
    # Thursday 8 May 10:30: suspended 9–16 May; Friday 9 is past its cut-off (kept).
    with clock.frozen(_utc(date(2031, 5, 8), 10, 30)):
        browser = login("coordination")
        response = browser.post(
            base, data={"starts_on": "2031-05-09", "ends_on": "2031-05-16", "reason": "hospital"}
        )
        assert response.status_code == 302
    suspension = db.scalar(select(CarePlanSuspension).where(CarePlanSuspension.plan_id == PLAN))
    url = f"{base}/{suspension.id}/fin"
    # Friday 9 May 09:00: ends on Sunday 11 instead; Monday 12 is ordered again
    # (cut-off Sunday 10:00 ahead), Wednesday 14 and Friday 16 made.
    with clock.frozen(_utc(date(2031, 5, 9), 9)):
        browser = login("coordination")
        page = text_of(browser.get(f"/aide-a-domicile/plans/{PLAN}/modifier"))
        assert "End the suspension on" in page
        for bad in ("2031-05-16", "2031-05-20", "2031-05-07", "2031-05-01", "soon"):
            response = browser.post(url, data={"last_day": bad})
            assert response.status_code == 422, bad
            assert "field-invalid" in text_of(response)
        response = browser.post(url, data={"last_day": "2031-05-16"})
        assert "Give a day before the suspension&#39;s last day (May 16, 2031)." in text_of(
            response
        )
        db.refresh(suspension)
        assert suspension.ends_on == date(2031, 5, 16)
        for outsider in ("mobile-coord", "mobile1", "aide1", "repas-coord"):
            response = login(outsider).post(url, data={"last_day": "2031-05-11"})
            assert response.status_code in (403, 404), outsider
        db.refresh(suspension)
        assert suspension.ends_on == date(2031, 5, 16)
        browser = login("coordination")
        other = f"{base}/{uuid.uuid4()}/fin"
        assert browser.post(other, data={"last_day": "2031-05-11"}).status_code == 404
        response = browser.post(url, data={"last_day": "2031-05-11"})
        assert response.status_code == 302, text_of(response)
        page = text_of(browser.get(response.headers["Location"]))
        assert "The suspension ends on May 11, 2031" in page
        assert (
            "The meal order&#39;s pause ends on May 11, 2031 too. Deliveries made again: 3." in page
        )
    db.refresh(suspension)
    assert suspension.ends_on == date(2031, 5, 11)
    pause = db.scalar(select(WeeklyMealPause).where(WeeklyMealPause.weekly_id == weekly.id))
    assert (pause.starts_on, pause.ends_on) == (date(2031, 5, 9), date(2031, 5, 11))
    assert _open_days(db, weekly) == [
        date(2031, 4, 30), date(2031, 5, 2), date(2031, 5, 5), date(2031, 5, 7),
        date(2031, 5, 9), date(2031, 5, 12), date(2031, 5, 14), date(2031, 5, 16),
    ]  # fmt: skip
    home = accounts.find_user(db, "coordination")
    audited = db.scalars(
        select(AuditEntry.entity_type).where(
            AuditEntry.actor_id == home.id, AuditEntry.entity_id == str(suspension.id)
        )
    ).all()
    assert "homecare_suspension" in audited
    # Lifted (the day before it starts) while its first day is still ahead.
    with clock.frozen(_utc(date(2031, 5, 8), 11)):
        browser = login("coordination")
        response = browser.post(
            base, data={"starts_on": "2031-05-19", "ends_on": "2031-05-21", "reason": "holiday"}
        )
        assert response.status_code == 302
    later = db.scalar(
        select(CarePlanSuspension).where(
            CarePlanSuspension.plan_id == PLAN, CarePlanSuspension.starts_on == date(2031, 5, 19)
        )
    )
    later_id = later.id
    with clock.frozen(_utc(date(2031, 5, 9), 10)):
        browser = login("coordination")
        response = browser.post(f"{base}/{later_id}/fin", data={"last_day": "2031-05-18"})
        assert response.status_code == 302, text_of(response)
        page = text_of(browser.get(response.headers["Location"]))
        assert "Suspension lifted" in page
        assert "The meal order&#39;s pause is lifted too." in page
    db.expire_all()
    assert db.get(CarePlanSuspension, later_id) is None
    pauses = db.scalars(select(WeeklyMealPause).where(WeeklyMealPause.weekly_id == weekly.id))
    assert [(p.starts_on, p.ends_on) for p in pauses] == [(date(2031, 5, 9), date(2031, 5, 11))]
