"""Home-care records as services: settings (the CPAS's), beneficiaries, care plans, suspensions,
aides' profiles and qualifications. Each checks its input (Invalid with field codes,
nothing saved), stamps the record for sync and writes the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import audit, clock, organisations, sync
from core import fields as parse
from core.accounts import Team, User
from core.errors import FieldError, Invalid
from core.roles import Role
from homecare import access, generation
from homecare.calendar import crosses_midnight, wall_span
from homecare.models import (
    ADDRESS_MAX,
    CONTRIBUTION_CATEGORIES,
    HOLIDAY_RULES,
    LANGUAGES,
    NAME_MAX,
    NIGHT_SERVICES,
    SERVICES,
    SKILLS,
    SUSPENSION_REASONS,
    TASK_MAX,
    TASKS_MAX,
    TEXT_MAX,
    TRANSPORT_MODES,
    AideProfile,
    AideQualification,
    Beneficiary,
    CarePlan,
    CarePlanSuspension,
)
from notifications import services as notifications

MIN_VISIT, MAX_VISIT = 15, 12 * 60  # minutes: below is no visit, above is no shift
MAX_TOLERANCE = 120
MAX_CONTRACT = 50 * 60  # minutes a week
EXPIRY_WARNING = timedelta(days=30)
LIFE_BOOK_KEYS = ("habits", "likes", "calms", "avoid")


# --- Meals delivered by another domain, for the billing file ------------------------------
# A care plan's `meal_order_ref` names a standing meal order of the mobile team's meals
# (rounds): the domain that delivers meals registers, at composition (its Domain.hooks),
# a source giving the meals delivered in a month per reference within a CPAS. Home care
# never imports it; without a source, the billing file has no meals.

MealsSource = Callable[[Session, int, date], Mapping[str, int]]
_MEALS_SOURCES: list[MealsSource] = []


def register_meals_source(source: MealsSource) -> None:
    """Called at import by the module a domain names in its hooks (rounds/hooks.py)."""
    if source not in _MEALS_SOURCES:
        _MEALS_SOURCES.append(source)


def meals_by_reference(session: Session, cpas_id: int, month: date) -> dict[str, int]:
    """Meals delivered in `month` within CPAS `cpas_id`, per meal order reference."""
    found: dict[str, int] = {}
    for source in _MEALS_SOURCES:
        for reference, meals in source(session, cpas_id, month).items():
            found[reference] = found.get(reference, 0) + meals
    return found


# --- Ordering meals from a care plan, through the domain that delivers them -----------------
# The same domain registers, at composition, how to make a standing meal order from a
# care plan in one step and the choices its form offers; home care gives the household's
# name and address and keeps the answer as the plan's `meal_order_ref`.


@dataclass(frozen=True)
class MealsFollowed:
    """What the meal service did to a plan's meal order when the plan ended or was
    suspended, for the coordinator: `kind` `ended` (from the day after `last`), `paused`
    (`first`–`last`), `reopened` (the plan ends later, `last`, or never: None; its
    deliveries made again while their cut-off is ahead: `reopened`), `resumed` (a
    suspension shortened to `last`, lifted when before `first`; `reopened` likewise),
    `own_end` (the order's end is the mobile team's, left alone), `not_paused` (the
    order had no pause for that suspension), or `unknown` / `unknown_reopen` (the
    reference names no order of the meal service in the plan's CPAS: nothing changed);
    dated orders cancelled, and kept because past their cut-off (they are delivered)."""

    kind: str
    first: date | None
    last: date | None
    cancelled: int = 0
    kept: int = 0
    reopened: int = 0


# (session, actor, cpas_id, reference, first day or None for an end, last day)
MealFollow = Callable[[Session, User, int, str, date | None, date], MealsFollowed]
# (session, actor, cpas_id, reference, the plan's former last day, its new one or None)
MealReopen = Callable[[Session, User, int, str, date, date | None], MealsFollowed]
# (session, actor, cpas_id, reference, the suspension's first and former last day, its
# new last day, before the first when lifted)
MealResume = Callable[[Session, User, int, str, date, date, date], MealsFollowed]


@dataclass(frozen=True)
class MealService:
    """Registered by the meals' domain (rounds/hooks.py)."""

    # (session, actor, cpas_id, form with the household's name and address) -> reference
    order: Callable[[Session, User, int, Mapping[str, Any]], str]
    # (session, cpas_id) -> the services that deliver meals there: (id, name)
    teams: Callable[[Session, int], list[tuple[str, str]]]
    diets: tuple[str, ...]
    # The plan ended (first None) or suspended: its meal order ends or pauses likewise.
    follow: MealFollow | None = None
    # The plan's end moved later or removed: its meal order runs again with it.
    reopen: MealReopen | None = None
    # A suspension shortened or lifted: the meal order's pause likewise.
    resume: MealResume | None = None


def _follow_meals(
    session: Session, actor: User, plan: CarePlan, first: date | None, last: date
) -> MealsFollowed | None:
    """The plan's meal order follows its end (`first` None) or its suspension, through
    the registered meal service; None when the plan names no order or no service follows."""
    service = meal_service()
    team = session.get(Team, plan.team_id)
    if not plan.meal_order_ref or service is None or service.follow is None or team is None:
        return None
    return service.follow(session, actor, team.cpas_id, plan.meal_order_ref, first, last)


def _reopen_meals(
    session: Session, actor: User, plan: CarePlan, ended_on: date
) -> MealsFollowed | None:
    """The plan that ended on `ended_on` ends later or never: its meal order follows,
    through the registered meal service; None when the plan names no order or no
    service reopens."""
    service = meal_service()
    team = session.get(Team, plan.team_id)
    if not plan.meal_order_ref or service is None or service.reopen is None or team is None:
        return None
    return service.reopen(session, actor, team.cpas_id, plan.meal_order_ref, ended_on, plan.ends_on)


def _resume_meals(
    session: Session, actor: User, plan: CarePlan, first: date, last: date, new_last: date
) -> MealsFollowed | None:
    """The plan's suspension `first`–`last` now ends on `new_last` (before `first`: lifted):
    its meal order's pause follows, through the registered meal service."""
    service = meal_service()
    team = session.get(Team, plan.team_id)
    if not plan.meal_order_ref or service is None or service.resume is None or team is None:
        return None
    return service.resume(session, actor, team.cpas_id, plan.meal_order_ref, first, last, new_last)


_MEAL_SERVICES: list[MealService] = []


def register_meal_service(service: MealService) -> None:
    """Called at import by the module a domain names in its hooks (rounds/hooks.py)."""
    if not any(known.order == service.order for known in _MEAL_SERVICES):
        _MEAL_SERVICES.append(service)


def meal_service() -> MealService | None:
    """The registered meal service, None when no installed domain delivers meals."""
    return _MEAL_SERVICES[0] if _MEAL_SERVICES else None


def meal_choices(
    session: Session, actor: User, plan_id: uuid.UUID | None
) -> tuple[list[tuple[str, str]], tuple[str, ...]] | None:
    """The meal services of the plan's CPAS and the diets, for the plan's meals form; None
    when meals cannot be ordered from this plan (none registered, none in the CPAS, or
    the plan already names an order)."""
    plan = access.plan_to_change(session, actor, plan_id)
    service = meal_service()
    team = session.get(Team, plan.team_id)
    if service is None or team is None or plan.meal_order_ref:
        return None
    teams = service.teams(session, team.cpas_id)
    return (teams, service.diets) if teams else None


def order_meals(
    session: Session, actor: User, plan_id: uuid.UUID | None, data: Mapping[str, Any]
) -> CarePlan:
    """Order meals on wheels for the plan's household in one step: the meal service makes
    a weekly order from the form and the household's name and address; its reference
    becomes the plan's `meal_order_ref` (billing counts its meals). Audited."""
    plan = access.plan_to_change(session, actor, plan_id)
    service = meal_service()
    if plan.meal_order_ref:
        raise Invalid({"meal_service": FieldError("meal_order_exists")})
    if service is None:
        raise Invalid({"meal_service": FieldError("no_meal_service")})
    person = session.get(Beneficiary, plan.beneficiary_id)
    team = session.get(Team, plan.team_id)
    assert person is not None and team is not None
    if person.latitude is None or person.longitude is None:
        raise Invalid({"meal_service": FieldError("household_not_located")})
    household = {
        "household": person.name,
        "address": person.address,
        "postcode": person.postcode,
        "city": person.city,
        "latitude": str(person.latitude),
        "longitude": str(person.longitude),
    }
    reference = service.order(session, actor, team.cpas_id, {**data, **household})
    plan.meal_order_ref = reference
    _saved(
        session,
        actor,
        plan,
        plan.team_id,
        action="update",
        entity_type="homecare_care_plan",
        details={"fields": ["meal_order_ref"]},
    )
    return plan


def _saved(
    session: Session,
    actor: User,
    record: Any,
    team_id: int,
    *,
    action: str,
    entity_type: str,
    details: dict[str, Any],
    entity_id: object = None,
) -> None:
    """A record made or changed: stamped for the team's feed, audited, flushed."""
    sync.stamp(session, record, sync.team_scope(team_id), actor, None)
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=record.id if entity_id is None else entity_id,
        details=details,
    )
    session.flush()


def _coordinates(
    latitude: float | None, longitude: float | None, errors: dict[str, FieldError]
) -> None:
    if (latitude is None) != (longitude is None):
        errors["latitude"] = FieldError("both_coordinates")
    elif latitude is not None and longitude is not None:
        if not -90 <= latitude <= 90:
            errors["latitude"] = FieldError("out_of_range", {"min": -90, "max": 90})
        if not -180 <= longitude <= 180:
            errors["longitude"] = FieldError("out_of_range", {"min": -180, "max": 180})


def _skills(values: Sequence[str], name: str, errors: dict[str, FieldError]) -> list[str]:
    unknown = [value for value in values if value not in SKILLS]
    if unknown:
        errors[name] = FieldError("unknown_skill", {"skill": unknown[0]})
    return sorted(set(values))


def _team_aides(session: Session, team_id: int) -> set[int]:
    return set(
        session.scalars(
            select(User.id).where(User.team_id == team_id, User.role == Role.AIDE, User.active)
        )
    )


# --- Settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HomecareSettings:
    """What home care takes from the team's CPAS: its region (holidays) and funder."""

    team_id: int
    region: str
    funder: str


def settings_of(session: Session, team_id: int) -> HomecareSettings:
    """The region and funder of the team's CPAS (docs/cpas.md)."""
    cpas = organisations.cpas_of_team(session, team_id)
    if cpas is None:
        raise LookupError(f"team {team_id} has no CPAS")
    return HomecareSettings(team_id=team_id, region=cpas.region, funder=cpas.homecare_funder)


# --- Beneficiaries ----------------------------------------------------------------------


@dataclass(frozen=True)
class BeneficiaryFields:
    name: str
    address: str
    postcode: str
    city: str
    latitude: float | None = None
    longitude: float | None = None
    phones: Sequence[str] = ()
    consents: Sequence[str] = ()  # SMS kinds the person agreed to (notifications categories)
    language: str = "fr"
    entry_instructions: str = ""
    emergency_name: str = ""
    emergency_phone: str = ""
    social_worker_id: int | None = None
    antenne_id: int | None = None
    contribution_category: str = "c"
    life_book: Mapping[str, str] | None = None


def _check_beneficiary(
    session: Session, team_id: int, fields: BeneficiaryFields
) -> tuple[dict[str, Any], dict[str, FieldError]]:
    """The household's fields cleaned, and what is wrong with them."""
    errors: dict[str, FieldError] = {}
    data = vars(fields)
    clean: dict[str, Any] = {
        "name": parse.text(data, "name", errors, limit=NAME_MAX, required=True),
        "address": parse.text(data, "address", errors, limit=ADDRESS_MAX, required=True),
        "postcode": parse.postcode(data, "postcode", errors),
        "city": parse.text(data, "city", errors, limit=80, required=True),
        "entry_instructions": parse.text(
            data, "entry_instructions", errors, limit=TEXT_MAX, multiline=True
        ),
        "emergency_name": parse.text(data, "emergency_name", errors, limit=NAME_MAX),
        "emergency_phone": parse.text(data, "emergency_phone", errors, limit=20),
    }
    _coordinates(fields.latitude, fields.longitude, errors)
    parse.choice(data, "language", errors, choices=LANGUAGES)
    parse.choice(data, "contribution_category", errors, choices=CONTRIBUTION_CATEGORIES)
    try:
        notifications.read_phones(fields.phones)
    except Invalid as invalid:
        errors.update(invalid.errors)
    for kind in fields.consents:
        if kind not in notifications.CONSENT_CATEGORIES:
            errors["consents"] = FieldError("unknown_choice")
    clean["life_book"] = _life_book(fields.life_book or {}, errors)
    if fields.social_worker_id is not None:
        worker = session.get(User, fields.social_worker_id)
        if worker is None or not worker.active or worker.role != Role.SOCIAL_WORKER:
            errors["social_worker_id"] = FieldError("unknown_user")
    if fields.antenne_id is not None:
        antenne = session.get(Team, fields.antenne_id)
        if antenne is None or antenne.kind != "antenne":
            errors["antenne_id"] = FieldError("unknown_team")
    return clean, errors


def _life_book(values: Mapping[str, str], errors: dict[str, FieldError]) -> dict[str, str]:
    life_book = {}
    for key, value in values.items():
        if key not in LIFE_BOOK_KEYS:
            errors["life_book"] = FieldError("unknown_choice")
        else:
            text = parse.text({key: value}, key, errors, limit=TEXT_MAX, multiline=True)
            if text:
                life_book[key] = text
    return life_book


def _set_consents(
    session: Session, actor: User, contact: Any, wanted: Sequence[str], *, known: set[str]
) -> None:
    """Record each SMS kind agreed to, and withdraw those no longer ticked."""
    for kind in notifications.CONSENT_CATEGORIES:
        if kind in wanted and kind not in known:
            notifications.set_consent(
                session, contact, category=kind, granted=True, method="oral", actor=actor
            )
        elif kind not in wanted and kind in known:
            notifications.set_consent(
                session, contact, category=kind, granted=False, method="oral", actor=actor
            )


def granted_consents(session: Session, contact: Any) -> set[str]:
    """The SMS kinds a contact agreed to (and did not withdraw), read again from the
    database: set_consent adds rows without touching a loaded collection."""
    session.flush()
    session.refresh(contact, ["consents"])
    return {c.category for c in contact.consents if c.granted and c.channel == "sms"}


def _contact_language(language: str) -> str | None:
    return language if language in ("fr", "nl", "en") else None


def create_beneficiary(
    session: Session,
    actor: User,
    team_id: int,
    fields: BeneficiaryFields,
    *,
    id: uuid.UUID | None = None,
) -> Beneficiary:
    """A new household of the team; its phones become a notifications contact."""
    access.team_to_manage(actor, team_id)
    clean, errors = _check_beneficiary(session, team_id, fields)
    if errors:
        raise Invalid(errors)
    beneficiary = Beneficiary(
        id=id or uuid.uuid4(),
        team_id=team_id,
        latitude=fields.latitude,
        longitude=fields.longitude,
        location_source="typed",
        language=fields.language,
        social_worker_id=fields.social_worker_id,
        antenne_id=fields.antenne_id,
        contribution_category=fields.contribution_category,
        created_by_id=actor.id,
        **clean,
    )
    session.add(beneficiary)
    sync.stamp(session, beneficiary, sync.team_scope(team_id), actor, None)
    session.flush()
    if any(phone.strip() for phone in fields.phones):
        contact = notifications.create_contact(
            session,
            actor=actor,
            display_name=clean["name"],
            language=_contact_language(fields.language),
            phones=list(fields.phones),
            team_ids=[team_id],
            reference=f"homecare.beneficiary:{beneficiary.id}",
        )
        _set_consents(session, actor, contact, fields.consents, known=set())
        beneficiary.contact_id = contact.id
    audit.record_change(
        session,
        actor,
        "homecare_beneficiary",
        beneficiary.id,
        sorted(k for k, v in vars(fields).items() if v),
        action="create",
    )
    session.flush()
    return beneficiary


# What the edit form changes (the carnet de vie has its own form: set_life_book).
_EDITED = (
    "name",
    "address",
    "postcode",
    "city",
    "latitude",
    "longitude",
    "language",
    "entry_instructions",
    "emergency_name",
    "emergency_phone",
    "social_worker_id",
    "antenne_id",
    "contribution_category",
)


def update_beneficiary(
    session: Session, actor: User, beneficiary_id: uuid.UUID, fields: BeneficiaryFields
) -> Beneficiary:
    """Change a household's file; its phones and consents go to its notifications contact.

    Coordinates typed here are `typed` again when they change (a GPS fix stays `gps` as
    long as the numbers are not touched)."""
    beneficiary = access.beneficiary_to_change(session, actor, beneficiary_id)
    clean, errors = _check_beneficiary(
        session, beneficiary.team_id, replace(fields, life_book=None)
    )
    if errors:
        raise Invalid(errors)
    del clean["life_book"]
    wanted = dict(clean)
    wanted.update(
        latitude=fields.latitude,
        longitude=fields.longitude,
        language=fields.language,
        social_worker_id=fields.social_worker_id,
        antenne_id=fields.antenne_id,
        contribution_category=fields.contribution_category,
    )
    changed = [name for name in _EDITED if getattr(beneficiary, name) != wanted[name]]
    if {"latitude", "longitude"} & set(changed):
        beneficiary.location_source = "typed"
    for name in changed:
        setattr(beneficiary, name, wanted[name])
    contact = (
        notifications.get_contact(session, beneficiary.contact_id)
        if beneficiary.contact_id
        else None
    )
    if contact is None and any(phone.strip() for phone in fields.phones):
        contact = notifications.create_contact(
            session,
            actor=actor,
            display_name=clean["name"],
            language=_contact_language(fields.language),
            phones=list(fields.phones),
            team_ids=[beneficiary.team_id],
            reference=f"homecare.beneficiary:{beneficiary.id}",
        )
        beneficiary.contact_id = contact.id
        changed.append("phones")
    elif contact is not None:
        before = [p.e164 for p in contact.phones]
        notifications.update_contact(
            session,
            contact,
            actor=actor,
            display_name=clean["name"],
            language=_contact_language(fields.language),
            phones=list(fields.phones),
            team_ids=[t.team_id for t in contact.teams] or [beneficiary.team_id],
        )
        if [p.e164 for p in contact.phones] != before:
            changed.append("phones")
    if contact is not None:
        known = granted_consents(session, contact)
        if known != set(fields.consents):
            changed.append("consents")
        _set_consents(session, actor, contact, fields.consents, known=known)
    if changed:
        _saved(
            session,
            actor,
            beneficiary,
            beneficiary.team_id,
            action="update",
            entity_type="homecare_beneficiary",
            details={"fields": changed},
        )
    return beneficiary


def set_life_book(
    session: Session, actor: User, beneficiary_id: uuid.UUID, values: Mapping[str, str]
) -> Beneficiary:
    """The carnet de vie (habits, likes, what calms, what to avoid), written by the
    coordinator with the person."""
    beneficiary = access.beneficiary_to_change(session, actor, beneficiary_id)
    errors: dict[str, FieldError] = {}
    life_book = _life_book(values, errors)
    if errors:
        raise Invalid(errors)
    if life_book != (beneficiary.life_book or {}):
        beneficiary.life_book = life_book
        _saved(
            session,
            actor,
            beneficiary,
            beneficiary.team_id,
            action="update",
            entity_type="homecare_beneficiary",
            details={"fields": ["life_book"]},
        )
    return beneficiary


def set_location_from_fix(
    session: Session, actor: User, beneficiary_id: uuid.UUID, latitude: float, longitude: float
) -> Beneficiary:
    """One GPS fix taken at the door (the locate control) becomes the household's place."""
    beneficiary = access.beneficiary_to_change(session, actor, beneficiary_id)
    errors: dict[str, FieldError] = {}
    _coordinates(latitude, longitude, errors)
    if errors:
        raise Invalid(errors)
    beneficiary.latitude, beneficiary.longitude = latitude, longitude
    beneficiary.location_source = "gps"
    _saved(
        session,
        actor,
        beneficiary,
        beneficiary.team_id,
        action="update",
        entity_type="homecare_beneficiary",
        details={"fields": ["latitude", "longitude"], "source": "gps"},
    )
    return beneficiary


def record_life_book_agreement(
    session: Session, actor: User, beneficiary_id: uuid.UUID, *, agreed: bool
) -> Beneficiary:
    """The person agreed (or no longer agrees) to share the carnet de vie outside."""
    beneficiary = access.beneficiary_to_change(session, actor, beneficiary_id)
    beneficiary.life_book_sharing_agreed_at = clock.now() if agreed else None
    beneficiary.life_book_sharing_agreed_by_id = actor.id if agreed else None
    _saved(
        session,
        actor,
        beneficiary,
        beneficiary.team_id,
        action="update",
        entity_type="homecare_beneficiary",
        details={"fields": ["life_book_sharing"], "agreed": agreed},
    )
    return beneficiary


# --- Care plans -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanFields:
    service: str
    weekdays: Sequence[int]
    window_start: time
    window_end: time
    duration_minutes: int
    starts_on: date
    ends_on: date | None = None
    tolerance_minutes: int = 0
    tasks: Sequence[str] = ()
    skills: Sequence[str] = ()
    preferred_aide_ids: Sequence[int] = ()
    refused_aide_ids: Sequence[int] = ()
    holiday_rule: str = "skip"
    meal_order_ref: str | None = None
    aides: int = 1  # 2: a transfer, two aides arriving together


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _stretches(plan: PlanFields | CarePlan) -> list[tuple[int, int]]:
    """The plan's windows as minutes of a week (Monday 00:00 = 0), for overlap checks."""
    start = _minutes(plan.window_start)
    span = wall_span(plan.window_start, plan.window_end)
    week = 7 * 24 * 60
    found = []
    for day in plan.weekdays:
        begin = day * 24 * 60 + start
        found.append((begin, begin + span))
        if begin + span > week:  # Sunday night into Monday morning
            found.append((begin - week, begin + span - week))
    return found


def _overlaps(plan: PlanFields, other: CarePlan) -> bool:
    if other.ends_on is not None and other.ends_on < plan.starts_on:
        return False
    if plan.ends_on is not None and plan.ends_on < other.starts_on:
        return False
    return any(a < d and c < b for a, b in _stretches(plan) for c, d in _stretches(other))


def _check_plan(
    session: Session,
    team_id: int,
    beneficiary_id: uuid.UUID,
    fields: PlanFields,
    *,
    replacing: uuid.UUID | None = None,
) -> dict[str, FieldError]:
    errors: dict[str, FieldError] = {}
    parse.choice(vars(fields), "service", errors, choices=SERVICES)
    parse.choice(vars(fields), "holiday_rule", errors, choices=HOLIDAY_RULES)
    if fields.aides not in (1, 2):
        errors["aides"] = FieldError("aides_one_or_two")
    days = list(fields.weekdays)
    if not days:
        errors["weekdays"] = FieldError("required")
    elif any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days) or len(
        set(days)
    ) != len(days):
        errors["weekdays"] = FieldError("unknown_choice")
    night = fields.service in NIGHT_SERVICES
    if fields.window_start == fields.window_end:
        errors["window_end"] = FieldError("ends_before_start")
    elif night and not crosses_midnight(fields.window_start, fields.window_end):
        errors["window_end"] = FieldError("night_must_cross_midnight")
    elif not night and crosses_midnight(fields.window_start, fields.window_end):
        errors["window_end"] = FieldError("only_night_crosses_midnight")
    duration = fields.duration_minutes
    if not isinstance(duration, int) or not MIN_VISIT <= duration <= MAX_VISIT:
        errors["duration_minutes"] = FieldError(
            "duration_out_of_range", {"min": MIN_VISIT, "max": MAX_VISIT}
        )
    elif "window_end" not in errors and duration > wall_span(
        fields.window_start, fields.window_end
    ):
        errors["duration_minutes"] = FieldError("longer_than_window")
    if not 0 <= fields.tolerance_minutes <= MAX_TOLERANCE:
        errors["tolerance_minutes"] = FieldError("out_of_range", {"min": 0, "max": MAX_TOLERANCE})
    if fields.ends_on is not None and fields.ends_on < fields.starts_on:
        errors["ends_on"] = FieldError("ends_before_start")
    if len(fields.tasks) > TASKS_MAX:
        errors["tasks"] = FieldError("too_many", {"max": TASKS_MAX})
    elif any(not task.strip() or len(task) > TASK_MAX for task in fields.tasks):
        errors["tasks"] = FieldError("too_long", {"max": TASK_MAX})
    _skills(fields.skills, "skills", errors)
    aides = _team_aides(session, team_id)
    for name in ("preferred_aide_ids", "refused_aide_ids"):
        if any(aide not in aides for aide in getattr(fields, name)):
            errors[name] = FieldError("unknown_user")
    if not errors.keys() & {"preferred_aide_ids", "refused_aide_ids"} and (
        set(fields.preferred_aide_ids) & set(fields.refused_aide_ids)
    ):
        errors["refused_aide_ids"] = FieldError("preferred_and_refused")
    if fields.meal_order_ref is not None and len(fields.meal_order_ref) > 80:
        errors["meal_order_ref"] = FieldError("too_long", {"max": 80})
    if not errors:
        others = session.scalars(
            select(CarePlan).where(
                CarePlan.beneficiary_id == beneficiary_id,
                CarePlan.service == fields.service,
                CarePlan.id != (replacing or uuid.UUID(int=0)),
            )
        )
        for other in others:
            if _overlaps(fields, other):
                errors["window_start"] = FieldError(
                    "care_plan_overlap",
                    {
                        "starts": other.window_start.strftime("%H:%M"),
                        "ends": other.window_end.strftime("%H:%M"),
                    },
                )
                break
    return errors


def _fill(plan: CarePlan, fields: PlanFields) -> None:
    plan.service = fields.service
    plan.weekdays = sorted(fields.weekdays)
    plan.window_start = fields.window_start
    plan.window_end = fields.window_end
    plan.tolerance_minutes = fields.tolerance_minutes
    plan.duration_minutes = fields.duration_minutes
    plan.tasks = [task.strip() for task in fields.tasks]
    plan.skills = sorted(set(fields.skills))
    plan.preferred_aide_ids = sorted(set(fields.preferred_aide_ids))
    plan.refused_aide_ids = sorted(set(fields.refused_aide_ids))
    plan.starts_on = fields.starts_on
    plan.ends_on = fields.ends_on
    plan.holiday_rule = fields.holiday_rule
    plan.meal_order_ref = fields.meal_order_ref
    plan.aides = fields.aides


def create_care_plan(
    session: Session,
    actor: User,
    beneficiary_id: uuid.UUID,
    fields: PlanFields,
    *,
    id: uuid.UUID | None = None,
) -> CarePlan:
    beneficiary = access.beneficiary_to_change(session, actor, beneficiary_id)
    errors = _check_plan(session, beneficiary.team_id, beneficiary.id, fields)
    if errors:
        raise Invalid(errors)
    plan = CarePlan(
        id=id or uuid.uuid4(),
        team_id=beneficiary.team_id,
        beneficiary_id=beneficiary.id,
        created_by_id=actor.id,
    )
    _fill(plan, fields)
    session.add(plan)
    _saved(
        session,
        actor,
        plan,
        plan.team_id,
        action="create",
        entity_type="homecare_care_plan",
        details={"beneficiary_id": str(beneficiary.id), "service": fields.service},
    )
    return plan


def update_care_plan(
    session: Session, actor: User, plan_id: uuid.UUID, fields: PlanFields
) -> CarePlan:
    """Change a plan; generating its weeks again updates the visits not yet done."""
    return change_care_plan(session, actor, plan_id, fields)[0]


def change_care_plan(
    session: Session, actor: User, plan_id: uuid.UUID, fields: PlanFields
) -> tuple[CarePlan, MealsFollowed | None]:
    """Change a plan (update_care_plan); when it now ends, or ends earlier, its meal order
    ends then too (`_follow_meals`); when its end moves later or goes, the order runs
    again with it (`_reopen_meals`); what that did is returned for the coordinator."""
    plan = access.plan_to_change(session, actor, plan_id)
    errors = _check_plan(session, plan.team_id, plan.beneficiary_id, fields, replacing=plan.id)
    if errors:
        raise Invalid(errors)
    ended_on = plan.ends_on
    _fill(plan, fields)
    _saved(
        session,
        actor,
        plan,
        plan.team_id,
        action="update",
        entity_type="homecare_care_plan",
        details={"service": fields.service},
    )
    generation.refresh_plan(session, plan, actor=actor)
    followed = None
    if plan.ends_on is not None and (ended_on is None or plan.ends_on < ended_on):
        followed = _follow_meals(session, actor, plan, None, plan.ends_on)
    elif ended_on is not None and (plan.ends_on is None or plan.ends_on > ended_on):
        followed = _reopen_meals(session, actor, plan, ended_on)
    return plan, followed


def suspend_plan(
    session: Session,
    actor: User,
    plan_id: uuid.UUID,
    *,
    starts_on: date,
    ends_on: date,
    reason: str,
    note: str = "",
) -> CarePlanSuspension:
    """The plan pauses from `starts_on` to `ends_on` (both included)."""
    return pause_care_plan(
        session, actor, plan_id, starts_on=starts_on, ends_on=ends_on, reason=reason, note=note
    )[0]


def pause_care_plan(
    session: Session,
    actor: User,
    plan_id: uuid.UUID,
    *,
    starts_on: date,
    ends_on: date,
    reason: str,
    note: str = "",
) -> tuple[CarePlanSuspension, MealsFollowed | None]:
    """Suspend a plan (suspend_plan); its meal order pauses those days too
    (`_follow_meals`), and what that did is returned for the coordinator."""
    plan = access.plan_to_change(session, actor, plan_id)
    errors: dict[str, FieldError] = {}
    parse.choice({"reason": reason}, "reason", errors, choices=SUSPENSION_REASONS)
    if ends_on < starts_on:
        errors["ends_on"] = FieldError("ends_before_start")
    elif (ends_on - starts_on).days > 366:
        errors["ends_on"] = FieldError("too_long_period", {"days": 366})
    note = parse.text({"note": note}, "note", errors, limit=TEXT_MAX, multiline=True)
    if errors:
        raise Invalid(errors)
    suspension = CarePlanSuspension(
        id=uuid.uuid4(),
        team_id=plan.team_id,
        plan_id=plan.id,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        note=note,
    )
    session.add(suspension)
    _saved(
        session,
        actor,
        suspension,
        plan.team_id,
        action="create",
        entity_type="homecare_suspension",
        details={"plan_id": str(plan.id), "reason": reason},
    )
    generation.refresh_plan(session, plan, actor=actor)
    return suspension, _follow_meals(session, actor, plan, starts_on, ends_on)


def end_suspension(
    session: Session, actor: User, plan_id: uuid.UUID, suspension_id: uuid.UUID, last: date
) -> tuple[CarePlanSuspension | None, MealsFollowed | None]:
    """The plan's suspension ends on `last` instead (earlier, not before yesterday; the
    day before its first: lifted, the row goes). The plan's weeks generated follow
    (`generation.refresh_plan`), so do its meal order's pause and deliveries
    (`_resume_meals`). Audited. Returns the suspension (None when lifted) and what the
    meals did."""
    plan = access.plan_to_change(session, actor, plan_id)
    suspension = session.get(CarePlanSuspension, suspension_id)
    if suspension is None or suspension.plan_id != plan.id:
        raise Invalid({"last_day": FieldError("unknown_suspension")})
    first, former = suspension.starts_on, suspension.ends_on
    yesterday = clock.to_local(clock.now()).date() - timedelta(days=1)
    if last >= former:
        raise Invalid({"last_day": FieldError("suspension_not_shorter", {"day": former})})
    if last < max(first - timedelta(days=1), yesterday):
        raise Invalid({"last_day": FieldError("suspension_end_too_early")})
    details = {"plan_id": str(plan.id), "ends_on": str(former), "now": str(last)}
    if last < first:
        audit.record(
            session,
            actor=actor,
            action="delete",
            entity_type="homecare_suspension",
            entity_id=suspension.id,
            details=details,
        )
        session.delete(suspension)
        session.flush()
        kept = None
    else:
        suspension.ends_on = last
        _saved(
            session,
            actor,
            suspension,
            plan.team_id,
            action="update",
            entity_type="homecare_suspension",
            details=details,
        )
        kept = suspension
    generation.refresh_plan(session, plan, actor=actor)
    return kept, _resume_meals(session, actor, plan, first, former, last)


# --- Aides ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AideFields:
    contract_minutes: int
    working_hours: Sequence[tuple[int, str, str]]  # (weekday, "HH:MM", "HH:MM")
    home_latitude: float | None = None
    home_longitude: float | None = None
    transport_mode: str = "transit"
    speed_kmh: float | None = None


def parse_hours(rows: Sequence[Sequence[object]]) -> list[tuple[int, time, time]]:
    """Stored working hours as (weekday, start, end); bad rows are skipped."""
    found = []
    for row in rows:
        if len(row) != 3 or not isinstance(row[0], int):
            continue
        start, end = parse.parse_time(str(row[1])), parse.parse_time(str(row[2]))
        if start is not None and end is not None:
            found.append((row[0], start, end))
    return found


def set_aide_profile(
    session: Session, actor: User, user_id: int, fields: AideFields
) -> AideProfile:
    """Create or change an aide's working terms."""
    user = session.get(User, user_id)
    if user is None or user.role != Role.AIDE or user.team_id is None:
        raise Invalid({"user_id": FieldError("unknown_user")})
    access.team_to_manage(actor, user.team_id)
    errors: dict[str, FieldError] = {}
    if not 0 <= fields.contract_minutes <= MAX_CONTRACT:
        errors["contract_minutes"] = FieldError("out_of_range", {"min": 0, "max": MAX_CONTRACT})
    for day, start, end in fields.working_hours:
        begin, finish = parse.parse_time(start), parse.parse_time(end)
        if not (isinstance(day, int) and 0 <= day <= 6) or begin is None or finish is None:
            errors["working_hours"] = FieldError("invalid_hours")
        elif begin == finish:
            errors["working_hours"] = FieldError("hours_order")
    _coordinates(fields.home_latitude, fields.home_longitude, errors)
    parse.choice(vars(fields), "transport_mode", errors, choices=TRANSPORT_MODES)
    if fields.speed_kmh is not None and not 2 <= fields.speed_kmh <= 80:
        errors["speed_kmh"] = FieldError("out_of_range", {"min": 2, "max": 80})
    if errors:
        raise Invalid(errors)
    profile = session.get(AideProfile, user_id)
    created = profile is None
    if profile is None:
        profile = AideProfile(user_id=user_id, team_id=user.team_id)
        session.add(profile)
    profile.contract_minutes = fields.contract_minutes
    profile.working_hours = [[d, s, e] for d, s, e in fields.working_hours]
    profile.home_latitude = fields.home_latitude
    profile.home_longitude = fields.home_longitude
    profile.transport_mode = fields.transport_mode
    profile.speed_kmh = fields.speed_kmh
    _saved(
        session,
        actor,
        profile,
        user.team_id,
        action="create" if created else "update",
        entity_type="homecare_aide_profile",
        entity_id=user_id,
        details={"contract_minutes": fields.contract_minutes},
    )
    return profile


def set_qualification(
    session: Session, actor: User, user_id: int, skill: str, expires_on: date | None
) -> AideQualification:
    """The aide holds `skill` until `expires_on` (None: no expiry)."""
    profile = session.get(AideProfile, user_id)
    if profile is None:
        raise Invalid({"user_id": FieldError("unknown_user")})
    access.team_to_manage(actor, profile.team_id)
    errors: dict[str, FieldError] = {}
    _skills([skill], "skill", errors)
    if errors:
        raise Invalid(errors)
    found = session.scalar(
        select(AideQualification).where(
            AideQualification.user_id == user_id, AideQualification.skill == skill
        )
    )
    if found is None:
        found = AideQualification(
            id=uuid.uuid4(), team_id=profile.team_id, user_id=user_id, skill=skill
        )
        session.add(found)
    found.expires_on = expires_on
    _saved(
        session,
        actor,
        found,
        profile.team_id,
        action="update",
        entity_type="homecare_qualification",
        details={"user_id": user_id, "skill": skill},
    )
    return found


def valid_skills(session: Session, user_id: int, on: date) -> frozenset[str]:
    """The aide's skills that still count on `on` (an expired one no longer does)."""
    rows = session.scalars(select(AideQualification).where(AideQualification.user_id == user_id))
    return frozenset(q.skill for q in rows if q.expires_on is None or q.expires_on >= on)


@dataclass(frozen=True)
class ExpiryWarning:
    user_id: int
    skill: str
    expires_on: date


def expiring_qualifications(session: Session, team_id: int, today: date) -> list[ExpiryWarning]:
    """What the coordinator is warned of: qualifications ending within a month."""
    rows = session.scalars(
        select(AideQualification)
        .where(
            AideQualification.team_id == team_id,
            AideQualification.expires_on.is_not(None),
            AideQualification.expires_on >= today,
            AideQualification.expires_on <= today + EXPIRY_WARNING,
        )
        .order_by(AideQualification.expires_on, AideQualification.user_id)
    )
    return [ExpiryWarning(q.user_id, q.skill, q.expires_on) for q in rows if q.expires_on]


def record_absence(
    session: Session,
    actor: User,
    user_id: int,
    *,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
) -> None:
    """An aide away (leave, illness, training): the per-user absences of appointments."""
    profile = session.get(AideProfile, user_id)
    if profile is None:
        raise Invalid({"user_id": FieldError("unknown_user")})
    access.team_to_manage(actor, profile.team_id)
    appointments.add_user_absence(
        session, user_id=user_id, starts_at=starts_at, ends_at=ends_at, reason=reason, actor=actor
    )
