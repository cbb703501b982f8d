"""Meal and ride forms, a Tuesday round, its outsiders, its clock: the rounds pages' tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core import accounts, clock
from rounds import services
from rounds.models import Permanence, Round, RoundStop
from tests.db.rounds_world import _minibus_round
from tests.support import staff_member

DAY = "2031-03-04"  # a Tuesday without demo orders


def meal_form(**changes) -> dict:
    return {
        "day": DAY,
        "household": "Mme Testeur",
        "address": "Rue de Marchienne 5",
        "postcode": "6000",
        "city": "Charleroi",
        "latitude": "50,4089",
        "longitude": "4.4367",
        "meals": "2",
        "diet": "diabetic",
        "window_start": "10:00",
        "window_end": "12:00",
    } | changes


def ride_form(**changes) -> dict:
    return {
        "day": DAY,
        "person": "M. Passager",
        "pickup_address": "Rue de Gosselies 21, Jumet",
        "pickup_latitude": "50.4432",
        "pickup_longitude": "4.4297",
        "dropoff_address": "Grand'Rue 3, Charleroi",
        "dropoff_latitude": "50.4119",
        "dropoff_longitude": "4.4454",
        "pickup_from": "09:30",
        "pickup_until": "10:30",
        "seats": "1",
    } | changes


NOW = datetime(2031, 4, 28, 8, 0, tzinfo=UTC)  # Monday 28 April 2031, 10:00 in Brussels
TUESDAY = date(2031, 5, 6)  # the test template's round


@pytest.fixture()
def frozen():
    with clock.frozen(NOW) as traveller:
        yield traveller


@pytest.fixture()
def coord(db):
    return accounts.find_user(db, "mobile-coord")


def _coordinator(db, username: str, team_code: str, cpas_code: str) -> None:
    team = accounts.create_team(
        db, code=team_code, name=team_code, kind="mobile", cpas_code=cpas_code, city="Ville"
    )
    staff_member(db, username, "coordinator", team.code)


@pytest.fixture()
def outsiders(db, coord) -> tuple[str, ...]:
    """Another mobile team's coordinator of the same CPAS, one of another CPAS, the crew
    and a home aide."""
    brussels = db.scalar(
        select(accounts.Team).where(accounts.Team.cpas_id != coord.team.cpas_id).limit(1)
    )
    _coordinator(db, "mobile-coord-two", "clr-mobile-two", coord.team.cpas.code)
    _coordinator(db, "mobile-coord-bxl", "bxl-mobile-test", brussels.cpas.code)
    return ("mobile-coord-two", "mobile-coord-bxl", "mobile1", "aide1")


def _tuesday_round(db, coord) -> tuple[Round, list[RoundStop], list[Permanence]]:
    _vehicle, template = _minibus_round(db, coord, coord.team_id, weekday="1")
    services.generate_rounds(db, coord.team_id, date(2031, 5, 5), 1, actor=coord)
    dated = db.scalar(select(Round).where(Round.template_id == template.id, Round.day == TUESDAY))
    stops = services.round_stops(db, dated.id)
    return dated, stops, services.permanences_of(db, template.id)


def _three_weeks(db, coord):
    dated, _stops, permanences = _tuesday_round(db, coord)
    services.generate_rounds(db, coord.team_id, date(2031, 5, 5), 3, actor=coord)
    rounds = list(
        db.scalars(select(Round).where(Round.template_id == dated.template_id).order_by(Round.day))
    )
    db.commit()
    return rounds, permanences
