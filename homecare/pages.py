"""What the coordinator's record pages read, one function per page: each checks access
through homecare.access (None when the user may not see it: unknown and forbidden alike)
and gathers the page's rows, so the views make one call. A form's change goes through
`saved` (a record service of homecare/services.py, committed); the record services
themselves never commit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import clock
from core.accounts import Team, User
from core.db import committed
from core.errors import Invalid
from core.roles import Role
from homecare import access, services
from homecare.models import (
    AideProfile,
    AideQualification,
    Beneficiary,
    CarePlan,
    CarePlanSuspension,
    Visit,
)
from notifications import services as notify

T = TypeVar("T")

LIST_LIMIT = 200
UPCOMING_DAYS = 14
ABSENCES_AHEAD = timedelta(days=366)


def _today() -> date:
    return clock.to_local(clock.now()).date()


def _team(user: User) -> int | None:
    """The home-care team `user` coordinates, else None."""
    try:
        return access.team_to_manage(user, user.team_id)
    except Invalid:
        return None


def _antennes(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).where(Team.kind == "antenne").order_by(Team.name)))


def _team_aides(session: Session, team_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.team_id == team_id, User.role == Role.AIDE, User.active)
            .order_by(User.display_name)
        )
    )


# --- Beneficiaries ----------------------------------------------------------------------


@dataclass(frozen=True)
class BeneficiaryList:
    beneficiaries: list[Beneficiary]
    antennes: list[Team]
    antenne_names: dict[int, str]
    more: bool  # more households match than the page shows


def beneficiary_list(
    session: Session, user: User, *, text: str = "", antenne_id: int | None = None
) -> BeneficiaryList | None:
    """The team's households, by name (any part, any case) and antenne."""
    team_id = _team(user)
    if team_id is None:
        return None
    query = select(Beneficiary).where(Beneficiary.team_id == team_id, Beneficiary.active)
    words = text.strip().lower().split()
    for word in words[:5]:
        query = query.where(func.lower(Beneficiary.name).contains(word, autoescape=True))
    if antenne_id is not None:
        query = query.where(Beneficiary.antenne_id == antenne_id)
    rows = list(session.scalars(query.order_by(Beneficiary.name).limit(LIST_LIMIT + 1)))
    antennes = _antennes(session)
    return BeneficiaryList(
        beneficiaries=rows[:LIST_LIMIT],
        antennes=antennes,
        antenne_names={team.id: team.name for team in antennes},
        more=len(rows) > LIST_LIMIT,
    )


@dataclass(frozen=True)
class BeneficiaryChoices:
    """What the household's forms offer: social workers and antennes."""

    social_workers: list[User]
    antennes: list[Team]


def _beneficiary_choices(session: Session) -> BeneficiaryChoices:
    workers = session.scalars(
        select(User).where(User.role == Role.SOCIAL_WORKER, User.active).order_by(User.display_name)
    )
    return BeneficiaryChoices(list(workers), _antennes(session))


@dataclass(frozen=True)
class BeneficiaryForm:
    beneficiary: Beneficiary | None
    choices: BeneficiaryChoices
    phones: list[str] = field(default_factory=list)
    consents: set[str] = field(default_factory=set)


def beneficiary_form(
    session: Session, user: User, beneficiary_id: uuid.UUID | None = None
) -> BeneficiaryForm | None:
    """The create form (no id) or the edit form of a household the user coordinates."""
    if beneficiary_id is None:
        if _team(user) is None:
            return None
        return BeneficiaryForm(None, _beneficiary_choices(session))
    try:
        beneficiary = access.beneficiary_to_change(session, user, beneficiary_id)
    except Invalid:
        return None
    phones, consents = _contact(session, beneficiary)
    return BeneficiaryForm(beneficiary, _beneficiary_choices(session), phones, consents)


def _contact(session: Session, beneficiary: Beneficiary) -> tuple[list[str], set[str]]:
    if beneficiary.contact_id is None:
        return [], set()
    contact = notify.get_contact(session, beneficiary.contact_id)
    if contact is None:
        return [], set()
    return [p.e164 for p in contact.phones], services.granted_consents(session, contact)


@dataclass(frozen=True)
class PlanView:
    plan: CarePlan
    suspensions: list[CarePlanSuspension]
    current: bool  # runs today or later


@dataclass(frozen=True)
class BeneficiaryFile:
    beneficiary: Beneficiary
    can_change: bool  # the coordinator; an aide of the household only reads
    funder: str
    region: str
    phones: list[str]
    consents: set[str]
    social_worker: User | None
    antenne: Team | None
    agreed_by: User | None
    plans: list[PlanView]
    upcoming: list[Visit]
    people: dict[int, User]  # aides named on the page


def beneficiary_file(
    session: Session, user: User, beneficiary_id: uuid.UUID
) -> BeneficiaryFile | None:
    """A household's file for whoever may read it (the read is audited and committed),
    else None."""
    beneficiary = access.read_beneficiary(session, user, beneficiary_id)
    if beneficiary is None:
        return None
    today = _today()
    settings = services.settings_of(session, beneficiary.team_id)
    plans = list(
        session.scalars(
            select(CarePlan)
            .where(CarePlan.beneficiary_id == beneficiary.id)
            .order_by(CarePlan.starts_on, CarePlan.window_start, CarePlan.id)
        )
    )
    suspensions = list(
        session.scalars(
            select(CarePlanSuspension)
            .where(CarePlanSuspension.plan_id.in_([plan.id for plan in plans]))
            .order_by(CarePlanSuspension.starts_on)
        )
    )
    upcoming = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.beneficiary_id == beneficiary.id,
                Visit.day >= today,
                Visit.day < today + timedelta(days=UPCOMING_DAYS),
            )
            .order_by(Visit.day, Visit.earliest_start)
        )
    )
    people_ids = {visit.aide_id for visit in upcoming if visit.aide_id}
    for plan in plans:
        people_ids.update(plan.preferred_aide_ids, plan.refused_aide_ids)
    for extra in (beneficiary.social_worker_id, beneficiary.life_book_sharing_agreed_by_id):
        if extra:
            people_ids.add(extra)
    people = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(people_ids)))}
        if people_ids
        else {}
    )
    phones, consents = _contact(session, beneficiary)
    found = BeneficiaryFile(
        beneficiary=beneficiary,
        can_change=access.coordinates(user, beneficiary.team_id),
        funder=settings.funder,
        region=settings.region,
        phones=phones,
        consents=consents,
        social_worker=people.get(beneficiary.social_worker_id or 0),
        antenne=session.get(Team, beneficiary.antenne_id) if beneficiary.antenne_id else None,
        agreed_by=people.get(beneficiary.life_book_sharing_agreed_by_id or 0),
        plans=[
            PlanView(
                plan,
                [s for s in suspensions if s.plan_id == plan.id],
                plan.ends_on is None or plan.ends_on >= today,
            )
            for plan in plans
        ],
        upcoming=upcoming,
        people=people,
    )
    session.commit()  # the audited read
    return found


def household_to_change(
    session: Session, user: User, beneficiary_id: uuid.UUID
) -> Beneficiary | None:
    """The household when `user` coordinates it (the carnet de vie and GPS forms)."""
    try:
        return access.beneficiary_to_change(session, user, beneficiary_id)
    except Invalid:
        return None


# --- Care plans -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanForm:
    beneficiary: Beneficiary
    plan: CarePlan | None
    aides: list[User]
    suspensions: list[CarePlanSuspension]


def plan_form(
    session: Session,
    user: User,
    *,
    beneficiary_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
) -> PlanForm | None:
    """A new plan of a household, or an existing plan with its suspensions."""
    try:
        if plan_id is not None:
            plan: CarePlan | None = access.plan_to_change(session, user, plan_id)
            assert plan is not None
            beneficiary = session.get(Beneficiary, plan.beneficiary_id)
        else:
            plan = None
            beneficiary = access.beneficiary_to_change(session, user, beneficiary_id)
    except Invalid:
        return None
    if beneficiary is None:
        return None
    suspensions = (
        list(
            session.scalars(
                select(CarePlanSuspension)
                .where(CarePlanSuspension.plan_id == plan.id)
                .order_by(CarePlanSuspension.starts_on)
            )
        )
        if plan is not None
        else []
    )
    return PlanForm(beneficiary, plan, _team_aides(session, beneficiary.team_id), suspensions)


# --- Aides ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Qualification:
    skill: str
    expires_on: date | None
    expired: bool
    expiring: bool  # within the month's warning


@dataclass(frozen=True)
class AideRow:
    user: User
    profile: AideProfile | None
    qualifications: list[Qualification]


@dataclass(frozen=True)
class AidesOverview:
    rows: list[AideRow]
    warnings: list[services.ExpiryWarning]
    expired: list[tuple[int, str, date]]  # (user id, skill, expired on)
    names: dict[int, str]


def _qualifications(
    rows: list[AideQualification], user_id: int, today: date
) -> list[Qualification]:
    return [
        Qualification(
            q.skill,
            q.expires_on,
            q.expires_on is not None and q.expires_on < today,
            q.expires_on is not None and today <= q.expires_on <= today + services.EXPIRY_WARNING,
        )
        for q in sorted(rows, key=lambda q: q.skill)
        if q.user_id == user_id
    ]


def aides_overview(session: Session, user: User) -> AidesOverview | None:
    """The team's aides with contract, skills and expiry, and the month's warnings."""
    team_id = _team(user)
    if team_id is None:
        return None
    today = _today()
    aides = _team_aides(session, team_id)
    profiles = {
        p.user_id: p
        for p in session.scalars(select(AideProfile).where(AideProfile.team_id == team_id))
    }
    qualifications = list(
        session.scalars(select(AideQualification).where(AideQualification.team_id == team_id))
    )
    rows = [
        AideRow(aide, profiles.get(aide.id), _qualifications(qualifications, aide.id, today))
        for aide in aides
    ]
    expired = sorted(
        (q.user_id, q.skill, q.expires_on)
        for q in qualifications
        if q.expires_on is not None and q.expires_on < today
    )
    return AidesOverview(
        rows=rows,
        warnings=services.expiring_qualifications(session, team_id, today),
        expired=expired,
        names={aide.id: aide.display_name for aide in aides},
    )


@dataclass(frozen=True)
class AidePage:
    aide: User
    profile: AideProfile | None
    qualifications: list[Qualification]
    absences: list[appointments.Absence]


def aide_page(session: Session, user: User, aide_id: int) -> AidePage | None:
    """One aide of the coordinator's team: her terms, qualifications, coming absences."""
    team_id = _team(user)
    aide = session.get(User, aide_id)
    if team_id is None or aide is None or aide.role != Role.AIDE or aide.team_id != team_id:
        return None
    today = _today()
    rows = list(
        session.scalars(select(AideQualification).where(AideQualification.user_id == aide.id))
    )
    now = clock.now()
    return AidePage(
        aide=aide,
        profile=session.get(AideProfile, aide.id),
        qualifications=_qualifications(rows, aide.id, today),
        absences=appointments.absences_between(
            session, [aide.id], now - timedelta(days=1), now + ABSENCES_AHEAD
        ),
    )


def saved(session: Session, change: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`change(session, *args, **kwargs)` (a record service of homecare/services.py),
    committed; Invalid: rolled back (nothing saved) and raised. The record pages' one way
    to change a record."""
    return committed(session, lambda: change(session, *args, **kwargs))
