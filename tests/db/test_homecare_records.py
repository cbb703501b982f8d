"""Home-care record services behind the coordinator's pages: changing a household (its
contact's phones and consents, where its coordinates came from), the carnet de vie and
who recorded the agreement to share it, and the page reads of homecare/pages.py."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts
from core.accounts import Team
from core.errors import Invalid
from homecare import pages, services
from homecare.demo import demo_id
from homecare.models import Beneficiary
from homecare.services import BeneficiaryFields
from notifications import services as notify

HOUSEHOLD = demo_id("household-0")


@pytest.fixture()
def coord(db: Session) -> accounts.User:
    found = accounts.find_user(db, "coordination")
    assert found is not None
    return found


def fields_of(household: Beneficiary, **changes) -> BeneficiaryFields:
    base = BeneficiaryFields(
        name=household.name,
        address=household.address,
        postcode=household.postcode,
        city=household.city,
        latitude=household.latitude,
        longitude=household.longitude,
        language=household.language,
        entry_instructions=household.entry_instructions,
        emergency_name=household.emergency_name,
        emergency_phone=household.emergency_phone,
        social_worker_id=household.social_worker_id,
        antenne_id=household.antenne_id,
        contribution_category=household.contribution_category,
    )
    return replace(base, **changes)


def test_update_changes_only_what_changed_and_retypes_a_gps_place(db, coord):
    household = services.set_location_from_fix(db, coord, HOUSEHOLD, 50.86, 4.37)
    version = household.version
    services.update_beneficiary(db, coord, HOUSEHOLD, fields_of(household))
    assert household.version == version  # nothing changed, nothing stamped
    assert household.location_source == "gps"
    services.update_beneficiary(db, coord, HOUSEHOLD, fields_of(household, latitude=50.87))
    assert household.version == version + 1
    assert household.location_source == "typed"


def test_phones_and_consents_follow_the_form(db, coord):
    household = db.get(Beneficiary, HOUSEHOLD)
    services.update_beneficiary(
        db,
        coord,
        HOUSEHOLD,
        fields_of(household, phones=["0470 12 34 56"], consents=["reminder", "information"]),
    )
    contact = notify.get_contact(db, household.contact_id)
    assert contact.reference == f"homecare.beneficiary:{HOUSEHOLD}"
    assert services.granted_consents(db, contact) == {"reminder", "information"}
    services.update_beneficiary(
        db, coord, HOUSEHOLD, fields_of(household, phones=["0470 12 34 56"], consents=[])
    )
    assert services.granted_consents(db, contact) == set()
    assert notify.reachability(db, contact, "reminder").reason == "withdrawn"


def test_bad_antenne_social_worker_or_life_book_key_is_refused(db, coord):
    household = db.get(Beneficiary, HOUSEHOLD)
    street = db.scalar(select(Team).where(Team.kind == "street"))
    with pytest.raises(Invalid) as refused:
        services.update_beneficiary(
            db, coord, HOUSEHOLD, fields_of(household, antenne_id=street.id, social_worker_id=1)
        )
    assert set(refused.value.errors) == {"antenne_id", "social_worker_id"}
    with pytest.raises(Invalid) as refused:
        services.set_life_book(db, coord, HOUSEHOLD, {"secrets": "x"})
    assert set(refused.value.errors) == {"life_book"}


def test_the_agreement_names_who_recorded_it(db, coord):
    household = services.record_life_book_agreement(db, coord, HOUSEHOLD, agreed=True)
    assert household.life_book_sharing_agreed_by_id == coord.id
    found = pages.beneficiary_file(db, coord, HOUSEHOLD)
    assert found is not None and found.agreed_by == coord and found.can_change
    household = services.record_life_book_agreement(db, coord, HOUSEHOLD, agreed=False)
    assert household.life_book_sharing_agreed_by_id is None


def test_page_reads_answer_none_to_whoever_may_not_see(db, coord):
    aide = accounts.find_user(db, "aide1")
    social_worker = accounts.find_user(db, "as1")
    for user in (aide, social_worker):
        assert pages.beneficiary_list(db, user) is None
        assert pages.beneficiary_form(db, user, HOUSEHOLD) is None
        assert pages.plan_form(db, user, plan_id=demo_id("plan-0")) is None
        assert pages.aides_overview(db, user) is None
        assert pages.aide_page(db, user, aide.id) is None
    assert pages.beneficiary_file(db, social_worker, HOUSEHOLD) is None
    listed = pages.beneficiary_list(db, coord, text="jeanne PEETERS")
    assert listed is not None and HOUSEHOLD in [b.id for b in listed.beneficiaries]
    assert {b.name for b in listed.beneficiaries} == {"Jeanne Peeters"}
    overview = pages.aides_overview(db, coord)
    assert overview is not None and len(overview.rows) == 6
    assert {w.skill for w in overview.warnings} >= {"transfer"}
    assert {skill for _user, skill, _day in overview.expired} == {"first_aid"}
