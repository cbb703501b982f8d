"""Open visits and timesheets (issue 18): an uncovered visit offered to the aides who
could take it, taken by the first to accept (exactly once, also on PostgreSQL with
acceptances at the same moment), withdrawn by the coordinator; the aide's timesheet
signed with her password, changed after signing when a visit is corrected."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from threading import Barrier

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts, audit, clock, organisations, sync
from core.accounts import Team
from core.errors import Invalid
from core.roles import Role
from homecare import generation, hours, offers, services, timesheets
from homecare.calendar import local_moment
from homecare.models import Timesheet, Visit, VisitOffer
from homecare.services import AideFields, BeneficiaryFields, PlanFields
from notifications.models import Message

NOW = datetime(2026, 11, 30, 7, tzinfo=UTC)  # a Monday morning, 08:00 in Brussels
MONDAY = date(2026, 11, 30)
PASSWORD = "demo-password-1234"
SECRET = "test-secret"


def _team(db: Session, code: str, cpas: str) -> Team:
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


def _user(db: Session, name: str, role: Role, team: Team) -> accounts.User:
    return accounts.create_user(
        db,
        username=name,
        display_name=name,
        password=PASSWORD,
        role=role,
        team=team,
        check_password=False,
    )


HOMES = {"a": (50.866, 4.374), "b": (50.870, 4.380), "c": (50.860, 4.370), "d": (50.862, 4.372)}


@pytest.fixture()
def team(db: Session) -> Team:
    return _team(db, "hc-open", "bruxelles")


@pytest.fixture()
def people(db: Session, team: Team) -> dict[str, accounts.User]:
    coord = _user(db, "open-coord", Role.COORDINATOR, team)
    found = {"coord": coord}
    for key in ("a", "b", "c", "d"):
        aide = found[key] = _user(db, f"open-aide-{key}", Role.AIDE, team)
        services.set_aide_profile(
            db,
            coord,
            aide.id,
            AideFields(
                contract_minutes=38 * 60,
                working_hours=[(day, "08:00", "17:00") for day in range(5)],
                home_latitude=HOMES[key][0],
                home_longitude=HOMES[key][1],
                transport_mode="bike",
            ),
        )
        if key != "c":  # c lacks the skill
            services.set_qualification(db, coord, aide.id, "personal_care", None)
    db.flush()
    return found


@pytest.fixture()
def visit(db: Session, team: Team, people) -> Visit:
    """Tuesday 1 December 14:00-15:00 at Madame Une's, left without an aide."""
    coord = people["coord"]
    household = services.create_beneficiary(
        db,
        coord,
        team.id,
        BeneficiaryFields(
            name="Madame Une",
            address="Rue Gallait 10",
            postcode="1030",
            city="Schaerbeek",
            latitude=50.868,
            longitude=4.376,
            phones=["+32470123456"],
            consents=["service_change"],
        ),
    )
    plan = services.create_care_plan(
        db,
        coord,
        household.id,
        PlanFields(
            service="family_aide",
            weekdays=[1],
            window_start=time(14),
            window_end=time(15),
            tolerance_minutes=0,
            duration_minutes=60,
            starts_on=date(2026, 1, 1),
            tasks=["Toilette"],
            skills=["personal_care"],
        ),
    )
    with clock.frozen(NOW):
        generation.generate_week(db, team.id, MONDAY)
    found = db.scalar(select(Visit).where(Visit.plan_id == plan.id))
    assert found is not None and found.aide_id is None
    db.commit()
    return found


def _accept_op(offer_id: object) -> sync.Op:
    return sync.Op(uuid.uuid4(), "homecare.visit.accept_offer", {"offer_id": str(offer_id)})


def _codes(answer: dict) -> dict[str, str]:
    return {name: error["code"] for name, error in answer.get("errors", {}).items()}


def _feed(db: Session, user: accounts.User, token: str | None = None):
    return sync.read_changes(db, user, token)


def _offers_in(page) -> dict[str, dict | None]:
    return {c.id: c.record for c in page.changes if c.type == "homecare.offer"}


def test_the_aides_who_could_take_it_are_the_qualified_free_present_ones(db, people, visit):
    coord, a, b, c, d = (people[k] for k in ("coord", "a", "b", "c", "d"))
    with clock.frozen(NOW):
        # b has another visit at that time; d is ill that day; c lacks the skill.
        other = db.scalar(select(Visit).where(Visit.id != visit.id, Visit.team_id == visit.team_id))
        assert other is None  # only one plan: make b busy with a copy of the visit's slot
        services.record_absence(
            db,
            coord,
            d.id,
            starts_at=local_moment(date(2026, 12, 1), time(0)),
            ends_at=local_moment(date(2026, 12, 2), time(0)),
            reason="illness",
        )
        busy = Visit(
            id=uuid.uuid4(),
            team_id=visit.team_id,
            plan_id=visit.plan_id,
            beneficiary_id=visit.beneficiary_id,
            scheduled_on=date(2025, 1, 1),
            day=visit.day,
            earliest_start=visit.earliest_start,
            latest_start=visit.latest_start,
            duration_minutes=60,
            status="planned",
            aide_id=b.id,
            planned_start=visit.earliest_start,
        )
        db.add(busy)
        sync.stamp(db, busy, sync.team_scope(visit.team_id), coord, None)
        db.flush()
        found = {cand.aide_id: cand for cand in offers.candidates(db, visit)}
    assert found[a.id].fits and found[a.id].travel_minutes is not None
    assert found[a.id].travel_minutes > 0  # home, there and home again by bike
    assert found[b.id].reasons == ("overlap",)
    assert found[c.id].reasons == ("missing_skill",)
    assert found[d.id].reasons == ("aide_absent",)


def test_offered_taken_once_the_others_told_and_the_visit_in_the_winners_feed(db, people, visit):
    coord, a, b, c = people["coord"], people["a"], people["b"], people["c"]
    with clock.frozen(NOW):
        offer = offers.make_offer(db, coord, visit.id, [a.id, b.id])
        first_a, first_b = _feed(db, a), _feed(db, b)
        assert _offers_in(first_a)[str(offer.id)]["travel_minutes"] is not None
        record = _offers_in(first_b)[str(offer.id)]
        assert record["address"] == "Rue Gallait 10" and "name" not in record
        assert str(offer.id) not in _offers_in(_feed(db, c))  # not offered to her
        assert [ch for ch in _feed(db, coord).changes if ch.type == "homecare.offer"] == []
        assert [o["id"] for o in offers.offers_for(db, a)] == [str(offer.id)]

        won = sync.apply_op(db, a, _accept_op(offer.id))
        lost = sync.apply_op(db, b, _accept_op(offer.id))
        later_b = _feed(db, b, first_b.token)
        later_a = _feed(db, a, first_a.token)
    assert won["status"] == "applied" and won["record"]["status"] == "taken"
    assert lost["status"] == "rejected" and _codes(lost) == {"offer_id": "offer_taken"}
    db.expire_all()
    assert db.get(Visit, visit.id).aide_id == a.id
    assert db.get(Visit, visit.id).planned_start == visit.earliest_start
    assert db.get(VisitOffer, offer.id).taken_by_id == a.id
    assert _offers_in(later_b) == {str(offer.id): None}  # gone from her phone
    assert ("homecare.visit", str(visit.id)) in {(ch.type, ch.id) for ch in later_a.changes}
    assert _offers_in(later_a) == {str(offer.id): None}
    version = db.get(Visit, visit.id).version
    key = f"homecare:visit-changed:{visit.id}:{version}"
    assert db.scalar(select(func.count()).select_from(Message).where(Message.key == key)) == 1
    entries = audit.search(db, audit.AuditFilter(entity_type="homecare_visit")).entries
    assert any(e.details.get("offer") == str(offer.id) for e in entries)


def test_withdrawn_offers_leave_the_feeds_and_refuse_an_acceptance(db, people, visit):
    coord, a = people["coord"], people["a"]
    with clock.frozen(NOW):
        offer = offers.make_offer(db, coord, visit.id, [a.id])
        with pytest.raises(Invalid) as again:
            offers.make_offer(db, coord, visit.id, [a.id])
        assert again.value.errors["visit_id"].code == "offer_already_open"
        first = _feed(db, a)
        offers.withdraw_offer(db, coord, offer.id)
        assert _offers_in(_feed(db, a, first.token)) == {str(offer.id): None}
        late = sync.apply_op(db, a, _accept_op(offer.id))
        with pytest.raises(Invalid) as twice:
            offers.withdraw_offer(db, coord, offer.id)
    assert _codes(late) == {"offer_id": "offer_withdrawn"}
    assert twice.value.errors["offer_id"].code == "offer_withdrawn"
    assert db.get(Visit, visit.id).aide_id is None


def test_a_visit_changed_on_the_board_after_the_offer_is_no_longer_offered(db, people, visit):
    coord, a, b = people["coord"], people["a"], people["b"]
    with clock.frozen(NOW):
        offer = offers.make_offer(db, coord, visit.id, [a.id, b.id])
        first = _feed(db, a)
        visit.aide_id, visit.planned_start = b.id, visit.earliest_start
        sync.stamp(db, visit, sync.team_scope(visit.team_id), coord, None)
        db.commit()
        assert _offers_in(_feed(db, a, first.token)) == {str(offer.id): None}
        answer = sync.apply_op(db, a, _accept_op(offer.id))
    assert _codes(answer) == {"offer_id": "offer_withdrawn"}
    assert db.get(Visit, visit.id).aide_id == b.id


def test_an_ill_aides_visit_can_be_offered_a_covered_one_cannot(db, people, visit):
    coord, a, b = people["coord"], people["a"], people["b"]
    with clock.frozen(NOW):
        visit.aide_id, visit.planned_start = b.id, visit.earliest_start
        sync.stamp(db, visit, sync.team_scope(visit.team_id), coord, None)
        db.commit()
        with pytest.raises(Invalid) as covered:
            offers.make_offer(db, coord, visit.id, [a.id])
        services.record_absence(
            db,
            coord,
            b.id,
            starts_at=local_moment(date(2026, 12, 1), time(0)),
            ends_at=local_moment(date(2026, 12, 2), time(0)),
            reason="illness",
        )
        db.commit()
        offer = offers.make_offer(db, coord, visit.id, [a.id])
        answer = sync.apply_op(db, a, _accept_op(offer.id))
    assert covered.value.errors["visit_id"].code == "visit_covered"
    assert answer["status"] == "applied"
    assert db.get(Visit, visit.id).aide_id == a.id
    # The ill aide is told the visit left her (keyed by the new version).
    version = db.get(Visit, visit.id).version
    assert db.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.key == f"homecare:visit-changed:{visit.id}:{version}:was-aide")
    ) in (0, 1)  # she has no staff phone here: nothing to send, nothing refused


def test_scope_bad_input_and_other_teams(db, people, visit):
    coord, a, c = people["coord"], people["a"], people["c"]
    other_cpas = _team(db, "hc-open-2", "charleroi")
    stranger = _user(db, "open-aide-x", Role.AIDE, other_cpas)
    foreign_coord = _user(db, "open-coord-x", Role.COORDINATOR, other_cpas)
    db.commit()
    with clock.frozen(NOW):
        with pytest.raises(Invalid) as unable:
            offers.make_offer(db, coord, visit.id, [c.id])  # lacks the skill
        with pytest.raises(Invalid) as nobody:
            offers.make_offer(db, coord, visit.id, [])
        with pytest.raises(Invalid) as foreign:
            offers.make_offer(db, foreign_coord, visit.id, [a.id])
        offer = offers.make_offer(db, coord, visit.id, [a.id])
        answers = {
            "not offered": sync.apply_op(db, c, _accept_op(offer.id)),
            "other team": sync.apply_op(db, stranger, _accept_op(offer.id)),
            "unknown": sync.apply_op(db, a, _accept_op(uuid.uuid4())),
            "coordinator": sync.apply_op(db, coord, _accept_op(offer.id)),
        }
        bad = sync.apply_op(
            db, a, sync.Op(uuid.uuid4(), "homecare.visit.accept_offer", {"offer_id": "x"})
        )
        with pytest.raises(Invalid) as foreign_withdraw:
            offers.withdraw_offer(db, foreign_coord, offer.id)
        assert _offers_in(_feed(db, stranger)) == {}
    assert unable.value.errors["aide_ids"].code == "aide_not_available"
    assert nobody.value.errors["aide_ids"].code == "no_aide_chosen"
    assert foreign.value.errors["visit_id"].code == "unknown_visit"
    assert foreign_withdraw.value.errors["offer_id"].code == "unknown_offer"
    for name in ("not offered", "other team", "unknown"):
        assert _codes(answers[name]) == {"offer_id": "unknown_offer"}, name
    assert _codes(answers["coordinator"]) == {"type": "not_allowed"}
    assert _codes(bad) == {"offer_id": "invalid_uuid"}
    assert db.get(VisitOffer, offer.id).status == "open"


def test_a_visit_started_or_far_ahead_is_not_offered(db, people, visit):
    coord, a = people["coord"], people["a"]
    tuesday_half_past_two = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    with clock.frozen(tuesday_half_past_two), pytest.raises(Invalid) as started:
        offers.make_offer(db, coord, visit.id, [a.id])
    with clock.frozen(NOW - timedelta(days=20)), pytest.raises(Invalid) as far:
        offers.make_offer(db, coord, visit.id, [a.id])
    assert started.value.errors["visit_id"].code == "visit_started"
    assert far.value.errors["visit_id"].code == "offer_too_far"


def test_an_offer_accepted_offline_after_the_visit_started_is_refused(db, people, visit):
    coord, a = people["coord"], people["a"]
    with clock.frozen(NOW):
        offer = offers.make_offer(db, coord, visit.id, [a.id])
    with clock.frozen(datetime(2026, 12, 1, 13, 5, tzinfo=UTC)):
        answer = sync.apply_op(db, a, _accept_op(offer.id))
        assert offers.offers_for(db, a) == []
    assert _codes(answer) == {"offer_id": "offer_withdrawn"}


# --- Timesheets --------------------------------------------------------------------------


def _done(db, coord, visit: Visit, aide, start: datetime, end: datetime, km=3.0) -> None:
    visit.aide_id, visit.planned_start = aide.id, start
    sync.stamp(db, visit, sync.team_scope(visit.team_id), coord, None)
    db.flush()
    hours.mark_done(db, coord, visit.id, visit.version, started_at=start, ended_at=end, km=km)
    db.commit()


def _sign(db, user, period, day, password=PASSWORD, digest=None):
    sheet = timesheets.own_sheet(db, user, period, day)
    return timesheets.sign_sheet(
        db,
        user,
        period,
        day,
        lines_hash=digest or sheet.lines_hash,
        password=password,
        secret=SECRET,
    )


def test_a_signed_timesheet_is_immutable_and_marked_changed_after_a_correction(db, people, visit):
    coord, a, b = people["coord"], people["a"], people["b"]
    start = local_moment(date(2026, 12, 1), time(14, 5))
    with clock.frozen(datetime(2026, 12, 7, 9, tzinfo=UTC)):
        _done(db, coord, visit, a, start, start + timedelta(minutes=55), km=4.26)
        sheet = timesheets.own_sheet(db, a, "week", date(2026, 12, 1))
        assert (sheet.first_day, sheet.last_day) == (MONDAY, date(2026, 12, 6))
        assert (sheet.visits, sheet.minutes, sheet.km, sheet.state) == (1, 55, 4.3, "unsigned")
        assert sheet.days[0].lines[0].start == "14:05"
        assert timesheets.own_sheet(db, b, "week", date(2026, 12, 1)).visits == 0
        signed = _sign(db, a, "week", date(2026, 12, 1))
        again = _sign(db, a, "week", date(2026, 12, 1))  # a double tap: one signature
        assert again.id == signed.id
        assert timesheets.own_sheet(db, a, "week", date(2026, 12, 1)).state == "signed"
        # The coordinator corrects the times: the sheet asks for a new signature.
        hours.mark_done(
            db,
            coord,
            visit.id,
            db.get(Visit, visit.id).version,
            started_at=start,
            ended_at=start + timedelta(minutes=70),
            km=4.26,
        )
        db.commit()
        changed = timesheets.own_sheet(db, a, "week", date(2026, 12, 1))
        assert changed.state == "changed" and changed.minutes == 70
        with pytest.raises(Invalid) as stale:
            _sign(db, a, "week", date(2026, 12, 1), digest=sheet.lines_hash)
        resigned = _sign(db, a, "week", date(2026, 12, 1))
    assert stale.value.errors["period"].code == "sheet_changed_meanwhile"
    assert resigned.id != signed.id and resigned.minutes == 70
    first = db.get(Timesheet, signed.id)
    assert first.minutes == 55 and first.lines[0]["minutes"] == 55  # kept as signed
    first.minutes = 1
    with pytest.raises(RuntimeError):
        db.flush()
    db.rollback()


def test_signing_needs_her_password_throttled_without_locking_her_login(db, people, visit):
    coord, a = people["coord"], people["a"]
    start = local_moment(date(2026, 12, 1), time(14))
    moment = datetime(2026, 12, 7, 9, tzinfo=UTC)
    with clock.frozen(moment):
        _done(db, coord, visit, a, start, start + timedelta(hours=1))
        codes = []
        for _ in range(5):
            with pytest.raises(Invalid) as wrong:
                _sign(db, a, "month", date(2026, 12, 1), password="not-her-password")
            codes.append(wrong.value.errors["password"].code)
        with pytest.raises(Invalid) as wait:
            _sign(db, a, "month", date(2026, 12, 1))  # even the right one waits now
        # Her login is not held by the signing failures.
        login = accounts.authenticate(
            db, username=a.username, password=PASSWORD, address="10.0.0.1", secret=SECRET
        )
        assert login.user is not None
        db.commit()
    assert codes == ["wrong_password"] * 5
    assert wait.value.errors["password"].code == "try_again_later"
    assert db.scalar(select(func.count()).select_from(Timesheet)) == 0
    with clock.frozen(moment + timedelta(minutes=10)):
        signed = _sign(db, a, "month", date(2026, 12, 1))
    assert signed.period == "month" and signed.first_day == date(2026, 12, 1)


def test_bad_periods_and_other_roles(db, people, visit):
    coord, a = people["coord"], people["a"]
    with clock.frozen(NOW):
        with pytest.raises(Invalid) as unknown:
            timesheets.own_sheet(db, a, "year", None)
        with pytest.raises(Invalid) as not_aide:
            timesheets.own_sheet(db, coord, "week", None)
        with pytest.raises(Invalid) as empty:
            _sign(db, a, "week", None)
        with pytest.raises(Invalid) as future:
            _sign(db, a, "month", date(2027, 1, 5))
    assert unknown.value.errors["period"].code == "unknown_choice"
    assert not_aide.value.errors["period"].code == "not_an_aide"
    assert empty.value.errors["period"].code == "nothing_to_sign"
    assert future.value.errors["period"].code == "period_not_started"


def test_month_boundary_and_the_dst_sunday_count_real_time(db, people, visit, team):
    coord, a = people["coord"], people["a"]
    # A night from Saturday 28 to Sunday 29 March 2026 (clocks go forward): 9 real hours,
    # in March's sheet and in the week ending that Sunday; a visit on 31 March 22:00 that
    # ends on 1 April counts in March.
    night = Visit(
        id=uuid.uuid4(),
        team_id=team.id,
        plan_id=visit.plan_id,
        beneficiary_id=visit.beneficiary_id,
        scheduled_on=date(2026, 3, 28),
        day=date(2026, 3, 28),
        earliest_start=local_moment(date(2026, 3, 28), time(21)),
        latest_start=local_moment(date(2026, 3, 28), time(21)),
        duration_minutes=600,
        status="planned",
    )
    late = Visit(
        id=uuid.uuid4(),
        team_id=team.id,
        plan_id=visit.plan_id,
        beneficiary_id=visit.beneficiary_id,
        scheduled_on=date(2026, 3, 31),
        day=date(2026, 3, 31),
        earliest_start=local_moment(date(2026, 3, 31), time(22)),
        latest_start=local_moment(date(2026, 3, 31), time(22)),
        duration_minutes=120,
        status="planned",
    )
    for record in (night, late):
        db.add(record)
        sync.stamp(db, record, sync.team_scope(team.id), coord, None)
    db.flush()
    with clock.frozen(datetime(2026, 4, 1, 8, tzinfo=UTC)):
        _done(
            db,
            coord,
            night,
            a,
            local_moment(date(2026, 3, 28), time(21)),
            local_moment(date(2026, 3, 29), time(7)),
        )
        _done(
            db,
            coord,
            late,
            a,
            local_moment(date(2026, 3, 31), time(22)),
            local_moment(date(2026, 4, 1), time(0)),
        )
        week = timesheets.own_sheet(db, a, "week", date(2026, 3, 29))
        march = timesheets.own_sheet(db, a, "month", date(2026, 3, 31))
        april = timesheets.own_sheet(db, a, "month", date(2026, 4, 1))
        _sign(db, a, "month", date(2026, 3, 1))
        states = timesheets.month_states(db, team.id, date(2026, 3, 1), [a.id, people["b"].id])
    assert (week.first_day, week.last_day, week.minutes) == (
        date(2026, 3, 23),
        date(2026, 3, 29),
        540,
    )
    assert (march.first_day, march.last_day, march.minutes) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        540 + 120,
    )
    assert april.visits == 0
    assert states == {a.id: "signed", people["b"].id: "unsigned"}


# --- Exactly once on PostgreSQL: acceptances at the same moment ----------------------------


def test_concurrent_acceptances_give_the_visit_to_exactly_one_aide():
    """Five aides accept the same offer together, each through the sync API's own code
    path (`sync.apply_op`, its own session and transaction): exactly one is applied, the
    others are rejected `offer_taken`; the visit has one aide and one version more."""
    from core.demo import seed as core_seed
    from homecare import demo as homecare_demo
    from tests.support import migrated_database, postgres_url

    if postgres_url() is None:
        pytest.skip("PostgreSQL only (SQLite has one writer at a time): set TEST_DATABASE_URL")

    with migrated_database("hcopen") as url:
        from core.db import make_engine, make_session_factory

        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=6)
        sessions = make_session_factory(engine)
        with sessions() as session:
            core_seed(session)
            session.flush()
            homecare_demo.seed(session)
            session.commit()
            offer = session.get(VisitOffer, homecare_demo.demo_id("example-offer"))
            assert offer is not None
            offered = [
                row.aide_id
                for row in session.scalars(
                    select(offers.VisitOfferAide).where(offers.VisitOfferAide.offer_id == offer.id)
                )
            ]
            version = session.get(Visit, offer.visit_id).version
        assert len(offered) >= 2
        barrier = Barrier(len(offered))

        def accept(aide_id: int) -> dict:
            with sessions() as session:
                aide = session.get(accounts.User, aide_id)
                assert aide is not None
                barrier.wait()
                return sync.apply_op(session, aide, _accept_op(offer.id))

        with ThreadPoolExecutor(max_workers=len(offered)) as pool:
            answers = list(pool.map(accept, offered))
        with sessions() as session:
            taken = session.get(VisitOffer, offer.id)
            given = session.get(Visit, offer.visit_id)
            winners = [
                a
                for a, answer in zip(offered, answers, strict=True)
                if answer["status"] == "applied"
            ]
            result = (taken.status, taken.taken_by_id, given.aide_id, given.version)
        engine.dispose()
    assert len(winners) == 1
    assert sorted(_codes(a).get("offer_id", "") for a in answers if a["status"] != "applied") == [
        "offer_taken"
    ] * (len(offered) - 1)
    assert result == ("taken", winners[0], winners[0], version + 1)
