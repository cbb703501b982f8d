"""Translation catalogues: complete, not fuzzy, placeholders kept, and the .pot up to date.

No database, no Flask app: Babel reads the files and extracts the strings in-process.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
LANGUAGES = ("fr", "nl", "en")
# The same keywords as `make translations` (pybabel extract -k _l -k lazy_gettext -k ngettext:1,2).
KEYWORDS = {**DEFAULT_KEYWORDS, **parse_keywords(["_l", "lazy_gettext", "ngettext:1,2"])}
FIX = (
    "Run `make translations`, then translate the new strings in "
    "translations/*/LC_MESSAGES/messages.po."
)

# %(name)s, %(num)d, %(price).2f ... and the escaped percent sign %%.
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*(?:\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa]")
ESCAPED_PERCENT = "%%"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


@cache
def template() -> Catalog:
    return _read(POT)


@cache
def catalogue(language: str) -> Catalog:
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing. {FIX}"
    return _read(path, language)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    """msgids; a plural entry counts as its (singular, plural) pair."""
    return {
        message.id if isinstance(message.id, str) else tuple(message.id)
        for message in catalog
        if message.id
    }


def _label(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _forms(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ("",)
    return (value,) if isinstance(value, str) else tuple(value)


def _placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PLACEHOLDER.finditer(text)}


def _stray_percent(text: str) -> bool:
    """A % that is neither a placeholder nor %% breaks `text % values` at run time."""
    return "%" in PLACEHOLDER.sub("", text).replace(ESCAPED_PERCENT, "")


@cache
def extracted_ids() -> set[str | tuple[str, ...]]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")
    extracted = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        extracted.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return _ids(extracted)


def test_the_template_matches_the_source_strings():
    in_source, in_pot = extracted_ids(), _ids(template())
    added, removed = sorted(in_source - in_pot, key=str), sorted(in_pot - in_source, key=str)
    assert not added and not removed, (
        "translations/messages.pot is out of date with the source.\n"
        f"  New strings not in messages.pot: {added}\n"
        f"  Strings in messages.pot no longer in the source: {removed}\n"
        f"{FIX}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_holds_exactly_the_template_strings(language):
    in_po, in_pot = _ids(catalogue(language)), _ids(template())
    missing, stale = sorted(in_pot - in_po, key=str), sorted(in_po - in_pot, key=str)
    assert not missing and not stale, (
        f"translations/{language}/LC_MESSAGES/messages.po does not match messages.pot.\n"
        f"  Missing: {missing}\n  No longer used: {stale}\n{FIX}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_fully_translated_and_not_fuzzy(language):
    catalog = catalogue(language)
    assert not catalog.fuzzy, f"{language}: the header is marked fuzzy; remove '#, fuzzy'."
    problems = []
    for source in template():
        if not source.id:
            continue
        message = catalog.get(source.id)
        if message is None:
            continue  # reported by test_catalogue_holds_exactly_the_template_strings
        if message.fuzzy:
            problems.append(f"fuzzy: {_label(source)!r}")
        forms = _forms(message.string)
        if source.pluralizable and len(forms) != catalog.num_plurals:
            problems.append(f"needs {catalog.num_plurals} plural forms: {_label(source)!r}")
        if not all(form.strip() for form in forms):
            problems.append(f"not translated: {_label(source)!r}")
    assert not problems, f"translations/{language}/LC_MESSAGES/messages.po:\n  " + "\n  ".join(
        problems
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language):
    catalog = catalogue(language)
    problems = []
    for source in template():
        if not source.id or not source.python_format:
            continue
        message = catalog.get(source.id)
        if message is None:
            continue
        wanted = set().union(*(_placeholders(text) for text in _forms(source.id)))
        for form in _forms(message.string):
            if not form:
                continue  # reported by test_catalogue_is_fully_translated_and_not_fuzzy
            found = _placeholders(form)
            if found != wanted:
                problems.append(
                    f"{_label(source)!r} -> {form!r}: missing {sorted(wanted - found)}, "
                    f"unknown {sorted(found - wanted)}"
                )
            elif _stray_percent(form):
                problems.append(f"{_label(source)!r} -> {form!r}: a lone % (write %%)")
    assert not problems, f"translations/{language}/LC_MESSAGES/messages.po:\n  " + "\n  ".join(
        problems
    )
