"""The public booking per CPAS (issue 15): the CPAS of the commune where the person lives
is competent, so /rendez-vous asks the postcode or commune first, each CPAS has its own
entry (/rendez-vous/<cpas>), and the flow never shows or books another CPAS's place.

On the demo's three CPAS: Bruxelles (1000, 1020…), Schaerbeek (1030), Charleroi (6000…).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from appointments.demo import service_code
from core import accounts, clock
from core.organisations import Cpas
from notifications.models import Message
from tests.db.appointments_world import NOW, Agenda, at, mobile
from tests.support import sms_text, text_of
from tests.web.booking_steps import book_path, last_code

PREFIX = {"bruxelles": "bxl", "schaerbeek": "sch", "charleroi": "clr"}
PLACES = {
    "bruxelles": ("Antenne Marolles", "Antenne Nord-Est"),
    "schaerbeek": ("Le22Rogier",),
    "charleroi": ("Espace citoyen Dampremy", "Espace citoyen Gosselies"),
}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def en(browser):
    browser.client.set_cookie("terrain_lang", "en")
    return browser


def only(page: str, cpas: str, *, all_shown: bool = True) -> None:
    """The page shows none of the other CPAS's places (and all of `cpas`'s)."""
    for code, places in PLACES.items():
        for place in places:
            if code != cpas:
                assert place not in page, (place, cpas)
            elif all_shown:
                assert place in page, (place, cpas)


@pytest.mark.parametrize(
    ("where", "cpas", "name"),
    [
        ("1030", "schaerbeek", "CPAS de Schaerbeek"),
        ("6000", "charleroi", "CPAS de Charleroi"),
        ("1000", "bruxelles", "CPAS de Bruxelles"),
        (" schaerbeek ", "schaerbeek", "CPAS de Schaerbeek"),  # the commune, any case
    ],
)
def test_the_postcode_leads_to_the_competent_cpas_only(en, where, cpas, name):
    response = en.get("/rendez-vous", query_string={"where": where})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/rendez-vous/{cpas}")
    page = text_of(en.get(f"/rendez-vous/{cpas}"))
    assert name in page
    only(page, cpas, all_shown=False)  # the services: places only of phone-only ones
    for other in {"CPAS de Schaerbeek", "CPAS de Charleroi", "CPAS de Bruxelles"} - {name}:
        assert other not in page
    # The next step too: the places of a service are the CPAS's own (each CPAS has its
    # own services: the demo's codes, docs/cpas.md).
    code = service_code(PREFIX[cpas], "permanence-sociale")
    only(text_of(en.get(f"/rendez-vous/{code}")), cpas)


def test_a_postcode_no_cpas_serves_gets_a_sentence_and_the_list(en):
    response = en.get("/rendez-vous", query_string={"where": "9000"})
    page = text_of(response)
    assert response.status_code == 200
    assert "No CPAS of this site serves “9000”" in page
    for code in PLACES:
        assert f'href="/rendez-vous/{code}"' in page
    response = en.get("/rendez-vous", query_string={"where": "  "})
    assert response.status_code == 422 and "Type your postcode or your commune." in text_of(
        response
    )


def test_charleroi_entry_shows_only_charleroi(en):
    response = en.get("/rendez-vous/charleroi")
    page = text_of(response)
    assert response.status_code == 200 and "CPAS de Charleroi" in page
    only(page, "charleroi", all_shown=False)
    only(text_of(en.get("/rendez-vous/clr-permanence-sociale")), "charleroi")
    assert "Not your CPAS? Choose another one" in page
    assert "logement-sans-rdv" not in page  # Schaerbeek's drop-in
    # Charleroi is French-speaking: French and English (to read), no Dutch button.
    assert 'value="fr"' in page and 'value="en"' in page and 'value="nl"' not in page
    assert 'value="nl"' in text_of(en.get("/rendez-vous/bruxelles"))  # bilingual


def test_another_cpas_place_in_the_address_is_unknown(en):
    en.get("/rendez-vous/charleroi")
    for path in (
        "/rendez-vous/permanence-sociale/bxl-marolles",
        "/rendez-vous/permanence-sociale/sch-le22rogier",
    ):
        response = en.get(path)
        assert response.status_code == 404 and "We cannot find this place" in text_of(response)
        assert en.post(path, {"start": "2026-12-02T10:00:00+01:00"}).status_code == 404
        assert en.post(f"{path}/waiting", {}).status_code == 404
    # A service Charleroi does not offer (Schaerbeek's drop-in) is unknown too.
    assert en.get("/rendez-vous/sch-logement-sans-rdv").status_code == 404
    # Brussels' own service, at Brussels' or Charleroi's place: unknown too.
    assert en.get("/rendez-vous/permanence-sociale").status_code == 404
    assert en.get("/rendez-vous/permanence-sociale/clr-dampremy").status_code == 404
    # Charleroi's own service at its own place: found.
    assert en.get("/rendez-vous/clr-permanence-sociale/clr-dampremy").status_code == 200


@pytest.fixture()
def charleroi(db) -> Agenda:
    """A place of Charleroi (its team is Dampremy) open every day 09:00–12:00."""
    agenda = Agenda(db)
    team = accounts.get_team(db, "clr-dampremy")
    assert team is not None
    agenda.location.team_id = team.id
    agenda.location.postcode, agenda.location.city = "6020", "Dampremy"
    db.commit()
    return agenda


def test_the_sms_name_the_cpas_of_the_place(en, db, charleroi):
    en.get("/rendez-vous/charleroi")
    number = mobile()
    response = book_path(en, db, charleroi, number, at(10))
    assert response.status_code == 302
    db.expire_all()
    code = db.scalar(
        select(Message).where(Message.key.like("phone-check:%")).order_by(Message.id.desc())
    )
    assert sms_text(code).startswith("CPAS de Charleroi: ")
    confirmation = db.scalar(
        select(Message).where(Message.key.like("confirmation:%")).order_by(Message.id.desc())
    )
    text = sms_text(confirmation)
    assert text.startswith("CPAS de Charleroi: rendez-vous")
    assert "Bruxelles" not in text and "Schaerbeek" not in text
    # The reminders too (Charleroi's sender takes no replies: call the place instead).
    reminders = db.scalars(select(Message).where(Message.key.like("reminder:%"))).all()
    mine = [m for m in reminders if m.subject == confirmation.subject]
    assert mine and all(sms_text(m).startswith("CPAS de Charleroi: rappel") for m in mine)
    # Each leaves with Charleroi's sender (the code and the confirmation included).
    charleroi_id = db.scalar(select(Cpas.id).where(Cpas.code == "charleroi"))
    assert {m.cpas_id for m in (code, confirmation, *mine)} == {charleroi_id}
    # The done page and the appointment's own page (/r/) carry the CPAS's name; the
    # latter offers Charleroi's languages (French, and English to read).
    done = text_of(en.get("/rendez-vous/done"))
    assert "CPAS de Charleroi" in done
    link = re.search(r'href="(/r/[^"/]+)"', done).group(1)
    own = text_of(en.get(link))
    assert "CPAS de Charleroi" in own and 'value="nl"' not in own and 'value="en"' in own
    assert last_code(db)  # the code SMS is the one the person typed


def test_a_place_chosen_in_one_cpas_is_unknown_after_switching(en, db, charleroi):
    en.get("/rendez-vous/charleroi")
    path = f"/rendez-vous/{charleroi.service.code}/{charleroi.location.code}"
    assert en.get(path).status_code == 200
    en.get("/rendez-vous/schaerbeek")  # another CPAS: the place is not Schaerbeek's
    assert en.get(path).status_code == 404
    assert en.get("/rendez-vous/details").status_code == 302  # the choices went


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Schaarbeek", "schaerbeek"),
        ("schaarbeek", "schaerbeek"),
        ("SCHAERBEEK", "schaerbeek"),
        ("Brussel", "bruxelles"),
        ("Bruxelles", "bruxelles"),
        ("Brussels", "bruxelles"),
        ("Laken", "bruxelles"),  # a section of the City of Brussels, by its postcode
        ("Neder-over-Heembeek", "bruxelles"),
        ("Charleroi", "charleroi"),
        ("Marchienne-au-Pont", "charleroi"),
        ("gosselies", "charleroi"),
    ],
)
def test_dutch_and_bilingual_commune_names_find_the_competent_cpas(client, typed, code):
    answer = client.get("/rendez-vous", query_string={"where": typed})
    assert answer.status_code == 302, typed
    assert answer.headers["Location"].endswith(f"/rendez-vous/{code}")


def test_the_19_brussels_communes_are_known_in_both_languages(db):
    from core import organisations

    brussels = [entry for entry in organisations.COMMUNES if entry[3][0].startswith("1")]
    main = [
        entry for entry in brussels if entry[0] not in ("Laeken", "Neder-Over-Heembeek", "Haren")
    ]
    assert len(main) == 19
    # A CPAS serving Saint-Josse (by its French name) is found by the Dutch one, hyphens,
    # accents and case aside; and Ixelles by Elsene.
    organisations.create_cpas(
        db,
        code="sjtn",
        name_fr="CPAS de Saint-Josse-ten-Noode",
        region="brussels",
        language_regime="bilingual",
        postcodes=["1210"],
        communes=["Saint-Josse-ten-Noode"],
    )
    organisations.create_cpas(
        db,
        code="ixelles",
        name_fr="CPAS d'Ixelles",
        region="brussels",
        language_regime="bilingual",
        postcodes=["1050"],
        communes=[],
    )
    for typed, code in (
        ("Sint-Joost-ten-Node", "sjtn"),
        ("sint joost ten node", "sjtn"),
        ("Saint Josse", "sjtn"),
        ("Elsene", "ixelles"),  # by its postcode: the CPAS lists no commune
        ("ixelles", "ixelles"),
    ):
        found = organisations.cpas_for_commune(db, typed)
        assert found is not None and found.code == code, typed
    assert organisations.cpas_for_commune(db, "Ukkel") is None  # nobody serves Uccle here
