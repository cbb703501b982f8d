"""Queries added for the street educator's phone pages: who usually goes out, the team's
street educators, a place and its visits."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from core import accounts, clock
from core.roles import Role
from outreach import maraudes, services
from outreach.demo import demo_id


def user(db: Session, username: str) -> accounts.User:
    found = accounts.find_user(db, username)
    assert found is not None
    return found


def test_usual_members_are_me_and_who_went_out_with_me_half_the_time(db):
    rue1, rue2 = user(db, "rue1"), user(db, "rue2")
    # The demo: rue1's two maraudes were both with rue2.
    assert maraudes.usual_members(db, rue1) == [rue1.id, rue2.id]
    # Three more rounds alone: rue2 was out in 2 of 5, under half.
    for hours in (30, 20, 10):
        start = maraudes.MaraudeStart(uuid.uuid4(), "", (), clock.now() - timedelta(hours=hours))
        maraudes.start(db, rue1, start)
    assert maraudes.usual_members(db, rue1) == [rue1.id]


def test_team_members_are_the_teams_active_street_educators(db):
    rue1 = user(db, "rue1")
    members = maraudes.team_members(db, rue1.team_id)
    assert rue1 in members and user(db, "rue2") in members
    assert all(member.role == Role.STREET_EDUCATOR and member.active for member in members)
    assert all(member.team_id == rue1.team_id for member in members)


def test_a_place_and_its_visits_newest_first_for_its_team_only(db):
    rue1 = user(db, "rue1")
    place = services.get_place(db, rue1.team_id, demo_id("gare-nord"))
    assert place is not None
    assert services.get_place(db, rue1.team_id + 1000, demo_id("gare-nord")) is None
    visits = services.place_visits(db, rue1.team_id, place.id)
    assert [visit.id for visit in visits] == [demo_id("e4"), demo_id("e1")]
    assert [visit.person.nickname for visit in visits] == ["Piet", "Momo"]
    assert services.place_visits(db, rue1.team_id + 1000, place.id) == []
