"""SMS segment counting (notifications/sms.py): GSM 03.38 alphabet, segment boundaries,
escape and surrogate pairs never split, GSM-7 suggestions. No database, no Flask app."""

from __future__ import annotations

import dataclasses
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentCount,
    SpellingSuggestion,
    count_segments,
    gsm7_suggestion,
    is_gsm7,
    savings,
    spelling_suggestion,
)

FRENCH_NOT_GSM = "çêâîôûëïœŒ’‘“”«»…\u00a0–—"
EMOJI = "😀👍🎉🏠"
ARABIC = "موعدك غدا"


# --- the alphabet -----------------------------------------------------------------------


def test_alphabet_sizes_follow_gsm_03_38():
    assert len(GSM7_BASIC) == 127  # 128 positions, minus the escape 0x1B
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert "\x1b" not in GSM7_BASIC | GSM7_EXTENSION


@pytest.mark.parametrize(
    "char",
    list("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà"),
)
def test_basic_set_characters_are_gsm7_and_cost_one_septet(char: str):
    assert is_gsm7(char)
    assert count_segments(char).units == 1


@pytest.mark.parametrize("char", list("\f^{}\\[~]|€"))
def test_extension_characters_cost_two_septets(char: str):
    result = count_segments(char)
    assert (result.encoding, result.units, result.characters) == ("GSM-7", 2, 1)


@pytest.mark.parametrize("char", [*FRENCH_NOT_GSM, "È", "\t", "\x1b", "\u202f"])
def test_look_alikes_outside_gsm7_force_ucs2(char: str):
    result = count_segments(char)
    assert not is_gsm7(char)
    assert (result.encoding, result.non_gsm) == ("UCS-2", (char,))


def test_greek_capitals_are_the_greek_code_points():
    assert {"\u0394", "\u03a9"} <= GSM7_BASIC  # Δ Ω, not the increment or ohm signs
    assert not {"\u2206", "\u2126"} & GSM7_BASIC


# --- boundaries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "segments", "per_segment", "remaining"),
    [(1, 1, 160, 159), (160, 1, 160, 0), (161, 2, 153, 145), (306, 2, 153, 0), (307, 3, 153, 152)],
)
def test_gsm7_boundaries(length: int, segments: int, per_segment: int, remaining: int):
    result = count_segments("a" * length)
    assert result == SegmentCount("GSM-7", segments, length, length, per_segment, remaining, ())


@pytest.mark.parametrize(
    ("length", "segments", "per_segment", "remaining"),
    [(70, 1, 70, 0), (71, 2, 67, 63), (134, 2, 67, 0), (135, 3, 67, 66)],
)
def test_ucs2_boundaries(length: int, segments: int, per_segment: int, remaining: int):
    result = count_segments("ê" * length)
    assert result == SegmentCount("UCS-2", segments, length, length, per_segment, remaining, ("ê",))


def test_euro_signs_count_two_septets_each():
    assert (count_segments("€" * 80).units, count_segments("€" * 80).segments) == (160, 1)
    assert (count_segments("€" * 81).units, count_segments("€" * 81).segments) == (162, 2)


def test_escape_pair_is_not_split_at_a_segment_boundary():
    text = "a" * 152 + "€" + "a" * 152  # 306 septets: dividing says 2 segments
    result = count_segments(text)
    # segment 1: 152 a (the 153rd septet is wasted), segment 2: € + 151 a, segment 3: a
    assert (result.units, result.segments, result.remaining) == (306, 3, 152)
    # 161 septets: 152 a (one septet wasted), then € + 7 a in the second segment.
    assert count_segments("a" * 152 + "€" + "a" * 7).remaining == 144


def test_surrogate_pair_is_not_split_at_a_segment_boundary():
    text = "ê" * 66 + "😀" + "ê" * 66  # 134 UTF-16 units: dividing says 2 segments
    result = count_segments(text)
    assert (result.characters, result.units, result.segments, result.remaining) == (133, 134, 3, 66)


def test_emoji_are_two_utf16_units():
    assert count_segments("😀" * 35) == SegmentCount("UCS-2", 1, 35, 70, 70, 0, ("😀",))
    # 33 emoji fill 66 units of the first segment; the 67th unit is wasted.
    assert count_segments("😀" * 36) == SegmentCount("UCS-2", 2, 36, 72, 67, 61, ("😀",))


def test_extension_characters_cost_one_unit_in_ucs2():
    assert count_segments("€ê").units == 2


def test_empty_text_is_zero_gsm7_segments():
    assert count_segments("") == SegmentCount("GSM-7", 0, 0, 0, 160, 160, ())
    assert is_gsm7("")
    assert gsm7_suggestion("") is None


def test_non_gsm_lists_distinct_characters_in_order_of_appearance():
    assert count_segments("ôaêô’ê").non_gsm == ("ô", "ê", "’")


def test_segment_count_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        count_segments("a").segments = 2  # type: ignore[misc]


# --- French and Dutch -------------------------------------------------------------------


def test_french_reminder_without_circumflex_is_gsm7():
    result = count_segments("Rappel: RDV demain à 14h au CPAS")
    assert (result.encoding, result.segments) == ("GSM-7", 1)
    assert gsm7_suggestion("Rappel: RDV demain à 14h au CPAS") is None


def test_dutch_reminder_is_gsm7():
    result = count_segments("Herinnering: afspraak morgen om 14u")
    assert (result.encoding, result.segments) == ("GSM-7", 1)


def test_circumflex_forces_ucs2_and_the_suggestion_keeps_gsm_accents():
    text = "Votre rendez-vous est confirmé, à bientôt"
    result = count_segments(text)
    assert (result.encoding, result.non_gsm) == ("UCS-2", ("ô",))
    suggestion = gsm7_suggestion(text)
    assert suggestion == "Votre rendez-vous est confirmé, à bientot"
    assert is_gsm7(suggestion)
    assert count_segments(suggestion).segments <= result.segments


def test_one_circumflex_doubles_the_cost_of_a_french_sms():
    text = (
        "Bonjour, votre rendez-vous au CPAS de Saint-Gilles est fixé au vendredi 14 mars "
        "à 9h30. Merci d’être à l’heure."
    )
    assert count_segments(text).segments == 2
    assert gsm7_suggestion(text) == text.replace("’", "'").replace("ê", "e")
    assert savings(text) == (2, 1)


def test_lower_case_cedilla_is_replaced_upper_case_is_kept():
    assert is_gsm7("Ça va")
    assert not is_gsm7("reçu")
    assert gsm7_suggestion("Ça, reçu") == "Ça, recu"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l’heure", "l'heure"),
        ("‘oui’", "'oui'"),
        ("« Bonjour »", '" Bonjour "'),
        ("«\u00a0Bonjour\u00a0»", '" Bonjour "'),
        ("“merci”", '"merci"'),
        ("9h–12h — CPAS", "9h-12h - CPAS"),
        ("À demain…", "A demain..."),
        ("cœur Œuvre", "coeur OEuvre"),
        ("Noël, maïs, fête, âge, île, goût", "Noel, mais, fete, age, ile, gout"),
        ("Merci\u202f!", "Merci !"),
        ("Łukasz", "Lukasz"),
        ("cafe\u0301", "caf\u00e9"),  # a decomposed é composes to the GSM é
    ],
)
def test_suggestion_replaces_look_alikes(text: str, expected: str):
    assert gsm7_suggestion(text) == expected


def test_no_suggestion_when_some_character_has_no_gsm_look_alike():
    assert gsm7_suggestion(ARABIC) is None
    assert savings(ARABIC) is None
    assert gsm7_suggestion("À bientôt 😀") is None


def test_suggestion_can_cost_more_and_savings_says_so():
    assert savings("…" * 70) == (1, 2)


# --- properties -------------------------------------------------------------------------

GSM_CHARS = st.sampled_from(sorted(GSM7_BASIC))
EXTENSION_CHARS = st.sampled_from(sorted(GSM7_EXTENSION))
MIXED_CHARS = st.one_of(
    GSM_CHARS,
    GSM_CHARS,
    GSM_CHARS,
    EXTENSION_CHARS,
    st.sampled_from(FRENCH_NOT_GSM + "éèàùìòÇ"),
    st.sampled_from(EMOJI),
)
MIXED_TEXT = st.text(alphabet=MIXED_CHARS, max_size=400)
GSM_TEXT = st.text(alphabet=st.one_of(GSM_CHARS, GSM_CHARS, EXTENSION_CHARS), max_size=400)


def reference_segments(text: str) -> int:
    """Cut the encoded units every 153 (or 67), backing off one unit when the cut would
    separate an escape from its character or a high surrogate from its low surrogate."""
    if not text:
        return 0
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        units = [
            unit for char in text for unit in (["\x1b", char] if char in GSM7_EXTENSION else [char])
        ]
        leads = [unit == "\x1b" for unit in units]
        single, per_segment = 160, 153
    else:
        raw = text.encode("utf-16-be")
        codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
        leads = [0xD800 <= code <= 0xDBFF for code in codes]
        single, per_segment = 70, 67
    if len(leads) <= single:
        return 1
    segments, start = 0, 0
    while start < len(leads):
        end = min(start + per_segment, len(leads))
        if end < len(leads) and leads[end - 1]:
            end -= 1
        segments, start = segments + 1, end
    return segments


@given(MIXED_TEXT, MIXED_CHARS)
def test_appending_a_character_never_lowers_the_segment_count(text: str, char: str):
    assert count_segments(text + char).segments >= count_segments(text).segments


@given(GSM_TEXT.filter(bool))
def test_gsm7_text_is_one_segment_exactly_when_it_fits_160_septets(text: str):
    result = count_segments(text)
    assert result.encoding == "GSM-7"
    assert (result.segments == 1) == (result.units <= 160)


@given(MIXED_TEXT)
def test_count_segments_agrees_with_a_reference_packer(text: str):
    result = count_segments(text)
    assert result.segments == reference_segments(text)
    assert result.characters == len(text)
    assert 0 <= result.remaining <= result.per_segment
    if result.encoding == "UCS-2":
        assert result.units == len(text.encode("utf-16-le")) // 2


@given(st.text(alphabet=st.one_of(MIXED_CHARS, st.sampled_from(ARABIC)), max_size=200))
def test_suggestion_is_gsm7_and_loses_no_characters(text: str):
    suggestion = gsm7_suggestion(text)
    if suggestion is None:
        return
    assert is_gsm7(suggestion)
    assert count_segments(text).encoding == "UCS-2"
    assert len(suggestion) >= len(unicodedata.normalize("NFC", text))


# --- The suggestion staff are offered keeps the spelling (issue 16) ------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Merci d’être à l’heure.", "Merci de venir à l'heure."),
        ("Votre carte est prête.", "Votre carte est disponible."),
        ("Merci, à bientôt", "Merci, à très vite"),
        ("« Bonjour », s’il vous plaît", '" Bonjour ", s\'il vous plait'),  # 1990 reform
        ("Le coût, connaître, aoûtien", "Le cout, connaitre, aoutien"),
        ("À demain…", "A demain..."),
        ("cœur", "coeur"),
    ],
)
def test_the_spelling_suggestion_rewords_instead_of_misspelling(text: str, expected: str):
    suggestion = spelling_suggestion(text)
    assert suggestion == SpellingSuggestion(expected, ())
    assert is_gsm7(expected)


@pytest.mark.parametrize(
    ("text", "reword"),
    [
        ("Merci d’être venu", ("être",)),
        ("Ça, reçu", ("reçu",)),  # "Ça" is GSM-7: only "reçu" is left
        ("Noël, maïs, fête, âge, île", ("Noël", "maïs", "fête", "âge")),
        ("C’est sûr", ("sûr",)),  # the reform keeps the accent that tells words apart
        ("Uw afspraak in België", ("België",)),
    ],
)
def test_words_that_would_be_misspelt_are_named_not_changed(text: str, reword: tuple):
    assert spelling_suggestion(text) == SpellingSuggestion(None, reword)


def test_no_spelling_suggestion_for_gsm7_or_characters_without_look_alike():
    assert spelling_suggestion("Rappel: RDV demain à 14h") == SpellingSuggestion(None, ())
    assert spelling_suggestion("À bientôt 😀") == SpellingSuggestion(None, ())
    assert spelling_suggestion(ARABIC) == SpellingSuggestion(None, ())


@given(st.text(alphabet=st.one_of(MIXED_CHARS, st.sampled_from(ARABIC)), max_size=200))
def test_a_spelling_suggestion_is_always_gsm7(text: str):
    offered = spelling_suggestion(text)
    assert offered.text is None or is_gsm7(offered.text)
    assert not (offered.text and offered.reword)
