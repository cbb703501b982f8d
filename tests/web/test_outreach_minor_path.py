"""Issue 16, street educator: a minor's alert reaches somebody. Without a protective
path the form refuses the encounter (nothing stored, everything typed kept); an op from
an older phone is stored anyway and its alert says "nobody told"; the named colleague
is told in Terrain and, when they asked for it, by an SMS that names nobody."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from core import accounts, clock, sync
from core.ids import uuid7
from notifications import services as notify
from notifications.models import Message
from outreach import minors
from outreach.models import Encounter, MinorAlert, OutreachTeamSettings, Person
from tests.support import cpas_admin, text_of
from tests.web.outreach_forms import encounter_form, now_local


def clear_path(db, team_id: int) -> None:
    admin = cpas_admin(db)  # the street team's CPAS's administrator
    minors.set_protective_path(db, admin, team_id, {"user_ids": [], "contact": ""})
    db.flush()


def new_minor(**overrides) -> dict:
    values = {"person_id": str(uuid.uuid4()), "nickname": "Petit Lu", "age_band": "under_18"}
    return encounter_form(**(values | overrides))


def test_without_a_protective_path_the_form_refuses_a_minor_and_keeps_everything(login, db):
    rue1 = login("rue1")
    team_id = accounts.find_user(db, "rue1").team_id
    clear_path(db, team_id)
    page = text_of(rue1.get("/outreach/encounters/new"))
    assert "Your team has nobody to tell about minors yet." in page
    assert '"minor_path": false' in page  # the script refuses offline too
    form = new_minor(note="Seul près du quai")
    before = db.scalar(select(func.count(Encounter.id)))
    response = rue1.post("/outreach/encounters/new", form)
    assert response.status_code == 422
    html = text_of(response)
    assert 'id="minor_path-error"' in html and "nothing you typed is lost" in html
    assert 'value="Petit Lu"' in html and "Seul près du quai" in html
    assert db.scalar(select(func.count(Encounter.id))) == before
    assert db.get(Person, uuid.UUID(form["person_id"])) is None
    # A known person flagged a minor is refused the same way; an adult is not.
    db.get(Person, uuid.UUID(encounter_form()["person_id"])).minor = True
    db.flush()
    assert rue1.post("/outreach/encounters/new", encounter_form()).status_code == 422
    db.get(Person, uuid.UUID(encounter_form()["person_id"])).minor = False
    db.flush()
    assert rue1.post("/outreach/encounters/new", encounter_form()).status_code == 302


def test_with_a_path_the_form_says_who_is_told_and_the_colleague_gets_an_sms(login, db):
    rue1 = login("rue1")
    rue2 = accounts.find_user(db, "rue2")
    team_id = rue2.team_id
    contact = notify.create_contact(
        db,
        actor=None,
        display_name="Lotte",
        language="nl",
        phones=["0470 99 88 77"],
        user_id=rue2.id,
    )
    notify.set_consent(
        db, contact, category="service_change", granted=True, method="form", actor=None
    )
    db.flush()
    page = text_of(rue1.get("/outreach/encounters/new"))
    assert "Lotte Peeters will be told in Terrain and by SMS." in page
    assert "The alert asks the team to contact SAJ de Bruxelles." in page
    assert '"minor_path": true' in page
    form = new_minor()
    assert rue1.post("/outreach/encounters/new", form).status_code == 302
    alert = db.scalar(select(MinorAlert).where(MinorAlert.encounter_id == uuid.UUID(form["id"])))
    assert alert is not None and rue2.id in alert.alert_user_ids and not alert.nobody_to_tell
    message = db.scalar(
        select(Message).where(Message.key == f"outreach:minor-alert:{alert.id}:{rue2.id}")
    )
    assert (
        message is not None and message.status == "pending" and message.category == "service_change"
    )
    # Nothing of the minor leaves by SMS.
    assert "Petit" not in message.body and "Lu" not in message.body
    assert message.body == "Terrain: er wacht een melding op u. Open Terrain om ze te zien."
    # In Terrain: on the colleague's alerts page.
    assert "Petit Lu" in text_of(login("rue2").get("/outreach/alertes"))
    # Applying again (the same alert) never sends twice.
    assert [sent.id for sent in minors.text_alert(db, None, alert)] == [message.id]
    assert team_id == accounts.find_user(db, "rue1").team_id


def test_a_colleague_who_did_not_ask_for_sms_is_told_in_terrain_only(login, db):
    rue1 = login("rue1")
    page = text_of(rue1.get("/outreach/encounters/new"))
    assert "Lotte Peeters will be told in Terrain." in page  # no contact, no consent: no SMS
    form = new_minor()
    assert rue1.post("/outreach/encounters/new", form).status_code == 302
    alert = db.scalar(select(MinorAlert).where(MinorAlert.encounter_id == uuid.UUID(form["id"])))
    assert alert is not None
    assert (
        db.scalar(select(Message).where(Message.key.like(f"outreach:minor-alert:{alert.id}:%")))
        is None
    )


def test_an_op_from_an_older_phone_is_stored_and_flagged_nobody_told(login, db):
    rue1_user = accounts.find_user(db, "rue1")
    clear_path(db, rue1_user.team_id)
    form = new_minor(note="Vu seul")
    data = {key: value for key, value in form.items() if key != "op_id"}
    data["needs"], data["given"] = [], []
    answer = sync.apply_op(
        db, rue1_user, sync.Op(uuid7(), "outreach.encounter.create", data, None, clock.now())
    )
    db.commit()
    assert answer["status"] == "applied"  # never lost
    alert = db.scalar(select(MinorAlert).where(MinorAlert.encounter_id == uuid.UUID(form["id"])))
    assert alert is not None and alert.nobody_to_tell
    assert db.get(OutreachTeamSettings, rue1_user.team_id) is not None
    page = text_of(login("rue1").get("/outreach/alertes"))
    assert "Nobody has been told" in page and "Petit Lu" in page


def test_the_minor_box_is_hidden_when_the_age_is_already_under_18(login):
    rue1 = login("rue1")
    response = rue1.post(
        "/outreach/encounters/new",
        new_minor(occurred_at=now_local(90)),  # refused: in future
    )
    assert response.status_code == 422
    box = text_of(response).split("data-minor-box")[1].split(">")[0]
    assert "hidden" in box
    assert "Under 18 all the same" in text_of(rue1.get("/outreach/encounters/new"))


def test_the_people_menu_entry_counts_the_alerts_waiting(login, db):
    rue2 = login("rue2")
    before = text_of(rue2.get("/outreach/"))
    assert 'class="nav-badge"' not in before or "alert" in before
    form = new_minor()
    assert login("rue1").post("/outreach/encounters/new", form).status_code == 302
    count = minors.count_open_alerts(db, accounts.find_user(db, "rue2"))
    assert count == len(minors.open_alerts(db, accounts.find_user(db, "rue2"))) and count >= 1
    page = text_of(login("rue2").get("/outreach/"))
    assert f'<span class="nav-badge">{count}<span class="visually-hidden">' in page
