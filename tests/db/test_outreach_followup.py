"""Street outreach follow-up (issue 8): maraudes, ETHOS, minors, referrals, consent and
identity, merges, retention, access, indicators, and bad input changing nothing."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts, audit, clock, organisations, sync
from core.accounts import Team
from core.errors import Invalid
from outreach import (
    access,
    identity,
    indicators,
    maraudes,
    merging,
    minors,
    referrals,
    retention,
    services,
)
from outreach.demo import demo_id
from outreach.models import (
    Encounter,
    MinorAlert,
    OutreachPurgeReport,
    Person,
    PersonIdentity,
    PersonMerge,
    Referral,
    ServicePartner,
)
from tests.db.outreach_world import local, meet
from tests.support import cpas_admin


def user(db: Session, username: str) -> accounts.User:
    found = accounts.find_user(db, username)
    assert found is not None
    return found


def op(type_: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": type_, "data": data, **extra}


def count(db: Session, model: Any, *where: Any) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def invalid_codes(call: Any) -> dict[str, str]:
    with pytest.raises(Invalid) as raised:
        call()
    return {name: error.code for name, error in raised.value.errors.items()}


# --- Maraudes ---------------------------------------------------------------------------


def test_a_maraude_started_and_ended_offline_applies_once_with_its_summary(db):
    rue1, rue2 = user(db, "rue1"), user(db, "rue2")
    maraude_id = str(uuid.uuid4())
    started = clock.now() - timedelta(hours=3)
    start = op(
        "outreach.maraude.start",
        {
            "id": maraude_id,
            "area": "Gare du Nord",
            "member_ids": [rue2.id],
            "started_at": local(started),
        },
        client_at=started.isoformat(),
    )
    answers = sync.apply_batch(db, rue1, [start, start])
    assert [a["status"] for a in answers] == ["applied", "duplicate"]
    assert answers[0]["record"]["member_ids"] == sorted([rue1.id, rue2.id])
    known = meet(db, rue1, maraude_id=maraude_id, occurred_at=local(started + timedelta(hours=1)))
    person = str(known.encounter.person_id)
    meet(db, rue1, maraude_id=maraude_id, person_id=person)
    meet(db, rue1, maraude_id=maraude_id, occurred_at=local(started + timedelta(hours=2)))
    end = op(
        "outreach.maraude.end",
        {
            "id": maraude_id,
            "ended_at": local(started + timedelta(hours=2, minutes=30)),
            "km": "5,5",
            "incidents": "Bagarre évitée près du quai 3.",
        },
    )
    answer = sync.apply_batch(db, rue1, [end])[0]
    assert answer["status"] == "applied", answer
    assert answer["record"]["summary"] == {
        "contacts": 3,
        "people": 2,
        "new_people": 2,
        "hours": 2.5,
    }
    assert answer["record"]["km"] == 5.5


def test_maraude_bad_input_is_rejected_and_changes_nothing(db):
    rue1 = user(db, "rue1")
    aide = user(db, "aide1")
    before = count(db, maraudes.Maraude)
    future = clock.now() + timedelta(hours=2)
    codes = invalid_codes(
        lambda: maraudes.read_start(
            {"id": "nope", "started_at": local(future), "member_ids": ["x"], "area": "x" * 500}
        )
    )
    assert codes == {
        "id": "invalid_uuid",
        "started_at": "in_future",
        "member_ids": "unknown_user",
        "area": "too_long",
    }
    entry = maraudes.read_start(
        {"id": str(uuid.uuid4()), "started_at": local(clock.now()), "member_ids": [aide.id]}
    )
    assert invalid_codes(lambda: maraudes.start(db, rue1, entry)) == {"member_ids": "unknown_user"}
    assert invalid_codes(
        lambda: maraudes.read_end(
            {"id": str(uuid.uuid4()), "ended_at": local(clock.now()), "km": 10_000}
        )
    ) == {"km": "out_of_range"}
    ended = maraudes.read_end(
        {"id": str(demo_id("m2")), "ended_at": local(clock.now() - timedelta(days=20))}
    )
    assert invalid_codes(lambda: maraudes.end(db, rue1, ended)) == {"ended_at": "before_start"}
    assert count(db, maraudes.Maraude) == before


# --- ETHOS and minors --------------------------------------------------------------------


def test_ethos_is_recorded_and_unknown_codes_are_refused(db):
    rue1 = user(db, "rue1")
    saved = meet(db, rue1, ethos="ethos_3")
    assert saved.encounter.ethos == "ethos_3"
    assert services.serialize_encounter(saved.encounter)["ethos"] == "ethos_3"
    assert meet(db, rue1).encounter.ethos == "unknown"
    assert invalid_codes(lambda: meet(db, rue1, ethos="ethos_14", needs=["wifi"])) == {
        "ethos": "unknown_choice",
        "needs": "unknown_choice",
    }


def test_an_encounter_with_a_minor_alerts_the_teams_protective_path(db):
    rue1, rue2, admin = user(db, "rue1"), user(db, "rue2"), cpas_admin(db)
    with pytest.raises(Invalid):
        minors.set_protective_path(db, rue1, rue1.team_id, {"user_ids": [rue2.id]})
    minors.set_protective_path(
        db, admin, rue1.team_id, {"user_ids": [rue2.id], "contact": "SAJ Bruxelles"}
    )
    assert meet(db, rue1).alert is None
    young = meet(db, rue1, age_band="under_18")
    assert young.alert is not None
    assert (young.alert.alert_user_ids, young.alert.alert_contact) == ([rue2.id], "SAJ Bruxelles")
    flagged = meet(db, rue1, age_band="18_25", minor=True)
    assert flagged.alert is not None and flagged.encounter.person.is_minor
    assert {a.id for a in minors.open_alerts(db, rue2)} >= {young.alert.id, flagged.alert.id}
    minors.acknowledge(db, rue2, young.alert.id)
    assert young.alert.id not in {a.id for a in minors.open_alerts(db, rue2)}
    entries = audit.search(db, audit.AuditFilter(entity_type="outreach_minor_alert")).entries
    assert {e.entity_id for e in entries} >= {str(young.alert.id), str(flagged.alert.id)}


# --- Referrals -------------------------------------------------------------------------


def partner(db: Session) -> ServicePartner:
    found = db.scalars(select(ServicePartner).where(ServicePartner.kind == "medical")).first()
    assert found is not None
    return found


def test_a_referral_moves_through_its_statuses_and_dates_first_engagement(db):
    rue1 = user(db, "rue1")
    person = meet(db, rue1, occurred_at=local(clock.now() - timedelta(days=3))).encounter.person
    proposed_at = local(clock.now() - timedelta(hours=2))
    referral = referrals.propose(
        db,
        rue1,
        person.id,
        {"need": "health", "partner_id": partner(db).id, "proposed_at": proposed_at},
    )
    assert referral.status == "proposed"
    assert referrals.first_engagement_at(db, person.id) is None
    accepted_at = clock.now() - timedelta(hours=1)
    referrals.move(db, rue1, referral.id, "accepted", {"at": local(accepted_at)})
    engaged = referrals.first_engagement_at(db, person.id)
    assert engaged is not None and abs((engaged - accepted_at).total_seconds()) < 1
    assert invalid_codes(lambda: referrals.move(db, rue1, referral.id, "proposed")) == {
        "status": "referral_transition"
    }
    referrals.move(db, rue1, referral.id, "done")
    assert (referral.status, referral.closed_by_id) == ("done", rue1.id)
    assert invalid_codes(lambda: referrals.move(db, rue1, referral.id, "not_done")) == {
        "status": "referral_transition"
    }


def test_referral_bad_input_changes_nothing(db):
    rue1 = user(db, "rue1")
    person_id = demo_id("momo")
    before = count(db, Referral)
    assert invalid_codes(lambda: referrals.propose(db, rue1, person_id, {"need": "wifi"})) == {
        "need": "unknown_choice",
        "destination": "one_destination",
    }
    assert invalid_codes(
        lambda: referrals.propose(
            db, rue1, person_id, {"need": "food", "partner_id": 999_999, "note": "x" * 5000}
        )
    ) == {"partner_id": "unknown_partner", "note": "too_long"}
    assert invalid_codes(
        lambda: referrals.propose(
            db,
            rue1,
            person_id,
            {"need": "food", "partner_id": partner(db).id, "service_code": "ris"},
        )
    ) == {"service_code": "internal_only"}
    assert invalid_codes(
        lambda: referrals.propose(
            db, user(db, "as1"), person_id, {"need": "food", "partner_id": partner(db).id}
        )
    ) == {"person_id": "unknown_person"}
    assert count(db, Referral) == before


def test_partners_are_kept_by_coordinators_and_admins_only(db):
    data = {"name": "Resto du cœur Laeken", "kind": "food", "phone": "02 425 00 00"}
    assert invalid_codes(lambda: referrals.save_partner(db, user(db, "rue1"), data)) == {
        "partner": "not_allowed"
    }
    assert invalid_codes(
        lambda: referrals.save_partner(
            db, user(db, "admin"), {"kind": "bakery", "phone": "call me"}
        )
    ) == {"name": "required", "kind": "unknown_choice", "phone": "invalid_phone"}
    created = referrals.save_partner(db, user(db, "admin"), data | {"languages": ["fr", "nl"]})
    assert created in referrals.partners(db, "food")


# --- Consent and identity ------------------------------------------------------------


def test_niss_checksum():
    assert identity.niss_is_valid("85073003328")  # born 1985
    assert identity.niss_is_valid("00010100105")  # born 2000: the "2" prefix rule
    assert not identity.niss_is_valid("85073003329")
    assert not identity.niss_is_valid("8507300332")


def test_identity_needs_consent_and_is_erased_when_consent_is_withdrawn(db):
    rue1 = user(db, "rue1")
    person = meet(db, rue1).encounter.person
    name = {"first_name": "Jean", "last_name": "Dupont", "niss": "85.07.30-033.28"}
    assert invalid_codes(lambda: identity.attach_identity(db, rue1, person.id, name)) == {
        "consent": "consent_required"
    }
    consent = identity.record_consent(
        db, rue1, person.id, {"scopes": ["identity", "referral_sharing"], "method": "oral"}
    )
    assert invalid_codes(
        lambda: identity.attach_identity(
            db, rue1, person.id, name | {"niss": "85073003329", "birth_date": "2999-01-01"}
        )
    ) == {"niss": "invalid_niss", "birth_date": "in_future"}
    assert db.get(PersonIdentity, person.id) is None
    attached = identity.attach_identity(db, rue1, person.id, name | {"birth_date": "1985-07-30"})
    assert (attached.niss, attached.consent_id) == ("85073003328", consent.id)
    identity.withdraw_consent(db, rue1, consent.id)
    assert db.get(PersonIdentity, person.id) is None
    history = identity.consent_history(db, person.id)
    assert [c.id for c in history] == [consent.id] and history[0].withdrawn_at is not None
    assert invalid_codes(lambda: identity.withdraw_consent(db, rue1, consent.id)) == {
        "consent": "unknown_consent"
    }


# --- Access ---------------------------------------------------------------------------


def test_who_may_read_a_person_and_reads_are_audited(db):
    rue1, as1, as3 = user(db, "rue1"), user(db, "as1"), user(db, "as3")
    admin, aide = user(db, "admin"), user(db, "aide1")
    piet = db.get(Person, demo_id("piet"))  # referred to Marolles (as1's team), sharing agreed
    momo = db.get(Person, demo_id("momo"))  # referred to a partner only
    assert access.can_read_person(db, rue1, piet) and access.can_read_person(db, rue1, momo)
    assert access.can_read_person(db, as1, piet)
    assert not access.can_read_person(db, as1, momo)
    assert not access.can_read_person(db, as3, piet)  # another antenne
    assert not access.can_read_person(db, admin, piet)
    assert not access.can_read_person(db, aide, piet)
    assert access.read_person(db, as1, piet.id) is piet
    assert access.read_person(db, as1, momo.id) is None
    entries = audit.search(
        db, audit.AuditFilter(action="read", entity_type="outreach_person", actor_id=as1.id)
    ).entries
    assert [e.entity_id for e in entries] == [str(piet.id)]
    for consent in identity.active_consents(db, piet.id):
        identity.withdraw_consent(db, rue1, consent.id)
    assert not access.can_read_person(db, as1, piet)  # consent withdrawn: no more sharing


# --- Merges --------------------------------------------------------------------------


def two_people(db: Session, rue1: accounts.User) -> tuple[Person, Person]:
    a = meet(db, rue1, nickname="Le grand", occurred_at=local(clock.now() - timedelta(days=5)))
    b = meet(db, rue1, nickname="", description="Manteau bleu", age_band="unknown")
    referrals.propose(
        db, rue1, b.encounter.person_id, {"need": "food", "partner_id": partner(db).id}
    )
    return a.encounter.person, b.encounter.person


def test_a_merge_keeps_both_histories_and_its_undo_restores_exactly(db):
    rue1 = user(db, "rue1")
    survivor, merged = two_people(db, rue1)
    before_s = services.serialize_person(survivor)
    before_m = services.serialize_person(merged)

    def encounters_of(person: Person) -> set[uuid.UUID]:
        return set(db.scalars(select(Encounter.id).where(Encounter.person_id == person.id)))

    s_enc, m_enc = encounters_of(survivor), encounters_of(merged)
    record = merging.merge(db, rue1, survivor.id, merged.id)
    assert encounters_of(survivor) == s_enc | m_enc and encounters_of(merged) == set()
    assert count(db, Referral, Referral.person_id == survivor.id) == 1
    assert merged.merged_into_id == survivor.id
    assert survivor.first_seen_at < merged.first_seen_at <= survivor.last_seen_at
    assert merged not in services.team_people(db, rue1.team_id)
    # A phone that still names the merged record records on the survivor.
    late = meet(db, rue1, person_id=str(merged.id))
    assert late.encounter.person_id == survivor.id
    merging.undo(db, rue1, record.id)
    assert encounters_of(merged) == m_enc
    assert encounters_of(survivor) == s_enc | {late.encounter.id}
    assert count(db, Referral, Referral.person_id == merged.id) == 1
    ignore = {"version", "last_seen_at"}
    after_s, after_m = services.serialize_person(survivor), services.serialize_person(merged)
    assert {k: v for k, v in after_s.items() if k not in ignore} == {
        k: v for k, v in before_s.items() if k not in ignore
    }
    assert {k: v for k, v in after_m.items() if k != "version"} == {
        k: v for k, v in before_m.items() if k != "version"
    }
    assert invalid_codes(lambda: merging.undo(db, rue1, record.id)) == {"merge": "already_undone"}


def test_merge_refusals_change_nothing(db):
    rue1 = user(db, "rue1")
    survivor, merged = two_people(db, rue1)
    assert invalid_codes(lambda: merging.merge(db, rue1, survivor.id, survivor.id)) == {
        "merged_id": "same_person"
    }
    merging.merge(db, rue1, survivor.id, merged.id)
    third = meet(db, rue1).encounter.person
    assert invalid_codes(lambda: merging.merge(db, rue1, third.id, merged.id)) == {
        "merged_id": "already_merged"
    }
    other_team = Team(
        code="clr-rue",
        name="Carolo rue",
        kind="street",
        city="Charleroi",
        cpas_id=organisations.get_cpas(db, "charleroi").id,
    )
    db.add(other_team)
    db.flush()
    stranger = Person(
        id=uuid.uuid4(),
        team_id=other_team.id,
        nickname="X",
        first_seen_at=clock.now(),
        last_seen_at=clock.now(),
        created_by_id=rue1.id,
        changed_at=clock.now(),
        updated_at=clock.now(),
    )
    db.add(stranger)
    db.flush()
    assert invalid_codes(lambda: merging.merge(db, rue1, third.id, stranger.id)) == {
        "merged_id": "other_team"
    }
    assert count(db, PersonMerge) == 1


def test_an_undo_is_refused_when_the_survivor_changed_since(db):
    rue1 = user(db, "rue1")
    survivor, merged = two_people(db, rue1)
    record = merging.merge(db, rue1, survivor.id, merged.id)
    minors.set_minor(db, rue1, survivor.id, True)
    assert invalid_codes(lambda: merging.undo(db, rue1, record.id)) == {"merge": "survivor_changed"}
    assert merged.merged_into_id == survivor.id and record.undone_at is None


def test_an_undo_is_refused_once_an_identity_rests_on_a_consent_the_merge_brought(db):
    # The consent came with the merged record: taking it back would leave a name
    # without consent on the survivor.
    rue1 = user(db, "rue1")
    survivor, merged = two_people(db, rue1)
    identity.record_consent(db, rue1, merged.id, {"scopes": ["identity"], "method": "oral"})
    record = merging.merge(db, rue1, survivor.id, merged.id)
    identity.attach_identity(db, rue1, survivor.id, {"first_name": "Ana", "last_name": "Pop"})
    assert invalid_codes(lambda: merging.undo(db, rue1, record.id)) == {"merge": "survivor_changed"}
    assert db.get(PersonIdentity, survivor.id) is not None


def test_a_corrected_encounter_takes_its_minor_alert_along(db):
    rue1, admin = user(db, "rue1"), cpas_admin(db)
    minors.set_protective_path(db, admin, rue1.team_id, {"contact": "SAJ Bruxelles"})
    young = meet(db, rue1, age_band="under_18")
    adult = meet(db, rue1, age_band="26_40").encounter.person
    encounter = young.encounter
    data = services.serialize_encounter(encounter) | {"person_id": str(adult.id)}
    services.save_encounter(db, rue1, services.read_encounter(data), base_version=encounter.version)
    # Not a minor: the unread alert is gone, not left on the wrong person.
    assert count(db, MinorAlert, MinorAlert.encounter_id == encounter.id) == 0
    # Corrected back to the minor: alerted again.
    data = services.serialize_encounter(encounter) | {"person_id": str(young.alert.person_id)}
    saved = services.save_encounter(
        db, rue1, services.read_encounter(data), base_version=encounter.version
    )
    assert saved.alert is not None and saved.alert.person_id == young.alert.person_id


def test_referrals_go_to_cpas_services_not_to_another_street_team(db):
    rue1 = user(db, "rue1")
    person = meet(db, rue1).encounter.person
    street = db.get(Team, rue1.team_id)  # a street team, the demo's only one
    assert street is not None and street.kind == "street"
    before = count(db, Referral)
    codes = invalid_codes(
        lambda: referrals.propose(db, rue1, person.id, {"need": "food", "to_team_id": street.id})
    )
    assert codes == {"to_team_id": "unknown_team"} and count(db, Referral) == before


# --- Retention ------------------------------------------------------------------------


def test_the_purge_removes_exactly_the_expired_records_and_reports_counts_only(db):
    rue1 = user(db, "rue1")
    now = clock.now()
    old = meet(db, rue1, occurred_at=local(now - timedelta(days=300))).encounter.person
    recent = meet(db, rue1, occurred_at=local(now - timedelta(days=30))).encounter.person
    named = meet(db, rue1, occurred_at=local(now - timedelta(days=300))).encounter.person
    identity.record_consent(db, rue1, named.id, {"scopes": ["identity"], "method": "written"})
    identity.attach_identity(db, rue1, named.id, {"first_name": "Ana", "last_name": "Pop"})
    referrals.propose(
        db,
        rue1,
        old.id,
        {
            "need": "food",
            "partner_id": partner(db).id,
            "proposed_at": local(now - timedelta(days=299)),
        },
    )
    merged = meet(db, rue1, occurred_at=local(now - timedelta(days=301))).encounter.person
    merging.merge(db, rue1, old.id, merged.id)
    # Seen in the future by a year's clock: 13 months later, 12-month rule.
    later = now + timedelta(days=130)
    old_id, merged_id, recent_id, named_id = old.id, merged.id, recent.id, named.id
    report = retention.purge_expired(db, later, months=12)
    assert db.get(Person, old_id) is None and db.get(Person, merged_id) is None
    assert db.get(Person, recent_id) is not None and db.get(Person, named_id) is not None
    assert count(db, Encounter, Encounter.person_id.in_([old_id, merged_id])) == 0
    counts = report.counts
    assert counts["people_anonymous"] >= 1 and counts["merged_records"] == 1
    assert counts["referrals"] >= 1 and counts["merges"] == 1
    text = repr(report.counts)
    assert str(old_id) not in text and "Ana" not in text
    assert db.get(OutreachPurgeReport, report.id) is not None
    # Named people follow the longer rule: gone after 60 months without contact.
    retention.purge_expired(db, now + timedelta(days=62 * 31), months=12)
    assert db.get(Person, named_id) is None and db.get(PersonIdentity, named_id) is None


def test_a_team_may_keep_anonymous_records_longer(db):
    rue1, admin = user(db, "rue1"), cpas_admin(db)  # the street team's CPAS's
    person = meet(db, rue1, occurred_at=local(clock.now() - timedelta(days=300))).encounter.person
    assert invalid_codes(
        lambda: retention.set_team_months(db, admin, rue1.team_id, {"anonymous_months": "0"})
    ) == {"anonymous_months": "out_of_range"}
    retention.set_team_months(db, admin, rue1.team_id, {"anonymous_months": "36"})
    retention.purge_expired(db, clock.now() + timedelta(days=130), months=12)
    assert db.get(Person, person.id) is not None


def test_the_purge_job_is_registered():
    from core.scheduler import load_jobs

    assert "outreach.purge" in {job.name for job in load_jobs()}


# --- Indicators ------------------------------------------------------------------------


def test_monthly_indicators_with_hand_computed_numbers(db):
    rue1 = user(db, "rue1")
    team = Team(
        code="rue-test",
        name="Rue test",
        kind="street",
        city="Bruxelles",
        cpas_id=organisations.get_cpas(db, "bruxelles").id,
    )
    db.add(team)
    db.flush()
    rue1.team_id = team.id  # an empty team: only this test's records count
    db.flush()
    # Two months ago in Brussels: a clean month whatever today is.
    today = clock.to_local(clock.now()).date()
    first = date(today.year, today.month, 1) - timedelta(days=40)
    month = date(first.year, first.month, 1)
    day = lambda d, h=20: datetime(month.year, month.month, d, h, tzinfo=clock.BRUSSELS)  # noqa: E731
    with clock.frozen(day(28, 23)):
        m = maraudes.start(db, rue1, maraudes.MaraudeStart(uuid.uuid4(), "Nord", (), day(3, 19)))[0]
        maraudes.end(db, rue1, maraudes.MaraudeEnd(m.id, day(3, 22), 4.0, ""))
        a = meet(
            db,
            rue1,
            occurred_at=day(3).isoformat(),
            needs=["food", "shelter"],
            ethos="ethos_1",
            age_band="18_25",
            maraude_id=str(m.id),
            place_id=None,
        )
        b = meet(
            db,
            rue1,
            occurred_at=day(3, 21).isoformat(),
            needs=["food"],
            ethos="ethos_2",
            age_band="41_60",
            place_id=None,
        )
        meet(
            db,
            rue1,
            person_id=str(a.encounter.person_id),
            occurred_at=day(10).isoformat(),
            needs=["health"],
            ethos="ethos_1",
            place_id=None,
        )
        ref_a = referrals.propose(
            db,
            rue1,
            a.encounter.person_id,
            {"need": "health", "partner_id": partner(db).id, "proposed_at": day(13).isoformat()},
        )
        referrals.propose(
            db,
            rue1,
            b.encounter.person_id,
            {"need": "food", "partner_id": partner(db).id, "proposed_at": day(4, 21).isoformat()},
        )
        referrals.move(db, rue1, ref_a.id, "accepted", {"at": day(14).isoformat()})
        referrals.move(db, rue1, ref_a.id, "done", {"at": day(20).isoformat()})
    row = indicators.monthly(db, team.id, month)
    assert (row.maraudes, row.hours_out) == (1, 3.0)
    assert (row.contacts, row.distinct_people, row.new_people) == (3, 2, 2)
    assert row.requests["food"] == 2 and row.requests["shelter"] == 1
    assert row.requests["health"] == 1 and row.requests["papers"] == 0
    assert (row.referrals_made, row.referrals_completed) == (2, 1)
    assert row.median_days_to_first_referral == 5.5  # a: 10 days, b: 1 day
    assert row.age_bands["18_25"] == 1 and row.age_bands["41_60"] == 1
    assert row.ethos == {"ethos_1": 1, "ethos_2": 1}
    empty = indicators.months(db, team.id, month + timedelta(days=31), month + timedelta(days=31))
    assert empty[0].contacts == 0 and empty[0].median_days_to_first_referral is None


# --- Bad input on encounters changes nothing --------------------------------------------


def test_bad_encounter_input_is_refused_and_nothing_is_stored(db):
    rue1 = user(db, "rue1")
    before = (count(db, Encounter), count(db, Person), count(db, MinorAlert))
    codes = invalid_codes(
        lambda: meet(
            db,
            rue1,
            occurred_at=local(clock.now() + timedelta(days=1)),
            latitude="91",
            longitude="4.3",
            place_id=str(uuid.uuid4()),
            place_name="Nulle part",
            note="x" * 20_000,
            needs=["food", "teleport"],
            maraude_id="not-a-uuid",
            minor="maybe",
        )
    )
    assert codes == {
        "occurred_at": "in_future",
        "latitude": "out_of_range",
        "note": "too_long",
        "needs": "unknown_choice",
        "maraude_id": "invalid_uuid",
        "minor": "not_boolean",
    }
    assert invalid_codes(lambda: meet(db, rue1, maraude_id=str(uuid.uuid4()))) == {
        "maraude_id": "unknown_maraude"
    }
    assert (count(db, Encounter), count(db, Person), count(db, MinorAlert)) == before
