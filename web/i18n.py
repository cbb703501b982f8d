"""Languages: the user's profile, else the switcher's cookie, else Accept-Language."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, current_app, g, request
from flask_babel import format_date, format_datetime, format_time, refresh
from flask_login import current_user
from sqlalchemy import inspect

from core import clock
from core.accounts import LANGUAGES, User
from core.config import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
COOKIE = "terrain_lang"
PAGE_LANGUAGE = "terrain_page_language"
DEFAULT = "fr"
LANGUAGE_NAMES = {"fr": "Français", "nl": "Nederlands", "en": "English"}


# The signed-in user's language as read when the request began (`note_user_language`).
USER_LANGUAGE = "terrain_user_language"


def note_user_language(user: User) -> None:
    """Remember the signed-in user's language as the request begins (the session check,
    once the user is loaded)."""
    g.setdefault(USER_LANGUAGE, user.language)


def user_language(user: User) -> str | None:
    """The user's language without loading the user again: a use case that rolled back
    (a refused booking's 409) expired the row, and with it any change this request made,
    so the value noted when the request began is the saved one (issue 20: one query and
    an ORM load less per refused request). A change this request committed is read."""
    if USER_LANGUAGE not in g or "language" in inspect(user).dict:
        return user.language
    return g.get(USER_LANGUAGE)


def select_locale() -> str:
    if current_user and current_user.is_authenticated:
        language = user_language(current_user._get_current_object())
        if language:
            return language
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    # A page about someone's appointment speaks the language they chose for its SMS.
    preferred = g.get(PAGE_LANGUAGE)
    if preferred in LANGUAGES:
        return preferred
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def prefer_language(language: str | None) -> None:
    """This request's page speaks `language` unless the person chose one with the
    switcher (the /r/ link speaks the SMS's language)."""
    if language in LANGUAGES:
        g.setdefault(PAGE_LANGUAGE, language)
        refresh()  # the locale may have been read already in this request


def remember_language(response: Response, language: str) -> None:
    """The switcher's choice, kept on this device for a year."""
    response.set_cookie(
        COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def compile_catalogs(directory: Path = TRANSLATIONS) -> None:
    """Write each messages.mo from its .po when missing or older (atomic: workers race)."""
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        fd, tmp = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo_path)


def local_datetime(moment: datetime | None, format: str = "medium") -> str:
    return "" if moment is None else format_datetime(clock.to_local(moment), format)


def local_date(moment: datetime | None, format: str = "full") -> str:
    return "" if moment is None else format_date(clock.to_local(moment), format)


def local_time(moment: datetime | None, format: str = "short") -> str:
    return "" if moment is None else format_time(clock.to_local(moment), format)


def init_app(app: Flask) -> None:
    compile_catalogs()
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["local_time"] = local_time
