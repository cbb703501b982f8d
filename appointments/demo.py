"""Demo data of appointments: services, locations with opening hours, agents' plans.

All invented. Services as in shared/FIELD.md ("Services": accueil social, logement,
médiation de dettes, énergie; 20–45 min slots Mon–Fri 8h30–16h, an assumption; some
"sans rendez-vous", like Schaerbeek's housing drop-in); the antennes are core/demo.py's
teams, open Mon–Fri 08:30–12:00 and 13:00–16:00; one stop of the Charleroi minibus,
one afternoon a week (a 1 h 30 drop-in, as in FIELD.md's minibus round). Agents: the
social workers of core/demo.py, as1 and as2 (Marolles), as3 (Dampremy) and as4
(Le22Rogier), each in one CPAS, with their
services and weekly plans. One closure (a training day next month)
and one absence (as1 on leave next week). No appointments: bookings are made through
the booking services.

Idempotent: running it twice leaves one copy of everything.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments.models import (
    AgentAbsence,
    AgentService,
    Closure,
    Location,
    OpeningHours,
    Service,
    ServiceLocation,
    WorkingPlan,
)
from core import accounts, clock, organisations
from core.demo import TEAMS

# (code, fr, nl, en, minutes, buffer, booking mode, languages offered)
SERVICES = [
    (
        "permanence-sociale",
        # Plain words: "permanence" alone means nothing to most people.
        "Permanence sociale : parler à un assistant social",
        "Gesprek met een maatschappelijk werker",
        "Talk to a social worker",
        30,
        0,
        "online",
        ["fr", "nl", "en"],
    ),
    (
        "aide-logement",
        "Aide au logement",
        "Hulp bij huisvesting",
        "Help with housing",
        45,
        0,
        "online",
        ["fr", "nl"],
    ),
    (
        "mediation-dettes",
        "Médiation de dettes",
        "Schuldbemiddeling",
        "Debt mediation",
        60,
        15,
        "online",
        ["fr", "nl"],
    ),
    (
        "informaticien-public",
        "Informaticien public : aide pour l'ordinateur et le smartphone",
        "Hulp bij computer en smartphone",
        "Help with computers and smartphones",
        30,
        0,
        "online",
        ["fr", "nl", "en"],
    ),
    (
        "energie",
        "Énergie (par téléphone)",
        "Energie (telefonisch)",
        "Energy (by phone)",
        30,
        0,
        "phone",
        ["fr", "nl"],
    ),
    (
        "logement-sans-rdv",
        "Logement, sans rendez-vous",
        "Huisvesting, zonder afspraak",
        "Housing, no appointment needed",
        20,
        0,
        "walk_in",
        ["fr", "nl"],
    ),
]

# What to bring, one thing per line (fr, nl, en).
BRING = {
    "permanence-sociale": (
        "Votre carte d'identité\nVos derniers extraits de compte",
        "Uw identiteitskaart\nUw laatste rekeninguittreksels",
        "Your identity card\nYour latest bank statements",
    ),
    "aide-logement": (
        "Votre carte d'identité\nVotre bail et la dernière quittance de loyer",
        "Uw identiteitskaart\nUw huurcontract en het laatste huurbewijs",
        "Your identity card\nYour lease and the last rent receipt",
    ),
    "mediation-dettes": (
        "Votre carte d'identité\nLes lettres de vos créanciers\nVos revenus du mois",
        "Uw identiteitskaart\nDe brieven van uw schuldeisers\nUw inkomsten van de maand",
        "Your identity card\nThe letters from your creditors\nYour income of the month",
    ),
}

WEEKDAYS_MON_FRI = range(5)
ANTENNE_HOURS = [(time(8, 30), time(12, 0)), (time(13, 0), time(16, 0))]

# Approximate coordinates (general knowledge) for "the nearest antenne to my address".
COORDINATES = {
    "bxl-marolles": (50.8364, 4.3478),
    "bxl-nord-est": (50.8466, 4.3812),
    "bxl-bockstael": (50.8774, 4.3486),
    "sch-le22rogier": (50.8609, 4.3613),
    "clr-dampremy": (50.4185, 4.4265),
    "clr-docherie": (50.4165, 4.4030),
    "clr-gosselies": (50.4700, 4.4330),
}

# Brussels is bilingual: the Dutch name, street and town of its antennes (official
# bilingual street names, general knowledge). Charleroi's places have none.
DUTCH = {
    "bxl-marolles": ("Antenne Marollen", "Hoogstraat 298", "Brussel"),
    "bxl-nord-est": ("Antenne Noordoost", "Kardinaalstraat 12", "Brussel"),
    "bxl-bockstael": ("Antenne Bockstael", "Emile Bockstaellaan 120", "Laken"),
    "sch-le22rogier": ("Le22Rogier", "Rogierlaan 22", "Schaarbeek"),
}

# The phone number people call to book a service by phone, or when a link or a code
# fails (demo numbers in the CPAS's own ranges).
PHONES = {
    "bxl-marolles": "+3225436111",
    "bxl-nord-est": "+3225436112",
    "bxl-bockstael": "+3225436113",
    "sch-le22rogier": "+3222403222",
    "clr-dampremy": "+3271233011",
    "clr-docherie": "+3271233012",
    "clr-gosselies": "+3271233013",
}

# (code, name, team, address, postcode, city, latitude, longitude, weekly hours)
MOBILE_STOPS = [
    (
        "clr-minibus-mont",
        "Minibus social : arrêt Mont-sur-Marchienne",
        "clr-mobile",
        "Parking de l'église",
        "6032",
        "Mont-sur-Marchienne",
        50.3915,
        4.4050,
        [(2, time(13, 30), time(15, 0))],  # Wednesday afternoon
    ),
]

# Each CPAS has its own services (docs/cpas.md): the CPAS de Bruxelles keeps the plain
# codes below, the others' are the same services under their prefix ("clr-energie",
# "sch-permanence-sociale"), from the code of the place or team (bxl-, sch-, clr-).
CPAS_OF_PREFIX = {"bxl": "bruxelles", "sch": "schaerbeek", "clr": "charleroi"}


def service_code(owner_code: str, code: str) -> str:
    """The demo code of service `code` in the CPAS of a place or team (its code)."""
    prefix = owner_code.split("-", 1)[0]
    return code if prefix == "bxl" else f"{prefix}-{code}"


# Services offered at each location (their plain codes; each place's CPAS's own).
OFFERS = {
    "bxl-marolles": [
        "permanence-sociale",
        "aide-logement",
        "mediation-dettes",
        "informaticien-public",
        "energie",
    ],
    "bxl-nord-est": ["permanence-sociale", "mediation-dettes"],
    "sch-le22rogier": ["permanence-sociale", "informaticien-public", "logement-sans-rdv"],
    "clr-dampremy": ["permanence-sociale", "mediation-dettes", "energie"],
    "clr-gosselies": ["permanence-sociale", "informaticien-public"],
    "clr-docherie": ["permanence-sociale"],
    "clr-minibus-mont": ["permanence-sociale", "informaticien-public"],
}

# username (demo accounts of core/demo.py) → services they can deliver.
SKILLS = {
    "as1": ["permanence-sociale", "aide-logement", "mediation-dettes"],
    "as2": ["permanence-sociale", "aide-logement", "informaticien-public", "energie"],
    "as3": ["permanence-sociale", "mediation-dettes", "energie", "informaticien-public"],
    "as4": ["permanence-sociale", "informaticien-public"],
}

MORNING = (time(8, 30), time(12, 0))
AFTERNOON = (time(13, 0), time(16, 0))
# username → (location, weekdays, (starts, ends), temporary: valid for 90 days only)
PLANS = {
    "as1": [
        ("bxl-marolles", (0, 1, 3), MORNING, False),
        ("bxl-marolles", (0, 1, 3), AFTERNOON, False),
        ("bxl-nord-est", (2,), (time(9, 0), time(12, 0)), False),
    ],
    "as2": [
        ("bxl-marolles", WEEKDAYS_MON_FRI, MORNING, False),
        ("bxl-nord-est", (1, 3), AFTERNOON, True),
    ],
    # Each person works in one CPAS: Le22Rogier (CPAS de Schaerbeek) has its own.
    "as4": [
        ("sch-le22rogier", WEEKDAYS_MON_FRI, MORNING, False),
        ("sch-le22rogier", (1, 3), AFTERNOON, False),
    ],
    "as3": [
        ("clr-dampremy", (0, 1, 3, 4), MORNING, False),
        ("clr-dampremy", (0, 1, 3, 4), AFTERNOON, False),
        ("clr-gosselies", (2,), (time(9, 0), time(12, 0)), False),
        ("clr-minibus-mont", (2,), (time(13, 30), time(15, 0)), False),
    ],
}

CLOSURE_REASON = "Journée de formation du personnel"
ABSENCE_REASON = "leave"


def seed(session: Session) -> dict[str, int]:
    """Create what is missing; never touches what exists. Returns counts created."""
    created = {
        "appointment services": 0,
        "appointment locations": 0,
        "working plans": 0,
        "closures": 0,
        "absences": 0,
    }
    services = _services(session, created)
    locations = _locations(session, created)
    for location_code, codes in OFFERS.items():
        location = locations[location_code]
        for code in codes:
            service = services[service_code(location_code, code)]
            if session.get(ServiceLocation, (service.id, location.id)) is None:
                session.add(ServiceLocation(service_id=service.id, location_id=location.id))
    agents = _agents(session)
    session.flush()
    for username, codes in SKILLS.items():
        agent = agents[username]
        team_code = agent.team.code if agent.team is not None else "bxl"
        for code in codes:
            service = services[service_code(team_code, code)]
            if session.get(AgentService, (agent.id, service.id)) is None:
                session.add(AgentService(user_id=agent.id, service_id=service.id))
    today = clock.to_local(clock.now()).date()
    _plans(session, agents, locations, today, created)
    _closure(session, locations["bxl-marolles"], today, created)
    _absence(session, agents["as1"], today, created)
    session.flush()
    return created


def _services(session: Session, created: dict[str, int]) -> dict[str, Service]:
    """Each CPAS's services: those its places offer (OFFERS), under its codes."""
    wanted = {
        (location_code.split("-", 1)[0], code)
        for location_code, codes in OFFERS.items()
        for code in codes
    }
    services = {}
    for prefix, (code, fr, nl, en, minutes, buffer, mode, languages) in sorted(
        (prefix, row) for row in SERVICES for prefix in CPAS_OF_PREFIX if (prefix, row[0]) in wanted
    ):
        full_code = service_code(prefix, code)
        cpas = organisations.get_cpas(session, CPAS_OF_PREFIX[prefix])
        service = session.scalar(select(Service).where(Service.code == full_code))
        if service is None:
            service = Service(
                code=full_code,
                cpas_id=cpas.id if cpas is not None else None,
                name_fr=fr,
                name_nl=nl,
                name_en=en,
                duration_minutes=minutes,
                buffer_minutes=buffer,
                booking_mode=mode,
                languages=languages,
                min_notice_hours=2,
                max_horizon_days=56,
            )
            if code in BRING:
                service.bring_fr, service.bring_nl, service.bring_en = BRING[code]
            session.add(service)
            created["appointment services"] += 1
        services[full_code] = service
    session.flush()
    return services


def _locations(session: Session, created: dict[str, int]) -> dict[str, Location]:
    rows = [
        (code, name, code, address, postcode, city, *COORDINATES[code], None)
        for code, name, kind, city, postcode, address in TEAMS
        if kind == "antenne"
    ] + MOBILE_STOPS
    locations = {}
    for code, name, team_code, address, postcode, city, latitude, longitude, hours in rows:
        location = session.scalar(select(Location).where(Location.code == code))
        if location is None:
            team = accounts.get_team(session, team_code)
            assert team is not None, f"demo team {team_code} missing: seed core first"
            name_nl, address_nl, city_nl = DUTCH.get(code, ("", "", ""))
            location = Location(
                code=code,
                name=name,
                name_nl=name_nl,
                address_nl=address_nl,
                city_nl=city_nl,
                phone=PHONES.get(code, ""),
                kind="antenne" if hours is None else "mobile_stop",
                team_id=team.id,
                address=address,
                postcode=postcode,
                city=city,
                latitude=latitude,
                longitude=longitude,
            )
            weekly = hours or [
                (weekday, opens, closes)
                for weekday in WEEKDAYS_MON_FRI
                for opens, closes in ANTENNE_HOURS
            ]
            location.opening_hours = [
                OpeningHours(weekday=weekday, opens=opens, closes=closes)
                for weekday, opens, closes in weekly
            ]
            session.add(location)
            created["appointment locations"] += 1
        locations[code] = location
    session.flush()
    return locations


def _agents(session: Session) -> dict[str, accounts.User]:
    agents = {}
    for username in SKILLS:
        user = accounts.find_user(session, username)
        assert user is not None, f"demo user {username} missing: seed core first"
        agents[username] = user
    return agents


def _plans(
    session: Session,
    agents: dict[str, accounts.User],
    locations: dict[str, Location],
    today: date,
    created: dict[str, int],
) -> None:
    since = date(today.year, 1, 1)
    for username, plans in PLANS.items():
        user = agents[username]
        if session.scalar(select(WorkingPlan.id).where(WorkingPlan.user_id == user.id).limit(1)):
            continue  # this agent's plans are there already
        for location_code, weekdays, (starts, ends), temporary in plans:
            for weekday in weekdays:
                session.add(
                    WorkingPlan(
                        user_id=user.id,
                        location_id=locations[location_code].id,
                        weekday=weekday,
                        starts=starts,
                        ends=ends,
                        valid_from=since,
                        valid_until=today + timedelta(days=90) if temporary else None,
                    )
                )
                created["working plans"] += 1


def _closure(session: Session, location: Location, today: date, created: dict[str, int]) -> None:
    """A staff training day: the second Tuesday of next month."""
    exists = session.scalar(
        select(Closure.id).where(
            Closure.location_id == location.id, Closure.reason == CLOSURE_REASON
        )
    )
    if exists:
        return
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    first_tuesday = next_month + timedelta(days=(1 - next_month.weekday()) % 7)
    day = first_tuesday + timedelta(days=7)
    session.add(
        Closure(location_id=location.id, first_day=day, last_day=day, reason=CLOSURE_REASON)
    )
    created["closures"] += 1


def _absence(session: Session, agent: accounts.User, today: date, created: dict[str, int]) -> None:
    """as1 on leave on Monday of next week, the whole day."""
    exists = session.scalar(
        select(AgentAbsence.id).where(
            AgentAbsence.user_id == agent.id, AgentAbsence.reason == ABSENCE_REASON
        )
    )
    if exists:
        return
    monday = today + timedelta(days=7 - today.weekday())
    starts = datetime.combine(monday, time(), clock.BRUSSELS)
    ends = datetime.combine(monday + timedelta(days=1), time(), clock.BRUSSELS)
    session.add(
        AgentAbsence(
            user_id=agent.id,
            starts_at=clock.as_utc(starts),
            ends_at=clock.as_utc(ends),
            reason=ABSENCE_REASON,
        )
    )
    created["absences"] += 1
