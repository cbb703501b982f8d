"""The CPAS as an organisation: one installation may serve several, each with its region,
language regime, home-care funder, SMS sender, public contact details and holidays.

Every team belongs to exactly one CPAS (`Team.cpas_id`); what belongs to a team belongs to
its CPAS through it. Public holidays are per CPAS: defaults for its region and regime
(`default_holidays`), stored and editable once the CPAS changes a year (`seed_year`,
`set_holiday`). docs/cpas.md describes the model and the rules.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

# The country's module itself, imported with this one: `holidays.Belgium` loads the
# package's ~280 country modules on first use (about 80 ms, under the import lock, so
# every thread of a web worker waited on its first request); here the server's master
# pays it once before it forks its workers.
from holidays.countries import Belgium
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ColumnElement,
    CompoundSelect,
    Date,
    ForeignKey,
    Integer,
    Select,
    String,
    UniqueConstraint,
    bindparam,
    column,
    event,
    exc,
    false,
    func,
    literal,
    or_,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    relationship,
    selectinload,
)

from core import audit
from core.db import Base, committed

if TYPE_CHECKING:
    from core.accounts import User
from core.errors import FieldError, Invalid

REGIONS = ("brussels", "wallonia", "flanders")
REGIMES = ("fr", "nl", "bilingual")
FUNDERS = ("iriscare", "aviq", "vaph")
# The funder of home care follows the region (Iriscare, AViQ, the Flemish agency VAPH).
REGION_FUNDERS = {"brussels": "iriscare", "wallonia": "aviq", "flanders": "vaph"}
# Kinds of holiday: the federal public holidays, the region's and the communities' own
# days, and the days public administrations usually close.
HOLIDAY_KINDS = ("federal", "regional", "community", "administration")
# Home care goes on when only the offices close: it stops on public holidays only.
PUBLIC_HOLIDAY_KINDS = ("federal", "regional", "community")
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
POSTCODE_PATTERN = re.compile(r"^[1-9][0-9]{3}$")
SENDER_MAX = 11  # an alphanumeric SMS sender id has at most 11 characters
SENDER_PATTERN = re.compile(r"^(\+[1-9][0-9]{6,14}|[A-Za-z0-9 ]{1,11})$")  # number or name
PHONE_PATTERN = re.compile(r"^\+[1-9][0-9]{7,14}$")  # E.164
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Cpas(Base):
    """A CPAS/OCMW: a data controller of its own, whose teams and antennes work here."""

    __tablename__ = "cpas"
    __table_args__ = (
        CheckConstraint(_in("language_regime", REGIMES), name="regime_known"),
        CheckConstraint(_in("region", REGIONS), name="region_known"),
        CheckConstraint(_in("homecare_funder", FUNDERS), name="funder_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # in URLs: /rendez-vous/<code>
    name_fr: Mapped[str] = mapped_column(String(120))
    name_nl: Mapped[str] = mapped_column(String(120), default="", server_default="")
    communes: Mapped[list[str]] = mapped_column(JSON, default=list)  # as written in French
    # The postcodes it serves, one row each (`cpas_postcodes`: a postcode is the primary
    # key there, so the database itself refuses one served by two CPAS).
    postcode_rows: Mapped[list[CpasPostcode]] = relationship(
        cascade="all, delete-orphan",
        order_by="CpasPostcode.postcode",
        # Loaded when read (one CPAS's page or check), not with every user's CPAS on every
        # request; `list_cpas` brings them for all in one query.
        lazy="select",
    )
    language_regime: Mapped[str] = mapped_column(String(10), default="bilingual")
    region: Mapped[str] = mapped_column(String(20), default="brussels")
    homecare_funder: Mapped[str] = mapped_column(String(20), default="iriscare")
    # The SMS sender shown on phones: a name ("CPAS", at most 11 characters) cannot get
    # replies; a number (E.164) may.
    sms_sender: Mapped[str] = mapped_column(String(20), default="CPAS")
    sms_replies: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str] = mapped_column(String(20), default="")  # E.164
    email: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(200), default="")

    @property
    def postcodes(self) -> list[str]:
        """The postcodes it serves, in order."""
        return [row.postcode for row in self.postcode_rows]

    def label(self, language: str | None) -> str:
        """The name in `language`: Dutch when there is one, else the French name."""
        if language == "nl" and self.name_nl:
            return self.name_nl
        return self.name_fr or self.name_nl


class CpasPostcode(Base):
    """A postcode a CPAS serves: at most one CPAS a postcode (the commune where a person
    lives decides the competent CPAS), enforced by the primary key."""

    __tablename__ = "cpas_postcodes"

    postcode: Mapped[str] = mapped_column(String(4), primary_key=True)
    cpas_id: Mapped[int] = mapped_column(ForeignKey("cpas.id"), index=True)


class CpasHoliday(Base):
    """A day of the CPAS's calendar: a holiday (closed) or a default it keeps open."""

    __tablename__ = "cpas_holidays"
    __table_args__ = (
        UniqueConstraint("cpas_id", "day"),  # one line a day
        CheckConstraint(_in("kind", HOLIDAY_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cpas_id: Mapped[int] = mapped_column(ForeignKey("cpas.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    name_fr: Mapped[str] = mapped_column(String(120), default="")
    name_nl: Mapped[str] = mapped_column(String(120), default="")
    closed: Mapped[bool] = mapped_column(Boolean, default=True)


class TeamGrant(Base):
    """A team more whose desks, agendas and contacts a local role (reception, social
    worker) may see, granted by an administrator of the same CPAS."""

    __tablename__ = "user_team_grants"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)


# --- Finding the CPAS ------------------------------------------------------------------

# The two columns of core.accounts' teams read here (core.accounts imports this module).
_TEAMS = table("teams", column("id"), column("cpas_id"))


def get_cpas(session: Session, code: str) -> Cpas | None:
    return session.scalar(select(Cpas).where(Cpas.code == code))


def list_cpas(session: Session) -> list[Cpas]:
    return list(
        session.scalars(select(Cpas).options(selectinload(Cpas.postcode_rows)).order_by(Cpas.code))
    )


def cpas_id_of_team(session: Session, team_id: int | None) -> int | None:
    """The team's CPAS id; no team: the installation's only CPAS, else None (one query,
    none when this transaction already read it: see `_forget_scopes`)."""
    if session.new or session.dirty or session.deleted:
        _forget_scopes(session)  # unflushed changes: the query below flushes them first
    known = session.info.setdefault(_TEAM_CPAS, {})
    if team_id not in known:
        if team_id is None:
            found = list(session.scalars(select(Cpas.id).order_by(Cpas.id).limit(2)))
            known[team_id] = found[0] if len(found) == 1 else None
        else:
            known[team_id] = session.scalar(select(_TEAMS.c.cpas_id).where(_TEAMS.c.id == team_id))
    return known[team_id]


def cpas_of_team(session: Session, team_id: int | None) -> Cpas | None:
    """The team's CPAS; no team: the installation's only CPAS, else None."""
    cpas_id = cpas_id_of_team(session, team_id)
    return session.get(Cpas, cpas_id) if cpas_id is not None else None


def cpas_of_user(session: Session, user: User | None) -> Cpas | None:
    """The CPAS the user works for (through the team); None when it cannot be told."""
    return cpas_of_team(session, user.team_id) if user is not None else None


def cpas_for_postcode(session: Session, postcode: str) -> Cpas | None:
    """The CPAS serving `postcode` (the commune where the person lives is competent)."""
    cpas_id = session.scalar(
        select(CpasPostcode.cpas_id).where(CpasPostcode.postcode == postcode.strip())
    )
    return session.get(Cpas, cpas_id) if cpas_id is not None else None


# --- Scoping: what a user may see -------------------------------------------------------

# The roles of a hosted installation's platform administrator (a user of no team when
# there are several CPAS): manages CPAS and their administrators, reads no one's files.
PLATFORM_ROLES = frozenset({"admin"})
# Roles that work locally, at their antenne's desk and agendas (docs/cpas.md).
LOCAL_ROLES = frozenset({"reception", "social_worker"})


@dataclass(frozen=True)
class Scope:
    """What a user may see and change: the teams of their CPAS (None: every team, an
    installation of one CPAS or none), and, for a role that works locally, its own
    team. Domains filter by it (`teams_filter`) and answer a record outside it as an
    unknown one (`refuse`)."""

    user_id: int | None
    cpas_id: int | None
    teams: frozenset[int] | None  # None: no limit (one CPAS in the installation)
    local_teams: frozenset[int] | None = None  # a local role's antennes; None: `teams`
    platform: bool = False  # the platform administrator: CPAS and their admins, no files

    def local(self) -> Scope:
        """The scope of a local role's desks, agendas and contacts: its antennes (its
        team and those granted), within its CPAS; other roles: this scope."""
        if self.local_teams is None:
            return self
        teams = self.local_teams if self.teams is None else self.local_teams & self.teams
        return Scope(self.user_id, self.cpas_id, frozenset(teams), None, self.platform)

    @property
    def everything(self) -> bool:
        return self.teams is None

    def sees_team(self, team_id: int | None, *, shared: bool = False) -> bool:
        """Whether a record of this team is the user's CPAS's. A record of no team is
        nobody's once there are several CPAS, unless `shared` (a place set up for the
        whole installation, as before CPAS existed: every CPAS's staff, not the
        platform administrator)."""
        if self.teams is None:
            return True
        if team_id is None:
            return shared and not self.platform
        return team_id in self.teams

    def teams_filter(
        self, team_column: ColumnElement, *, shared: bool = False
    ) -> ColumnElement[bool]:
        """A WHERE clause keeping the rows whose team column is in the scope (`shared`:
        and those of no team, as `sees_team`)."""
        if self.teams is None:
            return true()
        kept = team_column.in_(sorted(self.teams)) if self.teams else false()
        if shared and not self.platform:
            return or_(kept, team_column.is_(None))
        return kept

    def cpas_filter(self, cpas_column: ColumnElement) -> ColumnElement[bool]:
        """A WHERE clause on a CPAS id column (rows of the user's CPAS only)."""
        if self.teams is None:
            return true()
        if self.cpas_id is None:
            return false()
        return cpas_column == self.cpas_id


_SCOPES = "terrain_scopes"  # session.info: the scopes read since the last write
_TEAM_CPAS = "terrain_team_cpas"  # session.info: team id → CPAS id, read since then too


def _forget_scopes(session: Session, *_args: object) -> None:
    session.info.pop(_SCOPES, None)
    session.info.pop(_TEAM_CPAS, None)


def _forget_scopes_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        _forget_scopes(state.session)


# A scope is read again after any write of the session (flush, UPDATE/DELETE statement)
# and at the end of each transaction: a page asks for it several times (its filters, its
# checks), three statements each, and within one transaction nothing it depends on moves
# but through this session's own writes.
for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, _forget_scopes)
event.listen(Session, "do_orm_execute", _forget_scopes_on_write)


def scope_of(session: Session, user: User | None) -> Scope:
    """The one place that says what `user` may see (docs/cpas.md, "Scoping"); read once
    per transaction and user (see `_forget_scopes`)."""
    if user is None:
        return Scope(user_id=None, cpas_id=None, teams=frozenset())
    if session.new or session.dirty or session.deleted:
        _forget_scopes(session)  # unflushed changes: the queries below flush them first
    known = session.info.setdefault(_SCOPES, {})
    key = (user.id, user.role, user.team_id)
    if key not in known:
        known[key] = _read_scope(session, user)
    return known[key]


def _scope_statement(*, team: bool, local: bool) -> CompoundSelect:
    """The scope's one statement (`_read_scope`): the first two CPAS ids ("c": several or
    one); with a team, its CPAS ("t") and, with several CPAS, that CPAS's teams ("s");
    for a local role, the teams granted ("g"). Parameters: team_id, user_id."""
    some_cpas = select(Cpas.id).limit(2).subquery()
    parts = [select(literal("c"), some_cpas.c.id)]
    if team:
        team_id = bindparam("team_id", type_=Integer)
        several = select(func.count()).select_from(some_cpas).scalar_subquery() > 1
        team_cpas = select(_TEAMS.c.cpas_id).where(_TEAMS.c.id == team_id).scalar_subquery()
        parts.append(select(literal("t"), _TEAMS.c.cpas_id).where(_TEAMS.c.id == team_id))
        parts.append(
            select(literal("s"), _TEAMS.c.id).where(_TEAMS.c.cpas_id == team_cpas, several)
        )
    if local:
        user_id = bindparam("user_id", type_=Integer)
        parts.append(select(literal("g"), TeamGrant.team_id).where(TeamGrant.user_id == user_id))
    return union_all(*parts)


# Built once: every request of a page asks for its scope, and building the statement
# cost more CPU than running it.
_SCOPE_STATEMENTS = {
    (team, local): _scope_statement(team=team, local=local)
    for team, local in ((False, False), (True, False), (True, True))
}


def _read_scope(session: Session, user: User) -> Scope:
    local_role = user.role in LOCAL_ROLES and user.team_id is not None
    statement = _SCOPE_STATEMENTS[(user.team_id is not None, local_role)]
    rows = session.execute(statement, {"team_id": user.team_id, "user_id": user.id})
    found: dict[str, list[int]] = {"c": [], "t": [], "s": [], "g": []}
    for kind, value in rows:
        found[kind].append(value)
    several = len(found["c"]) > 1
    if user.team_id is not None:
        cpas_id = found["t"][0] if found["t"] else None
    else:  # as `cpas_id_of_team`: the installation's only CPAS, else none
        cpas_id = found["c"][0] if len(found["c"]) == 1 else None
    # What `cpas_id_of_team` would read, known now (a booking asks for its place's).
    session.info.setdefault(_TEAM_CPAS, {}).setdefault(user.team_id, cpas_id)
    local = frozenset({user.team_id, *found["g"]}) if local_role else None
    if not several:
        return Scope(user_id=user.id, cpas_id=cpas_id, teams=None, local_teams=local)
    if cpas_id is None:
        # No team in an installation of several CPAS: the platform administrator (or an
        # account not yet placed), who reads no CPAS's files.
        return Scope(
            user_id=user.id,
            cpas_id=None,
            teams=frozenset(),
            platform=user.role in PLATFORM_ROLES,
        )
    return Scope(user_id=user.id, cpas_id=cpas_id, teams=frozenset(found["s"]), local_teams=local)


def refuse(session: Session, user: User | None, entity_type: str, entity_id: object) -> None:
    """Audit an attempt on a record outside the user's scope (answered as unknown)."""
    audit.record(
        session,
        actor=user,
        action="refused",
        entity_type=entity_type,
        entity_id=entity_id,
        details={"reason": "out_of_scope"},
    )


# --- Languages and replies -------------------------------------------------------------


def required_languages(cpas: Cpas | None) -> tuple[str, ...]:
    """Languages a text for the public must be written in: the regime's; both when the
    CPAS is unknown (the strict rule, as in Brussels)."""
    regime = cpas.language_regime if cpas is not None else "bilingual"
    return {"fr": ("fr",), "nl": ("nl",)}.get(regime, ("fr", "nl"))


def default_language(cpas: Cpas | None) -> str | None:
    """The language of a person whose language is unknown: the regime's; None (both,
    French then Dutch) for a bilingual or unknown CPAS."""
    regime = cpas.language_regime if cpas is not None else "bilingual"
    return regime if regime in ("fr", "nl") else None


def takes_replies(cpas: Cpas | None) -> bool:
    """Whether SMS may ask to answer (OUI / NON / STOP): only if the sender gets replies.
    Unknown CPAS: as before CPAS existed (the installation's gateway decides)."""
    return cpas.sms_replies if cpas is not None else True


# --- Holidays ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HolidayDay:
    day: date
    kind: str
    name_fr: str
    name_nl: str
    closed: bool = True


# (month, day, kind, French name, Dutch name)
IRIS_DAY = (5, 8, "regional", "Fête de l'Iris", "Irisfeest")
FRENCH_COMMUNITY_DAY = (
    9,
    27,
    "community",
    "Fête de la Fédération Wallonie-Bruxelles",
    "Feest van de Franse Gemeenschap",
)
FLEMISH_COMMUNITY_DAY = (7, 11, "community", "Fête de la Communauté flamande", "Vlaamse feestdag")
ADMINISTRATION_DAYS = (
    (11, 2, "administration", "Jour des défunts", "Allerzielen"),
    (11, 15, "administration", "Fête du Roi", "Koningsdag"),
    (12, 26, "administration", "Lendemain de Noël", "Tweede Kerstdag"),
)


def default_holidays(region: str, regime: str, year: int) -> list[HolidayDay]:
    """The calendar a CPAS starts from: federal days, the Brussels region's 8 May, the
    community days (closed where the CPAS is in that community; a bilingual Brussels CPAS
    has both listed, open, to choose), the administrations' days (closed)."""
    # Built once per region, regime and year (the holidays package costs ~2 ms a call,
    # paid by every slot search); a new list each time, the days themselves are frozen.
    return list(_default_holidays(region, regime, year))


@functools.lru_cache(maxsize=128)
def _default_holidays(region: str, regime: str, year: int) -> tuple[HolidayDay, ...]:
    """default_holidays(), computed."""
    french = Belgium(years=year, language="fr")
    dutch = Belgium(years=year, language="nl")
    days = {
        day: HolidayDay(day, "federal", name, dutch.get(day, name))
        for day, name in sorted(french.items())
    }
    extra: list[tuple[tuple[int, int, str, str, str], bool]] = []
    if region == "brussels":
        extra.append((IRIS_DAY, True))
    french_community = region == "wallonia" or (region == "brussels" and regime == "fr")
    flemish_community = region == "flanders" or (region == "brussels" and regime == "nl")
    bilingual_brussels = region == "brussels" and regime == "bilingual"
    if french_community or bilingual_brussels:
        extra.append((FRENCH_COMMUNITY_DAY, french_community))
    if flemish_community or bilingual_brussels:
        extra.append((FLEMISH_COMMUNITY_DAY, flemish_community))
    extra.extend((entry, True) for entry in ADMINISTRATION_DAYS)
    for (month, day_of_month, kind, name_fr, name_nl), closed in extra:
        day = date(year, month, day_of_month)
        days.setdefault(day, HolidayDay(day, kind, name_fr, name_nl, closed))
    return tuple(sorted(days.values(), key=lambda holiday: holiday.day))


@functools.lru_cache(maxsize=64)
def federal_days(year: int) -> frozenset[date]:
    """Belgium's public holidays: the calendar of a place that belongs to no CPAS."""
    return frozenset(Belgium(years=year))


def _stored_year(session: Session, cpas_id: int, year: int) -> list[CpasHoliday]:
    return list(
        session.scalars(
            select(CpasHoliday)
            .where(
                CpasHoliday.cpas_id == cpas_id,
                CpasHoliday.day >= date(year, 1, 1),
                CpasHoliday.day <= date(year, 12, 31),
            )
            .order_by(CpasHoliday.day)
        )
    )


def holidays_of(session: Session, cpas_id: int, year: int) -> list[HolidayDay]:
    """The CPAS's calendar of `year`: the stored days once the CPAS edited that year,
    else its defaults (computed, not stored: reading writes nothing)."""
    stored = _stored_year(session, cpas_id, year)
    if stored:
        return [
            HolidayDay(row.day, row.kind, row.name_fr, row.name_nl, row.closed) for row in stored
        ]
    cpas = session.get(Cpas, cpas_id)
    if cpas is None:
        return [HolidayDay(day, "federal", "", "") for day in sorted(federal_days(year))]
    return default_holidays(cpas.region, cpas.language_regime, year)


def closed_days(
    session: Session,
    cpas_id: int | None,
    first: date,
    last: date,
    *,
    kinds: Collection[str] = HOLIDAY_KINDS,
) -> frozenset[date]:
    """The days from `first` to `last` the CPAS is closed for a holiday of `kinds`
    (no CPAS: Belgium's federal days). One query for the stored days of those years."""
    rows = [] if cpas_id is None else session.execute(stored_days(cpas_id, first, last)).all()
    return closed_days_of(session, cpas_id, rows, first, last, kinds=kinds)


def stored_days(cpas_id: int | ColumnElement[int], first: date, last: date) -> Select:
    """(day, kind, closed) of the CPAS's stored calendar for the years of `first` to
    `last`: what `closed_days_of` needs (a caller may read it with other rows)."""
    return select(CpasHoliday.day, CpasHoliday.kind, CpasHoliday.closed).where(
        CpasHoliday.cpas_id == cpas_id,
        CpasHoliday.day >= date(first.year, 1, 1),
        CpasHoliday.day <= date(last.year, 12, 31),
    )


def closed_days_of(
    session: Session,
    cpas_id: int | None,
    rows: Iterable[tuple[date, str, bool]],
    first: date,
    last: date,
    *,
    kinds: Collection[str] = HOLIDAY_KINDS,
) -> frozenset[date]:
    """`closed_days` from the rows of `stored_days` read already; a year with no stored
    day takes the CPAS's defaults (its region and regime: no query when it is loaded)."""
    years = range(first.year, last.year + 1)
    found: set[date] = set()
    if cpas_id is None:
        for year in years:
            found.update(federal_days(year))
        return frozenset(day for day in found if first <= day <= last)
    stored: dict[int, list[tuple[date, str, bool]]] = {}
    for day, kind, closed in rows:
        stored.setdefault(day.year, []).append((day, kind, closed))
    cpas = None
    for year in years:
        days = stored.get(year)
        if days is None:
            cpas = cpas or session.get(Cpas, cpas_id)
            defaults = (
                [HolidayDay(day, "federal", "", "") for day in federal_days(year)]
                if cpas is None
                else default_holidays(cpas.region, cpas.language_regime, year)
            )
            days = [(holiday.day, holiday.kind, holiday.closed) for holiday in defaults]
        found.update(day for day, kind, closed in days if closed and kind in kinds)
    return frozenset(day for day in found if first <= day <= last)


def seed_year(session: Session, cpas_id: int, year: int) -> int:
    """Store the defaults of `year` for the CPAS to edit (nothing when it has days of
    that year already); returns the days stored. Two at once: one stores, the other
    finds them."""
    if _stored_year(session, cpas_id, year):
        return 0
    defaults = holidays_of(session, cpas_id, year)
    try:
        with session.begin_nested():
            session.add_all(
                CpasHoliday(
                    cpas_id=cpas_id,
                    day=holiday.day,
                    kind=holiday.kind,
                    name_fr=holiday.name_fr,
                    name_nl=holiday.name_nl,
                    closed=holiday.closed,
                )
                for holiday in defaults
            )
    except exc.IntegrityError:
        return 0
    return len(defaults)


def set_holiday(
    session: Session,
    cpas_id: int,
    day: date,
    *,
    closed: bool,
    kind: str = "administration",
    name_fr: str = "",
    name_nl: str = "",
    actor: User | None = None,
) -> CpasHoliday:
    """Close or open a day of the CPAS's calendar (the year's defaults stored first)."""
    if kind not in HOLIDAY_KINDS:
        raise Invalid({"kind": FieldError("unknown_choice")})
    seed_year(session, cpas_id, day.year)
    row = session.scalar(
        select(CpasHoliday).where(CpasHoliday.cpas_id == cpas_id, CpasHoliday.day == day)
    )
    if row is None:
        row = CpasHoliday(
            cpas_id=cpas_id,
            day=day,
            kind=kind,
            name_fr=name_fr.strip()[:120],
            name_nl=name_nl.strip()[:120],
        )
        session.add(row)
    row.closed = closed
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="cpas_holiday",
        entity_id=f"{cpas_id}:{day.isoformat()}",
        details={"closed": closed, "kind": row.kind},
    )
    return row


# --- Creating a CPAS --------------------------------------------------------------------


def _clean_list(values: Iterable[str]) -> list[str]:
    return [value.strip() for value in values if value and value.strip()]


def create_cpas(
    session: Session,
    *,
    code: str,
    name_fr: str,
    name_nl: str = "",
    region: str,
    language_regime: str,
    postcodes: Iterable[str] = (),
    communes: Iterable[str] = (),
    homecare_funder: str | None = None,
    sms_sender: str = "CPAS",
    sms_replies: bool = False,
    phone: str = "",
    email: str = "",
    address: str = "",
    actor: User | None = None,
) -> Cpas:
    """A new CPAS; Invalid (nothing changed) on a bad or taken code, name, choice or
    postcode. The funder defaults to the region's."""
    errors: dict[str, FieldError] = {}
    code = code.strip().lower()
    if not CODE_PATTERN.match(code):
        errors["code"] = FieldError("invalid_code")
    elif get_cpas(session, code) is not None:
        errors["code"] = FieldError("code_taken")
    name_fr, name_nl = name_fr.strip(), name_nl.strip()
    if not (name_fr or name_nl):
        errors["name_fr"] = FieldError("required")
    for name, value in (("name_fr", name_fr), ("name_nl", name_nl)):
        if len(value) > 120:
            errors[name] = FieldError("too_long", {"max": 120})
    if region not in REGIONS:
        errors["region"] = FieldError("unknown_choice")
    if language_regime not in REGIMES:
        errors["language_regime"] = FieldError("unknown_choice")
    funder = homecare_funder or REGION_FUNDERS.get(region, "")
    if funder not in FUNDERS:
        errors["homecare_funder"] = FieldError("unknown_choice")
    codes, names = _territory(session, None, postcodes, communes, errors)
    sms_sender = sms_sender.strip()
    if not SENDER_PATTERN.match(sms_sender):
        errors["sms_sender"] = FieldError("invalid_sender", {"max": SENDER_MAX})
    if errors:
        raise Invalid(errors)
    cpas = Cpas(
        code=code,
        name_fr=name_fr or name_nl,
        name_nl=name_nl,
        region=region,
        language_regime=language_regime,
        homecare_funder=funder,
        postcode_rows=[CpasPostcode(postcode=postcode) for postcode in codes],
        communes=names,
        sms_sender=sms_sender,
        sms_replies=sms_replies,
        phone=phone.strip(),
        email=email.strip(),
        address=address.strip(),
    )
    try:
        with session.begin_nested():
            session.add(cpas)
            session.flush()
    except exc.IntegrityError:
        # Another CPAS took one of these postcodes (or the code) just now.
        raise Invalid({"postcodes": FieldError("postcode_conflict")}) from None
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="cpas",
        entity_id=cpas.id,
        details={"code": code, "region": region, "regime": language_regime},
    )
    return cpas


COMMUNE_MAX = 80  # characters of a commune's name
TERRITORY_MAX = 60  # postcodes or communes of one CPAS


def _territory(
    session: Session,
    cpas: Cpas | None,
    postcodes: Iterable[str],
    communes: Iterable[str],
    errors: dict[str, FieldError],
) -> tuple[list[str], list[str]]:
    """The postcodes and communes a CPAS would serve, checked: each postcode four digits
    and served by no other CPAS, each commune named at most once and by no other CPAS
    (its French or Dutch name compared, case, accents and hyphens aside)."""
    codes = sorted(set(_clean_list(postcodes)))
    others = [other for other in list_cpas(session) if cpas is None or other.id != cpas.id]
    if len(codes) > TERRITORY_MAX:
        errors["postcodes"] = FieldError("too_many", {"max": TERRITORY_MAX})
    elif any(not POSTCODE_PATTERN.match(postcode) for postcode in codes):
        errors["postcodes"] = FieldError("invalid_postcode")
    else:
        served = {postcode: other for other in others for postcode in other.postcodes}
        taken = sorted(set(codes) & set(served))
        if taken:
            errors["postcodes"] = FieldError(
                "postcode_taken",
                {"postcode": taken[0], "cpas": served[taken[0]].label(None)},
            )
    names: list[str] = []
    for name in (" ".join(name.split()) for name in _clean_list(communes)):
        if all(fold_name(name) != fold_name(kept) for kept in names):
            names.append(name)
    if len(names) > TERRITORY_MAX:
        errors["communes"] = FieldError("too_many", {"max": TERRITORY_MAX})
    elif any(len(name) > COMMUNE_MAX or not fold_name(name) for name in names):
        errors["communes"] = FieldError("invalid_commune", {"max": COMMUNE_MAX})
    else:
        for name in names:
            holder = next((other for other in others if serves_commune(other, name)), None)
            if holder is not None:
                errors["communes"] = FieldError(
                    "commune_taken", {"commune": name, "cpas": holder.label(None)}
                )
                break
    return codes, names


def set_territory(
    session: Session,
    cpas: Cpas,
    *,
    postcodes: Iterable[str],
    communes: Iterable[str],
    actor: User | None = None,
) -> Cpas:
    """Change the postcodes and communes a CPAS serves; Invalid (nothing changed) on a bad
    postcode or commune, or one another CPAS serves. Two administrators claiming the same
    postcode at once: the primary key of `cpas_postcodes` lets one through, the other
    gets `postcode_taken` too. Audited with the fields changed."""
    errors: dict[str, FieldError] = {}
    codes, names = _territory(session, cpas, postcodes, communes, errors)
    if errors:
        raise Invalid(errors)
    changed = []
    if codes != cpas.postcodes:
        changed.append("postcodes")
        kept = {row.postcode: row for row in cpas.postcode_rows}
        cpas.postcode_rows = [
            kept.get(postcode) or CpasPostcode(postcode=postcode) for postcode in codes
        ]
    if names != list(cpas.communes or []):
        changed.append("communes")
        cpas.communes = names
    try:
        with session.begin_nested():
            session.flush()
    except exc.IntegrityError:
        # Another CPAS took one of them between the check and now.
        raise Invalid({"postcodes": FieldError("postcode_conflict")}) from None
    if changed:
        audit.record(
            session,
            actor=actor,
            action="update",
            entity_type="cpas",
            entity_id=cpas.id,
            details={"fields": changed},
        )
    return cpas


# --- Communes by name (French, Dutch, bilingual) ----------------------------------------

# The Brussels-Capital Region's 19 communes, with their Dutch names, and the sections
# and communes of the demo's CPAS: (French name, Dutch name, other names, postcodes).
# A person may type any of these; the CPAS serving the commune (by name or postcode) is
# the competent one.
CHARLEROI_POSTCODES = tuple(
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
    ]
)
COMMUNES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Anderlecht", "Anderlecht", (), ("1070",)),
    ("Auderghem", "Oudergem", (), ("1160",)),
    ("Berchem-Sainte-Agathe", "Sint-Agatha-Berchem", (), ("1082",)),
    (
        "Bruxelles",
        "Brussel",
        ("Brussels", "Bruxelles-Ville", "Brussel-Stad", "Ville de Bruxelles", "Stad Brussel"),
        ("1000", "1020", "1120", "1130"),
    ),
    ("Laeken", "Laken", (), ("1020",)),
    ("Neder-Over-Heembeek", "Neder-Over-Heembeek", (), ("1120",)),
    ("Haren", "Haren", (), ("1130",)),
    ("Etterbeek", "Etterbeek", (), ("1040",)),
    ("Evere", "Evere", (), ("1140",)),
    ("Forest", "Vorst", (), ("1190",)),
    ("Ganshoren", "Ganshoren", (), ("1083",)),
    ("Ixelles", "Elsene", (), ("1050",)),
    ("Jette", "Jette", (), ("1090",)),
    ("Koekelberg", "Koekelberg", (), ("1081",)),
    ("Molenbeek-Saint-Jean", "Sint-Jans-Molenbeek", ("Molenbeek",), ("1080",)),
    ("Saint-Gilles", "Sint-Gillis", (), ("1060",)),
    ("Saint-Josse-ten-Noode", "Sint-Joost-ten-Node", ("Saint-Josse",), ("1210",)),
    ("Schaerbeek", "Schaarbeek", (), ("1030",)),
    ("Uccle", "Ukkel", (), ("1180",)),
    ("Watermael-Boitsfort", "Watermaal-Bosvoorde", (), ("1170",)),
    ("Woluwe-Saint-Lambert", "Sint-Lambrechts-Woluwe", (), ("1200",)),
    ("Woluwe-Saint-Pierre", "Sint-Pieters-Woluwe", (), ("1150",)),
    # Charleroi and its former communes (the demo's third CPAS).
    ("Charleroi", "Charleroi", (), CHARLEROI_POSTCODES),
    ("Marcinelle", "Marcinelle", (), ("6001",)),
    ("Couillet", "Couillet", (), ("6010",)),
    ("Dampremy", "Dampremy", (), ("6020",)),
    ("Marchienne-au-Pont", "Marchienne-aan-de-Brug", ("Goutroux",), ("6030",)),
    ("Monceau-sur-Sambre", "Monceau-sur-Sambre", (), ("6031",)),
    ("Mont-sur-Marchienne", "Mont-sur-Marchienne", (), ("6032",)),
    ("Jumet", "Jumet", (), ("6040",)),
    ("Gosselies", "Gosselies", (), ("6041",)),
    ("Lodelinsart", "Lodelinsart", (), ("6042",)),
    ("Ransart", "Ransart", (), ("6043",)),
    ("Roux", "Roux", (), ("6044",)),
    ("Gilly", "Gilly", (), ("6060",)),
    ("Montignies-sur-Sambre", "Montignies-sur-Sambre", (), ("6061",)),
)


def fold_name(text: str) -> str:
    """A commune's name compared without case, accents, hyphens, spaces or apostrophes
    ("Sint-Joost-ten-Node" = "sint joost ten node")."""
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.casefold() if ch.isalnum())


def _known_commune(name: str) -> tuple[str, str, tuple[str, ...], tuple[str, ...]] | None:
    wanted = fold_name(name)
    for entry in COMMUNES:
        french, dutch, others, _postcodes = entry
        if wanted in {fold_name(french), fold_name(dutch), *map(fold_name, others)}:
            return entry
    return None


def serves_commune(cpas: Cpas, name: str) -> bool:
    """Whether `cpas` lists this commune, by any of its names (French, Dutch, other)."""
    wanted = {fold_name(name)}
    entry = _known_commune(name)
    if entry is not None:
        wanted |= {fold_name(entry[0]), fold_name(entry[1]), *map(fold_name, entry[2])}
    return any(fold_name(commune) in wanted for commune in cpas.communes or [])


def cpas_for_commune(session: Session, name: str) -> Cpas | None:
    """The CPAS competent for a commune typed in French, Dutch or both (case, accents and
    hyphens aside): the one listing it by any of its names, else the one serving its
    postcodes (a section such as Laeken is served with its commune)."""
    if not fold_name(name):
        return None
    every = list_cpas(session)
    for cpas in every:
        if serves_commune(cpas, name):
            return cpas
    entry = _known_commune(name)
    if entry is None:
        return None
    for postcode in entry[3]:
        found = cpas_for_postcode(session, postcode)
        if found is not None:
            return found
    return None


def count_teams(session: Session, cpas_id: int) -> int:
    return session.scalar(select(func.count()).where(_TEAMS.c.cpas_id == cpas_id)) or 0


# --- Editing a CPAS (its administrator's pages, web/cpas.py) ---------------------------


def public_phone(raw: str) -> str | None:
    """A public phone as E.164 (a Belgian 0… number gets +32); "" stays ""; None: bad."""
    digits = re.sub(r"[\s./()-]", "", raw or "")
    if not digits:
        return ""
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+32" + digits[1:]
    return digits if PHONE_PATTERN.match(digits) else None


def update_cpas(
    session: Session,
    cpas: Cpas,
    *,
    name_fr: str,
    name_nl: str,
    phone: str,
    email: str,
    address: str,
    sms_sender: str,
    sms_replies: bool,
    language_regime: str,
    homecare_funder: str,
    actor: User | None = None,
) -> Cpas:
    """Change a CPAS's public details; Invalid (nothing changed) on a bad field. Audited
    with the names of the fields changed (public details, no one's file)."""
    errors: dict[str, FieldError] = {}
    name_fr, name_nl = name_fr.strip(), name_nl.strip()
    if not (name_fr or name_nl):
        errors["name_fr"] = FieldError("required")
    for name, value in (("name_fr", name_fr), ("name_nl", name_nl)):
        if len(value) > 120:
            errors[name] = FieldError("too_long", {"max": 120})
    e164 = public_phone(phone)
    if e164 is None:
        errors["phone"] = FieldError("invalid_phone")
    email = email.strip()
    if email and (len(email) > 120 or not EMAIL_PATTERN.match(email)):
        errors["email"] = FieldError("invalid_email")
    address = " ".join(address.split())
    if len(address) > 200:
        errors["address"] = FieldError("too_long", {"max": 200})
    sms_sender = sms_sender.strip()
    # Empty: the installation's sender (TWILIO_FROM) is used for this CPAS's SMS.
    if sms_sender and not SENDER_PATTERN.match(sms_sender):
        errors["sms_sender"] = FieldError("invalid_sender", {"max": SENDER_MAX})
    if language_regime not in REGIMES:
        errors["language_regime"] = FieldError("unknown_choice")
    if homecare_funder not in FUNDERS:
        errors["homecare_funder"] = FieldError("unknown_choice")
    if errors:
        raise Invalid(errors)
    wanted = {
        "name_fr": name_fr or name_nl,
        "name_nl": name_nl,
        "phone": e164,
        "email": email,
        "address": address,
        "sms_sender": sms_sender,
        "sms_replies": bool(sms_replies),
        "language_regime": language_regime,
        "homecare_funder": homecare_funder,
    }
    changed = sorted(name for name, value in wanted.items() if getattr(cpas, name) != value)
    for name in changed:
        setattr(cpas, name, wanted[name])
    session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            action="update",
            entity_type="cpas",
            entity_id=cpas.id,
            details={"fields": changed},
        )
    return cpas


def add_holiday(
    session: Session,
    cpas_id: int,
    day: date | None,
    *,
    name_fr: str,
    name_nl: str = "",
    actor: User | None = None,
) -> CpasHoliday:
    """Add a closed day of the CPAS's own (kind `administration`); Invalid without a day
    or a name, or on a day the calendar already has."""
    errors: dict[str, FieldError] = {}
    name_fr, name_nl = name_fr.strip(), name_nl.strip()
    if day is None:
        errors["day"] = FieldError("invalid_date")
    elif any(holiday.day == day for holiday in holidays_of(session, cpas_id, day.year)):
        errors["day"] = FieldError("holiday_exists")
    if not (name_fr or name_nl):
        errors["name_fr"] = FieldError("required")
    for name, value in (("name_fr", name_fr), ("name_nl", name_nl)):
        if len(value) > 120:
            errors[name] = FieldError("too_long", {"max": 120})
    if errors:
        raise Invalid(errors)
    assert day is not None
    return set_holiday(
        session,
        cpas_id,
        day,
        closed=True,
        name_fr=name_fr or name_nl,
        name_nl=name_nl or name_fr,
        actor=actor,
    )


def granted_teams(session: Session, user_id: int) -> set[int]:
    """The teams granted to the user beyond their own (local roles)."""
    return set(session.scalars(select(TeamGrant.team_id).where(TeamGrant.user_id == user_id)))


def set_granted_teams(
    session: Session, user: User, team_ids: Iterable[int], *, actor: User | None = None
) -> set[int]:
    """Grant the user exactly these teams of their CPAS (their own is always theirs);
    Invalid (nothing changed) for a team of another CPAS or unknown. Audited."""
    wanted = {team_id for team_id in team_ids if team_id != user.team_id}
    cpas_id = cpas_id_of_team(session, user.team_id) if user.team_id is not None else None
    ours = (
        set(session.scalars(select(_TEAMS.c.id).where(_TEAMS.c.cpas_id == cpas_id)))
        if cpas_id is not None
        else set()
    )
    if not wanted <= ours:
        raise Invalid({"teams": FieldError("unknown_team")})
    before = granted_teams(session, user.id)
    if before == wanted:
        return wanted
    for team_id in before - wanted:
        session.delete(session.get(TeamGrant, (user.id, team_id)))
    session.add_all(TeamGrant(user_id=user.id, team_id=team_id) for team_id in wanted - before)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="user",
        entity_id=user.id,
        details={"granted_teams": sorted(wanted)},
    )
    return wanted


# --- The pages' use cases: each commits (or rolls back and raises Invalid) -------------


def refuse_and_record(
    session: Session, user: User | None, entity_type: str, entity_id: object
) -> None:
    """An attempt outside the user's scope (`refuse`), committed: the refusal stays
    audited although the page answers as if the record were unknown."""
    committed(session, lambda: refuse(session, user, entity_type, entity_id))


def managed_cpas(session: Session, user: User | None, code: str) -> Cpas | None:
    """The CPAS with this code if the user manages it (hers, or any for the platform
    administrator); another CPAS's: None, the attempt audited and committed."""
    cpas = get_cpas(session, code)
    if cpas is None:
        return None
    scope = scope_of(session, user)
    if scope.everything or scope.platform or scope.cpas_id == cpas.id:
        return cpas
    refuse_and_record(session, user, "cpas", cpas.id)
    return None


def manages_every_cpas(session: Session, user: User | None) -> bool:
    """Whether the user manages every CPAS (the platform administrator, or the only
    administrator of an installation of one CPAS)."""
    scope = scope_of(session, user)
    return scope.everything or scope.platform


def add_cpas(
    session: Session,
    *,
    code: str,
    name_fr: str,
    name_nl: str,
    region: str,
    language_regime: str,
    postcodes: Iterable[str],
    communes: Iterable[str],
    sms_sender: str,
) -> Cpas:
    """A CPAS created by the platform administrator (`create_cpas`), committed."""
    return committed(
        session,
        lambda: create_cpas(
            session,
            code=code,
            name_fr=name_fr,
            name_nl=name_nl,
            region=region,
            language_regime=language_regime,
            postcodes=postcodes,
            communes=communes,
            sms_sender=sms_sender,
        ),
    )


def save_cpas(
    session: Session,
    cpas: Cpas,
    *,
    name_fr: str,
    name_nl: str,
    phone: str,
    email: str,
    address: str,
    sms_sender: str,
    sms_replies: bool,
    language_regime: str,
    homecare_funder: str,
    actor: User | None,
) -> Cpas:
    """A CPAS's public details (`update_cpas`), committed."""
    return committed(
        session,
        lambda: update_cpas(
            session,
            cpas,
            name_fr=name_fr,
            name_nl=name_nl,
            phone=phone,
            email=email,
            address=address,
            sms_sender=sms_sender,
            sms_replies=sms_replies,
            language_regime=language_regime,
            homecare_funder=homecare_funder,
            actor=actor,
        ),
    )


def save_territory(
    session: Session,
    cpas: Cpas,
    *,
    postcodes: Iterable[str],
    communes: Iterable[str],
    actor: User | None,
) -> Cpas:
    """The postcodes and communes a CPAS serves (`set_territory`), committed."""
    return committed(
        session,
        lambda: set_territory(session, cpas, postcodes=postcodes, communes=communes, actor=actor),
    )


def save_holiday(
    session: Session,
    cpas_id: int,
    year: int,
    day: date | None,
    *,
    add: bool,
    closed: bool = True,
    name_fr: str = "",
    name_nl: str = "",
    actor: User | None = None,
) -> CpasHoliday:
    """A day of the year's calendar shown: added (`add_holiday`, a day of that year), or a
    day it has closed or opened (`set_holiday`); committed. Invalid (nothing changed) on
    a day of another year or not in the calendar."""

    def run() -> CpasHoliday:
        if add:
            if day is not None and day.year != year:
                raise Invalid({"day": FieldError("invalid_date")})
            return add_holiday(session, cpas_id, day, name_fr=name_fr, name_nl=name_nl, actor=actor)
        known = {holiday.day for holiday in holidays_of(session, cpas_id, year)}
        if day is None or day not in known:
            raise Invalid({"day": FieldError("unknown_choice")})
        return set_holiday(session, cpas_id, day, closed=closed, actor=actor)

    return committed(session, run)


def save_granted_teams(
    session: Session, user: User, team_ids: Sequence[int | None], *, actor: User | None
) -> set[int]:
    """The user's granted teams (`set_granted_teams`), committed; Invalid (nothing
    changed) when one of the ids could not be read (None)."""

    def run() -> set[int]:
        if None in team_ids:
            raise Invalid({"teams": FieldError("unknown_team")})
        wanted = [team_id for team_id in team_ids if team_id]
        return set_granted_teams(session, user, wanted, actor=actor)

    return committed(session, run)
