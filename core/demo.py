"""Demo data of core/: three CPAS kept apart, their teams and the demo accounts (all
invented; password "demo"). Each person works in one CPAS only.

Idempotent: running it twice leaves one copy of everything.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import accounts, organisations
from core.roles import Role

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo password, created only by seed-demo

# The CPAS of the demo: (code, French name, Dutch name, communes, postcodes, regime,
# region, SMS sender, sender takes replies, phone, email, address). Brussels' sender is
# a number (replies OUI / NON / STOP reach it); Schaerbeek's and Charleroi's are names.
CPAS = [
    (
        "bruxelles",
        "CPAS de Bruxelles",
        "OCMW van Brussel",
        ["Bruxelles"],
        ["1000", "1020", "1120", "1130"],
        "bilingual",
        "brussels",
        "+32460200100",
        True,
        "+3225436111",
        "info@cpasbxl.example",
        "Rue Haute 298A, 1000 Bruxelles",
    ),
    (
        "schaerbeek",
        "CPAS de Schaerbeek",
        "OCMW van Schaarbeek",
        ["Schaerbeek"],
        ["1030"],
        "bilingual",
        "brussels",
        "Schaerbeek",
        False,
        "+3222403200",
        "info@cpas-schaerbeek.example",
        "Boulevard Lambermont 2, 1030 Schaerbeek",
    ),
    (
        "charleroi",
        "CPAS de Charleroi",
        "OCMW van Charleroi",
        ["Charleroi"],
        [
            "6000",
            "6001",
            "6010",
            "6020",
            "6030",
            "6031",
            "6032",
            "6040",
            "6041",
            "6042",
            "6043",
            "6044",
            "6060",
            "6061",
        ],
        "fr",
        "wallonia",
        "Charleroi",
        False,
        "+3271233000",
        "info@cpascharleroi.example",
        "Boulevard Joseph II 13, 6000 Charleroi",
    ),
]

# Each demo team's CPAS (the street team works from Place Liedts, in Schaerbeek, for the
# CPAS de Bruxelles).
TEAM_CPAS = {
    "bxl-marolles": "bruxelles",
    "bxl-nord-est": "bruxelles",
    "bxl-bockstael": "bruxelles",
    "bxl-saf": "bruxelles",
    "bxl-rue-nord": "bruxelles",
    "sch-le22rogier": "schaerbeek",
    "clr-dampremy": "charleroi",
    "clr-docherie": "charleroi",
    "clr-gosselies": "charleroi",
    "clr-mobile": "charleroi",
}

# (code, name, kind, city, postcode, address). Antennes named as in the Brussels
# budget note (000_c978cae824ba8598.txt:944-954) and Charleroi's espaces citoyens
# (004_f5234723ed689768.txt:442, :664); streets are general knowledge.
TEAMS = [
    ("bxl-marolles", "Antenne Marolles", "antenne", "Bruxelles", "1000", "Rue Haute 298"),
    ("bxl-nord-est", "Antenne Nord-Est", "antenne", "Bruxelles", "1000", "Rue du Cardinal 12"),
    (
        "bxl-bockstael",
        "Antenne Bockstael",
        "antenne",
        "Laeken",
        "1020",
        "Boulevard Émile Bockstael 120",
    ),
    ("sch-le22rogier", "Le22Rogier", "antenne", "Schaerbeek", "1030", "Avenue Rogier 22"),
    (
        "clr-dampremy",
        "Espace citoyen Dampremy",
        "antenne",
        "Dampremy",
        "6020",
        "Place Charles II 6",
    ),
    (
        "clr-docherie",
        "Espace citoyen Docherie",
        "antenne",
        "Marchienne-au-Pont",
        "6030",
        "Rue de la Docherie 45",
    ),
    (
        "clr-gosselies",
        "Espace citoyen Gosselies",
        "antenne",
        "Gosselies",
        "6041",
        "Rue de Marcinelle 3",
    ),
    ("bxl-saf", "Service d'aide aux familles", "home_care", "Bruxelles", "1000", "Rue Blaes 54"),
    (
        "bxl-rue-nord",
        "Équipe de rue Bruxelles-Nord",
        "street",
        "Schaerbeek",
        "1030",
        "Place Liedts 8",
    ),
    (
        "clr-mobile",
        "Services mobiles Charleroi",
        "mobile",
        "Charleroi",
        "6000",
        "Boulevard Tirou 167",
    ),
]

# The teams' names in Dutch, for Dutch-speaking staff.
TEAM_NAMES_NL = {
    "bxl-marolles": "Antenne Marollen",
    "bxl-nord-est": "Antenne Noord-Oost",
    "bxl-bockstael": "Antenne Bockstael",
    "sch-le22rogier": "Le22Rogier",
    "clr-dampremy": "Burgerhuis Dampremy",
    "clr-docherie": "Burgerhuis Docherie",
    "clr-gosselies": "Burgerhuis Gosselies",
    "bxl-saf": "Dienst voor gezinshulp",
    "bxl-rue-nord": "Straathoekwerk Brussel-Noord",
    "clr-mobile": "Mobiele diensten Charleroi",
}

# (username, display name, role, team code, language)
USERS = [
    ("admin", "Admin Terrain", Role.ADMIN, None, "fr"),
    ("coordination", "Nadia Benali", Role.COORDINATOR, "bxl-saf", "fr"),
    ("aide1", "Fatima El Amrani", Role.AIDE, "bxl-saf", "fr"),
    ("aide2", "Sofie Claes", Role.AIDE, "bxl-saf", "nl"),
    ("aide3", "Marie Dubois", Role.AIDE, "bxl-saf", "fr"),
    ("aide4", "Aylin Yildiz", Role.AIDE, "bxl-saf", "fr"),
    ("aide5", "Joana Pereira", Role.AIDE, "bxl-saf", "fr"),
    ("aide6", "Els Wouters", Role.AIDE, "bxl-saf", "nl"),
    ("rue1", "Karim Haddad", Role.STREET_EDUCATOR, "bxl-rue-nord", "fr"),
    ("rue2", "Lotte Peeters", Role.STREET_EDUCATOR, "bxl-rue-nord", "nl"),
    ("accueil", "Julie Lambert", Role.RECEPTION, "bxl-marolles", "fr"),
    ("as1", "Thomas Janssens", Role.SOCIAL_WORKER, "bxl-marolles", "fr"),
    ("as2", "Inès Moreau", Role.SOCIAL_WORKER, "bxl-marolles", "fr"),
    ("as3", "Pieter Desmet", Role.SOCIAL_WORKER, "clr-dampremy", "nl"),
    ("as4", "Samira Ouali", Role.SOCIAL_WORKER, "sch-le22rogier", "fr"),
]


def seed(session: Session) -> dict[str, int]:
    """Create what is missing; never touches what exists. Returns counts created."""
    created = {"cpas": 0, "teams": 0, "users": 0}
    centres: dict[str, organisations.Cpas] = {}
    for (
        code,
        name_fr,
        name_nl,
        communes,
        postcodes,
        regime,
        region,
        sender,
        replies,
        phone,
        email,
        address,
    ) in CPAS:
        found = organisations.get_cpas(session, code)
        if found is None:
            found = organisations.create_cpas(
                session,
                code=code,
                name_fr=name_fr,
                name_nl=name_nl,
                communes=communes,
                postcodes=postcodes,
                language_regime=regime,
                region=region,
                sms_sender=sender,
                sms_replies=replies,
                phone=phone,
                email=email,
                address=address,
            )
            created["cpas"] += 1
        centres[code] = found
    teams: dict[str, accounts.Team] = {}
    for code, name, kind, city, postcode, address in TEAMS:
        team = accounts.get_team(session, code)
        if team is None:
            team = accounts.Team(
                code=code,
                name=name,
                kind=kind,
                city=city,
                postcode=postcode,
                address=address,
                cpas_id=centres[TEAM_CPAS[code]].id,
            )
            session.add(team)
            created["teams"] += 1
        if not team.name_nl:  # a name added later (migration 0018 left it empty)
            team.name_nl = TEAM_NAMES_NL.get(code, "")
        teams[code] = team
    session.flush()
    for username, name, role, team_code, language in USERS:
        if accounts.find_user(session, username) is None:
            accounts.create_user(
                session,
                username=username,
                display_name=name,
                password=DEMO_PASSWORD,
                role=role,
                team=teams[team_code] if team_code else None,
                language=language,
                check_password=False,
            )
            created["users"] += 1
    return created
