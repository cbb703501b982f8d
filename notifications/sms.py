"""SMS segments (GSM 03.38): what a text costs before it is sent, since one ê doubles a French SMS.

A text is GSM-7 when every character is in the default alphabet or its extension table
(extension characters cost two septets: escape + character); otherwise the whole text is
UCS-2, counted in UTF-16 code units. One message holds 160 septets or 70 units; once split,
each segment holds 153 or 67 (the rest carries the concatenation header). Segments are
counted by packing characters greedily, because an escape pair or a surrogate pair is never
cut: when it does not fit, the units left in the segment are wasted.

Empty text is 0 segments in GSM-7 (nothing would be sent). No Flask, no database.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]

ESCAPE: Final = "\x1b"

# The default alphabet in code order 0x00–0x7F, as in GSM 03.38; 0x1B is the escape to the
# extension table, not a character anyone types.
_BASIC_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
GSM7_BASIC: Final = frozenset(_BASIC_TABLE) - {ESCAPE}
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")
GSM7_CHARACTERS: Final = GSM7_BASIC | GSM7_EXTENSION

# (single message, per segment once concatenated), in septets or UTF-16 code units.
LIMITS: Final[dict[Encoding, tuple[int, int]]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}

# Look-alikes that Unicode decomposition does not reach. Accented letters (ê, ç, ï, …) are
# left to NFKD, which also turns the other exotic spaces into a plain space.
_LOOKALIKES: Final[dict[str, str]] = {
    "œ": "oe",
    "Œ": "OE",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‹": "'",
    "›": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "‐": "-",
    "‑": "-",
    "–": "-",
    "—": "-",
    "−": "-",
    "…": "...",
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space (French typography before : ; ! ?)
    "\t": " ",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ı": "i",
}


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """What sending a text costs.

    characters: code points; units: septets (GSM-7) or UTF-16 code units (UCS-2);
    per_segment: the limit that applies (160/153 or 70/67); remaining: units left in the last
    segment before another one is needed; non_gsm: the distinct characters that forced UCS-2,
    in order of first appearance.
    """

    encoding: Encoding
    segments: int
    characters: int
    units: int
    per_segment: int
    remaining: int
    non_gsm: tuple[str, ...]


def is_gsm7(text: str) -> bool:
    """True when the text can be sent in the GSM 7-bit alphabet (basic set or extension)."""
    return GSM7_CHARACTERS.issuperset(text)


def _units(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def count_segments(text: str) -> SegmentCount:
    """Encoding, segments and units of a text, packing whole characters into segments."""
    non_gsm = tuple(dict.fromkeys(char for char in text if char not in GSM7_CHARACTERS))
    encoding: Encoding = "UCS-2" if non_gsm else "GSM-7"
    costs = [_units(char, encoding) for char in text]
    units = sum(costs)
    single, per_segment = LIMITS[encoding]
    if units <= single:
        return SegmentCount(
            encoding=encoding,
            segments=1 if text else 0,
            characters=len(text),
            units=units,
            per_segment=single,
            remaining=single - units,
            non_gsm=non_gsm,
        )
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            segments, used = segments + 1, 0
        used += cost
    return SegmentCount(
        encoding=encoding,
        segments=segments,
        characters=len(text),
        units=units,
        per_segment=per_segment,
        remaining=per_segment - used,
        non_gsm=non_gsm,
    )


def _gsm_lookalike(char: str) -> str:
    if char in GSM7_CHARACTERS:
        return char
    if char in _LOOKALIKES:
        return _LOOKALIKES[char]
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(part for part in decomposed if not unicodedata.combining(part))
    return base if base and is_gsm7(base) else char


def gsm7_suggestion(text: str) -> str | None:
    """The text with look-alikes that fit GSM-7 (ê→e, ç→c, ’→', …→...), or None.

    None when the text is already GSM-7, or when some character has no GSM-7 look-alike
    (Arabic, emoji): a suggestion is only offered when the whole text becomes GSM-7.
    Characters already in GSM-7 are kept (é è à ù ì ò Ç). The text is composed (NFC)
    first, so a decomposed é (e + combining accent) stays é.
    """
    if is_gsm7(text):
        return None
    suggestion = "".join(map(_gsm_lookalike, unicodedata.normalize("NFC", text)))
    return suggestion if is_gsm7(suggestion) else None


def savings(text: str) -> tuple[int, int] | None:
    """(segments as written, segments with the suggestion), or None without a suggestion.

    The suggestion can cost more (70 × … is one UCS-2 message but 210 septets), so callers
    should offer it only when the second number is smaller.
    """
    suggestion = gsm7_suggestion(text)
    if suggestion is None:
        return None
    return count_segments(text).segments, count_segments(suggestion).segments


# --- A suggestion staff can accept: no misspelling ----------------------------------------

# Letters outside GSM-7 whose accent may be dropped without a spelling mistake: French
# allows "i" and "u" without the circumflex since the 1990 spelling reform (connaitre,
# gout, s'il vous plait), except in the words below, where the accent tells them apart.
_REFORM_DROPPABLE: Final = frozenset("îû")
_REFORM_EXCEPTIONS: Final = frozenset(
    {"sûr", "sûre", "sûrs", "sûres", "mûr", "mûre", "dû", "jeûne"}
)

# Common phrases of the CPAS's messages with a GSM-7 rewording that means the same.
REWORDINGS: Final[tuple[tuple[str, str], ...]] = (
    ("d'être à l'heure", "de venir à l'heure"),
    ("d'être présente", "de venir"),
    ("d'être présent", "de venir"),
    ("à bientôt", "à très vite"),
    ("peut-être", "sans doute"),
    ("est prête", "est disponible"),
    ("est prêt", "est disponible"),
    ("sont prêtes", "sont disponibles"),
    ("sont prêts", "sont disponibles"),
    ("ça", "cela"),
)


@dataclass(frozen=True, slots=True)
class SpellingSuggestion:
    """A GSM-7 text that keeps the spelling (or None), and the words still to reword."""

    text: str | None
    reword: tuple[str, ...]


def _safe_lookalike(char: str) -> str | None:
    """The GSM-7 stand-in that misspells nothing (quotes, dashes, spaces, œ, capitals
    without their accent), else None."""
    if char in GSM7_CHARACTERS:
        return char
    if char in _LOOKALIKES:
        return _LOOKALIKES[char]
    if char in _REFORM_DROPPABLE or (char.isupper() and char != char.lower()):
        base = _gsm_lookalike(char)
        return base if is_gsm7(base) else None
    return None


def _reword(text: str) -> str:
    """The known phrases replaced, keeping a capital at the start of each one."""
    for phrase, rewording in REWORDINGS:
        start = 0
        lower = text.lower()
        while (found := lower.find(phrase, start)) >= 0:
            end = found + len(phrase)
            before = text[found - 1] if found else " "
            after = text[end] if end < len(text) else " "
            if before.isalnum() or after.isalnum():
                start = end
                continue
            replacement = rewording
            if text[found].isupper():
                replacement = rewording[0].upper() + rewording[1:]
            text = text[:found] + replacement + text[end:]
            lower = text.lower()
            start = found + len(replacement)
    return text


def spelling_suggestion(text: str) -> SpellingSuggestion:
    """What staff are offered when a text is not GSM-7: the same text in GSM-7 without a
    spelling mistake (typographic quotes and spaces replaced, known phrases reworded,
    "î"/"û" as the 1990 reform allows), or, when a word would need a misspelling
    ("être" → "etre", "reçu", "België"), no text and the words to reword by hand."""
    text = unicodedata.normalize("NFC", text)
    if is_gsm7(text):
        return SpellingSuggestion(None, ())
    reworded = _reword(text.replace("’", "'").replace("‘", "'"))
    out: list[str] = []
    reword: dict[str, None] = {}
    for match in _words(reworded):
        word, is_word = match
        if not is_word:
            mapped = [_safe_lookalike(char) for char in word]
            if any(part is None for part in mapped):
                return SpellingSuggestion(None, ())  # an emoji, Arabic: no GSM-7 text
            out.append("".join(part or "" for part in mapped))
            continue
        if word.lower() in _REFORM_EXCEPTIONS:
            reword[word] = None
            out.append(word)
            continue
        mapped = [_safe_lookalike(char) for char in word]
        if any(part is None for part in mapped):
            if all(_gsm_lookalike(char) != char or char in GSM7_CHARACTERS for char in word):
                reword[word] = None  # a letter whose accent cannot be dropped
                out.append(word)
                continue
            return SpellingSuggestion(None, ())
        out.append("".join(part or "" for part in mapped))
    if reword:
        return SpellingSuggestion(None, tuple(reword))
    suggestion = "".join(out)
    return SpellingSuggestion(suggestion if is_gsm7(suggestion) else None, ())


def _words(text: str) -> list[tuple[str, bool]]:
    """The text cut into runs of letters (words) and the rest."""
    runs: list[tuple[str, bool]] = []
    for char in text:
        letter = char.isalpha()
        if runs and runs[-1][1] == letter:
            runs[-1] = (runs[-1][0] + char, letter)
        else:
            runs.append((char, letter))
    return runs
