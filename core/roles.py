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


ALL_ROLES = frozenset(Role)

# Each permission lists the roles that hold it. Domain issues add their rows here.
MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.HOME: ALL_ROLES,
    Permission.PROFILE: ALL_ROLES,
    Permission.AUDIT_READ: frozenset({Role.ADMIN}),
    Permission.USERS_MANAGE: frozenset({Role.ADMIN}),
}


def can(role: Role | str, permission: Permission) -> bool:
    return Role(role) in MATRIX[permission]
