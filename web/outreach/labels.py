"""Labels of the street outreach codes, in the user's language (one place for every page).

The domain (outreach/) stores codes and knows no Flask-Babel; the ETHOS msgids here are
the English labels of outreach/ethos.py, word for word.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from outreach import ethos
from outreach.models import (
    AGE_BANDS,
    CONSENT_METHODS,
    CONSENT_SCOPES,
    CONTACT_TYPES,
    GENDERS,
    GIVEN,
    LANGUAGES,
    NEEDS,
    PARTNER_KINDS,
    REFERRAL_STATUSES,
)

LABELS: dict[str, dict[str, Any]] = {
    "age_band": {
        "under_18": _l("Under 18"),
        "18_25": _l("18–25"),
        "26_40": _l("26–40"),
        "41_60": _l("41–60"),
        "over_60": _l("Over 60"),
        "unknown": _l("Don't know"),
    },
    "gender": {
        "female": _l("Woman"),
        "male": _l("Man"),
        "other": _l("Other"),
        "unknown": _l("Don't know"),
    },
    "language": {
        "fr": "Français",
        "nl": "Nederlands",
        "en": "English",
        "ar": "العربية",
        "es": "Español",
        "pl": "Polski",
        "ro": "Română",
        "other": _l("Other language"),
        "unknown": _l("Don't know"),
    },
    "contact_type": {
        "first_contact": _l("First contact"),
        "greeting": _l("Greeting, brief contact"),
        "conversation": _l("Conversation"),
        "support": _l("Support, accompaniment"),
        "emergency": _l("Emergency"),
    },
    "needs": {
        "shelter": _l("Shelter for the night"),
        "food": _l("Food"),
        "health": _l("Health"),
        "papers": _l("Papers, identity"),
        "income": _l("Income, RIS"),
        "housing": _l("Housing"),
        "addiction": _l("Addiction"),
        "work_training": _l("Work, training"),
        "other": _l("Other need"),
    },
    "given": {
        "information": _l("Information"),
        "food_drink": _l("Food, drink"),
        "hygiene": _l("Hygiene kit"),
        "clothing": _l("Clothing, blanket"),
        "orientation": _l("Referred to a service"),
        "listening": _l("Listening"),
        "care": _l("First aid"),
    },
}
CHOICES = {
    "age_band": AGE_BANDS,
    "gender": GENDERS,
    "language": LANGUAGES,
    "contact_type": CONTACT_TYPES,
    "needs": NEEDS,
    "given": GIVEN,
}
LABELS.update(
    {
        "ethos": {
            "ethos_1": _l("Living rough (public space, no shelter)"),
            "ethos_2": _l("In emergency (night) accommodation"),
            "ethos_3": _l("In accommodation for the homeless"),
            "ethos_4": _l("In a women's shelter"),
            "ethos_5": _l("In accommodation for immigrants"),
            "ethos_6": _l("Due to be released from an institution"),
            "ethos_7": _l("Receiving longer-term support (due to homelessness)"),
            "ethos_8": _l("In insecure accommodation (with friends, no tenancy, squat)"),
            "ethos_9": _l("Under threat of eviction"),
            "ethos_10": _l("Under threat of violence"),
            "ethos_11": _l("In a temporary or non-conventional structure"),
            "ethos_12": _l("In unfit housing"),
            "ethos_13": _l("In extreme overcrowding"),
            "unknown": _l("Not known"),
        },
        "ethos_group": {
            "roofless": _l("Roofless"),
            "houseless": _l("Houseless"),
            "insecure": _l("Insecure housing"),
            "inadequate": _l("Inadequate housing"),
        },
        "referral_status": {
            "proposed": _l("Proposed"),
            "accepted": _l("Accepted"),
            "done": _l("Done"),
            "not_done": _l("Not done"),
        },
        "partner_kind": {
            "night_shelter": _l("Night shelter"),
            "day_centre": _l("Day centre"),
            "medical": _l("Medical care"),
            "mental_health": _l("Mental health"),
            "addiction": _l("Addiction services"),
            "housing": _l("Housing"),
            "food": _l("Food aid"),
            "legal": _l("Legal aid"),
            "youth": _l("Youth services"),
            "other": _l("Other service"),
        },
        "consent_scope": {
            "identity": _l("Keep their identity (name, birth date)"),
            "referral_sharing": _l("Share their file with the services they are referred to"),
        },
        "consent_method": {"oral": _l("Said so aloud"), "written": _l("Signed")},
    }
)
CHOICES.update(
    {
        "ethos": ethos.CODES,
        "ethos_group": tuple(ethos.GROUP_LABELS),
        "referral_status": REFERRAL_STATUSES,
        "partner_kind": PARTNER_KINDS,
        "consent_scope": CONSENT_SCOPES,
        "consent_method": CONSENT_METHODS,
    }
)


def label(kind: str, code: str) -> Any:
    """The label of `code` of `kind`; the code itself when unknown (never an error page)."""
    return LABELS.get(kind, {}).get(code, code)
