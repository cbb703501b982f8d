"""The coordinator's live day (issue 18): where each visit stands on a frozen clock (a
morning, a late evening, a night across midnight, the spring DST Sunday), the late SMS
(consent, language, quiet hours, once), the review of unverified reports, and the hours
counting only validated visits."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from threading import Barrier

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts, clock, organisations, sync
from core.accounts import Team
from core.audit import AuditEntry
from core.errors import Conflict, Invalid
from core.roles import Role
from homecare import generation, hours, live, reports, services
from homecare.calendar import local_moment
from homecare.models import ProofRule, Visit, VisitReport
from homecare.services import BeneficiaryFields, PlanFields
from notifications import services as notify
from notifications.models import Message
from tests.support import migrated_database, postgres_url, staff_member

MONDAY = date(2026, 11, 30)


def _team(db: Session, code: str = "hc-live", cpas: str = "bruxelles") -> Team:
    team = Team(
        code=code,
        name=f"SAF {code}",
        kind="home_care",
        city="Bruxelles",
        cpas_id=organisations.get_cpas(db, cpas).id,
    )
    db.add(team)
    db.flush()
    return team


@pytest.fixture()
def team(db: Session) -> Team:
    return _team(db)


@pytest.fixture()
def people(db: Session, team: Team) -> dict[str, accounts.User]:
    return {
        "coord": staff_member(db, "live-coord", Role.COORDINATOR, team.code),
        "a": staff_member(db, "live-aide-a", Role.AIDE, team.code),
    }


def _plan_visit(
    db: Session,
    team: Team,
    people,
    day: date,
    *,
    window: tuple[time, time] = (time(9), time(11)),
    duration: int = 120,
    service: str = "family_aide",
    language: str = "fr",
    consents: tuple[str, ...] = ("service_change",),
) -> Visit:
    """A household visited every day in `window`; the visit of `day`, given to aide A at
    the window's opening."""
    coord = people["coord"]
    household = services.create_beneficiary(
        db,
        coord,
        team.id,
        BeneficiaryFields(
            name=f"Ménage {uuid.uuid4().hex[:6]}",
            address="Rue Gallait 10",
            postcode="1030",
            city="Schaerbeek",
            latitude=50.868,
            longitude=4.376,
            contribution_category="b",
            phones=["0470 11 22 33"],
            consents=consents,
            language=language,
            emergency_name="Fille: Anne",
            emergency_phone="0475 99 88 77",
        ),
    )
    plan = services.create_care_plan(
        db,
        coord,
        household.id,
        PlanFields(
            service=service,
            weekdays=list(range(7)),
            window_start=window[0],
            window_end=window[1],
            tolerance_minutes=0,
            duration_minutes=duration,
            starts_on=date(2026, 1, 1),
            tasks=["Toilette"],
        ),
    )
    monday = day - timedelta(days=day.weekday())
    with clock.frozen(datetime.combine(monday, time(6), tzinfo=UTC)):
        generation.generate_week(db, team.id, monday)
    visit = db.scalars(select(Visit).where(Visit.plan_id == plan.id, Visit.day == day)).one()
    visit.aide_id = people["a"].id
    visit.planned_start = local_moment(day, window[0])
    sync.stamp(db, visit, sync.team_scope(visit.team_id), coord, None)
    db.commit()
    return visit


def _report(db: Session, aide, visit: Visit, step: str, **data) -> VisitReport:
    entry = reports.read_entry(
        step,
        {"id": str(reports.report_id_for(visit.id, aide.id)), "visit_id": str(visit.id), **data},
    )
    report = reports.save(db, aide, entry)
    db.commit()
    return report


def _state(db: Session, coord, visit: Visit) -> str:
    day = live.open_day(db, coord)
    found = [item.state for item in day.visits if item.visit.id == visit.id]
    assert found, "the visit is on today's page"
    return found[0]


def test_states_through_a_morning(db, team, people):
    coord, a = people["coord"], people["a"]
    visit = _plan_visit(db, team, people, MONDAY)
    nine = local_moment(MONDAY, time(9))
    with clock.frozen(nine + timedelta(minutes=10)):
        assert _state(db, coord, visit) == "to_come"
    with clock.frozen(nine + timedelta(minutes=15)) as traveller:
        assert _state(db, coord, visit) == "late"
        traveller.advance(minutes=5)
        _report(db, a, visit, "checkin", at=clock.now().isoformat())
        assert _state(db, coord, visit) == "in_progress"
        traveller.advance(hours=2)
        _report(
            db,
            a,
            visit,
            "report",
            arrived_at=(nine + timedelta(minutes=20)).isoformat(),
            left_at=clock.now().isoformat(),
            outcome="normal",
        )
        assert _state(db, coord, visit) == "done"  # verified (no proof asked): validated
        db.refresh(visit)
        assert visit.validation == "report"


def test_an_unverified_report_and_a_problem_with_its_emergency_contact(db, team, people):
    coord, a = people["coord"], people["a"]
    db.add(ProofRule(team_id=team.id, service="family_aide", mode="gps", radius_m=150))
    db.commit()
    unverified = _plan_visit(db, team, people, MONDAY)
    problem = _plan_visit(db, team, people, MONDAY, window=(time(11), time(12)), duration=60)
    with clock.frozen(local_moment(MONDAY, time(12, 30))):
        _report(
            db,
            a,
            unverified,
            "report",
            arrived_at=local_moment(MONDAY, time(9)).isoformat(),
            left_at=local_moment(MONDAY, time(11)).isoformat(),
            unverified_reason="no_signal",
        )
        _report(db, a, problem, "report", outcome="incident", note="Chute")
        day = live.open_day(db, coord)
    states = {item.visit.id: item for item in day.visits}
    assert states[unverified.id].state == "unverified"
    assert states[problem.id].state == "problem"
    assert states[problem.id].household.emergency_phone == "0475 99 88 77"
    assert states[problem.id].phones == ["+32470112233"]
    assert day.to_review == 1
    db.refresh(unverified)
    assert unverified.status == "planned"  # not counted until reviewed


def test_late_evening_and_a_night_visit_across_midnight(db, team, people):
    coord, a = people["coord"], people["a"]
    night = _plan_visit(
        db, team, people, MONDAY, window=(time(21), time(7)), duration=600, service="night_care"
    )
    # 21:20 Brussels, nobody arrived: late.
    with clock.frozen(local_moment(MONDAY, time(21, 20))):
        assert _state(db, coord, night) == "late"
        _report(db, a, night, "checkin", at=clock.now().isoformat())
    # 00:30 on Tuesday: Monday's night is on Tuesday's page, in progress.
    with clock.frozen(local_moment(MONDAY + timedelta(days=1), time(0, 30))):
        day = live.open_day(db, coord)
        assert day.day == MONDAY + timedelta(days=1)
        assert [item.state for item in day.visits if item.visit.id == night.id] == ["in_progress"]
    # Wednesday: Monday's night has left the page.
    with clock.frozen(local_moment(MONDAY + timedelta(days=2), time(0, 30))):
        day = live.open_day(db, coord)
        assert night.id not in {item.visit.id for item in day.visits}


def test_the_spring_dst_sunday_places_the_start_in_summer_time(db, team, people):
    coord = people["coord"]
    sunday = date(2026, 3, 29)  # clocks go from 02:00 to 03:00
    visit = _plan_visit(db, team, people, sunday)
    # 09:00 summer time is 07:00 UTC (not 08:00).
    assert clock.as_utc(visit.planned_start) == datetime(2026, 3, 29, 7, tzinfo=UTC)
    with clock.frozen(datetime(2026, 3, 29, 7, 14, tzinfo=UTC)):
        assert _state(db, coord, visit) == "to_come"
    with clock.frozen(datetime(2026, 3, 29, 7, 15, tzinfo=UTC)):
        assert _state(db, coord, visit) == "late"


def _late_messages(db: Session, visit: Visit) -> list[Message]:
    return list(db.scalars(select(Message).where(Message.key == live.late_key(visit.id))))


def test_the_late_sms_goes_once_in_the_households_language(db, team, people):
    coord = people["coord"]
    visit = _plan_visit(db, team, people, MONDAY, language="nl")
    with clock.frozen(local_moment(MONDAY, time(9, 20))):
        first = live.send_late_notice(db, coord, visit.id)
        second = live.send_late_notice(db, coord, visit.id)
    assert first.sent and not second.sent
    (message,) = _late_messages(db, visit)
    assert message.language == "nl" and "later" in message.body
    assert message.status == "pending"


def test_no_late_sms_without_consent_or_before_the_visit_is_late(db, team, people):
    coord = people["coord"]
    visit = _plan_visit(db, team, people, MONDAY, consents=())
    with clock.frozen(local_moment(MONDAY, time(9, 5))), pytest.raises(Invalid) as early:
        live.send_late_notice(db, coord, visit.id)
    assert early.value.errors["visit_id"].code == "visit_not_late"
    with clock.frozen(local_moment(MONDAY, time(9, 20))), pytest.raises(Invalid) as refused:
        live.send_late_notice(db, coord, visit.id)
    assert refused.value.errors["visit_id"].code == "household_no_consent"
    assert _late_messages(db, visit) == []


def test_quiet_hours_follow_the_notifications_rules(db, team, people):
    coord = people["coord"]
    night = _plan_visit(
        db, team, people, MONDAY, window=(time(21), time(7)), duration=600, service="night_care"
    )
    rules = notify.category_rules(db, "service_change")
    notify.save_category_rules(
        db,
        notify.CategoryRules(
            "service_change", rules.quiet_from, rules.quiet_until, False, rules.validity_hours
        ),
        actor=coord,
    )
    db.commit()
    with clock.frozen(local_moment(MONDAY, time(21, 20))):
        live.send_late_notice(db, coord, night.id)
    (message,) = _late_messages(db, night)
    # Urgent messages may not bypass the quiet hours here: it waits for 08:00.
    assert clock.as_utc(message.not_before) == local_moment(MONDAY + timedelta(days=1), time(8))


def test_another_teams_coordinator_and_an_aide_cannot_act(db, team, people):
    visit = _plan_visit(db, team, people, MONDAY)
    other = _team(db, "hc-live-other", "charleroi")
    outsider = staff_member(db, "live-coord-other", Role.COORDINATOR, other.code)
    db.commit()
    with clock.frozen(local_moment(MONDAY, time(9, 20))):
        for user in (outsider, people["a"]):
            with pytest.raises(Invalid) as refused:
                live.send_late_notice(db, user, visit.id)
            assert refused.value.errors["visit_id"].code == "unknown_visit"
        with pytest.raises(Invalid):
            live.open_day(db, people["a"])
        assert [item.visit.id for item in live.open_day(db, outsider).visits] == []
    assert _late_messages(db, visit) == []


def _unverified(db: Session, team, people, day: date = MONDAY) -> tuple[Visit, VisitReport]:
    db.merge(ProofRule(team_id=team.id, service="family_aide", mode="gps", radius_m=150))
    db.commit()
    visit = _plan_visit(db, team, people, day)
    with clock.frozen(local_moment(day, time(12))):
        report = _report(
            db,
            people["a"],
            visit,
            "report",
            arrived_at=local_moment(day, time(9, 5)).isoformat(),
            left_at=local_moment(day, time(11, 5)).isoformat(),
            unverified_reason="gps_refused",
        )
    assert not report.verified
    return visit, report


def _hours_of(db: Session, coord) -> float:
    with clock.frozen(local_moment(MONDAY, time(18))):
        return hours.month_hours(db, coord, MONDAY.replace(day=1)).total


def test_accepting_an_unverified_report_makes_the_visit_count(db, team, people):
    coord = people["coord"]
    visit, report = _unverified(db, team, people)
    assert _hours_of(db, coord) == 0
    with clock.frozen(local_moment(MONDAY, time(18))):
        assert [item.report.id for item in live.open_queue(db, coord)] == [report.id]
        with pytest.raises(Conflict):
            live.save_review(db, coord, report.id, report.version - 1, "accepted")
        live.save_review(db, coord, report.id, report.version, "accepted")
        assert live.open_queue(db, coord) == []
        with pytest.raises(Invalid) as again:
            live.save_review(db, coord, report.id, report.version, "accepted")
    assert again.value.errors["report_id"].code == "already_reviewed"
    db.refresh(visit)
    assert (visit.status, visit.validation) == ("done", "review")
    assert _hours_of(db, coord) == 120
    assert db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_id == str(report.id))
    )


def test_correcting_and_rejecting(db, team, people):
    coord = people["coord"]
    visit, report = _unverified(db, team, people)
    with clock.frozen(local_moment(MONDAY, time(18))):
        with pytest.raises(Invalid) as bad:
            live.save_review(
                db,
                coord,
                report.id,
                report.version,
                "corrected",
                started_at=local_moment(MONDAY, time(10)),
                ended_at=local_moment(MONDAY, time(9)),
            )
        assert bad.value.errors["ended_at"].code == "ends_before_start"
        live.save_review(
            db,
            coord,
            report.id,
            report.version,
            "corrected",
            started_at=local_moment(MONDAY, time(9, 30)),
            ended_at=local_moment(MONDAY, time(11)),
            reason="Horaire confirmé par téléphone",
        )
    db.refresh(visit)
    db.refresh(report)
    assert clock.as_utc(visit.actual_start) == local_moment(MONDAY, time(9, 30))
    assert clock.as_utc(report.arrived_at) == local_moment(MONDAY, time(9, 5))  # hers, kept
    assert _hours_of(db, coord) == 90
    # Another unverified report, rejected: a reason is required, and it does not count.
    other_visit, other = _unverified(db, team, people)
    with clock.frozen(local_moment(MONDAY, time(18))):
        with pytest.raises(Invalid) as no_reason:
            live.save_review(db, coord, other.id, other.version, "rejected")
        assert no_reason.value.errors["reason"].code == "required"
        live.save_review(
            db, coord, other.id, other.version, "rejected", reason="Pas de visite ce jour"
        )
        day = live.open_day(db, coord)
    db.refresh(other_visit)
    assert other_visit.status == "planned"
    assert _hours_of(db, coord) == 90
    assert [item.state for item in day.visits if item.visit.id == other_visit.id] == ["rejected"]


def test_another_teams_coordinator_cannot_review(db, team, people):
    _visit, report = _unverified(db, team, people)
    other = _team(db, "hc-live-rev", "charleroi")
    outsider = staff_member(db, "live-coord-rev", Role.COORDINATOR, other.code)
    db.commit()
    with clock.frozen(local_moment(MONDAY, time(18))):
        for user in (outsider, people["a"]):
            with pytest.raises(Invalid) as refused:
                live.save_review(db, user, report.id, report.version, "accepted")
            assert refused.value.errors["report_id"].code == "unknown_report"
        assert live.open_queue(db, outsider) == []


@pytest.mark.skipif(postgres_url() is None, reason="concurrency is proven on PostgreSQL")
def test_two_concurrent_clicks_send_one_sms():
    """Two coordinators' tabs press "tell the household" at once: one SMS, one answer
    "already sent" (the visit's row lock; the outbox's unique key besides)."""
    from core import demo as core_demo
    from core.db import make_engine, make_session_factory

    with migrated_database("hclive") as url:
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=4)
        sessions = make_session_factory(engine)
        with sessions() as session:
            core_demo.seed(session)
            session.commit()
            team = _team(session)
            people = {
                "coord": staff_member(session, "live-coord", Role.COORDINATOR, team.code),
                "a": staff_member(session, "live-aide-a", Role.AIDE, team.code),
            }
            session.commit()
            with clock.frozen(local_moment(MONDAY, time(8))):
                visit_id = _plan_visit(session, team, people, MONDAY).id
            coord_id = people["coord"].id
        barrier = Barrier(2)

        def click(_: int) -> bool | str:
            with sessions() as session:
                coord = session.get(accounts.User, coord_id)
                barrier.wait(timeout=30)
                try:
                    return live.send_late_notice(session, coord, visit_id).sent
                except Exception as error:
                    return repr(error)

        with (
            clock.frozen(local_moment(MONDAY, time(9, 20))),
            ThreadPoolExecutor(max_workers=2) as pool,
        ):
            answers = sorted(pool.map(click, range(2)), key=str)
        with sessions() as session:
            count = session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.key == live.late_key(visit_id))
            )
        engine.dispose()
    assert count == 1
    assert answers == [False, True], answers


def test_the_coordinators_validation_stands_against_a_later_report(db, team, people):
    coord, a = people["coord"], people["a"]
    visit = _plan_visit(db, team, people, MONDAY)
    with clock.frozen(local_moment(MONDAY, time(12))):
        hours.record_done(
            db,
            coord,
            visit.id,
            visit.version,
            started_at=local_moment(MONDAY, time(9)),
            ended_at=local_moment(MONDAY, time(10)),
            km=None,
        )
        _report(
            db,
            a,
            visit,
            "report",
            arrived_at=local_moment(MONDAY, time(9)).isoformat(),
            left_at=local_moment(MONDAY, time(11)).isoformat(),
        )
    db.refresh(visit)
    assert visit.validation == "coordinator"
    assert _hours_of(db, coord) == 60
    with clock.frozen(local_moment(MONDAY, time(12))):
        hours.cancel_done(db, coord, visit.id, visit.version)
    db.refresh(visit)
    assert (visit.status, visit.validation) == ("planned", None)
    assert _hours_of(db, coord) == 0
