"""What other packages call to reach people by SMS: the public face of notifications/.

Domains import this module only (never the models): contacts and consent, the outbox
(`enqueue`, `schedule_reminders`, `cancel_for_subject`), subjects (for staleness and
the OUI / NON replies), audiences (for broadcasts), the reminders' delivery states (for
a domain's indicators) and the template kinds.
"""

from __future__ import annotations

from notifications.broadcasts import Audience, AudienceParam, register_audience
from notifications.contacts import (
    BLOCK_REASONS,
    Reachability,
    consent_history,
    contact_by_reference,
    contact_for_user,
    contact_ids_for_references,
    contacts_by_phone,
    create_contact,
    get_contact,
    join_team,
    mark_phone,
    reachability,
    read_phones,
    search_contacts,
    set_consent,
    update_contact,
)
from notifications.masking import Secret, new_secret
from notifications.models import CONSENT_CATEGORIES
from notifications.outbox import (
    DEFAULT_REMINDERS,
    DEFAULT_RULES,
    CategoryRules,
    MessageState,
    Outgoing,
    ReminderRule,
    ReplyOutcome,
    SubjectKind,
    cancel_for_subject,
    category_rules,
    enqueue,
    enqueue_ids,
    enqueue_many,
    in_quiet_hours,
    message_state,
    next_allowed_time,
    read_texts_and_rules,
    register_subject_kind,
    reminders,
    save_category_rules,
    schedule_reminders,
)
from notifications.reports import (
    REMINDER_DELIVERED,
    REMINDER_LEFT,
    REMINDER_NONE,
    register_attendance_source,
    reminder_states,
)
from notifications.texts import (
    TemplateKind,
    cpas_values,
    moment_values,
    read_templates,
    render,
)

__all__ = [
    "BLOCK_REASONS",
    "CONSENT_CATEGORIES",
    "DEFAULT_REMINDERS",
    "DEFAULT_RULES",
    "REMINDER_DELIVERED",
    "REMINDER_LEFT",
    "REMINDER_NONE",
    "Audience",
    "AudienceParam",
    "CategoryRules",
    "MessageState",
    "Outgoing",
    "Reachability",
    "ReminderRule",
    "ReplyOutcome",
    "Secret",
    "SubjectKind",
    "TemplateKind",
    "cancel_for_subject",
    "category_rules",
    "consent_history",
    "contact_by_reference",
    "contact_for_user",
    "contact_ids_for_references",
    "contacts_by_phone",
    "cpas_values",
    "create_contact",
    "enqueue",
    "enqueue_ids",
    "enqueue_many",
    "get_contact",
    "in_quiet_hours",
    "join_team",
    "mark_phone",
    "message_state",
    "moment_values",
    "new_secret",
    "next_allowed_time",
    "reachability",
    "read_phones",
    "read_templates",
    "read_texts_and_rules",
    "register_attendance_source",
    "register_audience",
    "register_subject_kind",
    "reminder_states",
    "reminders",
    "render",
    "save_category_rules",
    "schedule_reminders",
    "search_contacts",
    "set_consent",
    "update_contact",
]
