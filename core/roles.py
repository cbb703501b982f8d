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
    CREW = "crew"  # the mobile team's crew: driver and social worker on board


class Permission(StrEnum):
    HOME = "home"
    PROFILE = "profile"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    SYNC = "sync"  # use the offline sync API (each op type checks its own permission)
    OUTREACH_RECORD = "outreach.record"
    OUTREACH_FILES = "outreach.files"  # person files (outreach.access decides per person)
    OUTREACH_DIRECTORY = "outreach.directory"  # the partner services directory
    OUTREACH_SETTINGS = "outreach.settings"  # protective path, a team's retention, purges
    OUTREACH_RETENTION = "outreach.retention"  # the CPAS-wide retention rules
    OUTREACH_REPORTS = "outreach.reports"  # monthly indicators and their export
    SMS_READ = "sms.read"  # the outbox ("SMS envoyés") and each message's history
    SMS_CONTACTS = "sms.contacts"  # contacts, their numbers and consents
    SMS_INBOX = "sms.inbox"  # replies that need a person
    SMS_BROADCAST = "sms.broadcast"  # compose and send a message to an audience
    SMS_SETTINGS = "sms.settings"  # templates, quiet hours
    SMS_REPORTS = "sms.reports"
    APPOINTMENTS_BOOK = "appointments.book"  # book, move, cancel for a person (staff API)
    APPOINTMENTS_DESK = "appointments.desk"  # the reception view: agendas, walk-ins, queue
    APPOINTMENTS_MINE = "appointments.mine"  # an agent's own appointments
    APPOINTMENTS_SETUP = "appointments.setup"  # services, locations, plans, closures, absences
    APPOINTMENTS_REPORTS = "appointments.reports"  # monthly indicators and their export
    # Home care (homecare.access decides per team and household; unknown and forbidden 404)
    HOMECARE_RECORDS = "homecare.records"  # beneficiaries, care plans, aides of her team
    HOMECARE_FILES = "homecare.files"  # a household's file: its coordinator, its aides
    HOMECARE_HOURS = "homecare.hours"  # visits done, hours, quota, billing and payroll files
    HOMECARE_REPORTS = "homecare.reports"  # monthly indicators
    HOMECARE_PLAN = "homecare.plan"  # the home-care planning board (homecare.access decides)
    HOMECARE_VISITS = "homecare.visits"  # an aide's own visits: her day, her phone's feed
    # Rounds (rounds.access: the coordinator of a mobile team; unknown and forbidden 404)
    ROUNDS_MANAGE = "rounds.manage"  # stops, permanences, meal orders, rides, the day's plan
    ROUNDS_CREW = "rounds.crew"  # the crew's own team's dated rounds; record their progress


ALL_ROLES = frozenset(Role)
# Staff who work at a desk with people's files (not the field-only roles).
_OFFICE = frozenset({Role.ADMIN, Role.COORDINATOR, Role.RECEPTION, Role.SOCIAL_WORKER})

# Each permission lists the roles that hold it. Domain issues add their rows here.
MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.HOME: ALL_ROLES,
    Permission.PROFILE: ALL_ROLES,
    Permission.AUDIT_READ: frozenset({Role.ADMIN}),
    Permission.USERS_MANAGE: frozenset({Role.ADMIN}),
    Permission.SYNC: ALL_ROLES,
    Permission.OUTREACH_RECORD: frozenset({Role.STREET_EDUCATOR}),
    Permission.OUTREACH_FILES: frozenset(
        {Role.STREET_EDUCATOR, Role.COORDINATOR, Role.SOCIAL_WORKER}
    ),
    Permission.OUTREACH_DIRECTORY: frozenset({Role.ADMIN, Role.COORDINATOR}),
    Permission.OUTREACH_SETTINGS: frozenset({Role.ADMIN, Role.COORDINATOR}),
    Permission.OUTREACH_RETENTION: frozenset({Role.ADMIN}),
    Permission.OUTREACH_REPORTS: frozenset({Role.ADMIN, Role.COORDINATOR, Role.STREET_EDUCATOR}),
    Permission.SMS_READ: _OFFICE,
    Permission.SMS_CONTACTS: _OFFICE,
    Permission.SMS_INBOX: _OFFICE,
    Permission.SMS_BROADCAST: frozenset({Role.ADMIN, Role.COORDINATOR}),
    Permission.SMS_SETTINGS: frozenset({Role.ADMIN, Role.COORDINATOR}),
    Permission.SMS_REPORTS: frozenset({Role.ADMIN, Role.COORDINATOR}),
    Permission.APPOINTMENTS_BOOK: _OFFICE,
    Permission.APPOINTMENTS_DESK: _OFFICE,
    Permission.APPOINTMENTS_MINE: frozenset({Role.SOCIAL_WORKER, Role.COORDINATOR}),
    Permission.APPOINTMENTS_SETUP: frozenset({Role.ADMIN, Role.COORDINATOR}),
    Permission.APPOINTMENTS_REPORTS: frozenset({Role.ADMIN, Role.COORDINATOR}),
    Permission.HOMECARE_RECORDS: frozenset({Role.COORDINATOR}),
    Permission.HOMECARE_FILES: frozenset({Role.COORDINATOR, Role.AIDE}),
    # Home care's coordinator only (homecare/access.py: her own home-care team).
    Permission.HOMECARE_HOURS: frozenset({Role.COORDINATOR}),
    Permission.HOMECARE_REPORTS: frozenset({Role.COORDINATOR}),
    # Coordinators only; homecare.access keeps each to her own home-care team.
    Permission.HOMECARE_PLAN: frozenset({Role.COORDINATOR}),
    # The aide's phone (issue 18): her visits, what she records on them.
    Permission.HOMECARE_VISITS: frozenset({Role.AIDE}),
    # Coordinators only; rounds.access keeps each to her own mobile team.
    Permission.ROUNDS_MANAGE: frozenset({Role.COORDINATOR}),
    # The mobile crew (issue 19); rounds.access keeps each to her own mobile team.
    Permission.ROUNDS_CREW: frozenset({Role.CREW}),
}


def can(role: Role | str, permission: Permission) -> bool:
    return Role(role) in MATRIX[permission]
