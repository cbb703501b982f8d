"""Monthly indicators of a street team: what the CPAS reports count (contacts →
requests → referrals → completed; homelessness by ETHOS category,
000_c978cae824ba8598.txt:655).

A month is a calendar month in Europe/Brussels. Counts are SQL aggregates; the median
(not portable SQL) is taken in Python over one number per person. Figures hold no
personal data.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, case, cast, distinct, func, select
from sqlalchemy.orm import Session

from core import clock, organisations
from core.accounts import Team, TeamKind, User
from core.roles import Role
from outreach.models import AGE_BANDS, NEEDS, Encounter, Maraude, Person, Referral


def street_teams(session: Session, user: User) -> list[Team]:
    """The street teams `user` may see the indicators of: every one of their CPAS for an
    administrator (the platform administrator: every one, counts only, no person), else
    their own team when it is a street team."""
    street = select(Team).where(Team.kind == TeamKind.STREET).order_by(Team.name)
    if user.role == Role.ADMIN:
        scope = organisations.scope_of(session, user)
        if not scope.platform:
            street = street.where(scope.teams_filter(Team.id))
        return list(session.scalars(street))
    if user.team_id is None:
        return []
    return list(session.scalars(street.where(Team.id == user.team_id)))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of a Brussels month, in UTC."""
    start = datetime(month.year, month.month, 1, tzinfo=clock.BRUSSELS)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=clock.BRUSSELS)
    return clock.as_utc(start), clock.as_utc(end)


@dataclass(frozen=True)
class Month:
    month: date
    maraudes: int
    hours_out: float
    contacts: int
    distinct_people: int
    new_people: int
    requests: dict[str, int]  # need code → encounters raising it
    referrals_made: int
    referrals_completed: int  # closed as done in the month
    median_days_to_first_referral: float | None
    age_bands: dict[str, int]  # distinct people met, by age band
    ethos: dict[str, int]  # distinct people met, by the category of an encounter of the month


def _count(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def monthly(session: Session, team_id: int, month: date) -> Month:
    """The team's figures for the Brussels month holding `month`."""
    start, end = month_bounds(month)
    in_month = (
        (Encounter.team_id == team_id)
        & (Encounter.occurred_at >= start)
        & (Encounter.occurred_at < end)
    )

    maraude_rows = session.execute(
        select(Maraude.started_at, Maraude.ended_at).where(
            Maraude.team_id == team_id, Maraude.started_at >= start, Maraude.started_at < end
        )
    ).all()
    hours = sum(
        (ended - started).total_seconds() / 3600 for started, ended in maraude_rows if ended
    )

    needs_text = cast(Encounter.needs, String)
    need_columns = [_count(needs_text.like(f'%"{need}"%')).label(need) for need in NEEDS]
    totals = session.execute(
        select(
            func.count(Encounter.id), func.count(distinct(Encounter.person_id)), *need_columns
        ).where(in_month)
    ).one()
    contacts, people, *need_counts = totals

    new_people = session.scalar(
        select(func.count(Person.id)).where(
            Person.team_id == team_id,
            Person.merged_into_id.is_(None),
            Person.first_seen_at >= start,
            Person.first_seen_at < end,
        )
    )
    referral_team = Referral.team_id == team_id
    made = session.scalar(
        select(func.count(Referral.id)).where(
            referral_team, Referral.proposed_at >= start, Referral.proposed_at < end
        )
    )
    completed = session.scalar(
        select(func.count(Referral.id)).where(
            referral_team,
            Referral.status == "done",
            Referral.closed_at >= start,
            Referral.closed_at < end,
        )
    )

    # Days from first contact to first referral, for people first referred this month.
    first_referrals = (
        select(Referral.person_id, func.min(Referral.proposed_at).label("first_at"))
        .where(referral_team)
        .group_by(Referral.person_id)
        .subquery()
    )
    delays = [
        (clock.as_utc(first_at) - clock.as_utc(first_seen)).total_seconds() / 86400
        for first_at, first_seen in session.execute(
            select(first_referrals.c.first_at, Person.first_seen_at)
            .join(Person, Person.id == first_referrals.c.person_id)
            .where(first_referrals.c.first_at >= start, first_referrals.c.first_at < end)
        )
    ]

    people_met = select(Encounter.person_id).where(in_month)
    age_rows = session.execute(
        select(Person.age_band, func.count(Person.id))
        .where(Person.id.in_(people_met))
        .group_by(Person.age_band)
    ).all()
    ethos_rows = session.execute(
        select(Encounter.ethos, func.count(distinct(Encounter.person_id)))
        .where(in_month)
        .group_by(Encounter.ethos)
    ).all()
    age_bands = {band: 0 for band in AGE_BANDS} | {band: int(n) for band, n in age_rows}
    return Month(
        month=date(month.year, month.month, 1),
        maraudes=len(maraude_rows),
        hours_out=round(hours, 2),
        contacts=int(contacts),
        distinct_people=int(people),
        new_people=int(new_people or 0),
        requests={need: int(n) for need, n in zip(NEEDS, need_counts, strict=True)},
        referrals_made=int(made or 0),
        referrals_completed=int(completed or 0),
        median_days_to_first_referral=round(statistics.median(delays), 1) if delays else None,
        age_bands=age_bands,
        ethos={code: int(n) for code, n in ethos_rows},
    )


def months(session: Session, team_id: int, first: date, last: date) -> list[Month]:
    """One row per month from `first` to `last` (inclusive), oldest first."""
    rows, day = [], date(first.year, first.month, 1)
    while day <= last:
        rows.append(monthly(session, team_id, day))
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return rows


def homeless_people(session: Session, team_id: int, month: date) -> int:
    """Distinct people met in the month with an encounter noted roofless or houseless
    (ETHOS 1-7): the homeless count of the CPAS reports. Counted once each, whereas
    `Month.ethos` counts a person in every category of the month."""
    from outreach import ethos

    start, end = month_bounds(month)
    homeless = [code for code, group in ethos.GROUPS.items() if group in ethos.HOMELESS_GROUPS]
    return int(
        session.scalar(
            select(func.count(distinct(Encounter.person_id))).where(
                Encounter.team_id == team_id,
                Encounter.occurred_at >= start,
                Encounter.occurred_at < end,
                Encounter.ethos.in_(homeless),
            )
        )
        or 0
    )


def last_months(
    session: Session, team_id: int, first: date, last: date
) -> tuple[list[Month], list[int]]:
    """The months from `first` to `last` (oldest first) and their homeless counts."""
    series = months(session, team_id, first, last)
    return series, [homeless_people(session, team_id, row.month) for row in series]
