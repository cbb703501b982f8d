"""The words of home-care records in the user's language (codes are stored in English)."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

SERVICES = {
    "family_aide": _l("Family aide"),
    "home_help": _l("Home help"),
    "day_care": _l("Day sitting"),
    "night_care": _l("Night sitting"),
}
SKILLS = {
    "personal_care": _l("Personal care"),
    "household": _l("Housework"),
    "meals": _l("Meals"),
    "dementia": _l("Dementia"),
    "transfer": _l("Transfers (hoist)"),
    "night_watch": _l("Night watch"),
    "first_aid": _l("First aid"),
}
WEEKDAYS = {
    0: _l("Monday"),
    1: _l("Tuesday"),
    2: _l("Wednesday"),
    3: _l("Thursday"),
    4: _l("Friday"),
    5: _l("Saturday"),
    6: _l("Sunday"),
}
HOLIDAY_RULES = {
    "skip": _l("Skip the visit"),
    "keep": _l("Keep the visit"),
    "move": _l("Move it to the next free weekday"),
}
SUSPENSION_REASONS = {
    "hospital": _l("Hospital"),
    "holiday": _l("Holiday"),
    "respite": _l("Respite stay"),
    "other": _l("Other"),
}
ABSENCE_REASONS = {
    "leave": _l("Leave"),
    "illness": _l("Illness"),
    "training": _l("Training"),
    "other": _l("Other"),
}
TRANSPORT_MODES = {
    "walk": _l("On foot"),
    "bike": _l("Bicycle"),
    "transit": _l("Public transport"),
    "car": _l("Car"),
}
LANGUAGES = {
    "fr": "Français",
    "nl": "Nederlands",
    "en": "English",
    "ar": "العربية",
    "tr": "Türkçe",
    "es": "Español",
    "pt": "Português",
    "pl": "Polski",
    "ro": "Română",
    "other": _l("Another language"),
}
LANGUAGE_TAGS = {"ar": "ar", "tr": "tr", "es": "es", "pt": "pt", "pl": "pl", "ro": "ro"}
FUNDERS = {
    "iriscare": "Iriscare",
    "aviq": "AViQ",
    "vaph": "VAPH",
    "other": _l("Other funder"),
}
CONSENTS = {
    "reminder": _l("Reminders of visits"),
    "service_change": _l("Changes of visits (new aide, new time)"),
    "information": _l("Information from the service"),
}
LOCATION_SOURCES = {
    "typed": _l("typed"),
    "gps": _l("GPS fix at the door"),
}
VISIT_STATUSES = {
    "planned": _l("Planned"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
CANCEL_REASONS = {
    "holiday": _l("public holiday"),
    "suspended": _l("plan suspended"),
    "plan": _l("no longer in the plan"),
}
LIFE_BOOK = {
    "habits": (_l("Habits"), _l("Daily rhythm, rituals, how the person likes things done.")),
    "likes": (_l("Likes"), _l("Food, music, topics of conversation, activities.")),
    "calms": (_l("What calms"), _l("What helps when the person is anxious or upset.")),
    "avoid": (_l("What to avoid"), _l("Words, gestures or situations that upset the person.")),
}
CATEGORIES = ("a", "b", "c", "d", "e")

# Meals on wheels ordered from a care plan: the diets of the meal service (rounds' codes).
DIETS = {
    "normal": _l("Normal"),
    "diabetic": _l("Diabetic"),
    "no_salt": _l("No salt"),
    "mixed_texture": _l("Mixed texture"),
}

LABELS = {
    "service": SERVICES,
    "diet": DIETS,
    "skill": SKILLS,
    "weekday": WEEKDAYS,
    "holiday_rule": HOLIDAY_RULES,
    "suspension_reason": SUSPENSION_REASONS,
    "absence_reason": ABSENCE_REASONS,
    "transport_mode": TRANSPORT_MODES,
    "language": LANGUAGES,
    "language_tag": LANGUAGE_TAGS,
    "funder": FUNDERS,
    "consent": CONSENTS,
    "location_source": LOCATION_SOURCES,
    "visit_status": VISIT_STATUSES,
    "cancel_reason": CANCEL_REASONS,
    "life_book": LIFE_BOOK,
    "category": CATEGORIES,
}


def day(value: date | None, format: str = "medium") -> str:
    """A calendar day (no time zone) in the locale's format."""
    return "" if value is None else format_date(value, format)
