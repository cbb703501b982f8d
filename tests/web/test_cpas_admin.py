"""Managing a CPAS (docs/cpas.md, "Managing a CPAS"): with the demo's three CPAS, the
administrator of the CPAS de Bruxelles edits its details and holidays, sees only its
accounts and audit entries; the platform administrator (the demo's `admin`, of no team)
lists and creates CPAS and their administrators, and reads no CPAS's files."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core import accounts, organisations
from core.audit import AuditEntry
from core.roles import Role
from tests.support import cpas_admin, staff_member


@pytest.fixture()
def bxl_admin(db) -> accounts.User:
    return cpas_admin(db)


def _audited(db, action: str, entity_type: str) -> int:
    return db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == action, AuditEntry.entity_type == entity_type)
    )


def _details(cpas: organisations.Cpas, **changes: str) -> dict[str, str]:
    form = {
        "name_fr": cpas.name_fr,
        "name_nl": cpas.name_nl,
        "phone": cpas.phone,
        "email": cpas.email,
        "address": cpas.address,
        "sms_sender": cpas.sms_sender,
        "sms_replies": "1" if cpas.sms_replies else "",
        "language_regime": cpas.language_regime,
        "homecare_funder": cpas.homecare_funder,
    }
    form.update(changes)
    return form


def test_a_cpas_admin_edits_her_cpas_details_audited(db, login, bxl_admin):
    browser = login("admin-bxl")
    assert browser.get("/admin/cpas").headers["Location"].endswith("/admin/cpas/bruxelles")
    brussels = organisations.get_cpas(db, "bruxelles")
    response = browser.post(
        "/admin/cpas/bruxelles",
        _details(brussels, phone="02 543 60 00", email="info@cpasbxl.brussels"),
    )
    assert response.status_code == 302
    db.expire_all()
    assert brussels.phone == "+3225436000"
    assert brussels.email == "info@cpasbxl.brussels"
    assert _audited(db, "update", "cpas") == 1


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("phone", "not a phone", "This is not a phone number we can reach"),
        ("email", "nobody", "Give an e-mail address"),
        ("sms_sender", "A sender far too long", "at most 11 letters"),
        ("language_regime", "de", "Choose from the list."),
        ("name_fr", "x" * 121, "Too long"),
    ],
)
def test_bad_input_says_why_and_saves_nothing(db, login, bxl_admin, field, value, sentence):
    browser = login("admin-bxl")
    brussels = organisations.get_cpas(db, "bruxelles")
    before = (brussels.name_fr, brussels.phone, brussels.email, brussels.sms_sender)
    response = browser.post(
        "/admin/cpas/bruxelles", _details(brussels, name_nl="Changed", **{field: value})
    )
    assert response.status_code == 422
    assert sentence in response.get_data(as_text=True)
    db.expire_all()
    assert (brussels.name_fr, brussels.phone, brussels.email, brussels.sms_sender) == before
    assert brussels.name_nl != "Changed"
    assert _audited(db, "update", "cpas") == 0


def test_the_error_is_in_the_users_language(db, login, bxl_admin):
    browser = login("admin-bxl")
    bxl_admin.language = "nl"
    db.commit()
    brussels = organisations.get_cpas(db, "bruxelles")
    response = browser.post("/admin/cpas/bruxelles", _details(brussels, phone="abc"))
    assert response.status_code == 422
    assert "This is not a phone number" not in response.get_data(as_text=True)


def test_another_cpas_is_unknown_and_the_attempt_audited(db, login, bxl_admin):
    browser = login("admin-bxl")
    charleroi = organisations.get_cpas(db, "charleroi")
    for path in ("/admin/cpas/charleroi", "/admin/cpas/charleroi/holidays"):
        assert browser.get(path).status_code == 404
    response = browser.post("/admin/cpas/charleroi", _details(charleroi, name_fr="Pris"))
    assert response.status_code == 404
    db.expire_all()
    assert charleroi.name_fr != "Pris"
    assert _audited(db, "refused", "cpas") == 3
    # Creating a CPAS and managing administrators are the platform's.
    assert browser.get("/admin/cpas/bruxelles/admins").status_code == 404


def test_holidays_open_close_and_add_a_day(db, login, bxl_admin):
    browser = login("admin-bxl")
    brussels = organisations.get_cpas(db, "bruxelles")
    page = browser.get("/admin/cpas/bruxelles/holidays")
    assert page.status_code == 200
    year = int(page.get_data(as_text=True).split("<option selected>")[1][:4])
    iris = date(year, 5, 8)
    response = browser.post(
        f"/admin/cpas/bruxelles/holidays?year={year}",
        {"year": str(year), "day": iris.isoformat(), "closed": "0"},
    )
    assert response.status_code == 302
    assert iris not in organisations.closed_days(db, brussels.id, iris, iris)
    response = browser.post(
        f"/admin/cpas/bruxelles/holidays?year={year}",
        {"year": str(year), "add": "1", "day": f"{year}-06-19", "name_fr": "Journée du personnel"},
    )
    assert response.status_code == 302
    day = date(year, 6, 19)
    assert day in organisations.closed_days(db, brussels.id, day, day)
    assert _audited(db, "update", "cpas_holiday") == 2
    # A day already there, a day without a name: the field's sentence, nothing added.
    again = browser.post(
        f"/admin/cpas/bruxelles/holidays?year={year}",
        {"year": str(year), "add": "1", "day": f"{year}-06-19", "name_fr": "Encore"},
    )
    assert again.status_code == 422
    assert "already in the calendar" in again.get_data(as_text=True)
    nameless = browser.post(
        f"/admin/cpas/bruxelles/holidays?year={year}",
        {"year": str(year), "add": "1", "day": f"{year}-06-20", "name_fr": ""},
    )
    assert nameless.status_code == 422
    assert "This is needed." in nameless.get_data(as_text=True)
    assert browser.get("/admin/cpas/bruxelles/holidays?year=1900").status_code == 422
    # Charleroi keeps 8 May open.
    charleroi = organisations.get_cpas(db, "charleroi")
    assert iris not in organisations.closed_days(db, charleroi.id, iris, iris)


def test_a_cpas_admin_sees_only_her_cpas_accounts_and_audit(db, login, bxl_admin):
    browser = login("admin-bxl")
    users = browser.get("/admin/users").get_data(as_text=True)
    assert "as3" not in users.split("<tbody>")[1]  # Dampremy's social worker
    as3 = accounts.find_user(db, "as3")
    assert browser.post(f"/admin/users/{as3.id}/active", {"active": "0"}).status_code == 404
    db.expire_all()
    assert as3.active
    audit_page = browser.get(f"/admin/audit?actor={as3.id}")
    assert audit_page.status_code == 200
    within = accounts.audit_scope_filter(organisations.scope_of(db, bxl_admin))
    seen_actors = set(db.scalars(select(AuditEntry.actor_id).where(within)))
    assert as3.id not in seen_actors


def test_the_platform_admin_lists_creates_and_names_administrators(db, login):
    browser = login("admin")
    listing = browser.get("/admin/cpas")
    assert listing.status_code == 200
    assert "CPAS de Charleroi" in listing.get_data(as_text=True)
    created = browser.post(
        "/admin/cpas",
        {
            "code": "ottignies",
            "name_fr": "CPAS d'Ottignies-Louvain-la-Neuve",
            "region": "wallonia",
            "language_regime": "fr",
            "postcodes": "1340, 1348",
            "sms_sender": "CPAS OLLN",
        },
    )
    assert created.status_code == 302
    assert organisations.get_cpas(db, "ottignies").postcodes == ["1340", "1348"]
    taken = browser.post(
        "/admin/cpas",
        {
            "code": "autre",
            "name_fr": "Autre",
            "region": "wallonia",
            "language_regime": "fr",
            "postcodes": "6000",
        },
    )
    assert taken.status_code == 422
    assert "6000 is already served" in taken.get_data(as_text=True)
    assert organisations.get_cpas(db, "autre") is None
    made = browser.post(
        "/admin/cpas/charleroi/admins",
        {
            "username": "admin-clr",
            "display_name": "Admin Charleroi",
            "password": "a long enough password 42",
            "team": "clr-dampremy",
        },
    )
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    assert accounts.find_user(db, "admin-clr").team.code == "clr-dampremy"
    other_team = browser.post(
        "/admin/cpas/charleroi/admins",
        {
            "username": "admin-x",
            "display_name": "X",
            "password": "a long enough password 42",
            "team": "bxl-marolles",
        },
    )
    assert other_team.status_code == 422
    assert accounts.find_user(db, "admin-x") is None


def test_the_platform_admin_reads_no_cpas_files_in_the_audit_log(db, login):
    admin = accounts.find_user(db, "admin")
    within = accounts.audit_scope_filter(organisations.scope_of(db, admin))
    kinds = set(db.scalars(select(AuditEntry.entity_type).where(within)))
    assert kinds <= set(accounts.PLATFORM_AUDIT_TYPES)
    browser = login("admin")
    assert browser.get("/admin/audit?entity_type=user").status_code == 200


def _marolles_place_and_nord_est_place(db):
    from appointments.models import Location

    places = {}
    for code in ("bxl-marolles", "bxl-nord-est"):
        team = accounts.get_team(db, code)
        place = Location(code=f"t-{code}", name=f"Place {code}", team_id=team.id)
        db.add(place)
        places[code] = place
    db.commit()
    return places


def test_a_reception_of_marolles_sees_only_her_antennes_desk_unless_granted(db, login):
    from appointments import scope as appointment_scope

    _marolles_place_and_nord_est_place(db)
    accueil = accounts.find_user(db, "accueil")  # reception, Antenne Marolles
    seen = {place.code for place in appointment_scope.visible_locations(db, accueil)}
    assert "t-bxl-marolles" in seen
    assert "t-bxl-nord-est" not in seen
    coordination = accounts.find_user(db, "coordination")
    assert "t-bxl-nord-est" in {
        place.code for place in appointment_scope.visible_locations(db, coordination)
    }
    # The administrator of Brussels grants Nord-Est on accueil's page.
    staff_member(db, "admin-bxl2", Role.ADMIN, "bxl-marolles", "Admin")
    browser = login("admin-bxl2")
    nord_est = accounts.get_team(db, "bxl-nord-est")
    assert browser.get(f"/admin/users/{accueil.id}/teams").status_code == 200
    granted = browser.post(f"/admin/users/{accueil.id}/teams", {"team": str(nord_est.id)})
    assert granted.status_code == 302
    db.expire_all()
    seen = {place.code for place in appointment_scope.visible_locations(db, accueil)}
    assert {"t-bxl-marolles", "t-bxl-nord-est"} <= seen
    # A team of another CPAS cannot be granted; nothing changes.
    dampremy = accounts.get_team(db, "clr-dampremy")
    refused = browser.post(f"/admin/users/{accueil.id}/teams", {"team": str(dampremy.id)})
    assert refused.status_code == 422
    assert organisations.granted_teams(db, accueil.id) == {nord_est.id}
    # Another CPAS's account: unknown.
    as3 = accounts.find_user(db, "as3")
    assert browser.get(f"/admin/users/{as3.id}/teams").status_code == 404


def test_a_social_worker_of_marolles_sees_only_her_antennes_contacts(db, login):
    from notifications.models import Contact, ContactTeam

    nord_est = accounts.get_team(db, "bxl-nord-est")
    contact = Contact(display_name="Lucie Nord-Est")
    db.add(contact)
    db.flush()
    db.add(ContactTeam(contact_id=contact.id, team_id=nord_est.id))
    db.commit()
    browser = login("as1")  # social worker, Antenne Marolles
    assert browser.get(f"/sms/contacts/{contact.id}").status_code == 404
    assert "Lucie Nord-Est" not in browser.get("/sms/contacts").get_data(as_text=True)
    assert _audited(db, "refused", "sms_contact") == 1
    as1 = accounts.find_user(db, "as1")
    organisations.set_granted_teams(db, as1, [nord_est.id])
    db.commit()
    assert browser.get(f"/sms/contacts/{contact.id}").status_code == 200
    coordination = login("coordination")  # the whole CPAS
    assert coordination.get(f"/sms/contacts/{contact.id}").status_code == 200


# --- The postcodes and communes a CPAS serves ------------------------------------------


def test_a_cpas_admin_edits_its_postcodes_and_communes_audited(db, login, bxl_admin):
    browser = login("admin-bxl")
    page = browser.get("/admin/cpas/bruxelles").get_data(as_text=True)
    assert 'action="/admin/cpas/bruxelles/territory"' in page
    saved = browser.post(
        "/admin/cpas/bruxelles/territory",
        {"postcodes": "1000; 1020, 1120\n1130, 1000", "communes": "Bruxelles, Laeken, Brussel"},
    )
    assert saved.status_code == 302
    db.expire_all()
    brussels = organisations.get_cpas(db, "bruxelles")
    assert brussels.postcodes == ["1000", "1020", "1120", "1130"]
    assert brussels.communes == ["Bruxelles", "Laeken", "Brussel"]
    assert _audited(db, "update", "cpas") == 1
    # Now Laeken, typed on the public booking, finds the CPAS de Bruxelles.
    assert organisations.cpas_for_commune(db, "laken").code == "bruxelles"
    # A postcode dropped is no longer served (the public booking then says so).
    dropped = browser.post(
        "/admin/cpas/bruxelles/territory",
        {"postcodes": "1000, 1020, 1120", "communes": "Bruxelles"},
    )
    assert dropped.status_code == 302
    assert organisations.cpas_for_postcode(db, "1130") is None


@pytest.mark.parametrize(
    ("postcodes", "communes", "sentence"),
    [
        ("1000, 1030", "Bruxelles", "1030 is already served by CPAS de Schaerbeek"),
        ("1000", "Bruxelles, Schaarbeek", "Schaarbeek is already served by CPAS de Schaerbeek"),
        ("1000, 10300", "Bruxelles", "Four digits each"),
        ("1000", "x" * 81, "at most 80 characters"),
        (", ".join(str(1000 + n) for n in range(61)), "Bruxelles", "At most 60"),
    ],
)
def test_a_postcode_or_commune_of_another_cpas_is_refused_with_its_name(
    db, login, bxl_admin, postcodes, communes, sentence
):
    browser = login("admin-bxl")
    before = organisations.get_cpas(db, "bruxelles").postcodes
    refused = browser.post(
        "/admin/cpas/bruxelles/territory", {"postcodes": postcodes, "communes": communes}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True).replace("&#39;", "'")
    assert sentence in html
    # What was typed stays in the form.
    assert 'aria-invalid="true"' in html
    db.expire_all()
    assert organisations.get_cpas(db, "bruxelles").postcodes == before
    assert organisations.cpas_for_postcode(db, "1030").code == "schaerbeek"
    assert _audited(db, "update", "cpas") == 0


def test_another_cpas_territory_is_unknown_and_the_attempt_audited(db, login, bxl_admin):
    browser = login("admin-bxl")
    refused = browser.post("/admin/cpas/schaerbeek/territory", {"postcodes": "", "communes": ""})
    assert refused.status_code == 404
    assert _audited(db, "refused", "cpas") == 1
    db.expire_all()
    assert organisations.get_cpas(db, "schaerbeek").postcodes == ["1030"]
    # The platform administrator may move a postcode: freed at one, then taken by another.
    platform = login("admin")
    assert (
        platform.post(
            "/admin/cpas/schaerbeek/territory", {"postcodes": "", "communes": "Schaerbeek"}
        ).status_code
        == 302
    )
    assert (
        platform.post(
            "/admin/cpas/bruxelles/territory",
            {"postcodes": "1000, 1020, 1030, 1120, 1130", "communes": "Bruxelles"},
        ).status_code
        == 302
    )
    assert organisations.cpas_for_postcode(db, "1030").code == "bruxelles"


def test_the_database_refuses_a_postcode_served_by_two_cpas(db):
    from sqlalchemy.exc import IntegrityError

    charleroi = organisations.get_cpas(db, "charleroi")
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(organisations.CpasPostcode(postcode="1030", cpas_id=charleroi.id))
        db.flush()
