"""Every model of core/, imported together so Base.metadata is complete."""

from core.accounts import LoginFailure, LoginSession, Team, User
from core.audit import AuditEntry
from core.organisations import Cpas, CpasHoliday
from core.sync import SyncCounter, SyncOperation
from core.throttle import ThrottleEntry

__all__ = [
    "AuditEntry",
    "Cpas",
    "CpasHoliday",
    "LoginFailure",
    "LoginSession",
    "SyncCounter",
    "SyncOperation",
    "Team",
    "ThrottleEntry",
    "User",
]
