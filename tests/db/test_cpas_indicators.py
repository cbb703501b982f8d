"""Indicators and reports by scope (issue 15): a local role (reception, social worker)
counts only its antennes (its team and those granted), a coordinator or an
administrator their whole CPAS, and nobody another CPAS: the appointments' monthly
indicators, the SMS report (messages, opt-outs) and its attendance figures.

The pages and exports themselves are for administrators and coordinators
(`appointments.reports`, `sms.reports`); a local role is refused them (403)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from appointments import indicators
from core import accounts, clock, organisations
from core.roles import Role
from notifications import staff
from tests.db.appointments_world import NOW, Agenda, at
from tests.support import staff_member

MONTH = date(2026, 12, 1)


@pytest.fixture()
def now() -> Iterator[clock.Traveller]:
    with clock.frozen(NOW) as traveller:
        yield traveller


def make_places(db) -> dict[str, Agenda]:
    """A place at Marolles (2 bookings), one at Nord-Est (1), both CPAS de Bruxelles, and
    one at Dampremy (Charleroi, 1)."""
    made = {}
    for team, bookings in (("bxl-marolles", 2), ("bxl-nord-est", 1), ("clr-dampremy", 1)):
        agenda = Agenda(db)
        agenda.location.team_id = accounts.get_team(db, team).id
        db.flush()
        for hour in range(9, 9 + bookings):
            agenda.book(at(hour), person_name=f"Personne {team} {hour}", sms_consent=True)
        made[team] = agenda
    db.commit()
    return made


def test_indicators_count_a_local_roles_antennes_and_a_coordinators_cpas(db, now):
    viewers = {
        "reception": staff_member(db, "ind-acc", Role.RECEPTION, "bxl-marolles"),
        "social_worker": staff_member(db, "ind-as", Role.SOCIAL_WORKER, "bxl-marolles"),
        "granted": staff_member(db, "ind-acc2", Role.RECEPTION, "bxl-marolles"),
        "coordinator": staff_member(db, "ind-coord", Role.COORDINATOR, "bxl-marolles"),
        "admin": staff_member(db, "ind-admin", Role.ADMIN, "bxl-nord-est"),
        "charleroi": staff_member(db, "ind-clr", Role.COORDINATOR, "clr-dampremy"),
    }
    db.flush()
    organisations.set_granted_teams(
        db, viewers["granted"], [accounts.get_team(db, "bxl-nord-est").id]
    )
    db.commit()

    def report(viewer) -> tuple[int, int]:
        month = staff.month_report(
            db, 2026, 12, segment_price=Decimal("0.08"), viewer=viewer, with_months=False
        ).report
        attendance = month.attendance
        assert attendance is not None
        counted = attendance.with_reminder.appointments + attendance.without_reminder.appointments
        return month.total.created, counted + attendance.unconfirmed

    before = {name: report(viewer) for name, viewer in viewers.items()}
    places = make_places(db)
    ours = {agenda.location.id for agenda in places.values()}

    def booked(viewer) -> int:
        figures = indicators.monthly_indicators(db, MONTH, viewer=viewer)
        return sum(row.figures.booked for row in figures.rows if row.location.id in ours)

    assert {name: booked(viewer) for name, viewer in viewers.items()} == {
        "reception": 2,  # Marolles only
        "social_worker": 2,
        "granted": 3,  # Marolles and Nord-Est, granted
        "coordinator": 3,  # the CPAS de Bruxelles
        "admin": 3,
        "charleroi": 1,
    }

    found = {
        name: tuple(a - b for a, b in zip(report(viewer), before[name], strict=True))
        for name, viewer in viewers.items()
    }
    # Each booking made a confirmation and reminders to its place's team's contact.
    per_booking = found["charleroi"][0]
    assert per_booking >= 1
    assert found["reception"] == found["social_worker"] == (2 * per_booking, 2)
    assert found["granted"] == found["coordinator"] == found["admin"] == (3 * per_booking, 3)
    assert found["charleroi"] == (per_booking, 1)
