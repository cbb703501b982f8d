"""A minibus stop's public pages (issue 19): /arret/<slug> without login (next visits,
today's live status from the dated round's progress, the CPAS's name and phone), the SMS
subscription through appointments' one-time code (its throttles), leaving by the page or
by STOP, the "stop_subscribers" broadcast audience (kept to the author's CPAS) and the
poster with its QR code.

"Now" is Thursday 8 May 2031 in Brussels: the test's minibus stops at 09:00 and 11:00.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core import accounts
from notifications import broadcasts, replies, staff
from notifications.models import Consent, Contact, Message
from rounds import audiences, services
from rounds.models import MealOrder, Round, RoundStop, StopSubscription
from tests.support import text_of
from tests.web.rounds_public_world import (
    NUMBER,
    TODAY,
    coord,
    en,
    frozen,
    local,
    running,
    stop,
    subscribe,
    today_round,
)

__all__ = ["coord", "en", "frozen", "stop"]  # the fixtures, from rounds_public_world

# --- The page -------------------------------------------------------------------------


def test_the_page_lists_the_next_visits_and_the_cpas(en, db, stop, coord):
    later = db.scalar(
        select(Round)
        .where(Round.template_id.is_not(None), Round.day == TODAY + timedelta(7))
        .join(RoundStop, RoundStop.round_id == Round.id)
        .where(RoundStop.stop_id == stop.id)
    )
    services.cancel_round(db, coord, later.id, {"reason": "Panne du minibus SECRET"})
    db.commit()
    page = text_of(en.get(f"/arret/{stop.public_slug}"))
    assert "The minibus at Monceau, église" in page
    assert "Place de Monceau, 6031 Monceau-sur-Sambre" in page
    assert "Thursday, May 8, 2031" in page and "09:00–10:30" in page and "11:00–12:30" in page
    assert "Cancelled: the minibus does not come this day." in page
    assert "SECRET" not in page  # the coordinator's reason stays inside
    assert "CPAS de Charleroi" in page and "071 23 30 00" in page
    assert "Planned: arrival at 09:00." in page  # today's status, the round not started
    en.client.set_cookie("terrain_lang", "nl")
    dutch = text_of(en.get(f"/arret/{stop.public_slug}"))
    assert "OCMW van Charleroi" in dutch


def test_the_live_status_follows_the_round_s_progress(en, db, stop, frozen):
    rnd, stops = today_round(db, stop)
    rnd.status, rnd.started_at = "started", local(8, 55)
    first, second = stops
    first.status, first.arrived_at, first.left_at = "left", local(9, 5), local(10, 45)
    db.commit()
    frozen.advance(hours=2, minutes=50)  # 10:50
    page = text_of(en.get(f"/arret/{stop.public_slug}"))
    assert "On its way, arrival expected at 11:15 (15 minutes late)." in page
    second.status, second.arrived_at = "arrived", local(11, 14)
    db.commit()
    page = text_of(en.get(f"/arret/{stop.public_slug}"))
    assert "The minibus is here until 12:30." in page


def test_only_public_stops_have_a_page(en, db, stop, coord):
    assert en.get("/arret/nope").status_code == 404
    assert en.get("/arret/UPPER").status_code == 404
    assert en.get("/arret/" + "a" * 200).status_code == 404
    # A household of the meal round and a ride have no page: their ids are no slugs.
    order = db.scalar(select(MealOrder).where(MealOrder.team_id == coord.team_id))
    if order is not None:
        assert en.get(f"/arret/{order.id}").status_code == 404
        assert order.household not in text_of(en.get(f"/arret/{stop.public_slug}"))
    stop.active = False
    db.commit()
    assert en.get(f"/arret/{stop.public_slug}").status_code == 404
    assert en.get(f"/arret/{stop.public_slug}/affiche").status_code == 404


def test_the_poster_carries_a_qr_code_to_the_page(en, db, stop):
    response = en.get(f"/arret/{stop.public_slug}/affiche")
    page = text_of(response)
    assert response.status_code == 200
    assert "<svg" in page and "The minibus of the CPAS stops here" in page
    assert f"/arret/{stop.public_slug}</p>" in page


# --- SMS ------------------------------------------------------------------------------


def test_subscribing_by_code_records_the_consent_and_the_audience(en, db, stop, frozen):
    done = subscribe(en, db, stop.public_slug)
    assert done.status_code == 302 and "/fait" in done.headers["Location"]
    assert "You will get an SMS when the minibus is late" in text_of(
        en.get(done.headers["Location"])
    )
    (subscription,) = running(db, stop)
    assert subscription.confirmed_at is not None and subscription.language == "fr"
    # The code's SMS and contact are the stop's CPAS's (its sender; no other CPAS sees it).
    from core import organisations

    code_sms = db.scalar(
        select(Message).where(Message.key.like("phone-check:%")).order_by(Message.id.desc())
    )
    assert code_sms.cpas_id == organisations.cpas_id_of_team(db, stop.team_id)
    code_contact = db.get(Contact, code_sms.contact_id)
    assert {link.team_id for link in code_contact.teams} == {stop.team_id}
    consent = db.get(Consent, (subscription.contact_id, "sms", "service_change"))
    assert consent.granted and consent.method == "online"
    # A second time (another day): still one subscription.
    frozen.advance(days=1)
    assert subscribe(en, db, stop.public_slug).status_code == 302
    assert len(running(db, stop)) == 1
    # The audience: one person; a broadcast reaches them.
    ids = audiences.stop_subscribers(db, {"stop": str(stop.id)})
    reach = broadcasts.audience_reach(db, ids, "service_change")
    assert [(contact_id, reason) for contact_id, _l, reason in reach] == [
        (subscription.contact_id, None)
    ]


def test_stop_by_sms_withdraws_and_the_page_leaves(en, db, stop, frozen):
    subscribe(en, db, stop.public_slug)
    (subscription,) = running(db, stop)
    replies.handle_inbound(db, provider_id="SM-stop-1", from_number=NUMBER, body="STOP")
    db.commit()
    ids = audiences.stop_subscribers(db, {"stop": str(stop.id)})
    (row,) = broadcasts.audience_reach(db, ids, "service_change")
    assert row[2] == "withdrawn"  # STOP: nobody sends to them any more
    # Subscribing again on the page grants it again; then leaving by the page ends it.
    frozen.advance(minutes=2)
    subscribe(en, db, stop.public_slug)
    frozen.advance(minutes=2)
    left = subscribe(en, db, stop.public_slug, leave=True)
    assert left.status_code == 302 and "left=1" in left.headers["Location"]
    assert running(db, stop) == []
    assert not db.get(Consent, (subscription.contact_id, "sms", "service_change")).granted
    assert (
        db.scalar(audiences.stop_subscribers(db, {"stop": str(stop.id)}).exists().select()) is False
    )


def test_bad_input_changes_nothing(en, db, stop):
    path = f"/arret/{stop.public_slug}/sms"
    en.get(path)
    refused = en.post(path, {"phone": "02 512 34 56", "sms_language": "fr"})
    assert refused.status_code == 422 and "mobile" in text_of(refused).lower()
    assert en.post(path, {"phone": NUMBER, "sms_language": "xx"}).status_code == 422
    assert en.post(path, {"phone": NUMBER, "sms_language": "fr"}).status_code == 302
    wrong = en.post(f"/arret/{stop.public_slug}/code", {"code": "000000"})
    assert wrong.status_code == 422 and "4" in text_of(wrong)
    assert running(db, stop) == []
    # No flow: the code page sends back to the form.
    other = en.client.application.test_client()
    assert other.get(f"/arret/{stop.public_slug}/code").status_code == 302


def test_a_number_s_limit_does_not_lock_others_out(en, db, stop):
    path = f"/arret/{stop.public_slug}/sms"
    en.get(path)
    assert en.post(path, {"phone": NUMBER, "sms_language": "fr"}).status_code == 302
    again = en.post(path, {"phone": NUMBER, "sms_language": "fr"})
    assert again.status_code == 429 and again.headers["Retry-After"]
    assert en.post(path, {"phone": "+32470445566", "sms_language": "nl"}).status_code == 302


def test_the_audience_is_kept_to_the_author_s_cpas(db, stop):
    mine = accounts.find_user(db, "mobile-coord")
    other = accounts.find_user(db, "coordination")  # CPAS de Bruxelles
    (field,) = staff.audience_fields(db, "stop_subscribers", {}, language="en", viewer=mine)
    assert str(stop.id) in {value for value, _label in field.choices}
    (field,) = staff.audience_fields(db, "stop_subscribers", {}, language="en", viewer=other)
    assert all(value != str(stop.id) for value, _label in field.choices)
    assert db.scalar(select(func.count()).select_from(StopSubscription)) == 0
