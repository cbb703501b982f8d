"""Demo data of core/: teams and the demo accounts (all invented; password "demo").

Idempotent: running it twice leaves one copy of everything.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import accounts
from core.roles import Role

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo password, created only by seed-demo

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
    ("sch-le22rogier", "Le22Rogier", "antenne", "Schaerbeek", "1030", "Rue Rogier 22"),
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
        "Bruxelles",
        "1000",
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
]


def seed(session: Session) -> dict[str, int]:
    """Create what is missing; never touches what exists. Returns counts created."""
    created = {"teams": 0, "users": 0}
    teams: dict[str, accounts.Team] = {}
    for code, name, kind, city, postcode, address in TEAMS:
        team = accounts.get_team(session, code)
        if team is None:
            team = accounts.Team(
                code=code, name=name, kind=kind, city=city, postcode=postcode, address=address
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
