"""The outbox's dispatcher on the real database: sent once, retried, dropped, reconciled.

Most tests run in the suite's rolled-back transaction: the dispatcher's sessions join it
through savepoints (their commits are savepoint releases). The concurrency test and the
`terrain sms dispatch` test use a database of their own with real commits.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core import clock
from core.config import Settings
from core.db import make_engine, make_session_factory
from core.scheduler import JobContext, shared
from notifications import contacts, dispatch, jobs, outbox
from notifications.gateways import (
    MemoryGateway,
    OutgoingSms,
    PermanentGatewayError,
    TransientGatewayError,
    TwilioGateway,
)
from notifications.models import Contact, ContactPhone, Message, MessageEvent
from tests.fake_twilio import OPTED_OUT_NUMBER, FakeTwilio
from tests.support import migrated_database

pytestmark = pytest.mark.usefixtures("empty_outbox")

MOBILE = "+32470987601"
OTHER_MOBILE = "+32470987602"
# Tuesday 24 November 2026, 12:00 in Brussels (UTC+1): outside quiet hours.
NOON = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
BODY = "CPAS: rappel de votre rendez-vous demain à 10h."

Sessions = Callable[[], Session]


# --- Fixtures and helpers ------------------------------------------------------------


@pytest.fixture()
def gateway() -> MemoryGateway:
    return MemoryGateway()


@pytest.fixture()
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(NOON) as traveller:
        yield traveller


def person(db: Session, number: str = MOBILE, *, categories=("reminder",)) -> Contact:
    contact = contacts.create_contact(
        db, actor=None, display_name="Personne test", language="fr", phones=[number]
    )
    for category in categories:
        contacts.set_consent(
            db, contact, category=category, granted=True, method="form", actor=None
        )
    db.commit()
    return contact


def queue(db: Session, contact: Contact, body: str = BODY, **options) -> Message:
    message = outbox.enqueue(
        db,
        key=options.pop("key", f"test:{uuid.uuid4()}"),
        contact=contact,
        category=options.pop("category", "reminder"),
        body=body,
        **options,
    )
    db.commit()
    return message


def fresh(db: Session, message: Message) -> Message:
    db.expire_all()
    found = db.get(Message, message.id)
    assert found is not None
    return found


def sent_ids(gateway: MemoryGateway) -> list[int]:
    return [sms.message_id for sms in gateway.sent]


def events(db: Session, message: Message) -> list[tuple[str, str, str | None]]:
    rows = db.scalars(
        select(MessageEvent).where(MessageEvent.message_id == message.id).order_by(MessageEvent.id)
    )
    return [(event.status, event.source, event.error_code) for event in rows]


def phone_state(db: Session, number: str) -> set[str]:
    db.expire_all()
    return set(db.scalars(select(ContactPhone.state).where(ContactPhone.e164 == number)))


# --- Sending ---------------------------------------------------------------------------


def test_a_due_message_is_sent_once(db, sessions, gateway, frozen):
    message = queue(db, person(db))
    report = dispatch.dispatch_due(sessions, gateway, worker="test")
    assert (report.claimed, report.sent, report.failed, report.retried) == (1, 1, 0, 0)
    assert sent_ids(gateway) == [message.id]
    [sms] = gateway.sent
    assert (sms.to, sms.body) == (MOBILE, BODY)
    row = fresh(db, message)
    assert row.status == "queued" and row.gateway == "memory"
    assert row.provider_id and row.provider_id.startswith("SM")
    assert row.sent_at == NOON and row.attempts == 1 and row.claimed_by == "test"
    assert [e[:2] for e in events(db, row)] == [
        ("pending", "job"),
        ("sending", "dispatcher"),
        ("queued", "dispatcher"),
    ]
    again = dispatch.dispatch_due(sessions, gateway)
    assert again.claimed == 0 and len(gateway.sent) == 1


def test_a_message_not_yet_due_waits(db, sessions, gateway, frozen):
    message = queue(db, person(db), not_before=NOON + timedelta(hours=1))
    assert dispatch.dispatch_due(sessions, gateway).claimed == 0
    frozen.advance(minutes=59, seconds=59)
    assert dispatch.dispatch_due(sessions, gateway).claimed == 0
    frozen.advance(seconds=1)
    assert dispatch.dispatch_due(sessions, gateway).sent == 1
    assert sent_ids(gateway) == [message.id]


def test_a_message_made_in_quiet_hours_waits_until_eight(db, sessions, gateway):
    # 22:00 in Brussels (UTC+1 in November): quiet until 08:00 the next morning.
    with clock.frozen(datetime(2026, 11, 24, 21, 0, tzinfo=UTC)) as traveller:
        message = queue(db, person(db))
        assert message.not_before == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
        assert dispatch.dispatch_due(sessions, gateway).claimed == 0
        traveller.advance(hours=9, minutes=59)  # 07:59 in Brussels
        assert dispatch.dispatch_due(sessions, gateway).claimed == 0
        traveller.advance(minutes=1)
        assert dispatch.dispatch_due(sessions, gateway).sent == 1
    assert sent_ids(gateway) == [message.id]


def test_a_requested_message_leaves_at_night_and_so_do_its_retries(db, sessions, gateway):
    # 22:00 in Brussels: the confirmation of a booking made just now is not held to 08:00.
    night = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    with clock.frozen(night) as traveller:
        message = queue(db, person(db), requested=True, valid_until=night + timedelta(days=1))
        assert message.not_before == night and message.requested
        assert ("pending", "job", "quiet_bypass") in events(db, message)
        gateway.fail_next(TransientGatewayError("20429", "busy"))
        assert dispatch.dispatch_due(sessions, gateway).retried == 1
        # The retry comes 30 s later, not at 08:00.
        assert fresh(db, message).not_before == night + timedelta(seconds=30)
        traveller.advance(seconds=30)
        assert dispatch.dispatch_due(sessions, gateway).sent == 1
    assert sent_ids(gateway) == [message.id]


def test_validity_is_given_to_the_gateway_within_twilio_bounds(db, sessions, gateway, frozen):
    contact = person(db)
    day = queue(db, contact, "un jour", valid_until=NOON + timedelta(days=1))
    short = queue(db, contact, "90 secondes", valid_until=NOON + timedelta(seconds=90))
    tiny = queue(db, contact, "une demi-seconde", valid_until=NOON + timedelta(milliseconds=500))
    assert dispatch.dispatch_due(sessions, gateway).sent == 3
    validity = {sms.message_id: sms.validity_seconds for sms in gateway.sent}
    assert validity == {day.id: 36000, short.id: 90, tiny.id: 1}


# --- Transient errors -----------------------------------------------------------------


def test_transient_errors_back_off_then_give_up(db, sessions, gateway, frozen):
    message = queue(db, person(db), valid_until=NOON + timedelta(days=1))
    gateway.fail_next(TransientGatewayError("20429", "busy"), times=dispatch.MAX_ATTEMPTS)
    for attempt, delay in enumerate(dispatch.BACKOFF_SECONDS, start=1):
        report = dispatch.dispatch_due(sessions, gateway)
        assert (report.retried, report.errors) == (1, ["20429"])
        row = fresh(db, message)
        assert (row.status, row.attempts, row.error_code) == ("pending", attempt, "20429")
        assert row.not_before == clock.now() + timedelta(seconds=delay)
        frozen.advance(seconds=delay - 1)
        assert dispatch.dispatch_due(sessions, gateway).claimed == 0
        frozen.advance(seconds=1)
    report = dispatch.dispatch_due(sessions, gateway)
    assert (report.failed, report.retried) == (1, 0)
    row = fresh(db, message)
    assert (row.status, row.attempts, row.error_detail) == ("failed", 6, "gave_up")
    assert dispatch.MAX_ATTEMPTS == 6 and gateway.sent == []
    assert dispatch.dispatch_due(sessions, gateway).claimed == 0


def test_a_transient_error_ends_the_run_and_hands_the_batch_back(db, sessions, gateway, frozen):
    contact = person(db)
    first, second, third = (queue(db, contact, f"message {n}") for n in range(3))
    gateway.fail_next(TransientGatewayError("connection", "refused"))
    report = dispatch.dispatch_due(sessions, gateway)
    assert (report.claimed, report.retried, report.released, report.sent) == (3, 1, 2, 0)
    assert fresh(db, first).status == "pending" and fresh(db, first).attempts == 1
    for other in (second, third):
        row = fresh(db, other)
        assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)
        assert row.not_before <= NOON
    report = dispatch.dispatch_due(sessions, gateway)
    assert report.sent == 2 and sorted(sent_ids(gateway)) == sorted([second.id, third.id])
    frozen.advance(seconds=30)
    assert dispatch.dispatch_due(sessions, gateway).sent == 1
    assert sorted(sent_ids(gateway)) == sorted([first.id, second.id, third.id])


def test_a_stop_request_hands_the_rest_of_the_batch_back(db, sessions, gateway, frozen):
    contact = person(db)
    messages = [queue(db, contact, f"message {n}") for n in range(4)]
    calls = iter([False, False, True])  # before the claim, before the 1st send, 2nd send
    report = dispatch.dispatch_due(sessions, gateway, stop=lambda: next(calls, True))
    assert (report.sent, report.released) == (1, 3)
    assert sent_ids(gateway) == [messages[0].id]
    assert [fresh(db, m).status for m in messages[1:]] == ["pending"] * 3


def test_an_unexpected_error_leaves_its_row_to_reconcile_and_hands_back_the_rest(
    db, sessions, gateway, frozen
):
    contact = person(db)
    first, second = queue(db, contact, "premier"), queue(db, contact, "second")

    class Broken(MemoryGateway):
        def send(self, sms: OutgoingSms):
            raise RuntimeError("a bug, not a gateway error")

    with pytest.raises(RuntimeError):
        dispatch.dispatch_due(sessions, Broken())
    assert fresh(db, first).status == "sending"  # did it leave? reconcile will ask
    assert (fresh(db, second).status, fresh(db, second).attempts) == ("pending", 0)
    assert dispatch.dispatch_due(sessions, gateway).sent == 1
    frozen.advance(minutes=11)
    assert dispatch.reconcile(sessions, gateway) == {"recorded": 0, "requeued": 1}
    assert dispatch.dispatch_due(sessions, gateway).sent == 1
    assert sorted(sent_ids(gateway)) == sorted([first.id, second.id])


# --- Permanent errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason", "state"),
    [
        ("21610", "opted_out", "opted_out"),
        ("21614", "not_mobile", "not_mobile"),
        ("21211", "invalid_number", "invalid"),
    ],
)
def test_a_permanent_error_fails_marks_the_number_and_blocks_the_rest(
    db, sessions, gateway, frozen, code, reason, state
):
    contact = person(db)
    now = queue(db, contact, "tout de suite")
    later = queue(db, contact, "plus tard", not_before=NOON + timedelta(hours=2))
    elsewhere = queue(db, person(db, OTHER_MOBILE), "à quelqu'un d'autre")
    gateway.numbers_failing[MOBILE] = PermanentGatewayError(code, reason)
    report = dispatch.dispatch_due(sessions, gateway)
    assert (report.failed, report.sent, report.retried) == (1, 1, 0)
    row = fresh(db, now)
    assert (row.status, row.error_code, row.error_detail, row.attempts) == (
        "failed",
        code,
        reason,
        1,
    )
    assert phone_state(db, MOBILE) == {state}
    blocked = fresh(db, later)
    assert (blocked.status, blocked.error_code) == ("blocked", state)
    assert fresh(db, elsewhere).status == "queued"
    frozen.advance(hours=3)
    assert dispatch.dispatch_due(sessions, gateway).claimed == 0
    assert sent_ids(gateway) == [elsewhere.id]


# --- Stale messages --------------------------------------------------------------------


def _register_test_subjects() -> None:
    outbox.register_subject_kind(
        outbox.SubjectKind("test-visit", is_current=lambda _session, record: record != "gone")
    )


def test_a_message_past_its_validity_expires_unsent(db, sessions, gateway, frozen):
    message = queue(db, person(db), valid_until=NOON + timedelta(minutes=1))
    frozen.advance(minutes=2)
    report = dispatch.dispatch_due(sessions, gateway)
    assert (report.dropped, report.claimed, report.sent) == (1, 0, 0)
    row = fresh(db, message)
    assert (row.status, row.error_code, row.attempts) == ("expired", "expired", 0)
    assert gateway.sent == []


def test_a_message_whose_subject_is_gone_is_cancelled_unsent(db, sessions, gateway, frozen):
    _register_test_subjects()
    contact = person(db)
    gone = queue(db, contact, "annulé", subject="test-visit:gone")
    kept = queue(db, contact, "maintenu", subject="test-visit:12")
    report = dispatch.dispatch_due(sessions, gateway)
    assert (report.dropped, report.sent) == (1, 1)
    assert (fresh(db, gone).status, fresh(db, gone).error_code) == ("cancelled", "cancelled")
    assert sent_ids(gateway) == [kept.id]


def test_expire_stale_drops_what_waits_in_vain_once(db, sessions, frozen):
    _register_test_subjects()
    contact = person(db)
    later = NOON + timedelta(hours=5)
    too_late = queue(db, contact, "trop tard", not_before=later, valid_until=later)
    gone = queue(db, contact, "annulé", subject="test-visit:gone", not_before=later)
    kept = queue(db, contact, "maintenu", subject="test-visit:3", not_before=later)
    plain = queue(db, contact, "sans sujet", not_before=later)
    frozen.advance(hours=5)
    assert dispatch.expire_stale(sessions, batch=2) == {"expired": 1, "cancelled": 1}
    assert fresh(db, too_late).status == "expired"
    assert fresh(db, gone).status == "cancelled"
    assert fresh(db, kept).status == "pending" and fresh(db, plain).status == "pending"
    assert dispatch.expire_stale(sessions) == {"expired": 0, "cancelled": 0}
    assert [e for e in events(db, gone) if e[0] == "cancelled"] == [
        ("cancelled", "job", "cancelled")
    ]
    assert [e for e in events(db, too_late) if e[0] == "expired"] == [("expired", "job", "expired")]


# --- Reconciliation after a crash -------------------------------------------------------


def _claim(sessions: Sessions) -> list[dispatch.Claimed]:
    with sessions() as session:
        claimed, _ = dispatch.claim_due(session, worker="crashed")
    return claimed


def test_a_crash_after_the_send_is_recorded_from_the_provider_not_resent(
    db, sessions, gateway, frozen
):
    message = queue(db, person(db))
    [item] = _claim(sessions)
    result = gateway.send(OutgoingSms(item.id, item.to, item.body, None, None))
    # ... and the process dies before recording it.
    assert fresh(db, message).status == "sending"
    frozen.advance(minutes=9)
    assert dispatch.reconcile(sessions, gateway) == {"recorded": 0, "requeued": 0}
    frozen.advance(minutes=2)  # past STUCK_AFTER
    assert dispatch.reconcile(sessions, gateway) == {"recorded": 1, "requeued": 0}
    row = fresh(db, message)
    assert row.provider_id == result.provider_id and row.status == "delivered"
    assert events(db, row)[-1][:2] == ("delivered", "reconcile")
    assert dispatch.dispatch_due(sessions, gateway).claimed == 0
    assert len(gateway.sent) == 1


def test_a_crash_before_the_send_requeues_and_sends_once(db, sessions, gateway, frozen):
    message = queue(db, person(db))
    assert [item.id for item in _claim(sessions)] == [message.id]
    frozen.advance(minutes=11)
    assert dispatch.reconcile(sessions, gateway) == {"recorded": 0, "requeued": 1}
    row = fresh(db, message)
    assert (row.status, row.error_code) == ("pending", "not_at_provider")
    assert dispatch.dispatch_due(sessions, gateway).sent == 1
    assert dispatch.dispatch_due(sessions, gateway).claimed == 0
    assert sent_ids(gateway) == [message.id]
    assert fresh(db, message).attempts == 2


def test_reconcile_does_not_take_another_rows_provider_message(db, sessions, gateway, frozen):
    """Two messages with the same text to the same number: the one that crashed before
    its send must not be matched with the other's provider message."""
    contact = person(db)
    crashed = queue(db, contact)
    [item] = _claim(sessions)
    assert item.id == crashed.id
    twin = queue(db, contact)  # same number, same text, another key
    assert dispatch.dispatch_due(sessions, gateway).sent == 1
    frozen.advance(minutes=11)
    assert dispatch.reconcile(sessions, gateway) == {"recorded": 0, "requeued": 1}
    assert dispatch.dispatch_due(sessions, gateway).sent == 1
    assert sorted(sent_ids(gateway)) == sorted([twin.id, crashed.id])
    assert fresh(db, crashed).provider_id != fresh(db, twin).provider_id


# --- Status reports ----------------------------------------------------------------------


def test_apply_status_only_moves_forward(db, sessions, gateway, frozen):
    message = queue(db, person(db))
    dispatch.dispatch_due(sessions, gateway)
    provider_id = fresh(db, message).provider_id
    assert provider_id is not None
    assert dispatch.apply_status(db, provider_id=provider_id, status="sent") is not None
    assert dispatch.apply_status(db, provider_id=provider_id, status="queued") is None
    assert dispatch.apply_status(db, provider_id=provider_id, status="sent") is None
    changed = dispatch.apply_status(db, provider_id=provider_id, status="delivered")
    assert changed is not None and changed.status == "delivered"
    for late in ("sent", "failed", "undelivered", "queued"):
        assert dispatch.apply_status(db, provider_id=provider_id, status=late) is None
    assert dispatch.apply_status(db, provider_id="SMunknown", status="delivered") is None
    assert dispatch.apply_status(db, provider_id=provider_id, status="bogus") is None
    db.commit()
    assert fresh(db, message).status == "delivered"


def test_a_report_before_the_send_was_recorded_finds_its_row_by_id(db, sessions, frozen):
    message = queue(db, person(db))
    [item] = _claim(sessions)
    changed = dispatch.apply_status(
        db, provider_id="SMearly", status="sent", message_id=item.id, source="callback"
    )
    assert changed is not None and changed.provider_id == "SMearly"
    db.commit()
    row = fresh(db, message)
    assert (row.status, row.provider_id) == ("sent", "SMearly")
    # Another report naming the same row with another provider id changes nothing.
    other = dispatch.apply_status(db, provider_id="SMother", status="delivered", message_id=row.id)
    assert other is None


def test_an_undelivered_report_with_an_opt_out_code_marks_the_number(db, sessions, gateway, frozen):
    message = queue(db, person(db))
    dispatch.dispatch_due(sessions, gateway)
    provider_id = fresh(db, message).provider_id
    assert provider_id is not None
    dispatch.apply_status(db, provider_id=provider_id, status="undelivered", error_code="21610")
    db.commit()
    assert phone_state(db, MOBILE) == {"opted_out"}


# --- Twilio, through the real library, against the local fake ------------------------


def _settings(**overrides) -> Settings:
    values = {"instance_path": Path("/nonexistent"), "database_url": "sqlite://", "secret_key": "t"}
    return Settings(**{**values, **overrides})


def test_the_twilio_gateway_end_to_end(db, sessions, frozen):
    with FakeTwilio() as fake:
        settings = _settings(
            sms_gateway="twilio",
            twilio_account_sid=fake.account_sid,
            twilio_auth_token=fake.auth_token,
            twilio_from="CPAS",
            twilio_api_url=fake.url,
            public_url="https://terrain.example",
        )
        gateway = TwilioGateway(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_="CPAS",
            api_url=fake.url,
        )
        good = queue(db, person(db), valid_until=NOON + timedelta(hours=2))
        refused = queue(db, person(db, OPTED_OUT_NUMBER), "à un numéro désinscrit")
        context = JobContext(sessions, settings, shared(lambda: gateway))
        assert jobs.send_due(context) == {"sent": 1, "failed": 1}
        [received] = fake.sent
        row = fresh(db, good)
        assert received["To"] == MOBILE and received["Body"] == BODY
        assert received["From"] == "CPAS"
        assert received["StatusCallback"] == f"https://terrain.example/sms/status?m={good.id}"
        assert received["ValidityPeriod"] == "7200"
        assert (row.status, row.provider_id, row.gateway) == ("queued", received["Sid"], "twilio")
        failed = fresh(db, refused)
        assert (failed.status, failed.error_code, failed.error_detail) == (
            "failed",
            "21610",
            "opted_out",
        )
        assert phone_state(db, OPTED_OUT_NUMBER) == {"opted_out"}
        # A 500 from Twilio is worth a retry; the message goes out on the next run.
        retried = queue(db, person(db, OTHER_MOBILE), "après une panne")
        fake.fail_next(500)
        assert jobs.send_due(context) == {"retried": 1}
        assert fresh(db, retried).status == "pending"
        frozen.advance(seconds=30)
        assert jobs.send_due(context) == {"sent": 1}
        assert fake.count(OTHER_MOBILE, "après une panne") == 1
        # Delivery reports never came: the job asks Twilio after an hour.
        fake.set_status(received["Sid"], "delivered")
        frozen.advance(hours=1, seconds=1)
        assert jobs.refresh_statuses(context) == {"changed": 1}
        assert fresh(db, good).status == "delivered"


# --- The jobs ----------------------------------------------------------------------------


def test_the_jobs_are_declared_with_their_rhythm():
    assert [(job.name, job.every_seconds) for job in jobs.JOBS] == [
        ("sms.dispatch", 5),
        ("sms.expand_broadcasts", 5),
        ("sms.reconcile", 60),
        ("sms.refresh_statuses", 600),
        ("sms.expire_stale", 60),
    ]


def test_the_status_callback_needs_twilio_and_a_public_url():
    twilio = _settings(public_url="https://terrain.example")
    assert jobs.status_callback(twilio, MemoryGateway())(3) is None

    class Named:
        name = "twilio"

    assert jobs.status_callback(twilio, Named())(3) == "https://terrain.example/sms/status?m=3"
    assert jobs.status_callback(_settings(), Named())(3) is None


def test_the_dispatch_job_sends_and_the_others_are_quiet(db, sessions, gateway, frozen):
    context = JobContext(sessions, _settings(sms_gateway="memory"), shared(lambda: gateway))
    message = queue(db, person(db))
    assert jobs.send_due(context) == {"sent": 1}
    assert jobs.send_due(context) is None
    assert jobs.reconcile(context) is None
    assert jobs.refresh_statuses(context) is None  # not Twilio: nothing to ask
    assert jobs.expire_stale(context) is None
    assert sent_ids(gateway) == [message.id]


# --- Real commits: concurrent dispatchers, the command -----------------------------------


@pytest.fixture(scope="module")
def committed() -> Iterator[tuple[str, Engine]]:
    """A database of its own (real commits), migrated, without demo data."""
    with migrated_database("sms") as url:
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=6)
        try:
            yield url, engine
        finally:
            engine.dispose()


def _fill(engine: Engine, count: int, tag: str) -> list[int]:
    """`count` due messages to distinct numbers, committed."""
    sessions = make_session_factory(engine)
    with sessions() as session:
        contact = contacts.create_contact(
            session, actor=None, display_name=f"Contact {tag}", language="fr", phones=[MOBILE]
        )
        session.flush()
        now = clock.now()
        rows = [
            Message(
                key=f"{tag}:{n}",
                contact_id=contact.id,
                to=f"+3247{n:07d}",
                language="fr",
                category="reminder",
                body=f"Rappel {tag} {n}",
                segments=1,
                status="pending",
                not_before=now - timedelta(seconds=1),
                valid_until=now + timedelta(hours=1),
                created_at=now,
                status_at=now,
            )
            for n in range(count)
        ]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]


def test_two_dispatchers_at_once_send_each_message_once(committed):
    _url, engine = committed
    ids = _fill(engine, 200, "threads")
    sessions = make_session_factory(engine)
    gateway = MemoryGateway(latency=0.002)
    barrier = threading.Barrier(2)

    def run(worker: str) -> dispatch.DispatchReport:
        barrier.wait()
        return dispatch.dispatch_due(sessions, gateway, worker=worker, limit=10)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(run, ["one", "two"]))
    assert sum(report.sent for report in reports) == 200
    assert sorted(sent_ids(gateway)) == sorted(ids)
    with sessions() as session:
        rows = session.execute(
            select(Message.status, Message.provider_id, Message.claimed_by).where(
                Message.id.in_(ids)
            )
        ).all()
    assert {status for status, _, _ in rows} == {"queued"}
    assert len({provider_id for _, provider_id, _ in rows}) == 200
    assert {worker for _, _, worker in rows} == {"one", "two"}  # both took part


def test_terrain_sms_dispatch_once(committed, tmp_path):
    from web.cli import main

    url, engine = committed
    ids = _fill(engine, 30, "cli")
    env = {
        "TERRAIN_DATABASE_URL": url,
        "TERRAIN_INSTANCE_PATH": str(tmp_path),
        "TERRAIN_SECRET_KEY": "cli-secret",
        "TERRAIN_SMS_GATEWAY": "memory",
    }
    result = CliRunner().invoke(
        main, ["sms", "dispatch", "--once", "--worker", "cli-test"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "dispatcher cli-test ready (memory gateway)" in result.output
    assert "30 sent, 0 to retry, 0 failed, 0 dropped" in result.output
    with make_session_factory(engine)() as session:
        statuses = session.execute(
            select(Message.status, func.count()).where(Message.id.in_(ids)).group_by(Message.status)
        ).all()
        workers = set(session.scalars(select(Message.claimed_by).where(Message.id.in_(ids))))
    assert statuses == [("queued", 30)] and workers == {"cli-test"}


def test_terrain_sms_dispatch_refuses_an_incomplete_twilio_setup(tmp_path):
    from web.cli import main

    env = {
        "TERRAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}",
        "TERRAIN_INSTANCE_PATH": str(tmp_path),
        "TERRAIN_SECRET_KEY": "cli-secret",
        "TERRAIN_SMS_GATEWAY": "twilio",
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": "",
    }
    result = CliRunner().invoke(main, ["sms", "dispatch", "--once"], env=env)
    assert result.exit_code == 1
    assert "TWILIO_ACCOUNT_SID" in result.output
