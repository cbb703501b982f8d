"""Broadcasts on the database: preview, validation, expansion in batches (once), progress,
cancel; 5,000 recipients do not weigh on the request that creates the broadcast."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from threading import Barrier

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core import accounts, clock
from core.accounts import Team, User
from core.db import make_engine, make_session_factory
from core.errors import Invalid
from notifications import broadcasts, contacts
from notifications.models import Broadcast, Consent, Contact, ContactPhone, ContactTeam, Message
from tests.db.broadcasts_world import BODIES, FR, NL, make_team, mixed_audience, person
from tests.support import migrated_database

EN = "CPAS: the office is closed on Friday. Appointments are moved."


def coordinator(db: Session) -> User:
    user = accounts.find_user(db, "coordination")
    assert user is not None
    return user


def test_the_preview_counts_recipients_exclusions_languages_and_cost(db):
    team, _people = mixed_audience(db)
    result = broadcasts.preview(
        db,
        audience="team_contacts",
        params={"team_id": str(team.id)},
        category="service_change",
        bodies={**BODIES, "en": EN},
        segment_price="0.08",
    )
    assert result.ok, result.errors
    assert result.recipients == 4
    assert result.excluded == {
        "no_consent": 2,  # Eli, and Jules who only agreed to information messages
        "withdrawn": 1,
        "no_mobile": 1,
        "opted_out": 1,
        "invalid_number": 1,
    }
    assert result.languages == {"fr": 1, "nl": 1, "en": 1, "fr+nl": 1}
    # FR has ê: UCS-2, one segment; the bilingual text is 2 UCS-2 segments.
    assert result.segments["fr"] == 1 and result.segments["fr+nl"] == 2
    assert result.encodings["fr"] == "UCS-2" and result.encodings["nl"] == "GSM-7"
    assert result.total_segments == 1 + 1 + 1 + 2
    assert result.estimated_cost == Decimal("0.40")
    assert result.audience_label == "Équipe test-antenne"


def test_the_preview_agrees_with_reachability_for_everyone(db):
    team, people = mixed_audience(db)
    ids = select(ContactTeam.contact_id).where(ContactTeam.team_id == team.id)
    reasons = {
        contact_id: reason
        for contact_id, _lang, reason in broadcasts.audience_reach(db, ids, "service_change")
    }
    for contact in people.values():
        db.refresh(contact)
        assert reasons[contact.id] == contacts.reachability(db, contact, "service_change").reason


def test_english_speakers_get_french_without_an_english_text():
    texts = broadcasts.texts_for(BODIES)
    assert texts["en"] == FR
    assert texts["fr+nl"] == f"{FR}\n{NL}"
    assert broadcasts.texts_for({**BODIES, "en": EN})["en"] == EN


def count_broadcasts(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Broadcast)) or 0


def count_messages(db: Session, broadcast_id: int | None = None) -> int:
    query = select(func.count()).select_from(Message)
    if broadcast_id is not None:
        query = query.where(Message.broadcast_id == broadcast_id)
    return db.scalar(query) or 0


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"bodies": {"fr": "", "nl": NL}}, "body_fr", "required"),
        ({"bodies": {"fr": FR, "nl": "   "}}, "body_nl", "required"),
        ({"bodies": {"fr": "Bonjour {name}", "nl": NL}}, "body_fr", "no_placeholders"),
        ({"bodies": {"fr": FR, "nl": "x" * 460}}, "body_nl", "too_many_segments"),
        ({"bodies": {**BODIES, "en": "ê" * 202}}, "body_en", "too_many_segments"),
        ({"bodies": {"fr": "a" * 459, "nl": "b" * 459}}, "body", "bilingual_too_long"),
        ({"params": {"team_id": "999999"}}, "team_id", "unknown_choice"),
        ({"params": {"team_id": ""}}, "team_id", "required"),
        ({"params": {"team_id": "abc"}}, "team_id", "unknown_choice"),
        ({"audience": "nobody"}, "audience", "unknown_choice"),
        ({"category": "verification"}, "category", "unknown_choice"),
        ({"urgent": True, "category": "information"}, "urgent", "urgent_not_allowed"),
    ],
)
def test_bad_broadcasts_are_refused_and_create_nothing(db, changes, field, code):
    team, _people = mixed_audience(db)
    arguments = {
        "audience": "team_contacts",
        "params": {"team_id": str(team.id)},
        "category": "service_change",
        "bodies": BODIES,
        "urgent": False,
        **changes,
    }
    before = (count_broadcasts(db), count_messages(db))
    with pytest.raises(Invalid) as raised:
        broadcasts.create_broadcast(db, actor=coordinator(db), **arguments)
    assert raised.value.errors[field].code == code, raised.value.errors
    assert (count_broadcasts(db), count_messages(db)) == before


def test_a_street_team_is_not_an_audience_of_beneficiaries(db):
    street = make_team(db, "test-street", "street")
    result = broadcasts.preview(
        db,
        audience="team_contacts",
        params={"team_id": str(street.id)},
        category="service_change",
        bodies=BODIES,
    )
    assert result.errors["team_id"].code == "unknown_choice"


def test_an_audience_where_nobody_can_receive_it_is_refused(db):
    team = make_team(db)
    person(db, team, "Sans accord", consent=None)
    person(db, team, "Fixe", numbers=("02 512 34 56",))
    with pytest.raises(Invalid) as raised:
        broadcasts.create_broadcast(
            db,
            actor=coordinator(db),
            audience="team_contacts",
            params={"team_id": str(team.id)},
            category="service_change",
            bodies=BODIES,
        )
    assert raised.value.errors["audience"].code == "no_recipients"
    empty = make_team(db, "test-empty")
    result = broadcasts.preview(
        db,
        audience="team_contacts",
        params={"team_id": str(empty.id)},
        category="service_change",
        bodies=BODIES,
    )
    assert result.errors["audience"].code == "no_recipients"
    assert result.recipients == 0


def test_staff_of_a_team_are_the_active_users_with_a_contact(db):
    team = make_team(db, "test-staff", "home_care")
    active = User(username="t-active", display_name="Active", password_hash="x", role="aide")
    gone = User(username="t-gone", display_name="Gone", password_hash="x", role="aide")
    active.team, gone.team, gone.active = team, team, False
    db.add_all([active, gone])
    db.flush()
    for user, number in ((active, "0470 99 01 01"), (gone, "0470 99 01 02")):
        contact = contacts.create_contact(
            db, actor=None, display_name=user.display_name, language="fr",
            phones=[number], user_id=user.id,
        )  # fmt: skip
        contacts.set_consent(
            db, contact, category="service_change", granted=True, method="form", actor=None
        )
    result = broadcasts.preview(
        db,
        audience="team_staff",
        params={"team_id": str(team.id)},
        category="service_change",
        bodies=BODIES,
    )
    assert result.recipients == 1
    everyone = broadcasts.preview(
        db, audience="team_staff", params={"team_id": "all"}, category="service_change",
        bodies=BODIES,
    )  # fmt: skip
    # The demo's staff contacts (aides and the coordinator) plus ours.
    assert everyone.recipients >= 2
    assert everyone.audience_label == "all teams"


def create(db: Session, team: Team, **extra) -> Broadcast:
    return broadcasts.create_broadcast(
        db,
        actor=coordinator(db),
        audience="team_contacts",
        params={"team_id": str(team.id)},
        category="service_change",
        bodies=BODIES,
        **extra,
    )


def test_creating_stores_the_broadcast_and_no_message(db):
    team, _people = mixed_audience(db)
    broadcast = create(db, team, urgent=True)
    assert broadcast.status == "queued"
    assert broadcast.urgent is True
    assert broadcast.recipients == 4
    assert broadcast.audience_params == {"team_id": str(team.id)}
    assert broadcast.bodies == BODIES
    assert count_messages(db, broadcast.id) == 0


def test_expanding_makes_one_row_per_person_with_the_reason_for_the_excluded(db, sessions):
    team, people = mixed_audience(db)
    broadcast = create(db, team)
    db.commit()
    made = broadcasts.expand_pending(sessions, batch=3)
    assert made == 10
    rows = {
        m.contact_id: m
        for m in db.scalars(select(Message).where(Message.broadcast_id == broadcast.id))
    }
    assert len(rows) == 10
    assert rows[people["fr"].id].body == FR
    assert rows[people["nl"].id].body == NL
    assert rows[people["en"].id].body == FR
    assert rows[people["unknown"].id].body == f"{FR}\n{NL}"
    assert rows[people["unknown"].id].language == "fr+nl"
    assert rows[people["fr"].id].key == f"broadcast:{broadcast.id}:{people['fr'].id}"
    assert {rows[people[k].id].status for k in ("fr", "nl", "en", "unknown")} == {"pending"}
    assert rows[people["landline"].id].status == "blocked"
    assert rows[people["landline"].id].error_code == "no_mobile"
    assert rows[people["opted_out"].id].error_code == "opted_out"
    db.refresh(broadcast)
    assert broadcast.status == "sending"
    assert broadcast.expanded_at is not None
    assert broadcast.recipients == 4
    assert broadcast.excluded == {
        "no_consent": 2,
        "withdrawn": 1,
        "no_mobile": 1,
        "opted_out": 1,
        "invalid_number": 1,
    }
    # Again: nothing more.
    assert broadcasts.expand_pending(sessions, batch=3) == 0
    assert count_messages(db, broadcast.id) == 10


def test_expansion_resumes_after_a_crash_between_batches(db, sessions, monkeypatch):
    team, _people = mixed_audience(db)
    broadcast = create(db, team)
    db.commit()
    calls = {"n": 0}
    real = broadcasts._expand_batch

    def crash_on_second(session, item, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("scheduler killed")
        return real(session, item, batch)

    monkeypatch.setattr(broadcasts, "_expand_batch", crash_on_second)
    with pytest.raises(RuntimeError):
        broadcasts.expand_pending(sessions, batch=4)
    assert count_messages(db, broadcast.id) == 4  # the first batch was committed
    monkeypatch.setattr(broadcasts, "_expand_batch", real)
    assert broadcasts.expand_pending(sessions, batch=4) == 6
    assert count_messages(db, broadcast.id) == 10


def test_urgent_service_changes_skip_the_quiet_hours(db, sessions):
    team, people = mixed_audience(db)
    night = clock.as_utc(clock.to_local(clock.now()).replace(hour=23, minute=0))
    with clock.frozen(night):
        urgent = create(db, team, urgent=True)
        normal = create(db, team)
        db.commit()
        broadcasts.expand_pending(sessions)
    alice = people["fr"].id
    urgent_row = db.scalar(select(Message).where(Message.key == f"broadcast:{urgent.id}:{alice}"))
    normal_row = db.scalar(select(Message).where(Message.key == f"broadcast:{normal.id}:{alice}"))
    assert urgent_row.urgent and urgent_row.not_before == night
    assert normal_row.not_before > night + timedelta(hours=8)


def set_status(db: Session, broadcast_id: int, statuses: dict[str, str]) -> None:
    rows = list(
        db.scalars(
            select(Message)
            .where(Message.broadcast_id == broadcast_id, Message.status == "pending")
            .order_by(Message.id)
        )
    )
    for message, status in zip(rows, statuses.values(), strict=False):
        message.status = status
        if status in ("delivered", "failed", "sent"):
            message.provider_id = f"SM{message.id}"
    db.commit()


def test_progress_follows_the_messages_and_the_job_closes_the_broadcast(db, sessions):
    team, _people = mixed_audience(db)
    broadcast = create(db, team)
    db.commit()
    before = broadcasts.progress(db, broadcast.id)
    assert before.expanded is False and before.total == 0 and before.expected == 10
    assert before.sendable == 4
    assert before.percent_sent == 0 and not before.done
    broadcasts.expand_pending(sessions)
    now = broadcasts.progress(db, broadcast.id)
    assert now.total == 10 and now.groups["waiting"] == 4 and now.groups["not_sent"] == 6
    assert now.sendable == 4 and now.percent_sent == 0
    set_status(db, broadcast.id, {"a": "delivered", "b": "failed", "c": "sent"})
    now = broadcasts.progress(db, broadcast.id)
    assert now.groups["delivered"] == 1 and now.groups["failed"] == 1 and now.groups["sent"] == 1
    assert now.percent_sent == 75 and now.percent_delivered == 25 and not now.done
    set_status(db, broadcast.id, {"d": "delivered"})
    db.execute(
        Message.__table__.update()
        .where(Message.broadcast_id == broadcast.id, Message.status == "sent")
        .values(status="delivered")
    )
    db.commit()
    assert broadcasts.progress(db, broadcast.id).done
    broadcasts.expand_pending(sessions)
    db.refresh(broadcast)
    assert broadcast.status == "done"
    page = broadcasts.recipients(db, broadcast.id, status="delivered")
    assert page.total == 3 and all(row.status == "delivered" for row in page.rows)
    excluded = broadcasts.recipients(db, broadcast.id, status="not_sent", limit=2)
    assert excluded.total == 6 and len(excluded.rows) == 2
    everyone = broadcasts.recipients(db, broadcast.id, limit=100)
    by_name = {row.name: row for row in everyone.rows}
    assert by_name["Alice"].number == "+32 470 99 00 01"
    assert by_name["Gilles"].number == "" and by_name["Gilles"].error_code == "no_mobile"


def test_cancelling_stops_what_has_not_left(db, sessions):
    team, _people = mixed_audience(db)
    broadcast = create(db, team)
    db.commit()
    broadcasts.expand_pending(sessions)
    set_status(db, broadcast.id, {"a": "delivered"})
    cancelled = broadcasts.cancel_broadcast(db, broadcast, coordinator(db))
    db.commit()
    assert cancelled == 3
    statuses = dict(
        db.execute(
            select(Message.status, func.count())
            .where(Message.broadcast_id == broadcast.id)
            .group_by(Message.status)
        ).all()
    )
    assert statuses == {"delivered": 1, "cancelled": 3, "blocked": 6}
    db.refresh(broadcast)
    assert broadcast.status == "cancelled"
    assert broadcasts.progress(db, broadcast.id).done
    with pytest.raises(Invalid):
        broadcasts.cancel_broadcast(db, broadcast, coordinator(db))


def test_a_broadcast_cancelled_before_the_job_makes_no_message(db, sessions):
    team, _people = mixed_audience(db)
    broadcast = create(db, team)
    broadcasts.cancel_broadcast(db, broadcast, coordinator(db))
    db.commit()
    assert broadcasts.expand_pending(sessions) == 0
    assert count_messages(db, broadcast.id) == 0


def bulk_audience(db: Session, team: Team, size: int) -> None:
    """`size` contacts of `team`, one in ten without consent, in four bulk inserts (the
    ORM's unit of work took seconds for thousands of objects)."""
    now = clock.now()
    # Ids chosen here: RETURNING over thousands of rows is quadratic in SQLAlchemy's
    # merging of the batches' results.
    first = db.scalar(select(func.coalesce(func.max(Contact.id), 0))) + 1
    ids = range(first, first + size)
    db.execute(
        insert(Contact),
        [
            {
                "id": id_,
                "display_name": f"Personne {index:05d}",
                "language": ("fr", "nl", None)[index % 3],
            }
            for index, id_ in enumerate(ids)
        ],
    )
    db.execute(
        insert(ContactPhone),
        [
            {"contact_id": id_, "e164": f"+3247{index:07d}", "is_mobile": True, "position": 0}
            for index, id_ in enumerate(ids)
        ],
    )
    db.execute(insert(ContactTeam), [{"contact_id": id_, "team_id": team.id} for id_ in ids])
    db.execute(
        insert(Consent),
        [
            {
                "contact_id": id_,
                "channel": "sms",
                "category": "information",
                "granted": True,
                "at": now,
                "method": "form",
            }
            for index, id_ in enumerate(ids)
            if index % 10
        ],
    )
    db.flush()


def test_five_thousand_recipients_do_not_weigh_on_the_request(db, sessions):
    team = make_team(db, "test-big")
    bulk_audience(db, team, 5000)
    db.commit()
    started = time.perf_counter()
    broadcast = broadcasts.create_broadcast(
        db,
        actor=coordinator(db),
        audience="team_contacts",
        params={"team_id": str(team.id)},
        category="information",
        bodies=BODIES,
    )
    db.commit()
    elapsed = time.perf_counter() - started
    assert count_messages(db, broadcast.id) == 0
    assert broadcast.recipients == 4500 and broadcast.excluded == {"no_consent": 500}
    assert elapsed < 3, elapsed  # about 0.1 s; loose for slow machines
    # The job makes the rows batch by batch; one run can be bounded.
    assert broadcasts.expand_pending(sessions, batch=500, max_batches=2) == 1000
    progress = broadcasts.progress(db, broadcast.id)
    assert progress.total == 1000 and progress.expected == 5000 and not progress.expanded
    assert progress.sendable == 4500
    assert progress.groups["waiting"] == 900 and progress.groups["not_sent"] == 100
    assert progress.percent_sent == 0
    db.refresh(broadcast)
    assert broadcast.status == "queued"


def test_two_schedulers_expanding_at_once_make_each_row_once():
    """Two job runs start at the same moment on their own connections."""
    with migrated_database("broadcast") as url:
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=4)
        factory = make_session_factory(engine)
        with factory() as session:
            team = make_team(session)
            actor = User(
                username="coord", display_name="Coord", password_hash="x", role="coordinator"
            )
            session.add(actor)
            bulk_audience(session, team, 300)
            broadcast = broadcasts.create_broadcast(
                session,
                actor=actor,
                audience="team_contacts",
                params={"team_id": str(team.id)},
                category="information",
                bodies=BODIES,
            )
            session.commit()
            broadcast_id = broadcast.id
        barrier = Barrier(2)

        def run(_: int) -> int:
            barrier.wait()
            return broadcasts.expand_pending(factory, batch=25)

        with ThreadPoolExecutor(max_workers=2) as pool:
            made = list(pool.map(run, range(2)))
        with factory() as session:
            rows = count_messages(session, broadcast_id)
            keys = session.scalar(
                select(func.count(func.distinct(Message.key))).where(
                    Message.broadcast_id == broadcast_id
                )
            )
            status = session.get(Broadcast, broadcast_id).status
        engine.dispose()
    assert sum(made) == 300, made
    assert rows == keys == 300
    assert status == "sending"
