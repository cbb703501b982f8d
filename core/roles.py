"""Roles and the permission matrix: the one place that says who may do what."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    SOCIAL_WORKER = "social_worker"
    RECEPTION = "reception"
    AIDE = "aide"
    STREET_EDUCATOR = "street_educator"


class Permission(StrEnum):
    HOME = "home"
    PROFILE = "profile"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    SYNC = "sync"  # use the offline sync API (each op type checks its own permission)
    OUTREACH_RECORD = "outreach.record"


ALL_ROLES = frozenset(Role)

# Each permission lists the roles that hold it. Domain issues add their rows here.
MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.HOME: ALL_ROLES,
    Permission.PROFILE: ALL_ROLES,
    Permission.AUDIT_READ: frozenset({Role.ADMIN}),
    Permission.USERS_MANAGE: frozenset({Role.ADMIN}),
    Permission.SYNC: ALL_ROLES,
    Permission.OUTREACH_RECORD: frozenset({Role.STREET_EDUCATOR}),
}


def can(role: Role | str, permission: Permission) -> bool:
    return Role(role) in MATRIX[permission]
