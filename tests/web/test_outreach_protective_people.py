"""Issue 16, street educator: the protective path names several colleagues. Each one is
told in Terrain, and by one SMS each when they asked for it (never twice); another
team's account is refused; an alert dealt with stops its SMS waiting for the morning."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from core import accounts, clock
from core.accounts import Team
from notifications import services as notify
from notifications.models import Message
from outreach import minors, services
from outreach.models import MinorAlert, ProtectivePerson
from tests.db.outreach_world import meet
from tests.support import cpas_admin, text_of
from tests.web.outreach_forms import encounter_form


def wants_sms(db, user: accounts.User) -> None:
    contact = notify.create_contact(
        db, actor=None, display_name=user.display_name, language="nl",
        phones=["0470 99 88 77"], user_id=user.id,
    )  # fmt: skip
    notify.set_consent(
        db, contact, category="service_change", granted=True, method="form", actor=None
    )
    db.flush()


def alert_messages(db, alert: MinorAlert) -> list[Message]:
    return list(
        db.scalars(select(Message).where(Message.key.like(f"outreach:minor-alert:{alert.id}:%")))
    )


def test_two_named_colleagues_are_both_told_and_only_the_one_who_asked_gets_one_sms(login, db):
    cpas_admin(db)  # the street team's CPAS's administrator
    admin = login("admin-bxl")
    rue1, rue2 = accounts.find_user(db, "rue1"), accounts.find_user(db, "rue2")
    team_id = rue1.team_id
    page = text_of(admin.get(f"/outreach/reglages?team={team_id}"))
    assert 'type="checkbox" name="user_ids"' in page and "Members of the team" in page
    response = admin.post(
        "/outreach/reglages/protection",
        {"team_id": team_id, "user_ids": [rue1.id, rue2.id], "contact": ""},
    )
    assert response.status_code == 302
    assert minors.protective_people(db, team_id) == sorted(
        [rue1, rue2], key=lambda user: user.display_name
    )
    page = text_of(admin.get(f"/outreach/reglages?team={team_id}"))
    assert page.count('name="user_ids"') >= 2 and page.count(" checked>") >= 2
    wants_sms(db, rue2)
    form_page = text_of(login("rue1").get("/outreach/encounters/new"))
    assert "Karim Haddad will be told in Terrain." in form_page
    assert "Lotte Peeters will be told in Terrain and by SMS." in form_page
    assert "contact SAJ" not in form_page  # the outside contact was removed
    form = encounter_form(person_id=str(uuid.uuid4()), nickname="Petit Lu", age_band="under_18")
    assert login("rue1").post("/outreach/encounters/new", form).status_code == 302
    alert = db.scalar(select(MinorAlert).where(MinorAlert.encounter_id == uuid.UUID(form["id"])))
    assert alert is not None and alert.alert_user_ids == sorted([rue1.id, rue2.id])
    # In Terrain: on each one's alerts page and in each one's badge.
    for name in ("rue1", "rue2"):
        colleague = accounts.find_user(db, name)
        assert alert in minors.open_alerts(db, colleague)
        assert minors.count_open_alerts(db, colleague) == len(minors.open_alerts(db, colleague))
        assert "Petit Lu" in text_of(login(name).get("/outreach/alertes"))
    # By SMS: one, to the one who asked, naming nobody; never a second one.
    sent = alert_messages(db, alert)
    assert [message.key for message in sent] == [f"outreach:minor-alert:{alert.id}:{rue2.id}"]
    assert "Petit" not in sent[0].body
    minors.text_alert(db, None, alert)
    assert len(alert_messages(db, alert)) == 1
    # A named person who moves to another team still sees the alerts sent to them.
    other = db.scalar(select(Team).where(Team.id != team_id))
    rue2.team_id = other.id
    db.flush()
    assert alert in minors.open_alerts(db, rue2) and minors.count_open_alerts(db, rue2) >= 1


def test_another_teams_account_or_a_non_street_role_is_refused(login, db):
    cpas_admin(db)  # the street team's CPAS's administrator
    admin = login("admin-bxl")
    rue1 = accounts.find_user(db, "rue1")
    before = minors.protective_people(db, rue1.team_id)
    for outsider in ("coordination", "as1"):  # the SAF's coordinator, a social worker
        response = admin.post(
            "/outreach/reglages/protection",
            {
                "team_id": rue1.team_id,
                "user_ids": [rue1.id, accounts.find_user(db, outsider).id],
                "contact": "AMO",
            },
        )
        assert response.status_code == 422
        html = text_of(response)
        assert 'id="protection-user_ids-error"' in html
        assert "Choose people of your team from the list." in html
    assert minors.protective_people(db, rue1.team_id) == before
    assert minors.team_settings(db, rue1.team_id).protective_contact != "AMO"
    response = admin.post(
        "/outreach/reglages/protection", {"team_id": rue1.team_id, "user_ids": "abc"}
    )
    assert response.status_code == 422
    assert db.scalar(select(func.count()).select_from(ProtectivePerson)) == len(before)


def test_an_alert_dealt_with_cancels_its_sms_waiting_for_the_morning(db):
    rue1, rue2 = (accounts.find_user(db, name) for name in ("rue1", "rue2"))
    admin = cpas_admin(db)
    minors.set_protective_path(db, admin, rue1.team_id, {"user_ids": [rue2.id]})
    wants_sms(db, rue2)
    # 23:30 in Brussels: a work SMS waits for the end of the quiet hours.
    with clock.frozen(datetime(2026, 12, 3, 22, 30, tzinfo=UTC)):
        saved = meet(db, rue1, age_band="under_18")
        assert saved.alert is not None
        (message,) = alert_messages(db, saved.alert)
        assert message.status == "pending" and message.not_before > clock.now()
        other = meet(db, rue1, age_band="under_18").alert
        minors.acknowledge(db, rue2, saved.alert.id)
        db.expire_all()
        assert (message.status, message.error_code) == ("cancelled", "alert_handled")
        # The other alert, not yet dealt with, keeps its SMS.
        assert [m.status for m in alert_messages(db, other)] == ["pending"]


def test_an_encounter_corrected_to_an_adult_drops_its_alert_and_its_waiting_sms(db):
    rue1, rue2 = (accounts.find_user(db, name) for name in ("rue1", "rue2"))
    admin = cpas_admin(db)
    minors.set_protective_path(db, admin, rue1.team_id, {"user_ids": [rue2.id]})
    wants_sms(db, rue2)
    with clock.frozen(datetime(2026, 12, 3, 22, 30, tzinfo=UTC)):
        young = meet(db, rue1, age_band="under_18")
        (message,) = alert_messages(db, young.alert)
        adult = meet(db, rue1, age_band="26_40").encounter.person
        encounter = young.encounter
        data = services.serialize_encounter(encounter) | {"person_id": str(adult.id)}
        services.save_encounter(
            db, rue1, services.read_encounter(data), base_version=encounter.version
        )
        db.expire_all()
        assert db.scalar(select(MinorAlert).where(MinorAlert.encounter_id == encounter.id)) is None
        assert (message.status, message.error_code) == ("cancelled", "alert_handled")
