"""Who may see and change home-care records: the one place that decides.

- The coordinator of a home-care team: every record of her team (read and change).
- An aide of the team: reads the households she is planned for (a visit of hers not
  cancelled, from a week ago on), with their care plans and carnet de vie; she changes
  nothing here (a later session adds what she records on a visit).
- Anybody else (a coordinator of another team, administrators, social workers,
  reception): nothing. Administrators manage accounts, not households' files (least
  privilege). Sharing the carnet de vie outside the household's aides needs the
  recorded agreement (`Beneficiary.life_book_sharing_agreed_at`) and is not built yet.

Unknown and forbidden answer alike (None here, 404 in the pages to come). Every read of
a household's file is written to the audit log.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.accounts import User
from core.errors import FieldError, Invalid
from core.roles import Role
from homecare.models import Beneficiary, CarePlan, PlanningRun, Visit

# An aide keeps reading a household a week after her last visit there (notes, keys).
AFTER_LAST_VISIT = timedelta(days=7)


def coordinates(user: User, team_id: int) -> bool:
    """The active coordinator of the team, a home-care service (a street or antenne
    coordinator plans no home help)."""
    return (
        user.active
        and user.role == Role.COORDINATOR
        and user.team_id == team_id
        and user.team is not None
        and user.team.kind == "home_care"
    )


def is_aide_of(user: User, team_id: int) -> bool:
    return user.active and user.role == Role.AIDE and user.team_id == team_id


def planned_for(session: Session, user: User, beneficiary_id: uuid.UUID) -> bool:
    """The aide has a visit (not cancelled) at the household, from a week ago on (either
    aide of a visit that needs two)."""
    since = clock.to_local(clock.now()).date() - AFTER_LAST_VISIT
    return bool(
        session.scalar(
            select(
                exists().where(
                    Visit.beneficiary_id == beneficiary_id,
                    or_(Visit.aide_id == user.id, Visit.second_aide_id == user.id),
                    Visit.status != "cancelled",
                    Visit.day >= since,
                )
            )
        )
    )


def can_read(session: Session, user: User, beneficiary: Beneficiary) -> bool:
    if coordinates(user, beneficiary.team_id):
        return True
    return is_aide_of(user, beneficiary.team_id) and planned_for(session, user, beneficiary.id)


def read_beneficiary(session: Session, user: User, beneficiary_id: uuid.UUID) -> Beneficiary | None:
    """The household's file when `user` may read it (the read is audited), else None."""
    beneficiary = session.get(Beneficiary, beneficiary_id)
    if beneficiary is None or not can_read(session, user, beneficiary):
        return None
    audit.record_read(session, user, "homecare_beneficiary", beneficiary.id)
    return beneficiary


def read_plans(session: Session, user: User, beneficiary_id: uuid.UUID) -> list[CarePlan] | None:
    """The household's care plans for whoever may read its file, else None."""
    if read_beneficiary(session, user, beneficiary_id) is None:
        return None
    return list(
        session.scalars(
            select(CarePlan)
            .where(CarePlan.beneficiary_id == beneficiary_id)
            .order_by(CarePlan.starts_on, CarePlan.id)
        )
    )


def beneficiary_to_change(
    session: Session, user: User, beneficiary_id: uuid.UUID | None
) -> Beneficiary:
    """The household `user` is about to change; Invalid alike when unknown or not hers."""
    beneficiary = session.get(Beneficiary, beneficiary_id) if beneficiary_id else None
    if beneficiary is None or not coordinates(user, beneficiary.team_id):
        raise Invalid({"beneficiary_id": FieldError("unknown_beneficiary")})
    return beneficiary


def plan_to_change(session: Session, user: User, plan_id: uuid.UUID | None) -> CarePlan:
    plan = session.get(CarePlan, plan_id) if plan_id else None
    if plan is None or not coordinates(user, plan.team_id):
        raise Invalid({"plan_id": FieldError("unknown_care_plan")})
    return plan


def team_to_manage(user: User, team_id: int | None) -> int:
    """The team whose home care `user` coordinates; Invalid otherwise."""
    if team_id is None or not coordinates(user, team_id):
        raise Invalid({"team_id": FieldError("unknown_team")})
    return team_id


def visit_to_change(session: Session, user: User, visit_id: uuid.UUID | None) -> Visit:
    """A visit of the team `user` coordinates; Invalid alike when unknown or not hers."""
    visit = session.get(Visit, visit_id) if visit_id else None
    if visit is None or not coordinates(user, visit.team_id):
        raise Invalid({"visit_id": FieldError("unknown_visit")})
    return visit


def run_to_read(session: Session, user: User, run_id: int | None) -> PlanningRun:
    """A planning run of the team `user` coordinates; Invalid alike when unknown or not hers."""
    run = session.get(PlanningRun, run_id) if run_id else None
    if run is None or not coordinates(user, run.team_id):
        raise Invalid({"run_id": FieldError("unknown_run")})
    return run
