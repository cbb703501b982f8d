"""Phone numbers: stored in E.164, parsed with Belgium as the default region."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

DEFAULT_REGION = "BE"


class InvalidPhoneNumber(ValueError):
    """The text is not a phone number we can reach."""


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    is_mobile: bool

    def national(self) -> str:
        parsed = phonenumbers.parse(self.e164)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize(raw: str, region: str = DEFAULT_REGION) -> PhoneNumber:
    """Parse `raw` ("0470 12 34 56", "+32 2 123 45 67", ...) into E.164, or raise."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidPhoneNumber(raw)
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(raw) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(raw)
    kind = phonenumbers.number_type(parsed)
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        is_mobile=kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE),
    )
