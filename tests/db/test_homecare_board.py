"""Home care planning board: runs claimed by the job (one active per week, killed runs
taken again), warnings before a change, versions against silent overwrites, and an aide
falling ill (re-plan proposal, acceptance, SMS keyed once)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from appointments.models import AgentAbsence
from core import accounts, clock, organisations
from core.accounts import Team
from core.errors import Conflict, Invalid
from core.roles import Role
from homecare import board, generation, planning, runs, services
from homecare.models import Beneficiary, PlanningRun, Visit
from homecare.services import BeneficiaryFields, PlanFields
from notifications.contacts import contact_for_user
from notifications.models import Message
from tests.support import planning_week, staff_member

# The optimiser stops after a few iterations (tests/conftest.py, capped_search).
pytestmark = pytest.mark.usefixtures("capped_search")

# The Thursday after the suite's clock and the Monday after it: the demo's home care is
# seeded at that clock (tests/support.py, --clock), its plans from 60 days before.
NOW, WEEK = planning_week(clock.now())


@pytest.fixture()
def frozen():
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def coord(db, frozen):
    user = accounts.find_user(db, "coordination")
    generation.generate_week(db, user.team_id, WEEK)
    db.flush()
    return user


def _aide(db, name: str) -> accounts.User:
    return accounts.find_user(db, name)


def _run_job(sessions) -> dict[str, int]:
    return runs.run_pending(sessions)


def _fast(db, run: PlanningRun) -> PlanningRun:
    run.seconds = 1
    db.commit()
    return run


def _planned(db, team_id: int) -> list[Visit]:
    return list(
        db.scalars(
            select(Visit).where(
                Visit.team_id == team_id,
                Visit.day >= WEEK,
                Visit.day < WEEK + timedelta(days=7),
                Visit.status == "planned",
            )
        )
    )


# --- Runs --------------------------------------------------------------------------------


def test_one_active_run_per_team_and_week(db, coord):
    first = runs.request_plan(db, coord, WEEK + timedelta(days=2))
    again = runs.request_plan(db, coord, WEEK)
    assert again.id == first.id and first.week == WEEK and first.status == "queued"
    # The database itself refuses a second active run of the week.
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(
            PlanningRun(
                team_id=coord.team_id,
                week=WEEK,
                kind="plan",
                params={},
                status="running",
                progress=0,
                seconds=1,
                attempts=0,
                result={},
                requested_at=clock.now(),
            )
        )
        db.flush()
    first.status = "done"
    db.flush()
    assert runs.request_plan(db, coord, WEEK).id != first.id


def test_the_job_claims_runs_the_optimiser_and_stores_the_plan(db, coord, sessions):
    run = _fast(db, runs.request_plan(db, coord, WEEK))
    assert runs.view(run).progress == 0
    assert _run_job(sessions) == {"done": 1, "failed": 0}
    db.expire_all()
    run = db.get(PlanningRun, run.id)
    assert (run.status, run.progress, run.attempts) == ("done", 100, 1)
    visits = _planned(db, coord.team_id)
    assigned = [v for v in visits if v.aide_id is not None]
    assert run.result == {"planned": len(assigned), "unassigned": len(visits) - len(assigned)}
    assert assigned and all(v.unassigned_reason for v in visits if v.aide_id is None)
    # Versions moved: forms opened before the run are stale now.
    assert all(v.version >= 1 for v in assigned)
    assert _run_job(sessions) == {"done": 0, "failed": 0}  # nothing left


def test_a_run_killed_half_way_changes_nothing_and_is_taken_again(db, coord, sessions, frozen):
    run = _fast(db, runs.request_plan(db, coord, WEEK))
    before = {v.id: (v.aide_id, v.version) for v in _planned(db, coord.team_id)}
    with sessions() as session:
        claimed = runs.claim(session)
        session.commit()
        runs.execute(session, session.get(PlanningRun, claimed.id))
        session.rollback()  # the process died before its commit
    db.expire_all()
    assert {v.id: (v.aide_id, v.version) for v in _planned(db, coord.team_id)} == before
    assert db.get(PlanningRun, run.id).status == "running"
    assert _run_job(sessions) == {"done": 0, "failed": 0}  # not stale yet
    frozen.advance(minutes=6)
    assert _run_job(sessions) == {"done": 1, "failed": 0}
    db.expire_all()
    assert (db.get(PlanningRun, run.id).status, db.get(PlanningRun, run.id).attempts) == (
        "done",
        2,
    )


def test_a_run_killed_twice_is_marked_failed(db, coord, sessions, frozen):
    run = runs.request_plan(db, coord, WEEK)
    run.status, run.attempts, run.started_at = "running", 2, clock.now()
    db.commit()
    frozen.advance(minutes=6)
    assert _run_job(sessions) == {"done": 0, "failed": 0}
    db.expire_all()
    run = db.get(PlanningRun, run.id)
    assert (run.status, run.result) == ("failed", {"error": "timeout"})
    assert runs.request_plan(db, coord, WEEK).id != run.id  # a new one may be asked


def test_a_coordinator_of_another_team_sees_no_run(db, coord):
    run = runs.request_plan(db, coord, WEEK)
    street = db.scalar(select(Team).where(Team.kind == "street"))
    other = staff_member(db, "hc-street-c", Role.COORDINATOR, street.code, "x")
    for user in (other, _aide(db, "aide1")):
        with pytest.raises(Invalid):
            runs.run_of(db, user, run.id)
        with pytest.raises(Invalid):
            runs.request_plan(db, user, WEEK)
        with pytest.raises(Invalid):
            board.week_board(db, user, WEEK)


# --- Changes and warnings ------------------------------------------------------------------


def _first_visit(db, team_id: int, **where) -> Visit:
    visits = sorted(_planned(db, team_id), key=lambda v: (v.earliest_start, str(v.id)))
    return next(v for v in visits if all(getattr(v, k) == w for k, w in where.items()))


def test_warnings_are_shown_and_nothing_saved_until_confirmed(db, coord):
    aide3 = _aide(db, "aide3")  # household and meals only, 19 h
    visit = next(
        v
        for v in _planned(db, coord.team_id)
        if "personal_care" in db.get(services.CarePlan, v.plan_id).skills
    )
    start = clock.as_utc(visit.earliest_start) + timedelta(hours=6)  # out of its window
    version = visit.version
    outcome = board.change_visit(
        db, coord, visit.id, aide_id=aide3.id, start=start, version=version, confirmed=False
    )
    codes = {w.code for w in outcome.warnings}
    assert {"missing_skill", "outside_window"} <= codes
    assert not outcome.saved and visit.version == version and visit.aide_id != aide3.id
    outcome = board.change_visit(
        db, coord, visit.id, aide_id=aide3.id, start=start, version=version, confirmed=True
    )
    assert outcome.saved and visit.aide_id == aide3.id and visit.version == version + 1


def test_overlap_travel_contract_and_refused_aide_are_warned(db, coord):
    aide1 = _aide(db, "aide1")
    visits = sorted(_planned(db, coord.team_id), key=lambda v: v.earliest_start)
    first, second = visits[0], next(v for v in visits[1:] if v.day == visits[0].day)
    start = clock.as_utc(first.earliest_start)
    board.change_visit(
        db, coord, first.id, aide_id=aide1.id, start=start, version=first.version, confirmed=True
    )
    # Same minute: overlap; right after the first ends: travel too tight.
    assert "overlap" in {
        w.code for w in board.check_change(db, second, aide1.id, start + timedelta(minutes=10))
    }
    right_after = start + timedelta(minutes=first.duration_minutes + 5)
    a = db.get(Beneficiary, first.beneficiary_id)
    b = db.get(Beneficiary, second.beneficiary_id)
    if (a.latitude, a.longitude) != (b.latitude, b.longitude):
        assert "travel_too_tight" in {
            w.code for w in board.check_change(db, second, aide1.id, right_after)
        }
    plan = db.get(services.CarePlan, second.plan_id)
    plan.refused_aide_ids = [aide1.id]
    profile = db.get(services.AideProfile, aide1.id)
    profile.contract_minutes = 60
    db.flush()
    codes = {w.code for w in board.check_change(db, second, aide1.id, right_after)}
    assert {"refused_aide", "over_contract"} <= codes


def test_a_stale_version_is_a_conflict_and_changes_nothing(db, coord):
    aide1, aide2 = _aide(db, "aide1"), _aide(db, "aide2")
    visit = _first_visit(db, coord.team_id)
    seen = visit.version
    start = clock.as_utc(visit.earliest_start)
    board.change_visit(
        db, coord, visit.id, aide_id=aide1.id, start=start, version=seen, confirmed=True
    )
    with pytest.raises(Conflict) as raised:
        board.change_visit(
            db, coord, visit.id, aide_id=aide2.id, start=start, version=seen, confirmed=True
        )
    assert raised.value.record["aide_id"] == aide1.id
    assert visit.aide_id == aide1.id and visit.version == seen + 1


def test_bad_changes_are_refused(db, coord):
    visit = _first_visit(db, coord.team_id)
    with pytest.raises(Invalid) as raised:
        board.change_visit(
            db, coord, visit.id, aide_id=999999, start=None, version=None, confirmed=True
        )
    assert set(raised.value.errors) == {"aide_id", "start", "version"}


# --- An aide falls ill -----------------------------------------------------------------


def _household_with_phone(db, coord, visit: Visit) -> Beneficiary:
    household = services.create_beneficiary(
        db,
        coord,
        coord.team_id,
        BeneficiaryFields(
            name="Madame SMS",
            address="Rue Gallait 80",
            postcode="1030",
            city="Schaerbeek",
            latitude=50.8683,
            longitude=4.3762,
            phones=["0470 99 88 77"],
            consents=["service_change"],
            language="nl",
        ),
    )
    return household


def test_an_ill_aide_s_visits_are_replanned_accepted_and_told_once(db, coord, sessions):
    plan_run = _fast(db, runs.request_plan(db, coord, WEEK))
    # One more household of aide2's, with a phone, on Tuesday.
    household = _household_with_phone(db, coord, _first_visit(db, coord.team_id))
    services.create_care_plan(
        db,
        coord,
        household.id,
        PlanFields(
            service="home_help",
            weekdays=[1],
            window_start=time(10),
            window_end=time(12),
            tolerance_minutes=30,
            duration_minutes=60,
            starts_on=WEEK - timedelta(days=13),
            skills=["household"],
        ),
    )
    generation.generate_week(db, coord.team_id, WEEK)
    db.commit()
    assert _run_job(sessions)["done"] == 1
    db.expire_all()
    assert db.get(PlanningRun, plan_run.id).status == "done"
    ill = max(
        (_aide(db, f"aide{n}") for n in range(1, 6)),
        key=lambda a: sum(
            1
            for v in _planned(db, coord.team_id)
            if v.aide_id == a.id and v.day <= WEEK + timedelta(days=3)
        ),
    )
    mine = {
        v.id
        for v in _planned(db, coord.team_id)
        if v.aide_id == ill.id and WEEK + timedelta(days=1) <= v.day <= WEEK + timedelta(days=3)
    }
    assert mine
    replan = runs.request_replan(db, coord, ill.id, WEEK + timedelta(days=1), 3)
    assert replan.kind == "replan"
    with pytest.raises(Invalid):  # one active run per week
        runs.request_replan(db, coord, ill.id, WEEK + timedelta(days=1), 3)
    replan.seconds = 2
    db.commit()
    assert _run_job(sessions)["done"] == 1
    db.expire_all()
    view, lines = runs.proposal(db, coord, replan.id)
    assert view.status == "done"
    assert {line.visit_id for line in lines} == {str(v) for v in mine}
    # Every visit of hers has a new aide, or is flagged with a reason.
    for line in lines:
        assert (line.new_aide is not None and line.new_start is not None) or line.reason
        assert line.new_aide != ill.display_name
    sent = runs.accept_proposal(db, coord, replan.id)
    db.commit()
    for visit_id in mine:
        visit = db.get(Visit, visit_id)
        assert visit.aide_id != ill.id
        assert visit.aide_id is not None or visit.unassigned_reason
    keys = set(db.scalars(select(Message.key).where(Message.key.like("homecare:%"))))
    assert len(keys) == sent > 0
    for key in keys:
        visit_id, version = key.split(":")[2], key.split(":")[3]
        assert int(version) == db.get(Visit, uuid.UUID(visit_id)).version
    # Accepting again changes nothing and sends nothing.
    with pytest.raises(Invalid):
        runs.accept_proposal(db, coord, replan.id)
    # The SMS of a visit is keyed by its version: telling again makes no new row.
    visit = next(db.get(Visit, v) for v in mine if db.get(Visit, v).aide_id is not None)
    count = db.scalar(select(func.count()).select_from(Message))
    runs.tell(db, coord, visit)
    assert db.scalar(select(func.count()).select_from(Message)) == count
    # The household with a phone and consent hears it in Dutch.
    mine_household = [
        m
        for m in db.scalars(select(Message).where(Message.key.like("homecare:%")))
        if m.body.startswith("OCMW thuishulp")
    ]
    ours = [db.get(Visit, v) for v in mine if db.get(Visit, v).beneficiary_id == household.id]
    if ours and ours[0].aide_id is not None:
        assert mine_household


def test_a_proposal_is_refused_when_a_visit_changed_meanwhile(db, coord, sessions):
    _fast(db, runs.request_plan(db, coord, WEEK))
    _run_job(sessions)
    db.expire_all()
    visits = [v for v in _planned(db, coord.team_id) if v.aide_id is not None]
    ill = db.get(accounts.User, visits[0].aide_id)
    replan = runs.request_replan(db, coord, ill.id, visits[0].day, 1)
    replan.seconds = 2
    db.commit()
    _run_job(sessions)
    db.expire_all()
    _, lines = runs.proposal(db, coord, replan.id)
    visit = db.get(Visit, uuid.UUID(lines[0].visit_id))
    board.change_visit(
        db,
        coord,
        visit.id,
        aide_id=visit.aide_id,
        start=clock.as_utc(visit.planned_start) + timedelta(minutes=5),
        version=visit.version,
        confirmed=True,
    )
    count = db.scalar(select(func.count()).select_from(Message))
    with pytest.raises(Conflict):
        runs.accept_proposal(db, coord, replan.id)
    assert db.scalar(select(func.count()).select_from(Message)) == count
    assert db.get(PlanningRun, replan.id).accepted_at is None


def test_the_board_shows_rows_by_aide_and_unassigned_with_reasons(db, coord, sessions):
    _fast(db, runs.request_plan(db, coord, WEEK))
    _run_job(sessions)
    db.expire_all()
    week = board.week_board(db, coord, WEEK + timedelta(days=3))
    assert week.week == WEEK and len(week.days) == 7
    assert {row.name for row in week.rows} >= {"Fatima El Amrani", "Els Wouters"}
    assert sum(len(items) for row in week.rows for items in row.days.values()) > 0
    assert all(item.reason for item in week.unassigned)
    assert week.run is not None and week.run.status == "done"


def test_the_re_plan_keeps_the_time_and_a_known_aide_first(db, frozen):
    """A small team: the ill aide's visit goes to the aide the household knows, at the
    same minute, though a stranger nearer is free too; the other visits do not move."""
    team = Team(
        code="hc-replan",
        name="SAF re-plan",
        kind="home_care",
        city="Bruxelles",
        cpas_id=organisations.get_cpas(db, "bruxelles").id,
    )
    db.add(team)
    db.flush()

    coordinator = staff_member(db, "hc-r-coord", Role.COORDINATOR, team.code)
    aides = {}
    for name, lat in (("hc-r-ill", 50.868), ("hc-r-known", 50.8705), ("hc-r-near", 50.8681)):
        aides[name] = staff_member(db, name, Role.AIDE, team.code)
        services.set_aide_profile(
            db,
            coordinator,
            aides[name].id,
            services.AideFields(
                contract_minutes=38 * 60,
                working_hours=[(day, "08:00", "17:00") for day in range(5)],
                home_latitude=lat,
                home_longitude=4.37,
                transport_mode="bike",
            ),
        )
        services.set_qualification(db, coordinator, aides[name].id, "personal_care", None)
    household = services.create_beneficiary(
        db,
        coordinator,
        team.id,
        BeneficiaryFields(
            name="Madame Connue",
            address="Rue Gallait 10",
            postcode="1030",
            city="Schaerbeek",
            latitude=50.868,
            longitude=4.376,
        ),
    )
    plan = services.create_care_plan(
        db,
        coordinator,
        household.id,
        PlanFields(
            service="family_aide",
            weekdays=[1, 3],
            window_start=time(9),
            window_end=time(12),
            tolerance_minutes=0,
            duration_minutes=60,
            starts_on=WEEK - timedelta(days=13),
            skills=["personal_care"],
            preferred_aide_ids=[aides["hc-r-known"].id],
        ),
    )
    generation.generate_week(db, team.id, WEEK)
    visits = {v.day: v for v in db.scalars(select(Visit).where(Visit.plan_id == plan.id))}
    tuesday, thursday = visits[WEEK + timedelta(days=1)], visits[WEEK + timedelta(days=3)]
    tuesday.aide_id = aides["hc-r-ill"].id
    tuesday.planned_start = clock.as_utc(tuesday.earliest_start) + timedelta(minutes=60)
    thursday.aide_id = aides["hc-r-known"].id
    thursday.planned_start = clock.as_utc(thursday.earliest_start)
    db.flush()
    run = runs.request_replan(db, coordinator, aides["hc-r-ill"].id, WEEK + timedelta(days=1), 1)
    runs.claim(db)
    run.seconds = 2
    runs.execute(db, run)
    assert run.status == "done"
    (change,) = run.result["changes"]
    assert change["new_aide"] == aides["hc-r-known"].id
    assert change["new_start"] == change["old_start"]
    runs.accept_proposal(db, coordinator, run.id)
    assert tuesday.aide_id == aides["hc-r-known"].id
    assert clock.as_utc(tuesday.planned_start) == clock.as_utc(tuesday.earliest_start) + timedelta(
        minutes=60
    )
    assert thursday.aide_id == aides["hc-r-known"].id  # untouched
    assert clock.as_utc(thursday.planned_start) == clock.as_utc(thursday.earliest_start)


# --- A manual change tells, a past visit links to "mark done" -------------------------


def _keys(db) -> set[str]:
    return set(db.scalars(select(Message.key).where(Message.key.like("homecare:%"))))


def test_a_manual_change_tells_the_household_and_the_aides_once(db, coord):
    household = _household_with_phone(db, coord, _first_visit(db, coord.team_id))
    services.create_care_plan(
        db,
        coord,
        household.id,
        PlanFields(
            service="home_help",
            weekdays=[1],
            window_start=time(10),
            window_end=time(12),
            tolerance_minutes=30,
            duration_minutes=60,
            starts_on=WEEK - timedelta(days=13),
            skills=["household"],
        ),
    )
    generation.generate_week(db, coord.team_id, WEEK)
    visit = _first_visit(db, coord.team_id, beneficiary_id=household.id)
    aide1, aide2 = _aide(db, "aide1"), _aide(db, "aide2")
    start = clock.as_utc(visit.earliest_start) + timedelta(minutes=30)
    before = _keys(db)

    def change(aide, at):
        board.change_visit(
            db, coord, visit.id, aide_id=aide.id, start=at, version=visit.version, confirmed=True
        )
        db.flush()
        return _keys(db) - before

    first = change(aide1, start)
    key = f"homecare:visit-changed:{visit.id}:{visit.version}"
    assert key in first  # the household, in Dutch, with its consent
    body = db.scalar(select(Message.body).where(Message.key == key))
    assert body.startswith("OCMW thuishulp")
    # Saved again with nothing changed: nothing more is sent.
    assert change(aide1, start) == first
    # Given to another aide: the household and the new aide hear it, the former one too.
    second = change(aide2, start) - first
    key = f"homecare:visit-changed:{visit.id}:{visit.version}"
    assert key in second
    assert all(k.startswith(key) for k in second)
    if contact_for_user(db, aide1.id) is not None:
        assert f"{key}:was-aide" in second
    # A stale version sends nothing.
    count = db.scalar(select(func.count()).select_from(Message))
    with pytest.raises(Conflict):
        board.change_visit(
            db, coord, visit.id, aide_id=aide1.id, start=start, version=1, confirmed=True
        )
    assert db.scalar(select(func.count()).select_from(Message)) == count


def test_a_past_visit_on_the_board_is_one_to_mark_done(db, coord, frozen):
    aide1 = _aide(db, "aide1")
    visit = _first_visit(db, coord.team_id)
    start = clock.as_utc(visit.earliest_start) + timedelta(minutes=10)
    board.change_visit(
        db, coord, visit.id, aide_id=aide1.id, start=start, version=visit.version, confirmed=True
    )
    db.flush()

    def item():
        row = next(r for r in board.week_board(db, coord, WEEK).rows if r.user_id == aide1.id)
        return next(i for i in row.days[visit.day] if i.id == visit.id)

    assert not item().past
    frozen.advance(seconds=(start - clock.now()).total_seconds() + visit.duration_minutes * 60)
    assert item().past


def test_an_absence_over_two_weeks_replans_both(db, coord):
    ill = _aide(db, "aide2")
    friday = WEEK + timedelta(days=4)
    first = runs.request_replan(db, coord, ill.id, friday, 4)  # Friday to Monday
    queued = list(
        db.scalars(
            select(PlanningRun)
            .where(PlanningRun.team_id == coord.team_id, PlanningRun.kind == "replan")
            .order_by(PlanningRun.week)
        )
    )
    assert [r.week for r in queued] == [WEEK, WEEK + timedelta(days=7)]
    assert first.id == queued[0].id
    assert queued[0].params == queued[1].params
    # A week already being planned refuses the whole request: no absence, no run.
    db.commit()
    absences = db.scalar(select(func.count()).where(AgentAbsence.user_id == ill.id))
    with pytest.raises(Invalid):
        runs.request_replan(db, coord, ill.id, friday - timedelta(days=7), 4)
    db.rollback()
    assert db.scalar(select(func.count()).where(AgentAbsence.user_id == ill.id)) == absences


# --- Two aides at once (transfers) -------------------------------------------------------


def test_a_two_aide_plan_is_planned_with_two_aides_at_one_start(db, coord):
    household = _household_with_phone(db, coord, _first_visit(db, coord.team_id))
    fields = PlanFields(
        service="family_aide",
        weekdays=[2],
        window_start=time(10),
        window_end=time(12),
        tolerance_minutes=30,
        duration_minutes=45,
        starts_on=WEEK - timedelta(days=13),
        skills=["personal_care"],
        aides=2,
    )
    plan = services.create_care_plan(db, coord, household.id, fields)
    generation.generate_week(db, coord.team_id, WEEK)
    visit = _first_visit(db, coord.team_id, plan_id=plan.id)
    assert visit.aides == 2
    result = planning.plan_week(db, coord.team_id, WEEK, seconds=3)
    assert not result.violations
    db.refresh(visit)
    if visit.aide_id is None:
        assert visit.second_aide_id is None and visit.unassigned_reason
        return
    assert visit.second_aide_id not in (None, visit.aide_id)
    # The board shows it on both aides' rows, each naming the other; both hours count.
    week = board.week_board(db, coord, WEEK)
    cards = [
        (row.user_id, item)
        for row in week.rows
        for item in row.days.get(visit.day, [])
        if item.id == visit.id
    ]
    assert {aide for aide, _ in cards} == {visit.aide_id, visit.second_aide_id}
    assert all(item.second_aide for _, item in cards)
    # Moving it checks both aides, and the first aide cannot also be the second.
    with pytest.raises(Invalid) as raised:
        board.change_visit(
            db,
            coord,
            visit.id,
            aide_id=visit.second_aide_id,
            start=visit.planned_start,
            version=visit.version,
            confirmed=True,
        )
    assert raised.value.errors["aide_id"].code == "same_aide_twice"
    # Back to one aide: the visits follow, the second aide is let go.
    services.update_care_plan(db, coord, plan.id, replace(fields, aides=1))
    db.refresh(visit)
    assert visit.aides == 1 and visit.second_aide_id is None


def test_a_plan_needs_one_or_two_aides(db, coord):
    household = _first_visit(db, coord.team_id).beneficiary_id
    with pytest.raises(Invalid) as raised:
        services.create_care_plan(
            db,
            coord,
            household,
            PlanFields(
                service="family_aide",
                weekdays=[2],
                window_start=time(10),
                window_end=time(12),
                duration_minutes=45,
                starts_on=WEEK - timedelta(days=13),
                aides=3,
            ),
        )
    assert raised.value.errors["aides"].code == "aides_one_or_two"


def test_an_ill_aide_of_a_transfer_is_replaced_in_her_half_only(db, coord):
    household = _household_with_phone(db, coord, _first_visit(db, coord.team_id))
    plan = services.create_care_plan(
        db,
        coord,
        household.id,
        PlanFields(
            service="family_aide",
            weekdays=[2],
            window_start=time(10),
            window_end=time(12),
            tolerance_minutes=30,
            duration_minutes=45,
            starts_on=WEEK - timedelta(days=13),
            skills=["personal_care"],
            aides=2,
        ),
    )
    generation.generate_week(db, coord.team_id, WEEK)
    planning.plan_week(db, coord.team_id, WEEK, seconds=3)
    visit = _first_visit(db, coord.team_id, plan_id=plan.id)
    if visit.second_aide_id is None:
        pytest.skip("the planner left the transfer out this time")
    first, ill, start = visit.aide_id, visit.second_aide_id, visit.planned_start
    run = runs.request_replan(db, coord, ill, visit.day, 1)
    run.seconds = 2
    run.result, run.status = runs.propose(db, run), "done"
    change = next(c for c in run.result["changes"] if c["visit"] == str(visit.id))
    assert change["slot"] == "second" and change["old_aide"] == ill
    runs.accept_proposal(db, coord, run.id)
    db.refresh(visit)
    if change["new_aide"] is None:
        assert visit.aide_id is None and visit.second_aide_id is None
    else:
        assert visit.aide_id == first and visit.second_aide_id not in (None, first, ill)
        assert clock.as_utc(visit.planned_start) == clock.as_utc(start)
