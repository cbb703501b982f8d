"""The SMS texts: kinds of template, their placeholders, default wording, rendering.

Defaults are short, plain and GSM-7 (é, è, à are GSM; ê, ç, ’ are not): one character
outside the GSM alphabet doubles the price of a French SMS. The CPAS may edit every text
(`sms_templates`); an edited text may only use its kind's placeholders.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from babel.dates import format_date, format_time
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock, plugins
from core.errors import FieldError, Invalid
from notifications.models import BODY_MAX, LANGUAGES, Template
from notifications.sms import count_segments, gsm7_suggestion, is_gsm7

TEMPLATE_MAX_SEGMENTS = 3  # a template longer than this is not read on a basic phone
# {cpas}, the sender's name in the text ("CPAS de Charleroi"): when the message cannot
# tell which CPAS it is from (no CPAS known), the generic word, as texts said before.
CPAS_FALLBACK = {"fr": "CPAS", "nl": "OCMW", "en": "CPAS"}


@dataclass(frozen=True)
class TemplateKind:
    code: str
    category: str
    placeholders: tuple[str, ...]
    defaults: Mapping[str, str] = field(default_factory=dict)  # language -> text
    example: Mapping[str, str] = field(default_factory=dict)  # placeholder -> sample value

    def __post_init__(self) -> None:
        missing = set(LANGUAGES) - set(self.defaults)
        if missing:
            raise ValueError(f"template {self.code} lacks a default text in {sorted(missing)}")


def kinds() -> list[TemplateKind]:
    """Every installed domain's kinds (each declares its own in its descriptor)."""
    return sorted(plugins.template_kinds(), key=lambda kind: kind.code)


def get_kind(code: str) -> TemplateKind | None:
    return plugins.template_kind(code)


APPOINTMENT_EXAMPLE = {
    "cpas": "CPAS de Bruxelles",
    "service": "Permanence sociale",
    "date": "lundi 24/11",
    "time": "14h30",
    "place": "Rue Haute 298",
    # A token as long as a real one (22 characters): the editor counts segments with it.
    "link": "https://terrain.example/r/Ab3dE-f6Gh7_Jk8Lm9Np0Q",
}

# The kinds notifications itself offers (declared in notifications/domain.py).
KINDS = (
    TemplateKind(
        code="appointment_reminder",
        category="reminder",
        placeholders=("cpas", "service", "date", "time", "place"),
        defaults={
            "fr": "{cpas}: rappel de votre rendez-vous {service} le {date} à {time}, {place}. "
            "Répondez OUI pour confirmer ou NON pour annuler.",
            "nl": "{cpas}: herinnering aan uw afspraak {service} op {date} om {time}, {place}. "
            "Antwoord JA om te bevestigen of NEE om te annuleren.",
            "en": "{cpas}: reminder of your appointment {service} on {date} at {time}, {place}. "
            "Reply YES to confirm or NO to cancel.",
        },
        example=APPOINTMENT_EXAMPLE,
    ),
    # Where the CPAS's sender cannot receive replies (an alphanumeric name), reminders ask
    # nothing back: they give the place's phone number, or say nothing when none is known.
    TemplateKind(
        code="appointment_reminder_call",
        category="reminder",
        placeholders=("cpas", "service", "date", "time", "place", "phone"),
        defaults={
            "fr": "{cpas}: rappel de votre rendez-vous {service} le {date} à {time}, {place}. "
            "Pour annuler ou déplacer, appelez le {phone}.",
            "nl": "{cpas}: herinnering aan uw afspraak {service} op {date} om {time}, {place}. "
            "Om te annuleren of te verplaatsen, bel {phone}.",
            "en": "{cpas}: reminder of your appointment {service} on {date} at {time}, {place}. "
            "To cancel or move it, call {phone}.",
        },
        example={**APPOINTMENT_EXAMPLE, "phone": "02 543 61 11"},
    ),
    TemplateKind(
        code="appointment_reminder_plain",
        category="reminder",
        placeholders=("cpas", "service", "date", "time", "place"),
        defaults={
            "fr": "{cpas}: rappel de votre rendez-vous {service} le {date} à {time}, {place}.",
            "nl": "{cpas}: herinnering aan uw afspraak {service} op {date} om {time}, {place}.",
            "en": "{cpas}: reminder of your appointment {service} on {date} at {time}, {place}.",
        },
        example=APPOINTMENT_EXAMPLE,
    ),
    TemplateKind(
        code="appointment_confirmation",
        category="reminder",
        placeholders=("cpas", "service", "date", "time", "place", "link"),
        defaults={
            "fr": "{cpas}: rendez-vous {service} le {date} à {time}, {place}. "
            "Annuler ou déplacer: {link}",
            "nl": "{cpas}: afspraak {service} op {date} om {time}, {place}. "
            "Annuleren of verplaatsen: {link}",
            "en": "{cpas}: appointment {service} on {date} at {time}, {place}. "
            "Cancel or move: {link}",
        },
        example=APPOINTMENT_EXAMPLE,
    ),
    TemplateKind(
        code="appointment_changed",
        category="service_change",
        placeholders=("cpas", "service", "date", "time", "place", "link"),
        defaults={
            "fr": "{cpas}: votre rendez-vous {service} est changé. Nouveau: le {date} à {time}, "
            "{place}. Infos: {link}",
            "nl": "{cpas}: uw afspraak {service} is gewijzigd. Nieuw: op {date} om {time}, "
            "{place}. Info: {link}",
            "en": "{cpas}: your appointment {service} has changed. New: {date} at {time}, "
            "{place}. Info: {link}",
        },
        example=APPOINTMENT_EXAMPLE,
    ),
    TemplateKind(
        code="verification_code",
        category="verification",
        placeholders=("cpas", "code"),
        defaults={
            "fr": "{cpas}: votre code est {code}. Il est valable 10 minutes.",
            "nl": "{cpas}: uw code is {code}. Hij is 10 minuten geldig.",
            "en": "{cpas}: your code is {code}. It is valid for 10 minutes.",
        },
        example={"cpas": "CPAS de Bruxelles", "code": "482913"},
    ),
    # Answers to SMS replies (sent back in the TwiML answer, not through the outbox).
    TemplateKind(
        code="reply_confirmed",
        category="reminder",
        placeholders=("cpas", "date", "time"),
        defaults={
            "fr": "{cpas}: merci, votre rendez-vous du {date} à {time} est confirmé.",
            "nl": "{cpas}: bedankt, uw afspraak van {date} om {time} is bevestigd.",
            "en": "{cpas}: thank you, your appointment on {date} at {time} is confirmed.",
        },
        example=APPOINTMENT_EXAMPLE,
    ),
    TemplateKind(
        code="reply_cancelled",
        category="reminder",
        placeholders=("cpas", "date", "time"),
        defaults={
            "fr": "{cpas}: votre rendez-vous du {date} à {time} est annulé. "
            "Pour un autre rendez-vous, contactez votre antenne.",
            "nl": "{cpas}: uw afspraak van {date} om {time} is geannuleerd. "
            "Voor een nieuwe afspraak, contacteer uw antenne.",
            "en": "{cpas}: your appointment on {date} at {time} is cancelled. "
            "For another appointment, contact your office.",
        },
        example=APPOINTMENT_EXAMPLE,
    ),
    TemplateKind(
        code="reply_stopped",
        category="reminder",
        placeholders=("cpas", "topic"),
        defaults={
            "fr": "{cpas}: c'est noté, vous ne recevrez plus de SMS pour: {topic}. "
            "Pour changer d'avis, adressez-vous à votre antenne.",
            "nl": "{cpas}: genoteerd, u krijgt geen sms meer over: {topic}. "
            "Om dit te wijzigen, contacteer uw antenne.",
            "en": "{cpas}: noted, you will no longer get SMS about: {topic}. "
            "To change this, contact your office.",
        },
        example={"cpas": "CPAS de Bruxelles", "topic": "rappels de rendez-vous"},
    ),
    TemplateKind(
        code="reply_received",
        category="reminder",
        placeholders=("cpas",),
        defaults={
            "fr": "{cpas}: message bien arrivé. L'accueil vous répondra.",
            "nl": "{cpas}: bericht ontvangen. Het onthaal antwoordt u.",
            "en": "{cpas}: message received. Reception will answer you.",
        },
        example={"cpas": "CPAS de Bruxelles"},
    ),
    # To a number no CPAS knows, writing to the number several CPAS share: nobody reads
    # it there (docs/sms.md, "SMS of no CPAS"); once per number and day.
    TemplateKind(
        code="reply_no_cpas",
        category="reminder",
        placeholders=(),
        defaults={
            "fr": "Ce numéro sert à plusieurs CPAS: votre message risque de ne pas être "
            "lu. Contactez directement votre CPAS.",
            "nl": "Dit nummer dient voor meerdere OCMW's: uw bericht wordt mogelijk niet "
            "gelezen. Neem rechtstreeks contact op met uw OCMW.",
            "en": "This number serves several CPAS: your message may not be read. "
            "Contact your CPAS directly.",
        },
    ),
)

# What STOP stopped, in the words of the reply (plain, GSM-7).
CATEGORY_TOPICS = {
    "fr": {
        "reminder": "rappels de rendez-vous",
        "service_change": "changements de service",
        "information": "informations",
    },
    "nl": {
        "reminder": "herinneringen aan afspraken",
        "service_change": "wijzigingen van diensten",
        "information": "informatie",
    },
    "en": {
        "reminder": "appointment reminders",
        "service_change": "service changes",
        "information": "information",
    },
}


def placeholders_of(text: str) -> list[str]:
    """The placeholder names in `text`; raises ValueError for a malformed brace."""
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(name)
        names.append(name)
    return names


def check_text(kind: TemplateKind, text: str) -> dict[str, FieldError]:
    """Field errors of a template text (empty, unknown placeholder, too long)."""
    body = text.strip()
    if not body:
        return {"body": FieldError("required")}
    try:
        names = placeholders_of(body)
    except ValueError:
        return {"body": FieldError("malformed_placeholder")}
    unknown = sorted(set(names) - set(kind.placeholders))
    if unknown:
        return {
            "body": FieldError(
                "unknown_placeholder",
                {"name": unknown[0], "allowed": ", ".join(f"{{{n}}}" for n in kind.placeholders)},
            )
        }
    sample = fill(body, kind.example or {name: "" for name in kind.placeholders})
    if count_segments(sample).segments > TEMPLATE_MAX_SEGMENTS or len(body) > BODY_MAX:
        return {"body": FieldError("too_many_segments", {"max": TEMPLATE_MAX_SEGMENTS})}
    return {}


def fill(text: str, values: Mapping[str, str]) -> str:
    """Put the values in; when the text itself is GSM-7, keep the result GSM-7 too
    (a name with ë or the month "août" would otherwise double the price)."""
    if is_gsm7(text):
        values = {name: gsm7_suggestion(value) or value for name, value in values.items()}
    return text.format_map(_Values(values))


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


_READ_TEMPLATES = "sms_read_templates"  # session.info: {(code, language): body or None}


def read_templates(session: Session, codes: Sequence[str]) -> None:
    """Read the CPAS's texts of these kinds, every language, in one query: the messages
    rendered next in this session (a booking's confirmation and reminders) read none."""
    wanted = templates_to_read(session, codes)
    if not wanted:
        return
    remember_templates(
        session,
        wanted,
        session.execute(
            select(Template.code, Template.language, Template.body).where(Template.code.in_(wanted))
        ),
    )


def templates_to_read(session: Session, codes: Sequence[str]) -> list[str]:
    """The kinds among `codes` this session has not read yet."""
    read = session.info.get(_READ_TEMPLATES, {})
    return [code for code in codes if (code, LANGUAGES[0]) not in read]


def remember_templates(
    session: Session, codes: Sequence[str], rows: Iterable[tuple[str, str, str]]
) -> None:
    """Keep the (code, language, body) rows read of the kinds `codes` for this session
    (a language without a row: the default)."""
    read = session.info.setdefault(_READ_TEMPLATES, {})
    edited = {(code, language): body for code, language, body in rows}
    for code in codes:
        for language in LANGUAGES:
            read[(code, language)] = edited.get((code, language))


def template_text(session: Session, code: str, language: str) -> str:
    """The CPAS's text for this kind and language, else the built-in default."""
    kind = plugins.template_kind(code)
    assert kind is not None, code
    read = session.info.get(_READ_TEMPLATES, {})
    if (code, language) in read:
        body = read[(code, language)]
    else:
        edited = session.get(Template, (code, language))
        body = edited.body if edited is not None else None
    return body if body is not None else kind.defaults[language]


def save_template(
    session: Session, *, code: str, language: str, body: str, actor_id: int | None
) -> Template:
    kind = plugins.template_kind(code)
    if kind is None or language not in LANGUAGES:
        raise Invalid({"code": FieldError("unknown_choice")})
    errors = check_text(kind, body)
    if errors:
        raise Invalid(errors)
    session.info.pop(_READ_TEMPLATES, None)
    template = session.get(Template, (code, language))
    if template is None:
        template = Template(code=code, language=language, body=body.strip())
        session.add(template)
    template.body = body.strip()
    template.updated_at = clock.now()
    template.updated_by_id = actor_id
    return template


def reset_template(session: Session, *, code: str, language: str) -> None:
    """Back to the built-in text."""
    session.info.pop(_READ_TEMPLATES, None)
    template = session.get(Template, (code, language))
    if template is not None:
        session.delete(template)


def edited_templates(session: Session) -> dict[tuple[str, str], Template]:
    return {(t.code, t.language): t for t in session.scalars(select(Template))}


def cpas_values(names: Mapping[str, str] | None, language: str | None) -> dict[str, str]:
    """The {cpas} value of a text from the CPAS's names by language (`Cpas.label`):
    in `language`, and in Dutch as "cpas.nl" for the Dutch half of a bilingual text.
    No names: nothing (the text then says CPAS / OCMW)."""
    if not names:
        return {}
    first = names.get(language or "fr") or names.get("fr") or ""
    values = {"cpas": first} if first else {}
    if names.get("nl"):
        values["cpas.nl"] = names["nl"]
    return values


def _in_language(values: Mapping[str, str], language: str) -> dict[str, str]:
    """The values for a text in `language`: {cpas} defaults to the generic word; a value
    given per language ("cpas.nl") wins in that language."""
    chosen = {"cpas": CPAS_FALLBACK.get(language, "CPAS"), **values}
    suffix = f".{language}"
    for name, value in values.items():
        if name.endswith(suffix) and value:
            chosen[name.removesuffix(suffix)] = value
    return chosen


def render(
    session: Session, code: str, language: str | None, values: Mapping[str, str]
) -> tuple[str, str]:
    """(text, language) in the person's language, or French then Dutch when unknown."""
    if language in LANGUAGES:
        text = fill(template_text(session, code, language), _in_language(values, language))
        return text, language
    french = fill(template_text(session, code, "fr"), _in_language(values, "fr"))
    dutch = fill(template_text(session, code, "nl"), _in_language(values, "nl"))
    return f"{french}\n{dutch}", "fr+nl"


def moment_values(moment: datetime, language: str | None) -> dict[str, str]:
    """{date} and {time} of a moment, in Brussels time, as the person reads them."""
    local = clock.to_local(moment)
    locale = language if language in LANGUAGES else "fr"
    if language not in LANGUAGES:
        # Bilingual messages carry one date for both languages: the digits.
        return {"date": local.strftime("%d/%m"), "time": local.strftime("%H:%M")}
    return {
        "date": format_date(local, "EEEE d/MM", locale=locale),
        "time": format_time(local, "HH'h'mm" if locale == "fr" else "HH:mm", locale=locale),
    }
