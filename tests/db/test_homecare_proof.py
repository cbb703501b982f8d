# ruff: noqa: F811 - the fixtures of tests/db/homecare_phone_world.py, imported by name
"""Proof of a visit on the aide's phone (issue 18): the household's card (code and QR,
rotated), the proof each service asks for, the phone's clock measured at send time,
and the reason asked for an over- or under-run. A report is never refused for any of
it: it is kept, unverified or flagged, with its reason."""

from __future__ import annotations

import uuid
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock, organisations, sync
from core.accounts import Team
from core.errors import Invalid
from core.roles import Role
from homecare import cards
from homecare.calendar import local_moment
from homecare.models import ProofCard, ProofRule, Visit, VisitReport
from notifications import services as notify
from tests.db.homecare_phone_world import (  # noqa: F401 - fixtures
    MONDAY,
    NOW,
    VISIT_OPS_NOW,
    _assign,
    _at,
    _full_report,
    _op,
    mine,
    people,
    team,
    visits,
)
from tests.support import staff_member


def _code_rule(db: Session, team: Team) -> None:
    db.add(ProofRule(team_id=team.id, service="family_aide", mode="code", radius_m=150))
    db.commit()


def _report(db: Session, aide, visit: Visit, code: str | None, **extra) -> dict:
    report_id = str(uuid.uuid4())
    checkin = {"id": report_id, "visit_id": str(visit.id), "at": _at(9, 5)}
    if code is not None:
        checkin["code"] = code
    ops = [_op("checkin", checkin), _op("report", _full_report(visit, report_id, **extra))]
    with clock.frozen(VISIT_OPS_NOW):
        answers = sync.apply_batch(db, aide, ops)
    assert [answer["status"] for answer in answers] == ["applied", "applied"]
    return answers[-1]["record"]


def test_the_households_current_code_proves_the_visit(db, people, visits, mine, team):
    _code_rule(db, team)
    with clock.frozen(NOW):
        card = cards.issue_card(db, people["coord"], mine.beneficiary_id)
        db.commit()
    assert len(card.code) == 6 and set(card.code) <= set(cards.CODE_ALPHABET)
    typed = f" {card.code[:3].lower()}-{card.code[3:]} "  # as an aide may type it
    record = _report(db, people["a"], mine, typed)
    assert record["verified"] is True and record["unverified_reason"] is None
    assert record["proof"] == "code"
    db.refresh(mine)
    assert mine.status == "done"


def test_an_old_a_foreign_a_wrong_or_no_code_keeps_the_report_unverified(
    db, people, visits, mine, team
):
    _code_rule(db, team)
    other = visits["two-2026-11-30"].beneficiary_id
    with clock.frozen(NOW):
        old = cards.issue_card(db, people["coord"], mine.beneficiary_id).code
        db.commit()
        new = cards.issue_card(db, people["coord"], mine.beneficiary_id).code
        foreign = cards.issue_card(db, people["coord"], other).code
        db.commit()
    assert old != new
    reasons = {}
    for given in (old, foreign, "ZZZZZZ", None):
        record = _report(db, people["a"], mine, given)
        assert record["verified"] is False
        reasons[given] = record["unverified_reason"]
    assert reasons == {
        old: "old_code",  # a replayed code: the card was replaced
        foreign: "foreign_code",
        "ZZZZZZ": "wrong_code",
        None: "no_code",
    }
    assert db.scalar(select(func.count()).select_from(VisitReport)) == 4  # none lost
    db.refresh(mine)
    assert mine.status == "planned"  # not counted until the coordinator reviews
    # One current card per household; the old one is kept as replaced.
    rows = db.scalars(select(ProofCard).where(ProofCard.beneficiary_id == mine.beneficiary_id))
    assert sorted(card.replaced_at is None for card in rows) == [False, True]


def test_a_household_without_a_card_says_so(db, people, mine, team):
    _code_rule(db, team)
    assert _report(db, people["a"], mine, "ACDEFG")["unverified_reason"] == "no_card"


def test_gps_fixes_outside_the_radius_through_the_taps(db, people, mine, team):
    db.add(ProofRule(team_id=team.id, service="family_aide", mode="gps", radius_m=100))
    db.commit()
    report_id = str(uuid.uuid4())
    base = {"id": report_id, "visit_id": str(mine.id)}
    ops = [
        _op("checkin", {**base, "at": _at(9, 5), "latitude": 50.868, "longitude": 4.376}),
        _op("checkout", {**base, "at": _at(11, 10), "latitude": 50.875, "longitude": 4.376}),
    ]
    with clock.frozen(VISIT_OPS_NOW):
        answers = sync.apply_batch(db, people["a"], ops)
    assert answers[-1]["record"]["unverified_reason"] == "outside_radius"  # ~780 m away


def test_only_the_households_coordinator_makes_its_card(db, people, mine):
    other_team = Team(
        code="hc-other",
        name="SAF ailleurs",
        kind="home_care",
        city="Liège",
        cpas_id=organisations.get_cpas(db, "bruxelles").id,
    )
    db.add(other_team)
    db.flush()
    stranger = staff_member(db, "other-coord", Role.COORDINATOR, other_team.code)
    for user in (stranger, people["a"]):
        with pytest.raises(Invalid) as caught:
            cards.issue_card(db, user, mine.beneficiary_id)
        assert caught.value.errors["beneficiary_id"].code == "unknown_beneficiary"
        with pytest.raises(Invalid):
            cards.card_of(db, user, mine.beneficiary_id)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(ProofCard)) == 0


def test_the_qr_holds_the_code(db):
    svg = cards.qr_svg("ACD3FG")
    assert svg.startswith("<svg") and "ACD3FG" in svg  # its title: the code, nothing else


# --- The proof each service asks for -------------------------------------------------------


def test_the_rule_form_checks_its_fields(db, people, team):
    coord = people["coord"]
    bad = {
        cards.RuleFields("family_aide", "gps", None): {"radius_m": "required"},
        cards.RuleFields("family_aide", "gps", 5): {"radius_m": "out_of_range"},
        cards.RuleFields("family_aide", "selfie", None): {"mode": "unknown_choice"},
        cards.RuleFields("gardening", "none", None): {"service": "unknown_choice"},
    }
    for fields, errors in bad.items():
        with pytest.raises(Invalid) as caught:
            cards.set_rule(db, coord, team.id, fields)
        assert {name: error.code for name, error in caught.value.errors.items()} == errors
    cards.set_rule(db, coord, team.id, cards.RuleFields("family_aide", "gps", 250))
    cards.set_rule(db, coord, team.id, cards.RuleFields("home_help", "code", None))
    db.commit()
    rules = cards.rules_of(db, coord, team.id)
    assert (rules["family_aide"].mode, rules["family_aide"].radius_m) == ("gps", 250)
    assert rules["home_help"].mode == "code" and rules["night_care"].mode == "none"
    with pytest.raises(Invalid):
        cards.set_rule(db, people["a"], team.id, cards.RuleFields("family_aide", "none", None))


# --- The phone's clock ---------------------------------------------------------------------


def _batch(db, aide, visit: Visit, client_time: str | None, **report) -> dict:
    report_id = str(uuid.uuid4())
    with clock.frozen(VISIT_OPS_NOW):
        answer = sync.apply_batch(
            db, aide, [_op("report", _full_report(visit, report_id, **report))], client_time
        )[0]
    assert answer["status"] == "applied"
    return answer["record"]


def test_a_phone_clock_two_hours_off_is_flagged_not_refused(db, people, mine):
    a = people["a"]
    ahead = (VISIT_OPS_NOW + timedelta(hours=2)).isoformat()
    record = _batch(db, a, mine, ahead)
    assert record["clock_offset_s"] == 7200
    assert record["time_flag"] == "clock_offset"
    assert record["verified"] is False and record["unverified_reason"] == "clock_offset"
    db.refresh(mine)
    assert mine.status == "planned"  # its times do not count as they are
    behind = (VISIT_OPS_NOW - timedelta(hours=2)).isoformat()
    assert _batch(db, a, mine, behind)["clock_offset_s"] == -7200
    on_time = (VISIT_OPS_NOW + timedelta(seconds=40)).isoformat()
    fine = _batch(db, a, mine, on_time)
    assert (fine["clock_offset_s"], fine["time_flag"], fine["verified"]) == (40, None, True)
    # An older phone says nothing: nothing measured, nothing flagged.
    old = _batch(db, a, mine, None)
    assert old["clock_offset_s"] is None and old["time_flag"] is None
    # Not a time: ignored, the ops still applied.
    assert _batch(db, a, mine, "yesterday")["clock_offset_s"] is None


def test_times_in_the_future_or_before_the_visit_day_are_kept_and_flagged(db, people, mine):
    a = people["a"]
    future = _batch(db, a, mine, None, arrived_at=_at(13), left_at=_at(15))  # now is 13:00 local
    assert future["time_flag"] == "in_future" and future["verified"] is False
    sunday = local_moment(MONDAY - timedelta(days=1), time(9)).isoformat()
    sunday_end = local_moment(MONDAY - timedelta(days=1), time(11)).isoformat()
    early = _batch(db, a, mine, None, arrived_at=sunday, left_at=sunday_end)
    assert early["time_flag"] == "before_visit_day"
    assert db.scalar(select(func.count()).select_from(VisitReport)) == 2


# --- Over- and under-runs ------------------------------------------------------------------


def test_a_visit_15_minutes_off_without_a_reason_is_kept_marked_reason_missing(db, people, mine):
    a = people["a"]
    short = _batch(db, a, mine, None, arrived_at=_at(9), left_at=_at(10))  # 60 of 120 min
    assert short["variance_minutes"] == -60
    assert short["reason_missing"] is True and short["verified"] is True
    given = _batch(
        db,
        a,
        mine,
        None,
        arrived_at=_at(9),
        left_at=_at(11, 30),
        variance_reason="care_needed",
        variance_note="Chute, attendu le médecin",
    )
    assert given["variance_minutes"] == 30 and given["reason_missing"] is False
    assert given["variance_note"] == "Chute, attendu le médecin"
    within = _batch(db, a, mine, None, arrived_at=_at(9), left_at=_at(10, 50))  # 10 min short
    assert within["variance_minutes"] is None and within["reason_missing"] is False
    with clock.frozen(VISIT_OPS_NOW):
        refused = sync.apply_batch(
            db, a, [_op("report", _full_report(mine, str(uuid.uuid4()), variance_reason="bored"))]
        )[0]
    assert refused["errors"]["variance_reason"]["code"] == "unknown_choice"


# --- What the phone downloads --------------------------------------------------------------


def test_the_feed_says_what_changed_the_last_note_the_proof_and_the_coordinators_phone(
    db, people, visits, team
):
    coord, a = people["coord"], people["a"]
    notify.create_contact(
        db,
        actor=None,
        display_name="Coord",
        language="fr",
        phones=["0470 12 34 56"],
        user_id=coord.id,
    )
    db.commit()
    _code_rule(db, team)
    monday, tuesday = visits["one-2026-11-30"], visits["one-2026-12-01"]
    other = visits["two-2026-12-01"]
    with clock.frozen(NOW):
        _assign(db, monday, a, coord)
    # Monday's report, with its note, reaches the server.
    _batch(db, a, monday, None, note="Frigo presque vide")
    with clock.frozen(NOW):
        _assign(db, tuesday, a, coord)
        _assign(db, other, a, coord)
        first = sync.read_changes(db, a, None)
    record = {c.id: c.record for c in first.changes}
    assert record[str(tuesday.id)]["changed"] is False  # a first download compares nothing
    assert record[str(tuesday.id)]["previous_note"] == {
        "day": "2026-11-30",
        "note": "Frigo presque vide",
    }
    assert record[str(tuesday.id)]["proof"]["mode"] == "code"
    household = record[str(tuesday.beneficiary_id)]
    assert household["coordinator_phones"] == ["+32470123456"]
    with clock.frozen(NOW):
        tuesday.planned_start = local_moment(tuesday.day, time(10))
        sync.stamp(db, tuesday, sync.team_scope(team.id), coord, None)
        db.commit()
        later = sync.read_changes(db, a, first.token)
    changed = {c.id: c.record for c in later.changes if c.record}
    assert changed[str(tuesday.id)]["changed"] is True
    assert str(other.id) not in changed  # untouched: not sent again


# --- Concurrency (real commits, PostgreSQL) ------------------------------------------------


THREADS = 6


def test_new_cards_made_at_once_leave_one_current_card():
    """Six new cards for one household at the same moment: the household's row lock
    orders them, the second replaces the first; never two current cards."""
    import threading

    from core import accounts
    from core.db import make_engine, make_session_factory
    from homecare.models import Beneficiary
    from tests.support import demo_template, own_database, postgres_url

    if postgres_url() is None:
        pytest.skip("row locks are proven on PostgreSQL (TEST_DATABASE_URL)")
    with own_database("hccard", template=demo_template()) as url:
        engine = make_engine(url, pool_size=THREADS + 2)
        sessions = make_session_factory(engine)
        try:
            with sessions() as session:
                coordinator = accounts.find_user(session, "coordination")
                household = session.scalars(
                    select(Beneficiary.id)
                    .where(Beneficiary.team_id == coordinator.team_id)
                    .order_by(Beneficiary.id)
                ).first()
            barrier = threading.Barrier(THREADS, timeout=10)
            failures: list[BaseException] = []

            def issue() -> None:
                with sessions() as session:
                    user = accounts.find_user(session, "coordination")
                    barrier.wait()
                    try:
                        cards.issue_card(session, user, household)
                        session.commit()
                    except BaseException as error:  # reported below
                        failures.append(error)

            threads = [threading.Thread(target=issue) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert failures == []
            with sessions() as session:
                rows = list(
                    session.scalars(select(ProofCard).where(ProofCard.beneficiary_id == household))
                )
            assert len(rows) == THREADS
            assert sum(card.replaced_at is None for card in rows) == 1
        finally:
            engine.dispose()
