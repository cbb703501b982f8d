"""Street outreach follow-up pages: the people list, a person's file (timeline, needs,
referrals, consent and identity, minor flag), merging and undoing, minors' alerts, the
partner directory, the protective path and retention settings, the purge reports.

Users are switched to English so the assertions read the msgids.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core import accounts, clock
from core.accounts import Team
from core.audit import AuditEntry
from outreach import identity, minors, referrals, retention, services
from outreach.demo import demo_id
from outreach.models import (
    Encounter,
    MinorAlert,
    OutreachRetentionSettings,
    Person,
    PersonConsent,
    PersonIdentity,
    PersonMerge,
    Referral,
    ServicePartner,
)
from tests.support import cpas_admin, text_of

MOMO, GRANDE, PIET = demo_id("momo"), demo_id("la-grande"), demo_id("piet")
VALID_NISS = "85073003328"  # 97 - (850730033 mod 97) = 28


def user(db, username: str) -> accounts.User:
    found = accounts.find_user(db, username)
    assert found is not None
    return found


def count(db, model: Any, *where: Any) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def reads_of(db, person_id) -> int:
    return count(
        db,
        AuditEntry,
        AuditEntry.action == "read",
        AuditEntry.entity_type == "outreach_person",
        AuditEntry.entity_id == str(person_id),
    )


def meet(db, nickname: str, days_ago: int = 3, **overrides: Any) -> Person:
    """A new anonymous person of the street team, met once."""
    at = clock.to_local(clock.now() - timedelta(days=days_ago))
    data = {
        "id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "nickname": nickname,
        "description": f"Description of {nickname}",
        "age_band": "18_25",
        "place_id": str(demo_id("gare-nord")),
        "occurred_at": at.isoformat(),
        "contact_type": "conversation",
        "needs": ["food"],
        "note": f"Note about {nickname}",
        **overrides,
    }
    saved = services.save_encounter(db, user(db, "rue1"), services.read_encounter(data))
    db.commit()
    return saved.encounter.person


# --- The people list ---------------------------------------------------------------------


def test_street_educator_lists_and_searches_the_team_people(login, db):
    browser = login("rue1")
    page = text_of(browser.get("/outreach/personnes"))
    for nickname in ("Momo", "La grande", "Piet"):
        assert nickname in page
    found = text_of(browser.get("/outreach/personnes?q=v%C3%A9lo"))  # Momo's description
    assert "Momo" in found and "La grande" not in found
    assert "Nobody matches this search." in text_of(browser.get("/outreach/personnes?q=zzz"))
    # htmx live search: only the list comes back.
    partial = text_of(browser.get("/outreach/personnes?q=Piet", headers={"HX-Request": "true"}))
    assert "Piet" in partial and "<html" not in partial


def test_the_list_flags_minors_and_named_people_but_shows_no_real_name(login, db):
    rue1 = user(db, "rue1")
    minors.set_minor(db, rue1, MOMO, True)
    identity.record_consent(db, rue1, GRANDE, {"scopes": ["identity"], "method": "oral"})
    identity.attach_identity(db, rue1, GRANDE, {"first_name": "Anne", "last_name": "Zorglub"})
    db.commit()
    page = text_of(login("rue1").get("/outreach/personnes"))
    assert "Minor" in page and "Identity given" in page
    assert "Zorglub" not in page


def test_social_worker_sees_only_people_referred_with_sharing(login, db):
    page = text_of(login("as1").get("/outreach/personnes"))
    assert "People referred to my service" in page
    assert "Piet" in page  # referred to Marolles, sharing agreed (demo)
    assert "Momo" not in page and "La grande" not in page
    assert "The team's people" not in page


# --- The file ------------------------------------------------------------------------------


def test_the_file_shows_timeline_needs_referrals_and_first_engagement(login, db):
    before = reads_of(db, MOMO)
    response = login("rue1").get(f"/outreach/personnes/{MOMO}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Premier contact." in page and "Veut refaire sa carte." in page  # both notes
    assert "Gare du Nord, quai 3" in page and "Place Liedts" in page
    assert "Living rough (public space, no shelter)" in page  # ETHOS label
    assert "Needs over time" in page and "Papers, identity" in page
    assert "Recorded by Karim Haddad" in page
    assert "Centre médical Quai Nord" in page and "Done" in page
    assert "Not yet (no referral accepted)" not in page  # Momo's referral was accepted
    assert reads_of(db, MOMO) == before + 1


def test_social_worker_reads_a_shared_file_but_cannot_change_it(login, db):
    browser = login("as1")
    page = text_of(browser.get(f"/outreach/personnes/{PIET}"))
    assert "Piet" in page and "Refer to a service" not in page and "Record a consent" not in page
    # The referral to their service: they may move it.
    assert "Done" in page
    response = browser.post(f"/outreach/personnes/{PIET}/consentements", {"scopes": "identity"})
    assert response.status_code == 403
    assert browser.post(f"/outreach/personnes/{PIET}/mineur", {"minor": "1"}).status_code == 403
    assert browser.get(f"/outreach/personnes/{PIET}/fusion").status_code == 403


def test_no_file_for_those_the_rule_does_not_let_in(login, db):
    # Momo: no referral to Marolles. Same answer as for a person who does not exist.
    as1 = login("as1")
    for path in (f"/outreach/personnes/{MOMO}", f"/outreach/personnes/{uuid.uuid4()}"):
        assert as1.get(path).status_code == 404
    assert as1.post(f"/outreach/personnes/{MOMO}/mineur", {"minor": "1"}).status_code == 404
    assert as1.get("/outreach/personnes/not-a-uuid").status_code == 404
    # Piet without the sharing consent: 404 too.
    for consent in identity.active_consents(db, PIET):
        identity.withdraw_consent(db, user(db, "rue1"), consent.id)
    db.commit()
    assert as1.get(f"/outreach/personnes/{PIET}").status_code == 404
    # Another antenne's social worker, the coordinator of another team.
    assert login("as3").get(f"/outreach/personnes/{PIET}").status_code == 404
    assert login("coordination").get(f"/outreach/personnes/{MOMO}").status_code == 404
    assert reads_of(db, MOMO) == 0


@pytest.mark.parametrize("username", ["aide1", "accueil", "admin"])
def test_roles_without_files_get_403(login, username):
    browser = login(username)
    assert browser.get("/outreach/personnes").status_code == 403
    assert browser.get(f"/outreach/personnes/{MOMO}").status_code == 403
    assert browser.get("/outreach/alertes").status_code == 403


def test_a_merged_record_points_to_its_survivor(login, db):
    first, second = meet(db, "Zazou"), meet(db, "Zaz")
    from outreach import merging

    merging.merge(db, user(db, "rue1"), first.id, second.id)
    db.commit()
    page = text_of(login("rue1").get(f"/outreach/personnes/{second.id}"))
    assert "This record was merged into another one" in page
    assert f"/outreach/personnes/{first.id}" in page


# --- Referrals -----------------------------------------------------------------------------


def test_propose_a_referral_to_a_partner_and_to_a_cpas_service(login, db):
    browser = login("rue1")
    partner = db.scalar(select(ServicePartner).where(ServicePartner.kind == "day_centre"))
    response = browser.post(
        f"/outreach/personnes/{GRANDE}/orientations",
        {"need": "health", "destination": f"partner:{partner.id}", "note": "Douche"},
    )
    assert response.status_code == 302
    marolles = db.scalar(select(Team).where(Team.code == "bxl-marolles"))
    response = browser.post(
        f"/outreach/personnes/{GRANDE}/orientations",
        {"need": "income", "destination": f"team:{marolles.id}:permanence-sociale"},
    )
    assert response.status_code == 302
    made = referrals.person_referrals(db, GRANDE)
    assert {(r.need, r.partner_id, r.to_team_id, r.service_code) for r in made} >= {
        ("health", partner.id, None, ""),
        ("income", None, marolles.id, "permanence-sociale"),
    }
    page = text_of(browser.get(f"/outreach/personnes/{GRANDE}"))
    assert "Referral recorded." in page and "Antenne Marolles" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"need": "teleportation", "destination": "partner:1"}, "Choose from the list."),
        ({"need": "food"}, "Choose either a partner service or a CPAS service."),
        ({"need": "food", "destination": "partner:999999"}, "Choose a service from the directory."),
        ({"need": "food", "destination": "team:999999"}, "Choose a CPAS service from the list."),
        (
            {"need": "food", "destination": "partner:1", "service_code": "ris"},
            "A service code is only for a CPAS service.",
        ),
        ({"need": "food", "destination": "partner:1", "note": "x" * 2001}, "Too long"),
        (
            {"need": "food", "destination": "partner:1", "proposed_at": "2999-01-01T10:00"},
            "This time is in the future.",
        ),
    ],
)
def test_bad_referrals_are_refused_with_a_message_and_nothing_stored(login, db, data, message):
    before = count(db, Referral)
    response = login("rue1").post(f"/outreach/personnes/{GRANDE}/orientations", data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert "Some fields need a correction. Nothing was saved." in text_of(response)
    assert count(db, Referral) == before


def test_a_referral_moves_to_accepted_then_done(login, db):
    browser = login("rue1")
    referral = next(r for r in referrals.person_referrals(db, GRANDE) if r.status == "proposed")
    response = browser.post(f"/outreach/orientations/{referral.id}/statut", {"status": "accepted"})
    assert response.status_code == 302
    response = browser.post(f"/outreach/orientations/{referral.id}/statut", {"status": "done"})
    assert response.status_code == 302
    db.refresh(referral)
    assert referral.status == "done" and referral.closed_by_id == user(db, "rue1").id
    page = text_of(browser.get(f"/outreach/personnes/{GRANDE}"))
    assert "Accepted on" in page and "Closed (Done)" in page
    assert "Not yet (no referral accepted)" not in page


def test_a_referral_cannot_jump_or_go_back(login, db):
    browser = login("rue1")
    referral = next(r for r in referrals.person_referrals(db, GRANDE) if r.status == "proposed")
    for status in ("done", "proposed", "bogus"):
        response = browser.post(f"/outreach/orientations/{referral.id}/statut", {"status": status})
        assert response.status_code == 422
        assert "This referral cannot go to that status from where it is." in text_of(response)
    response = browser.post(
        f"/outreach/orientations/{referral.id}/statut",
        {"status": "accepted", "at": "2999-01-01T10:00"},
    )
    assert response.status_code == 422 and "in the future" in text_of(response)
    db.refresh(referral)
    assert referral.status == "proposed"


def test_the_receiving_service_books_an_appointment_from_the_referral(login, db):
    referral = next(r for r in referrals.person_referrals(db, PIET) if r.to_team_id)
    referral.service_code, referral.status = "permanence-sociale", "accepted"
    db.commit()
    link = f"/accueil/book?service=permanence-sociale&location=bxl-marolles&referral={referral.id}"
    assert link.replace("&", "&amp;") in text_of(login("as1").get(f"/outreach/personnes/{PIET}"))
    # Street educators do not book appointments: no link for them.
    assert "/accueil/book" not in text_of(login("rue1").get(f"/outreach/personnes/{PIET}"))
    assert login("as1").get(link).status_code == 200


def test_the_receiving_service_moves_its_referral(login, db):
    referral = next(r for r in referrals.person_referrals(db, PIET) if r.to_team_id)
    response = login("as1").post(f"/outreach/orientations/{referral.id}/statut", {"status": "done"})
    assert response.status_code == 302
    db.refresh(referral)
    assert referral.status == "done"
    # Another antenne: not theirs (404, the person is not readable to them).
    other = next(r for r in referrals.person_referrals(db, GRANDE))
    assert (
        login("as1")
        .post(f"/outreach/orientations/{other.id}/statut", {"status": "accepted"})
        .status_code
        == 404
    )
    assert (
        login("rue1")
        .post(f"/outreach/orientations/{uuid.uuid4()}/statut", {"status": "done"})
        .status_code
        == 404
    )


# --- Consent and identity ------------------------------------------------------------------


def test_consent_then_identity_then_withdrawal_erases_the_identity(login, db):
    browser = login("rue1")
    response = browser.post(
        f"/outreach/personnes/{MOMO}/consentements",
        {"scopes": ["identity", "referral_sharing"], "method": "written"},
    )
    assert response.status_code == 302
    page = text_of(browser.get(f"/outreach/personnes/{MOMO}"))
    assert "Attach the identity" in page and "Signed" in page
    response = browser.post(
        f"/outreach/personnes/{MOMO}/identite",
        {"first_name": "Mohamed", "last_name": "Exemple", "niss": "85.07.30-033.28"},
    )
    assert response.status_code == 302
    stored = db.get(PersonIdentity, MOMO)
    assert stored.niss == VALID_NISS and stored.last_name == "Exemple"
    page = text_of(browser.get(f"/outreach/personnes/{MOMO}"))
    assert "Exemple" in page and "850730-033.28" in page
    consent = identity.active_consents(db, MOMO)[0]
    response = browser.post(f"/outreach/consentements/{consent.id}/retrait")
    assert response.status_code == 302
    db.expire_all()  # changed by the app's session
    assert db.get(PersonIdentity, MOMO) is None
    page = text_of(browser.get(f"/outreach/personnes/{MOMO}"))
    assert "The identity was erased; the history is kept." in page
    assert "Exemple" not in page
    assert "Withdrawn on" in page  # the consent stays in the history
    assert count(db, PersonConsent, PersonConsent.person_id == MOMO) == 1


def test_identity_without_consent_is_refused(login, db):
    response = login("rue1").post(
        f"/outreach/personnes/{GRANDE}/identite", {"first_name": "Anne", "last_name": "Dupont"}
    )
    assert response.status_code == 422
    assert "Record the person&#39;s consent to give their identity first." in text_of(response)
    assert db.get(PersonIdentity, GRANDE) is None


def test_invalid_niss_and_missing_names_are_refused(login, db):
    rue1 = user(db, "rue1")
    identity.record_consent(db, rue1, GRANDE, {"scopes": ["identity"], "method": "oral"})
    db.commit()
    browser = login("rue1")
    response = browser.post(
        f"/outreach/personnes/{GRANDE}/identite",
        {"first_name": "Anne", "last_name": "", "niss": "85073003329"},
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "This national register number is not valid" in page
    assert "This is needed." in page
    assert 'aria-describedby="identity-niss-hint identity-niss-error"' in page
    assert 'value="85073003329"' in page  # what was typed comes back
    assert db.get(PersonIdentity, GRANDE) is None


def test_consent_needs_a_scope_and_a_known_method(login, db):
    browser = login("rue1")
    response = browser.post(f"/outreach/personnes/{GRANDE}/consentements", {"method": "oral"})
    assert response.status_code == 422 and "This is needed." in text_of(response)
    response = browser.post(
        f"/outreach/personnes/{GRANDE}/consentements", {"scopes": "identity", "method": "telepathy"}
    )
    assert response.status_code == 422 and "Choose from the list." in text_of(response)
    response = browser.post(
        f"/outreach/personnes/{GRANDE}/consentements", {"scopes": "everything", "method": "oral"}
    )
    assert response.status_code == 422
    assert count(db, PersonConsent, PersonConsent.person_id == GRANDE) == 0
    assert browser.post("/outreach/consentements/999999/retrait").status_code == 404


# --- Minors ---------------------------------------------------------------------------------


def test_flag_a_minor_then_the_next_encounter_alerts_and_is_acknowledged(login, db):
    browser = login("rue1")
    assert browser.post(f"/outreach/personnes/{GRANDE}/mineur", {"minor": "1"}).status_code == 302
    assert db.get(Person, GRANDE).minor is True
    services.save_encounter(
        db,
        user(db, "rue1"),
        services.read_encounter(
            {
                "id": str(uuid.uuid4()),
                "person_id": str(GRANDE),
                "occurred_at": clock.to_local(clock.now()).isoformat(),
                "contact_type": "greeting",
            }
        ),
    )
    db.commit()
    page = text_of(browser.get("/outreach/personnes"))
    assert "A minor was met: 1 alert to deal with." in page
    page = text_of(browser.get("/outreach/alertes"))
    # The demo team's protective path names Lotte (rue2) and the SAJ.
    assert "La grande" in page and "Lotte Peeters; SAJ de Bruxelles" in page
    assert "Nobody has been told" not in page
    alert = db.scalar(select(MinorAlert).where(MinorAlert.person_id == GRANDE))
    assert browser.post(f"/outreach/alertes/{alert.id}/vu").status_code == 302
    db.refresh(alert)
    assert alert.acknowledged_by_id == user(db, "rue1").id
    response = browser.post(f"/outreach/alertes/{alert.id}/vu")
    assert response.status_code == 422
    assert "already dealt with" in text_of(response)
    assert "Nothing to do." in text_of(browser.get("/outreach/alertes"))
    assert browser.post(f"/outreach/personnes/{GRANDE}/mineur", {"minor": "0"}).status_code == 302
    assert db.get(Person, GRANDE).minor is False


# --- Merging -----------------------------------------------------------------------------


def test_merge_with_preview_then_undo(login, db):
    first, second = meet(db, "Lulu", days_ago=5), meet(db, "Lu", days_ago=1, needs=["health"])
    browser = login("rue1")
    page = text_of(browser.get(f"/outreach/personnes/{first.id}/fusion?q=Lu"))
    assert f"merged_id={second.id}" in page
    assert f"merged_id={first.id}" not in page  # not itself
    preview = text_of(browser.get(f"/outreach/personnes/{first.id}/fusion?merged_id={second.id}"))
    assert "Check before merging" in preview
    assert "Description of Lulu" in preview and "Description of Lu" in preview
    response = browser.post(f"/outreach/personnes/{first.id}/fusion", {"merged_id": str(second.id)})
    assert response.status_code == 302
    page = text_of(browser.get(f"/outreach/personnes/{first.id}"))
    assert "Note about Lulu" in page and "Note about Lu" in page  # both timelines
    assert "Undo the merge" in page
    record = db.scalar(select(PersonMerge).where(PersonMerge.survivor_id == first.id))
    assert browser.post(f"/outreach/fusions/{record.id}/annuler").status_code == 302
    page = text_of(browser.get(f"/outreach/personnes/{first.id}"))
    assert "Note about Lulu" in page and "Note about Lu<" not in page
    assert "Undone on" in page
    assert count(db, Encounter, Encounter.person_id == second.id) == 1
    response = browser.post(f"/outreach/fusions/{record.id}/annuler")
    assert response.status_code == 422 and "This merge was already undone." in text_of(response)


def test_merging_a_person_into_itself_is_refused(login, db):
    first = meet(db, "Solo")
    response = login("rue1").post(
        f"/outreach/personnes/{first.id}/fusion", {"merged_id": str(first.id)}
    )
    assert response.status_code == 422
    assert "Choose two different people to merge." in text_of(response)
    assert count(db, PersonMerge) == 0


def test_merge_refusals_are_clear_and_change_nothing(login, db):
    browser = login("rue1")
    first = meet(db, "Dédé")
    # Nobody chosen, an unknown id, a named person.
    for merged_id in ("", str(uuid.uuid4())):
        response = browser.post(f"/outreach/personnes/{first.id}/fusion", {"merged_id": merged_id})
        assert response.status_code == 422
        assert "This person is not in your team&#39;s list." in text_of(response)
    rue1 = user(db, "rue1")
    identity.record_consent(db, rue1, GRANDE, {"scopes": ["identity"], "method": "oral"})
    identity.attach_identity(db, rue1, GRANDE, {"first_name": "Anne", "last_name": "Dupont"})
    db.commit()
    response = browser.post(f"/outreach/personnes/{first.id}/fusion", {"merged_id": str(GRANDE)})
    assert response.status_code == 422
    assert "A named person is not merged here." in text_of(response)
    assert count(db, PersonMerge) == 0
    # Undo refused when the survivor changed since.
    second = meet(db, "Dédé bis")
    from outreach import merging

    record = merging.merge(db, rue1, first.id, second.id)
    minors.set_minor(db, rue1, first.id, True)
    db.commit()
    response = browser.post(f"/outreach/fusions/{record.id}/annuler")
    assert response.status_code == 422
    assert "The person was changed since the merge" in text_of(response)
    assert db.get(Person, second.id).merged_into_id == first.id
    assert browser.post("/outreach/fusions/999999/annuler").status_code == 404


# --- Directory ------------------------------------------------------------------------------


def test_coordinator_adds_and_edits_a_partner(login, db):
    browser = login("coordination")
    assert "Abri de nuit Porte de Flandre" in text_of(browser.get("/outreach/partenaires"))
    response = browser.post(
        "/outreach/partenaires/nouveau",
        {
            "name": "Maison d'accueil Test",
            "kind": "housing",
            "phone": "02 123 45 67",
            "languages": ["fr", "nl"],
            "notes": "Sur rendez-vous",
        },
    )
    assert response.status_code == 302
    partner = db.scalar(
        select(ServicePartner).where(ServicePartner.name == "Maison d'accueil Test")
    )
    assert partner.languages == ["fr", "nl"]
    response = browser.post(
        f"/outreach/partenaires/{partner.id}", {"name": "Maison Test", "kind": "housing"}
    )
    assert response.status_code == 302
    db.refresh(partner)
    assert partner.name == "Maison Test" and partner.phone == ""
    page = text_of(browser.get("/outreach/partenaires?kind=housing"))
    assert "Maison Test" in page and "Abri de nuit" not in page


def test_bad_partners_are_refused(login, db):
    browser = login("admin")
    before = count(db, ServicePartner)
    response = browser.post(
        "/outreach/partenaires/nouveau", {"name": "", "kind": "spa", "phone": "abc"}
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "This is needed." in page and "Choose from the list." in page
    assert "This is not a phone number we can reach." in page
    assert count(db, ServicePartner) == before
    assert browser.get("/outreach/partenaires/999999").status_code == 404


@pytest.mark.parametrize("username", ["rue1", "as1", "aide1", "accueil"])
def test_directory_and_settings_are_for_admins_and_coordinators(login, username):
    browser = login(username)
    for path in ("/outreach/partenaires", "/outreach/reglages", "/outreach/purges"):
        assert browser.get(path).status_code == 403


# --- Settings and purge reports ------------------------------------------------------------


def street_team(db) -> Team:
    return db.scalar(select(Team).where(Team.code == "bxl-rue-nord"))


def test_admin_sets_the_protective_path_and_retention(login, db):
    cpas_admin(db)  # the street team's CPAS's administrator sets its settings
    browser = login("admin-bxl")
    team = street_team(db)
    page = text_of(browser.get(f"/outreach/reglages?team={team.id}"))
    assert "Protective path for minors" in page and "Lotte Peeters" in page
    rue2 = user(db, "rue2")
    response = browser.post(
        "/outreach/reglages/protection",
        {"team_id": team.id, "user_ids": [rue2.id], "contact": "SAJ Bruxelles"},
    )
    assert response.status_code == 302
    settings = minors.team_settings(db, team.id)
    assert settings.protective_contact == "SAJ Bruxelles"
    assert minors.protective_people(db, team.id) == [rue2]
    response = browser.post(
        "/outreach/reglages/conservation-equipe", {"team_id": team.id, "anonymous_months": "18"}
    )
    assert response.status_code == 302
    db.expire_all()
    assert minors.team_settings(db, team.id).anonymous_retention_months == 18
    # The installation's rules: the platform administrator's (several CPAS share them).
    browser = login("admin")
    response = browser.post(
        "/outreach/reglages/conservation", {"anonymous_months": "12", "named_months": "72"}
    )
    assert response.status_code == 302
    db.expire_all()
    rules = retention.rules(db)
    assert (rules.anonymous_months, rules.named_months) == (12, 72)


def test_bad_settings_are_refused(login, db):
    cpas_admin(db)
    browser = login("admin-bxl")
    team = street_team(db)
    as1 = user(db, "as1")  # not of the street team
    response = browser.post(
        "/outreach/reglages/protection",
        {"team_id": team.id, "user_ids": [user(db, "rue1").id, as1.id]},
    )
    assert response.status_code == 422
    assert "Choose people of your team from the list." in text_of(response)
    # Nothing changed: still the demo's colleagues.
    assert {u.username for u in minors.protective_people(db, team.id)} == {"rue1", "rue2"}
    response = login("admin").post(
        "/outreach/reglages/conservation", {"anonymous_months": "0", "named_months": "abc"}
    )
    assert response.status_code == 422
    assert "Must be between 1 and 240." in text_of(response)
    assert db.get(OutreachRetentionSettings, 1) is None
    assert browser.post("/outreach/reglages/protection", {"team_id": "999999"}).status_code == 404
    assert browser.get("/outreach/reglages?team=999999").status_code == 404


def test_coordinator_manages_only_their_team_and_not_the_cpas_rules(login, db):
    browser = login("coordination")
    page = text_of(browser.get("/outreach/reglages"))
    assert "Service d&#39;aide aux familles" in page and "Set by the administrator." in page
    team = street_team(db)
    assert browser.post("/outreach/reglages/protection", {"team_id": team.id}).status_code == 404
    response = browser.post("/outreach/reglages/conservation", {"anonymous_months": "12"})
    assert response.status_code == 403  # the CPAS-wide rules are the administrator's
    assert db.get(OutreachRetentionSettings, 1) is None


def test_purge_reports_list_counts_only(login, db):
    old = meet(db, "Ancien", days_ago=2)
    old.last_seen_at = clock.now() - timedelta(days=800)
    db.flush()
    retention.purge_expired(db, actor=user(db, "admin"))
    db.commit()
    page = text_of(login("admin").get("/outreach/purges"))
    assert "Admin Terrain" in page and "Équipe de rue Bruxelles-Nord: 1" in page
    assert "Ancien" not in page


def test_a_dutch_street_educator_reads_the_teams_in_dutch(login, db):
    rue2 = login("rue2")
    accounts.find_user(db, "rue2").language = "nl"  # Lotte uses Dutch
    db.flush()
    page = text_of(rue2.get(f"/outreach/personnes/{demo_id('piet')}"))
    assert "Antenne Marollen" in page  # a referral's destination, by its Dutch name
