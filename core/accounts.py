"""Staff accounts and teams: who works where, with which role; passwords and logins.

The functions above the last section never commit (the CLI and the demo compose them);
the last section holds the use cases the login, profile and account pages call, each
ending its transaction (committed, or rolled back and AccountError raised)."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    distinct,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from core import audit, clock, throttle
from core.db import Base, committed
from core.organisations import Cpas, Scope
from core.roles import Role
from core.text import single_line

LANGUAGES = ("fr", "nl", "en")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD_LENGTH = 10

# Tests only (TERRAIN_CHEAP_PASSWORD_HASHING, core.testmode): still argon2id, at the
# smallest cost argon2 allows, so that the suite's thousands of logins stay fast.
_CHEAP = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def _cheap_requested() -> bool:
    # core.testmode.apply() decides (and refuses the setting without TERRAIN_TESTING=1);
    # this only spares a test process the dummy hash below at production cost first
    # (a fifth of a second of CPU in each of the suite's hundred `terrain` processes).
    env = os.environ
    return env.get("TERRAIN_TESTING") == "1" and env.get("TERRAIN_CHEAP_PASSWORD_HASHING") == "1"


_hasher = PasswordHasher(**_CHEAP) if _cheap_requested() else PasswordHasher()
# Verifying against this keeps the timing the same whether or not the account exists.
_DUMMY_HASH = _hasher.hash("terrain-dummy-password")


def use_cheap_hashing() -> None:
    """Tests only: hash and verify at the cheapest argon2id parameters (never the default)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(**_CHEAP)
    _DUMMY_HASH = _hasher.hash("terrain-dummy-password")


def cheap_hashing() -> bool:
    """Whether the tests' cheap password hashing is in force."""
    return _hasher.time_cost == _CHEAP["time_cost"] and _hasher.memory_cost == _CHEAP["memory_cost"]


# Failures on one account from one address (IPv6: one /64): whoever types wrong
# passwords in a colleague's name slows only their own address, never the colleague's.
PAIR_POLICY = throttle.Policy(
    free_failures=5, first_delay_seconds=2, max_delay_seconds=300, forget_after_seconds=86400
)
# Failures from one address, whichever accounts it tries (guessing many accounts).
ADDRESS_POLICY = throttle.Policy(
    free_failures=20, first_delay_seconds=2, max_delay_seconds=900, forget_after_seconds=3600
)
# The account-wide brake, against guessing from many addresses: from this many failures
# on one account within the window, an address that already failed on that account in
# the window waits until the brake ends. An address with no failure there is never held.
BRAKE_FAILURES = 300
BRAKE_WINDOW = timedelta(hours=1)
# The administrator's list of accounts under attack: this many failures in a day.
ATTACK_FAILURES = 5
FAILURES_KEPT = timedelta(days=2)


class TeamKind(StrEnum):
    ANTENNE = "antenne"  # antenne sociale: a local office with a reception desk
    HOME_CARE = "home_care"  # service d'aide aux familles
    STREET = "street"  # street educators' team
    MOBILE = "mobile"  # mobile services (minibus, meal rounds)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (
        CheckConstraint("kind IN ('antenne', 'home_care', 'street', 'mobile')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))  # in French
    # In Dutch, for Dutch-speaking staff; empty when the name is the same in both.
    name_nl: Mapped[str] = mapped_column(String(120), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(80))
    postcode: Mapped[str] = mapped_column(String(10), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    # The CPAS the team or antenne belongs to (docs/cpas.md); everything of the team is its.
    cpas_id: Mapped[int] = mapped_column(ForeignKey("cpas.id"), index=True)

    # Joined: a user is loaded with their team and its CPAS in one statement (every
    # request loads the user; a selectin here was a second round trip each time).
    cpas: Mapped[Cpas] = relationship(lazy="joined")

    def label(self, language: str | None) -> str:
        """The name in `language`: Dutch when there is one, else the French name."""
        if language == "nl" and self.name_nl:
            return self.name_nl
        return self.name


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'coordinator', 'social_worker', 'reception', 'aide', "
            "'street_educator', 'crew')",
            name="role_known",
        ),
        CheckConstraint(
            "language IS NULL OR language IN ('fr', 'nl', 'en')", name="language_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=clock.now)

    team: Mapped[Team | None] = relationship(lazy="joined")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    # The protocol Flask-Login expects, written here so core/ stays free of Flask.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class AccountError(ValueError):
    """A change to an account was refused; `field` names the form field at fault."""

    def __init__(self, field: str, code: str):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """Whether `password` is the user's (a re-authentication: signing a record). The
    caller throttles the attempts; this never rehashes nor records a login."""
    try:
        return bool(_hasher.verify(user.password_hash, (password or "")[:200]))
    except (VerificationError, InvalidHashError):
        return False


def _check_new_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", "too_short")
    if len(password) > 200:
        raise AccountError("password", "too_long")
    if password.lower() == username.lower():
        raise AccountError("password", "same_as_username")


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role | str,
    team: Team | None = None,
    language: str | None = None,
    actor: User | None = None,
    check_password: bool = True,
) -> User:
    """Create an account; `check_password=False` only for the demo's shared password."""
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise AccountError("username", "invalid")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError("username", "taken")
    display_name = single_line(display_name).strip()
    if not display_name or len(display_name) > 120:
        raise AccountError("display_name", "invalid")
    try:
        role = Role(role)
    except ValueError as exc:
        raise AccountError("role", "invalid") from exc
    if language is not None and language not in LANGUAGES:
        raise AccountError("language", "invalid")
    if check_password:
        _check_new_password(password, username)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role.value,
        team=team,
        language=language,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="user",
        entity_id=user.id,
        details={"role": role.value, "team": team.code if team else None},
    )
    return user


class LoginFailure(Base):
    """One wrong password on an existing account: what the account-wide brake counts and
    the administrator's list of accounts under attack shows (kept two days)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_user_id_at", "user_id", "at"),)

    # BigInteger on PostgreSQL, INTEGER on SQLite so it stays the rowid alias.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(16))  # the address group, hashed with the secret


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    retry_after: int = 0  # seconds; > 0 when the attempt was not even checked
    token: str | None = None  # the login session's (log_in, when the user is let in)


def authenticate(
    session: Session, *, username: str, password: str, address: str, secret: str
) -> LoginResult:
    """Check a login, with growing delays per (account, address) and per address after
    failures, and the account-wide brake against guessing from many addresses."""
    username = (username or "").strip().lower()[:40]
    group = throttle.address_group(address)
    pair_key = throttle.hashed_key("account_address", f"{username}\x00{group}", secret)
    address_key = throttle.hashed_key("address", group, secret)
    source = throttle.hashed_key("source", group, secret)[:16]
    now = clock.now()
    wait = max(throttle.retry_after(session, pair_key), throttle.retry_after(session, address_key))
    user = session.scalar(select(User).where(User.username == username))
    if not wait and user is not None:
        wait = _brake_wait(session, user.id, source, now)
    if wait:
        return LoginResult(user=None, retry_after=wait)

    stored_hash = user.password_hash if user is not None else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored_hash, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and user is not None and _still_active(session, user):
        throttle.reset(session, pair_key)
        throttle.reset(session, address_key)
        # Never rehash down to the tests' cheap parameters (a test run on a copy of real
        # data must not weaken its hashes).
        if not cheap_hashing() and _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = now
        audit.record(session, actor=user, action="login", entity_type="user", entity_id=user.id)
        return LoginResult(user=user)

    throttle.record_failure(session, pair_key, PAIR_POLICY)
    throttle.record_failure(session, address_key, ADDRESS_POLICY)
    if user is not None:
        # Only known accounts are named: a mistyped username may be someone's password.
        _record_account_failure(session, user, source, now)
    return LoginResult(user=None)


def _still_active(session: Session, user: User) -> bool:
    """Read `active` again under a row lock: a deactivation committed meanwhile wins, and
    one still running waits for this login, then ends the session it opens."""
    active = session.scalar(select(User.active).where(User.id == user.id).with_for_update())
    return bool(active)


def _window_failures(user_id: int, since: datetime) -> tuple[ColumnElement[bool], ...]:
    return (LoginFailure.user_id == user_id, LoginFailure.at > since)


def brake_ends(session: Session, user_id: int) -> datetime | None:
    """When the account-wide brake on this account ends; None when it is off."""
    now = clock.now()
    since = now - BRAKE_WINDOW
    count = session.scalar(
        select(func.count()).select_from(LoginFailure).where(*_window_failures(user_id, since))
    )
    if not count or count < BRAKE_FAILURES:
        return None
    # It ends when enough of the window's failures have left the window.
    leaving = session.scalar(
        select(LoginFailure.at)
        .where(*_window_failures(user_id, since))
        .order_by(LoginFailure.at, LoginFailure.id)
        .offset(count - BRAKE_FAILURES)
        .limit(1)
    )
    return leaving + BRAKE_WINDOW if leaving is not None else None


def _brake_wait(session: Session, user_id: int, source: str, now: datetime) -> int:
    """Seconds the brake holds this address back (0 for an address that has not failed
    on this account within the window: the right password from there always goes in)."""
    failed_here = session.scalar(
        select(LoginFailure.id)
        .where(*_window_failures(user_id, now - BRAKE_WINDOW), LoginFailure.source == source)
        .limit(1)
    )
    if failed_here is None:
        return 0
    ends = brake_ends(session, user_id)
    if ends is None:
        return 0
    return max(1, int((ends - now).total_seconds() + 0.999))


def _record_account_failure(session: Session, user: User, source: str, now: datetime) -> None:
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.user_id == user.id, LoginFailure.at < now - FAILURES_KEPT
        )
    )
    session.add(LoginFailure(user_id=user.id, at=now, source=source))
    session.flush()
    audit.record(
        session,
        actor=None,
        action="login_failed",
        entity_type="user",
        entity_id=user.id,
        details={"source": source},
    )
    ends = brake_ends(session, user.id)
    if ends is None:
        return
    noted = session.scalar(
        select(audit.AuditEntry.id)
        .where(
            audit.AuditEntry.entity_type == "user",
            audit.AuditEntry.entity_id == str(user.id),
            audit.AuditEntry.action == "login_brake",
            audit.AuditEntry.at > now - BRAKE_WINDOW,
        )
        .limit(1)
    )
    if noted is None:
        # Once per window: the administrator learns the account is under attack.
        audit.record(
            session,
            actor=None,
            action="login_brake",
            entity_type="user",
            entity_id=user.id,
            details={"failures": BRAKE_FAILURES, "until": ends.isoformat(timespec="seconds")},
        )


@dataclass(frozen=True)
class AccountUnderAttack:
    user: User
    failures_last_hour: int
    failures_last_day: int
    addresses: int  # distinct address groups in the last day
    brake_ends: datetime | None


def accounts_under_attack(session: Session) -> list[AccountUnderAttack]:
    """Accounts with many failed logins in the last day, the most attacked first."""
    now = clock.now()
    hour = now - timedelta(hours=1)
    last_hour = func.sum(case((LoginFailure.at > hour, 1), else_=0))
    rows = session.execute(
        select(
            LoginFailure.user_id,
            last_hour,
            func.count(),
            func.count(distinct(LoginFailure.source)),
        )
        .where(LoginFailure.at > now - timedelta(days=1))
        .group_by(LoginFailure.user_id)
        .having(func.count() >= ATTACK_FAILURES)
        .order_by(last_hour.desc(), func.count().desc())
    ).all()
    found = []
    for user_id, hour_count, day_count, addresses in rows:
        user = session.get(User, user_id)
        if user is None:
            continue
        found.append(
            AccountUnderAttack(
                user=user,
                failures_last_hour=int(hour_count or 0),
                failures_last_day=int(day_count),
                addresses=int(addresses),
                brake_ends=brake_ends(session, user_id),
            )
        )
    return found


class LoginSession(Base):
    """One login on one device, known to the server so that logging out really ends it.

    The signed cookie alone cannot be revoked: a copy of it (or a response of a request
    still running at logout, setting it again) would keep the session open.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))  # logout, expired, deactivated


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(session: Session, user: User, *, keep_days: int = 30) -> str:
    """Open a login session for `user`; returns the token the cookie carries."""
    session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            LoginSession.started_at < clock.now() - timedelta(days=keep_days),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, token_hash=_token_hash(token)))
    session.flush()
    return token


def login_session_end(session: Session, user_id: int, token: str | None) -> str | None:
    """None while the login session is open; else why it ended ("logout", "expired", "unknown")."""
    if not token:
        return "unknown"
    row = session.execute(
        select(LoginSession.user_id, LoginSession.ended_at, LoginSession.end_reason).where(
            LoginSession.token_hash == _token_hash(token)
        )
    ).first()
    if row is None or row.user_id != user_id:
        return "unknown"
    if row.ended_at is not None:
        return row.end_reason or "expired"
    return None


# Built once (every signed-in request runs it: building it again cost more CPU than its
# round trip); the user's team and CPAS come with her (joined relationships).
_SIGNED_IN = (
    select(User, LoginSession.id, LoginSession.ended_at, LoginSession.end_reason)
    .outerjoin(
        LoginSession,
        and_(
            LoginSession.token_hash == bindparam("token_hash", type_=String),
            LoginSession.user_id == User.id,
        ),
    )
    .where(User.id == bindparam("user_id", type_=Integer))
)


def signed_in_user(
    session: Session, user_id: int, token: str | None
) -> tuple[User | None, str | None]:
    """The user of a session cookie (team and CPAS joined) and why its login session ended,
    as `login_session_end` says, in one query: every signed-in request reads both."""
    if not token:
        return session.get(User, user_id), "unknown"
    row = session.execute(
        _SIGNED_IN, {"token_hash": _token_hash(token), "user_id": user_id}
    ).first()
    if row is None:
        return None, "unknown"
    user, login_session_id, ended_at, end_reason = row
    if login_session_id is None:  # no such login session, or another user's
        return user, "unknown"
    if ended_at is not None:
        return user, end_reason or "expired"
    return user, None


def end_login_session(session: Session, token: str | None, reason: str) -> None:
    if not token:
        return
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == _token_hash(token), LoginSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason)
    )


def record_logout(session: Session, user: User, token: str | None) -> None:
    end_login_session(session, token, "logout")
    audit.record(session, actor=user, action="logout", entity_type="user", entity_id=user.id)


def change_password(session: Session, user: User, *, current: str, new: str) -> None:
    try:
        _hasher.verify(user.password_hash, current or "")
    except (VerificationError, InvalidHashError) as exc:
        raise AccountError("current_password", "wrong") from exc
    _check_new_password(new, user.username)
    user.password_hash = hash_password(new)
    user.password_changed_at = clock.now()
    audit.record(
        session, actor=user, action="password_change", entity_type="user", entity_id=user.id
    )


def set_language(session: Session, user: User, language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise AccountError("language", "invalid")
    if user.language != language:
        user.language = language
        audit.record_change(session, user, "user", user.id, ["language"])


def set_active(session: Session, user: User, active: bool, *, actor: User) -> None:
    if user.id == actor.id and not active:
        raise AccountError("active", "self")
    if user.active != active:
        user.active = active
        if not active:
            # The UPDATE takes the row lock a login in progress holds (see _still_active):
            # the sessions ended below include one it opens meanwhile.
            session.flush()
            session.execute(
                update(LoginSession)
                .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                .values(ended_at=clock.now(), end_reason="deactivated")
            )
        audit.record(
            session,
            actor=actor,
            action="activate" if active else "deactivate",
            entity_type="user",
            entity_id=user.id,
        )


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def users_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    """The users named by `ids` (None and repeats ignored), by id, in one query."""
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}


def teams_by_id(session: Session) -> dict[int, Team]:
    """Every team, by id (names of the teams a page mentions)."""
    return {team.id: team for team in session.scalars(select(Team))}


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def list_users(session: Session, scope: Scope | None = None) -> list[User]:
    """Every account; with `scope`, those its administrator manages (users_filter)."""
    query = select(User).order_by(User.active.desc(), User.username)
    if scope is not None:
        query = query.where(users_filter(scope))
    return list(session.scalars(query))


def users_filter(scope: Scope) -> ColumnElement[bool]:
    """A WHERE clause on `User`: a CPAS's administrator manages her CPAS's staff; the
    platform administrator every account (staff accounts, no one's file: docs/cpas.md)."""
    if scope.everything or scope.platform:
        return true()
    return scope.teams_filter(User.team_id)


def manages_user(scope: Scope, user: User) -> bool:
    """Whether the administrator of `scope` may see and change this account."""
    return scope.everything or scope.platform or scope.sees_team(user.team_id)


# What the platform administrator reads in the audit log: accounts, teams and CPAS,
# never what a CPAS's staff read or changed in its records (docs/cpas.md).
PLATFORM_AUDIT_TYPES = ("user", "team", "cpas", "cpas_holiday")


def audit_scope_filter(scope: Scope) -> ColumnElement[bool]:
    """A WHERE clause on `AuditEntry` keeping what the administrator of `scope` may read:
    everything (one CPAS); her CPAS's (its staff's acts, acts on its accounts, teams,
    details and holidays); the platform's (acts on accounts, teams and CPAS)."""
    entry = audit.AuditEntry
    if scope.everything:
        return true()
    if scope.platform:
        return entry.entity_type.in_(PLATFORM_AUDIT_TYPES)
    teams = sorted(scope.teams or ())
    staff = select(User.id).where(User.team_id.in_(teams))
    staff_ids = select(cast(User.id, String)).where(User.team_id.in_(teams))
    team_ids = [str(team_id) for team_id in teams]
    return or_(
        entry.actor_id.in_(staff),
        and_(entry.entity_type == "user", entry.entity_id.in_(staff_ids)),
        and_(entry.entity_type == "team", entry.entity_id.in_(team_ids)),
        and_(entry.entity_type == "cpas", entry.entity_id == str(scope.cpas_id)),
        and_(entry.entity_type == "cpas_holiday", entry.entity_id.like(f"{scope.cpas_id}:%")),
    )


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.city, Team.name)))


def get_team(session: Session, code: str) -> Team | None:
    return session.scalar(select(Team).where(Team.code == code))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


TEAM_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def create_team(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    cpas_code: str,
    city: str,
    postcode: str = "",
    address: str = "",
    name_nl: str = "",
    actor: User | None = None,
) -> Team:
    """A team or antenne in its CPAS; AccountError (nothing changed) on bad input."""
    from core import organisations

    code = code.strip().lower()
    if not TEAM_CODE_PATTERN.match(code):
        raise AccountError("code", "invalid")
    if get_team(session, code) is not None:
        raise AccountError("code", "taken")
    if kind not in [member.value for member in TeamKind]:
        raise AccountError("kind", "unknown")
    cpas = organisations.get_cpas(session, cpas_code.strip().lower())
    if cpas is None:
        raise AccountError("cpas", "unknown")
    name = single_line(name).strip()
    if not name or len(name) > 120:
        raise AccountError("name", "invalid")
    team = Team(
        code=code,
        name=name,
        name_nl=single_line(name_nl).strip()[:120],
        kind=kind,
        cpas_id=cpas.id,
        city=single_line(city).strip()[:80],
        postcode=postcode.strip()[:10],
        address=single_line(address).strip()[:200],
    )
    session.add(team)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="team",
        entity_id=team.id,
        details={"code": code, "cpas": cpas.code},
    )
    return team


# --- The pages' use cases: each commits (or rolls back and raises AccountError) ----------


def log_in(
    session: Session, *, username: str, password: str, address: str, secret: str
) -> LoginResult:
    """A login attempt (`authenticate`), committed whatever its outcome (a failure counts);
    when the user is let in, a login session is opened and its token returned."""
    result = authenticate(
        session, username=username, password=password, address=address, secret=secret
    )
    if result.user is not None:
        result = LoginResult(result.user, token=start_login_session(session, result.user))
    session.commit()
    return result


def log_out(session: Session, user: User, token: str | None) -> None:
    """The user logs out (`record_logout`), committed."""
    committed(session, lambda: record_logout(session, user, token))


def expire_login_session(session: Session, token: str | None) -> None:
    """A login session ended for idle time, length or a password change, committed."""
    committed(session, lambda: end_login_session(session, token, "expired"))


def save_language(session: Session, user: User, language: str | None) -> None:
    """The profile's language (`set_language`), committed."""
    committed(session, lambda: set_language(session, user, language))


def save_password(session: Session, user: User, *, current: str, new: str) -> None:
    """The user's new password (`change_password`), committed."""
    committed(session, lambda: change_password(session, user, current=current, new=new))


def add_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role | str,
    team_code: str | None,
    language: str | None,
    actor: User,
) -> User:
    """An account created by an administrator (`create_user`, the team by its code),
    committed."""
    return committed(
        session,
        lambda: create_user(
            session,
            username=username,
            display_name=display_name,
            password=password,
            role=role,
            team=get_team(session, team_code) if team_code else None,
            language=language,
            actor=actor,
        ),
    )


def change_active(session: Session, user: User, active: bool, *, actor: User) -> None:
    """An account deactivated or reactivated (`set_active`), committed."""
    committed(session, lambda: set_active(session, user, active, actor=actor))


def teams_of_cpas(session: Session, cpas_id: int) -> list[Team]:
    """The CPAS's teams, in the order of the lists."""
    return [team for team in list_teams(session) if team.cpas_id == cpas_id]


def grantable_teams(session: Session, user: User) -> list[Team]:
    """The teams of the user's CPAS that can be granted to them (all but their own)."""
    if user.team is None:
        return []
    return [team for team in teams_of_cpas(session, user.team.cpas_id) if team.id != user.team_id]


def add_cpas_admin(
    session: Session,
    cpas: Cpas,
    *,
    team_code: str | None,
    username: str,
    display_name: str,
    password: str,
    actor: User,
) -> User:
    """An administrator of the CPAS, in one of its teams (`create_user`), committed;
    AccountError("team", "invalid") for a team not of that CPAS."""

    def run() -> User:
        team = next((t for t in teams_of_cpas(session, cpas.id) if t.code == team_code), None)
        if team is None:
            raise AccountError("team", "invalid")
        return create_user(
            session,
            username=username,
            display_name=display_name,
            password=password,
            role=Role.ADMIN,
            team=team,
            actor=actor,
        )

    return committed(session, run)
