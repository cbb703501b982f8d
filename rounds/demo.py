"""Demo data of rounds: the Charleroi minibus (`clr-mobile`) with its public stops in
6000, 6040, 6041 and 6032 (Mont-sur-Marchienne, linked to appointments' demo place
`clr-minibus-mont`, so people book at the minibus there) and its weekly round templates
(their permanences), the meal van's and the car's weekday templates, four weeks of dated
rounds from this week's Monday (CPAS holidays cancelled), ~20 meal orders and 6 rides for
today, planned. A coordinator of the mobile team (`mobile-coord`) and its crew (`mobile1`,
`mobile2`), password `demo`."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import accounts, clock
from core.demo import DEMO_PASSWORD
from core.roles import Role
from rounds import live, places, services
from rounds.models import MealOrder, Stop, Vehicle, WeeklyMealOrder

TEAM = "clr-mobile"
COORDINATOR = ("mobile-coord", "Luc Vandenberghe")
CREW = [("mobile1", "Didier Lemaire", "fr"), ("mobile2", "Annelies Verhoeven", "nl")]
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi")
WEEKS = 4  # dated rounds generated ahead

DEPOT = ("Boulevard Joseph II 13, 6000 Charleroi", 50.4117, 4.4408)

VEHICLES = [
    # (name, kind, plate, driver, seats, meals, start, end)
    ("Minibus Nord", "minibus", "1-CPA-600", "Didier Lemaire", 8, 0, time(8, 30), time(16, 30)),
    ("Camionnette repas", "van", "1-CPA-601", "Sandra Piette", 0, 40, time(9, 30), time(12, 30)),
    ("Voiture transport", "car", "1-CPA-602", "Mehdi Tahiri", 3, 0, time(8, 0), time(13, 0)),
]
# (name, address, postcode, city, latitude, longitude)
STOPS = [
    ("Charleroi, place de la Digue", "Place de la Digue", "6000", "Charleroi", 50.4073, 4.4488),
    ("Marcinelle, place Albert Ier", "Place Albert Ier", "6001", "Marcinelle", 50.3949, 4.4429),
    ("Jumet, place du Ballon", "Place du Ballon", "6040", "Jumet", 50.4397, 4.4326),
    ("Jumet, Heigne (église)", "Rue de Heigne 1", "6040", "Jumet", 50.4461, 4.4211),
    ("Gosselies, place des Martyrs", "Place des Martyrs", "6041", "Gosselies", 50.4700, 4.4326),
    (
        "Gosselies, cité de l'Aéropole",
        "Avenue Georges Lemaître",
        "6041",
        "Gosselies",
        50.4643,
        4.4539,
    ),
    # Appointments' demo place `clr-minibus-mont` (Wednesday 13:30–15:00): linked below.
    (
        "Mont-sur-Marchienne, parking de l'église",
        "Parking de l'église",
        "6032",
        "Mont-sur-Marchienne",
        50.3915,
        4.4050,
    ),
]
MONT_STOP = 6
MONT_PLACE = "clr-minibus-mont"
# (stop index, weekday, start, end, topic)
PERMANENCES = [
    (0, 0, time(9, 0), time(11, 30), "social"),
    (2, 0, time(13, 30), time(15, 30), "jobs"),
    (3, 1, time(9, 0), time(10, 30), "social"),
    (2, 1, time(11, 0), time(12, 30), "housing"),
    (4, 2, time(9, 0), time(11, 0), "digital"),
    (5, 2, time(11, 30), time(12, 30), "social"),
    (MONT_STOP, 2, time(13, 30), time(15, 0), "social"),
    (1, 3, time(9, 30), time(11, 30), "social"),
    (4, 4, time(9, 0), time(10, 30), "jobs"),
    (3, 4, time(11, 0), time(12, 30), "housing"),
]
# (street, postcode, city, latitude, longitude)
STREETS = [
    ("Rue de Marchienne", "6000", "Charleroi", 50.4089, 4.4367),
    ("Rue de la Montagne", "6000", "Charleroi", 50.4111, 4.4455),
    ("Boulevard Tirou", "6000", "Charleroi", 50.4085, 4.4469),
    ("Rue du Grand Central", "6000", "Charleroi", 50.4059, 4.4447),
    ("Rue de Dampremy", "6000", "Charleroi", 50.4137, 4.4390),
    ("Chaussée de Bruxelles", "6040", "Jumet", 50.4373, 4.4365),
    ("Rue de Gosselies", "6040", "Jumet", 50.4432, 4.4297),
    ("Rue Houtart", "6040", "Jumet", 50.4409, 4.4271),
    ("Rue du Calvaire", "6040", "Jumet", 50.4350, 4.4250),
    ("Rue Émile Vandervelde", "6040", "Jumet", 50.4417, 4.4402),
    ("Rue Circulaire", "6041", "Gosselies", 50.4688, 4.4344),
    ("Rue Saint-Roch", "6041", "Gosselies", 50.4712, 4.4290),
    ("Chaussée de Fleurus", "6041", "Gosselies", 50.4655, 4.4398),
    ("Rue de Namur", "6041", "Gosselies", 50.4681, 4.4310),
]
HOUSEHOLDS = [
    "Mme Lejeune",
    "M. Carlier",
    "Mme Rossi",
    "M. et Mme Dumont",
    "Mme Benali",
    "M. Gilson",
    "Mme Pirard",
    "M. Scalzo",
    "Mme Hubert",
    "M. Lambot",
    "Mme Kaya",
    "M. Delhaye",
    "Mme Collard",
    "M. Bouchat",
    "Mme Marchal",
    "M. Urbain",
    "Mme Zerouali",
    "M. Baudoux",
    "Mme Lemaire",
    "M. Di Marco",
]
DIETS = ["normal", "normal", "diabetic", "no_salt", "normal", "mixed_texture"]
# (person, pickup index, dropoff (address, lat, lon), from, until, seats, wheelchair)
RIDES = [
    (
        "Mme Denis",
        6,
        ("Hôpital civil Marie Curie, Chaussée de Bruxelles 140, Lodelinsart", 50.4246, 4.4404),
        time(8, 30),
        time(9, 0),
        1,
        False,
    ),
    (
        "M. Wauthier",
        10,
        ("CPAS de Charleroi, Boulevard Joseph II 13", 50.4117, 4.4408),
        time(9, 0),
        time(9, 30),
        2,
        False,
    ),
    (
        "Mme Ferrara",
        1,
        ("Grand Hôpital de Charleroi, Grand'Rue 3", 50.4119, 4.4454),
        time(9, 30),
        time(10, 0),
        1,
        True,
    ),
    (
        "M. Lefèvre",
        7,
        ("Maison médicale de Jumet, Rue de Gosselies 50", 50.4440, 4.4300),
        time(10, 0),
        time(10, 45),
        1,
        False,
    ),
    (
        "Mme Yilmaz",
        12,
        ("Forem Charleroi, Boulevard Tirou 104", 50.4085, 4.4469),
        time(10, 30),
        time(11, 0),
        1,
        False,
    ),
    (
        "M. Hannecart",
        3,
        ("Pharmacie de Gosselies, Rue Circulaire 2", 50.4688, 4.4344),
        time(11, 0),
        time(11, 30),
        1,
        False,
    ),
]


# Households with a standing order: (name, street index, weekdays, meals, diet, instructions)
WEEKLY = [
    ("Mme Verlinden", 0, ["0", "1", "2", "3", "4"], "1", "diabetic", "Clé chez la voisine."),
    ("M. Piron", 2, ["0", "2", "4"], "1", "no_salt", ""),
    ("M. et Mme Hallet", 4, ["0", "1", "2", "3", "4"], "2", "normal", "Sonner longtemps."),
    ("Mme Gérard", 6, ["1", "3"], "1", "mixed_texture", ""),
    ("M. Smet", 8, ["0", "1", "2", "3", "4"], "1", "normal", ""),
]
WEEKLY_DAYS = 14  # the demo's weekly orders are made for the coming two weeks


def _weekly(session: Session, actor, team_id: int, monday) -> tuple[int, int]:
    """The demo's standing orders from this Monday, and their orders from tomorrow (as
    the nightly job makes them); none when the team has some already."""
    if session.scalar(select(WeeklyMealOrder.id).where(WeeklyMealOrder.team_id == team_id)):
        return 0, 0
    for name, street_index, weekdays, meals, diet, instructions in WEEKLY:
        street, postcode, city, latitude, longitude = STREETS[street_index % len(STREETS)]
        services.create_weekly(
            session,
            actor,
            team_id,
            {
                "household": name,
                "address": f"{street} {40 + street_index}",
                "postcode": postcode,
                "city": city,
                "latitude": str(round(latitude + 0.0008, 6)),
                "longitude": str(round(longitude + 0.0004, 6)),
                "weekdays": weekdays,
                "meals": meals,
                "diet": diet,
                "instructions": instructions,
                "window_start": "10:00",
                "window_end": "12:00",
                "starts_on": monday.isoformat(),
            },
        )
    tomorrow = clock.to_local(clock.now()).date() + timedelta(days=1)
    made = services.make_orders(session, team_id, tomorrow, WEEKLY_DAYS, actor=actor)
    return len(WEEKLY), made.created


def _coordinator(session: Session, team: accounts.Team) -> accounts.User:
    username, name = COORDINATOR
    user = accounts.find_user(session, username)
    if user is None:
        user = accounts.create_user(
            session,
            username=username,
            display_name=name,
            password=DEMO_PASSWORD,
            role=Role.COORDINATOR,
            team=team,
            language="fr",
            check_password=False,
        )
    return user


def _crew(session: Session, team: accounts.Team) -> None:
    for username, name, language in CREW:
        if accounts.find_user(session, username) is None:
            accounts.create_user(
                session,
                username=username,
                display_name=name,
                password=DEMO_PASSWORD,
                role=Role.CREW,
                team=team,
                language=language,
                check_password=False,
            )


def _templates(session: Session, actor, team_id: int, made: list, monday) -> list:
    """The minibus's template of each weekday with permanences; the meal van's and the
    car's from Monday to Friday."""
    minibus, van, car = made
    found = []
    for weekday in sorted({weekday for _, weekday, _, _, _ in PERMANENCES}):
        found.append(
            services.create_template(
                session,
                actor,
                team_id,
                {
                    "vehicle_id": str(minibus.id),
                    "name": f"Minibus Nord – {WEEKDAYS[weekday]}",
                    "kind": "minibus",
                    "weekday": weekday,
                    "starts": minibus.day_start,
                    "ends": minibus.day_end,
                    "active_from": monday,
                },
            )
        )
    for vehicle, kind, label in ((van, "meals", "Repas"), (car, "rides", "Transports")):
        for weekday in range(5):
            services.create_template(
                session,
                actor,
                team_id,
                {
                    "vehicle_id": str(vehicle.id),
                    "name": f"{label} – {WEEKDAYS[weekday]}",
                    "kind": kind,
                    "weekday": weekday,
                    "starts": vehicle.day_start,
                    "ends": vehicle.day_end,
                    "active_from": monday,
                },
            )
    return found


def _link_mont(session: Session, actor, team_id: int) -> None:
    """The Mont-sur-Marchienne stop is appointments' demo place there (people book at
    the minibus); nothing when either is missing or already linked."""
    name = STOPS[MONT_STOP][0]
    stop = session.scalar(select(Stop).where(Stop.team_id == team_id, Stop.name == name))
    if stop is None or stop.location_id is not None:
        return
    place = appointments.get_location(session, MONT_PLACE)
    if place is None or place.team_id != team_id:
        return
    places.link_place(session, actor, team_id, {"stop_id": str(stop.id), "location": MONT_PLACE})


def seed(session: Session) -> dict[str, int]:
    """Create what is missing (nothing when the minibus exists); plan today."""
    created = {
        "vehicles": 0,
        "stops": 0,
        "permanences": 0,
        "meal_orders": 0,
        "rides": 0,
        "rounds": 0,
        "weekly_meal_orders": 0,
    }
    team = accounts.get_team(session, TEAM)
    if team is None:
        return created
    actor = _coordinator(session, team)
    _crew(session, team)
    session.flush()
    today = clock.to_local(clock.now()).date()
    monday = today - timedelta(days=today.weekday())
    if session.scalar(select(Vehicle.id).where(Vehicle.team_id == team.id).limit(1)) is None:
        made = []
        for name, kind, plate, driver, seats, meals, start, end in VEHICLES:
            made.append(
                services.create_vehicle(
                    session,
                    actor,
                    team.id,
                    {
                        "name": name,
                        "kind": kind,
                        "plate": plate,
                        "driver_name": driver,
                        "seats": seats,
                        "meal_capacity": meals,
                        "depot_address": DEPOT[0],
                        "latitude": DEPOT[1],
                        "longitude": DEPOT[2],
                        "day_start": start,
                        "day_end": end,
                    },
                )
            )
            created["vehicles"] += 1
        stops = []
        for name, address, postcode, city, latitude, longitude in STOPS:
            stops.append(
                services.create_stop(
                    session,
                    actor,
                    team.id,
                    {
                        "vehicle_id": str(made[0].id),
                        "name": name,
                        "address": address,
                        "postcode": postcode,
                        "city": city,
                        "latitude": latitude,
                        "longitude": longitude,
                    },
                )
            )
            created["stops"] += 1
        minibus_days = {t.weekday: t for t in _templates(session, actor, team.id, made, monday)}
        for index, weekday, start, end, topic in PERMANENCES:
            services.add_permanence(
                session,
                actor,
                team.id,
                {
                    "template_id": str(minibus_days[weekday].id),
                    "stop_id": str(stops[index].id),
                    "weekday": weekday,
                    "starts": start,
                    "ends": end,
                    "topic": topic,
                },
            )
            created["permanences"] += 1
    _link_mont(session, actor, team.id)
    created["rounds"] = services.generate_rounds(
        session, team.id, monday, WEEKS, actor=actor
    ).created
    minibus = session.scalar(
        select(Vehicle).where(Vehicle.team_id == team.id, Vehicle.kind == "minibus").limit(1)
    )
    first_stop = session.scalar(
        select(Stop).where(Stop.team_id == team.id).order_by(Stop.name).limit(1)
    )
    if minibus is not None and first_stop is not None:
        created["rounds"] += live.seed_example(session, team.id, minibus.id, first_stop.id)
    has_day = session.scalar(
        select(MealOrder.id).where(MealOrder.team_id == team.id, MealOrder.day == today).limit(1)
    )
    if has_day is None:
        for i, household in enumerate(HOUSEHOLDS):
            street, postcode, city, latitude, longitude = STREETS[i % len(STREETS)]
            # Spread households along the street (about 60 m a step), all within 6000–6041.
            services.create_meal_order(
                session,
                actor,
                team.id,
                {
                    "day": today,
                    "household": household,
                    "address": f"{street} {7 + 12 * i}",
                    "postcode": postcode,
                    "city": city,
                    "latitude": round(latitude + 0.0006 * (i % 4), 6),
                    "longitude": round(longitude - 0.0005 * (i % 3), 6),
                    "meals": 2 if i % 5 == 0 else 1,
                    "diet": DIETS[i % len(DIETS)],
                    "instructions": "Sonner deux fois." if i % 4 == 0 else "",
                    "window_start": time(10, 0),
                    "window_end": time(12, 0),
                },
            )
            created["meal_orders"] += 1
        for person, pickup, (dropoff, lat, lon), start, until, seats, wheelchair in RIDES:
            street, postcode, city, latitude, longitude = STREETS[pickup]
            services.create_ride(
                session,
                actor,
                team.id,
                {
                    "day": today,
                    "person": person,
                    "pickup_address": f"{street} 21, {postcode} {city}",
                    "pickup_latitude": latitude,
                    "pickup_longitude": longitude,
                    "dropoff_address": dropoff,
                    "dropoff_latitude": lat,
                    "dropoff_longitude": lon,
                    "pickup_from": start,
                    "pickup_until": until,
                    "seats": seats,
                    "wheelchair": "1" if wheelchair else "",
                },
            )
            created["rides"] += 1
        # A thousand iterations of the search (a fifth of a second) place every order
        # and ride (three hundred do already): the same plan on every machine, where a
        # second of search gave a plan that depended on the machine's load.
        services.plan_day(session, team.id, today, seconds=5.0, iterations=1000, actor=actor)
    weekly, orders = _weekly(session, actor, team.id, monday)
    created["weekly_meal_orders"] = weekly
    created["meal_orders"] += orders
    return created
