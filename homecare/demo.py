"""Demo data of home care: the `bxl-saf` service around Brussels-Nord — 40 households
(invented people at real-looking addresses of 1000, 1030 and 1210), the six aides of
core/demo.py with their skills and contracts, care plans, and the current week generated.
"""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import accounts, clock, sync
from core.accounts import Team
from homecare import demo_hours, generation, offers, services
from homecare.calendar import local_moment, monday_of
from homecare.models import AideProfile, Beneficiary, CarePlan, Visit, VisitOffer
from homecare.services import AideFields, BeneficiaryFields, PlanFields

NAMESPACE = uuid.UUID("8d2b6f3e-17a0-4c55-9b1e-2f4a6d8c0e17")

# (street, postcode, city, latitude, longitude) — real streets, numbers added below.
STREETS = [
    ("Rue Royale Sainte-Marie", "1030", "Schaerbeek", 50.8647, 4.3716),
    ("Rue de Brabant", "1030", "Schaerbeek", 50.8641, 4.3627),
    ("Rue d'Aerschot", "1030", "Schaerbeek", 50.8633, 4.3598),
    ("Avenue Rogier", "1030", "Schaerbeek", 50.8622, 4.3834),
    ("Rue Gallait", "1030", "Schaerbeek", 50.8683, 4.3762),
    ("Chaussée de Haecht", "1030", "Schaerbeek", 50.8604, 4.3721),
    ("Rue de la Poste", "1030", "Schaerbeek", 50.8617, 4.3703),
    ("Rue des Palais", "1030", "Schaerbeek", 50.8662, 4.3679),
    ("Rue Josaphat", "1030", "Schaerbeek", 50.8652, 4.3791),
    ("Avenue Louis Bertrand", "1030", "Schaerbeek", 50.8641, 4.3862),
    ("Rue de l'Alliance", "1210", "Saint-Josse-ten-Noode", 50.8541, 4.3722),
    ("Rue Verte", "1210", "Saint-Josse-ten-Noode", 50.8587, 4.3641),
    ("Rue Saint-Josse", "1210", "Saint-Josse-ten-Noode", 50.8532, 4.3747),
    ("Chaussée de Louvain", "1210", "Saint-Josse-ten-Noode", 50.8536, 4.3781),
    ("Rue de la Limite", "1210", "Saint-Josse-ten-Noode", 50.8566, 4.3692),
    ("Rue Potagère", "1210", "Saint-Josse-ten-Noode", 50.8561, 4.3763),
    ("Rue du Méridien", "1210", "Saint-Josse-ten-Noode", 50.8546, 4.3681),
    ("Rue de Laeken", "1000", "Bruxelles", 50.8559, 4.3483),
    ("Rue du Marché", "1000", "Bruxelles", 50.8562, 4.3561),
    ("Boulevard d'Anvers", "1000", "Bruxelles", 50.8592, 4.3522),
]
FIRST = ["Jeanne", "Mohamed", "Maria", "Willy", "Fatma", "Georgette", "Ahmed", "Lucienne",
         "Jozef", "Rachida", "André", "Simone", "Hüseyin", "Paula", "Marcel", "Yvonne",
         "Abdelkader", "Rita", "Roger", "Denise"]  # fmt: skip
LAST = ["Peeters", "El Idrissi", "Da Silva", "Janssens", "Yilmaz", "Dubois", "Bennani",
        "Lambert", "Maes", "Amrani", "Leroy", "Vermeulen", "Öztürk", "Kowalski", "Dupont",
        "Wouters", "Haddad", "Claes", "Mertens", "Laurent"]  # fmt: skip
LANGUAGES = ["fr", "fr", "nl", "fr", "tr", "fr", "ar", "fr", "nl", "ar"]
ENTRY = [
    "Boîte à clés à gauche de la porte, code 4721.",
    "Sonner deux fois; Madame met du temps à venir.",
    "Chien (gentil) dans la cuisine. 3e étage sans ascenseur.",
    "",
]
# (service, weekdays, start, end, tolerance, duration, skills, holiday rule)
PLANS = [
    ("family_aide", [1, 4], time(9), time(11), 30, 120, ["personal_care"], "move"),
    ("home_help", [0], time(13), time(16), 30, 120, ["household"], "skip"),
    ("family_aide", [0, 2, 4], time(8), time(9, 30), 15, 60, ["personal_care"], "keep"),
    ("home_help", [3], time(10), time(12), 30, 90, ["household"], "skip"),
    ("family_aide", [1, 3], time(14), time(16), 30, 90, ["personal_care", "dementia"], "move"),
    ("day_care", [2], time(13), time(17), 0, 240, ["dementia"], "skip"),
]
NIGHTS = {7: [0], 19: [2], 31: [3]}  # household number → nights of garde de nuit
# (login, contract hours, days, start, end, mode, skills with expiry in days or None)
AIDES = [
    ("aide1", 38, [0, 1, 2, 3, 4], "08:00", "16:30", "transit",
     {"personal_care": None, "dementia": 400, "transfer": 20}),
    ("aide2", 30, [0, 1, 2, 3], "08:00", "16:00", "bike",
     {"personal_care": None, "household": None}),
    ("aide3", 19, [0, 2, 4], "08:30", "15:30", "walk", {"household": None, "meals": None}),
    ("aide4", 30, [1, 2, 3, 4], "09:00", "17:00", "transit",
     {"personal_care": None, "household": None, "first_aid": -10}),
    ("aide5", 25, [0, 1, 3, 4], "12:00", "19:00", "car", {"household": None, "dementia": None}),
    ("aide6", 38, [0, 2, 3], "20:30", "07:30", "car", {"night_watch": None, "personal_care": None}),
]  # fmt: skip
HOMES = [(50.8679, 4.3745), (50.8710, 4.3690), (50.8575, 4.3733),
         (50.8612, 4.3880), (50.8498, 4.3602), (50.8701, 4.3820)]  # fmt: skip
HOUSEHOLDS = 40


def demo_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, key)


def seed(session: Session) -> dict[str, int]:
    """Create the home-care demo when missing, then generate the current week."""
    actor = accounts.find_user(session, "coordination")
    team = session.scalar(select(Team).where(Team.code == "bxl-saf"))
    if actor is None or team is None or actor.team_id != team.id:
        return {"homecare_households": 0}
    today = clock.to_local(clock.now()).date()
    created = 0
    if session.get(Beneficiary, demo_id("household-0")) is None:
        aide_ids = _seed_aides(session, actor, today)
        created = _seed_households(session, actor, team.id, aide_ids, today)
    week = monday_of(today)
    generation.generate_week(session, team.id, week, actor=None)
    done = demo_hours.seed(session, actor, team.id, today)
    _seed_example_visit(session, actor, team.id, today)
    ill = _seed_illness(session, actor, team.id, today)
    _seed_example_offer(session, actor, team.id, today)
    return {"homecare_households": created, "homecare_visits_done": done, "homecare_ill": ill}


ILL_AIDE = "aide1"


def _seed_illness(session: Session, actor: accounts.User, team_id: int, today: date) -> int:
    """One aide ill tomorrow with a few of tomorrow's visits already hers, so the board
    shows what to re-plan; once (her absence that day is the mark); returns the visits."""
    aide = accounts.find_user(session, ILL_AIDE)
    if aide is None or session.get(AideProfile, aide.id) is None:
        return 0
    tomorrow = today + timedelta(days=1)
    starts_at = local_moment(tomorrow, time(0))
    ends_at = local_moment(tomorrow + timedelta(days=1), time(0))
    if appointments.absences_between(session, [aide.id], starts_at, ends_at):
        return 0
    if monday_of(tomorrow) != monday_of(today):
        generation.generate_week(session, team_id, monday_of(tomorrow), actor=None)
    skills = services.valid_skills(session, aide.id, tomorrow)
    candidates = session.execute(
        select(Visit, CarePlan)
        .join(CarePlan, CarePlan.id == Visit.plan_id)
        .where(
            Visit.team_id == team_id,
            Visit.day == tomorrow,
            Visit.status == "planned",
            Visit.aide_id.is_(None),
        )
        .order_by(Visit.earliest_start, Visit.id)
    ).all()
    given = 0
    free_from = None
    for visit, plan in candidates:
        if not set(plan.skills) <= skills or plan.service == "night_care":
            continue
        start = visit.earliest_start + timedelta(minutes=plan.tolerance_minutes)
        if free_from is not None and start < free_from:
            continue
        visit.aide_id, visit.planned_start, visit.unassigned_reason = aide.id, start, None
        sync.stamp(session, visit, sync.team_scope(team_id), actor, None)
        free_from = start + timedelta(minutes=visit.duration_minutes + 20)
        given += 1
        if given == 3:
            break
    session.flush()
    services.record_absence(
        session, actor, aide.id, starts_at=starts_at, ends_at=ends_at, reason="illness"
    )
    return given


def _seed_example_visit(session: Session, actor: accounts.User, team_id: int, today: date) -> None:
    """aide1's visit of yesterday 9:00-10:00, not done: the one the OpenAPI examples of
    the aide's ops name (homecare/sync.py)."""
    aide = accounts.find_user(session, "aide1")
    if aide is None or aide.team_id != team_id or session.get(Visit, demo_id("example-visit")):
        return
    day = today - timedelta(days=1)
    start = local_moment(day, time(9))
    visit = Visit(
        id=demo_id("example-visit"),
        team_id=team_id,
        plan_id=demo_id("plan-0"),
        beneficiary_id=demo_id("household-0"),
        # A scheduled day the plan never generates (it starts 60 days back): no twin.
        scheduled_on=today - timedelta(days=3650),
        day=day,
        earliest_start=start,
        latest_start=start,
        duration_minutes=60,
        status="planned",
        aide_id=aide.id,
        planned_start=start,
    )
    session.add(visit)
    sync.stamp(session, visit, sync.team_scope(team_id), actor, None)
    session.flush()


def _seed_example_offer(session: Session, actor: accounts.User, team_id: int, today: date) -> None:
    """An open visit the day after tomorrow at 14:00, without an aide, offered to the
    aides who could take it (aide1 among them): the visit the OpenAPI example of
    `homecare.visit.accept_offer` takes (homecare/sync.py)."""
    if session.get(VisitOffer, demo_id("example-offer")) is not None:
        return
    day = today + timedelta(days=2)
    start = local_moment(day, time(14))
    visit = Visit(
        id=demo_id("example-offer-visit"),
        team_id=team_id,
        plan_id=demo_id("plan-0"),
        beneficiary_id=demo_id("household-0"),
        scheduled_on=today - timedelta(days=3649),  # a day the plan never generates
        day=day,
        earliest_start=start,
        latest_start=start,
        duration_minutes=60,
        status="planned",
        unassigned_reason="no_aide",
    )
    session.add(visit)
    sync.stamp(session, visit, sync.team_scope(team_id), actor, None)
    session.flush()
    able = [c.aide_id for c in offers.candidates(session, visit) if c.fits]
    if able:
        offers.offer_visit(session, actor, visit.id, able, id=demo_id("example-offer"))


def _seed_aides(session: Session, actor: accounts.User, today: date) -> list[int]:
    ids = []
    for (login, hours, days, start, end, mode, skills), home in zip(AIDES, HOMES, strict=True):
        user = accounts.find_user(session, login)
        if user is None:
            continue
        ids.append(user.id)
        if session.get(AideProfile, user.id) is not None:
            continue
        services.set_aide_profile(
            session,
            actor,
            user.id,
            AideFields(
                contract_minutes=hours * 60,
                working_hours=[(day, start, end) for day in days],
                home_latitude=home[0],
                home_longitude=home[1],
                transport_mode=mode,
            ),
        )
        for skill, days_left in skills.items():
            expiry = None if days_left is None else today + timedelta(days=days_left)
            services.set_qualification(session, actor, user.id, skill, expiry)
    return ids


def _seed_households(
    session: Session, actor: accounts.User, team_id: int, aide_ids: list[int], today: date
) -> int:
    social_worker = accounts.find_user(session, "as1")
    for n in range(HOUSEHOLDS):
        street, postcode, city, lat, lon = STREETS[n % len(STREETS)]
        # Spread the doors along the street (about ±150 m) so no two share a point.
        offset = ((n * 37) % 11 - 5) * 0.0003
        beneficiary = services.create_beneficiary(
            session,
            actor,
            team_id,
            BeneficiaryFields(
                name=f"{FIRST[n % len(FIRST)]} {LAST[(n * 7) % len(LAST)]}",
                address=f"{street} {3 + (n * 13) % 140}",
                postcode=postcode,
                city=city,
                latitude=round(lat + offset, 6),
                longitude=round(lon - offset, 6),
                language=LANGUAGES[n % len(LANGUAGES)],
                entry_instructions=ENTRY[n % len(ENTRY)],
                emergency_name="Fille" if n % 3 else "Voisin du 2e",
                emergency_phone=f"0470 {10 + n:02d} 20 {30 + n:02d}",
                social_worker_id=social_worker.id if social_worker and n % 4 == 0 else None,
                contribution_category="abcde"[n % 5],
                life_book={
                    "habits": "Café noir à l'arrivée, journal du jour.",
                    "calms": "Parler de ses petits-enfants.",
                    "avoid": "Ne pas déplacer les photos du buffet.",
                }
                if n % 2 == 0
                else None,
            ),
            id=demo_id(f"household-{n}"),
        )
        service, weekdays, start, end, tolerance, duration, skills, rule = PLANS[n % len(PLANS)]
        # Spread households of one kind of plan over the working days.
        weekdays = sorted({(day + n // len(PLANS)) % 5 for day in weekdays})
        preferred = [aide_ids[n % len(aide_ids)]] if aide_ids and n % 3 == 0 else []
        services.create_care_plan(
            session,
            actor,
            beneficiary.id,
            PlanFields(
                service=service,
                weekdays=weekdays,
                window_start=start,
                window_end=end,
                tolerance_minutes=tolerance,
                duration_minutes=duration,
                starts_on=today - timedelta(days=60),
                tasks=["Toilette", "Petit-déjeuner"] if service == "family_aide" else ["Entretien"],
                skills=skills,
                preferred_aide_ids=preferred,
                holiday_rule=rule,
            ),
            id=demo_id(f"plan-{n}"),
        )
        if n in NIGHTS:
            services.create_care_plan(
                session,
                actor,
                beneficiary.id,
                PlanFields(
                    service="night_care",
                    weekdays=NIGHTS[n],
                    window_start=time(21),
                    window_end=time(7),
                    duration_minutes=600,
                    starts_on=today - timedelta(days=30),
                    skills=["night_watch"],
                    tasks=["Présence", "Change de nuit"],
                ),
                id=demo_id(f"night-{n}"),
            )
    return HOUSEHOLDS
