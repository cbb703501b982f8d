"""A day of real use (issue 16): every page a role reaches, in French, speaks French.

Each role logs in in French and follows the links of the pages it reaches (GET only,
bounded); no page may show an English sentence of the catalogues left untranslated
(a msgid whose French differs from it), nor a raw code ("appointment_cancelled",
"appointment:12"). Also the home-care aide's home page, and the header's sync status
only for roles whose work is synced.
"""

from __future__ import annotations

import re
from collections import deque
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po

from core import accounts
from tests.conftest import Browser, log_in_directly

ROOT = Path(__file__).resolve().parents[2]
PAGES_PER_ROLE = 120
VARIANTS_PER_PATH = 3  # the same page with other query strings (filters, pages), or
# other records of one kind (/sms/contacts/<id>, /sms/templates/<code>/<language>)
NUMBER = re.compile(r"/\d+(?=/|$)")
SKIP = ("/logout", "/static/", "/api/", "/language", "/sw.js", "/manifest", "/sync/")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]+\}")
RAW_CODES = (
    re.compile(r"\b[a-z]+(?:_[a-z]+)+\b"),  # appointment_cancelled, no_consent
    re.compile(r"\b(?:appointment|phone-check|broadcast|contact):\d+\b"),
)
# Words with an underscore that are not codes in visible text (none known yet).
ALLOWED_CODES: frozenset[str] = frozenset()
VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"})
# The audit log shows what was recorded as it was stored (entity types, field names),
# for the administrator: its codes are its content.
RAW_ALLOWED_ON = ("/admin/audit",)


@cache
def english_sentences() -> tuple[str, ...]:
    """The English literal parts of msgids translated differently in French: at least
    three words, so "Total" or "Service" (the same in both) never match."""
    with open(ROOT / "translations/fr/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle, locale="fr")
    found: set[str] = set()
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings:
                continue
            for part in PLACEHOLDER.split(msgid):
                part = part.strip(" .,:;·()…")
                if len(part.split()) >= 3 and len(part) >= 15:
                    found.add(part)
    return tuple(sorted(found))


class _Page(HTMLParser):
    """The visible text of a page and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        self._other: list[list] = []  # [tag, depth] of an element in another language

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if tag == "a" and values.get("href") and values.get("download") is None:
            self.links.append(values["href"] or "")
        # Text marked as another language (an SMS text in Dutch or English, the language
        # switcher) is meant to be in that language.
        if self._other and tag == self._other[-1][0]:
            self._other[-1][1] += 1
        elif (values.get("lang") or "fr")[:2] != "fr" and tag not in VOID:
            self._other.append([tag, 1])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1
        if self._other and tag == self._other[-1][0]:
            self._other[-1][1] -= 1
            if not self._other[-1][1]:
                self._other.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._other:
            self.text.append(data)


def _read(html: str) -> tuple[str, list[str]]:
    parser = _Page()
    parser.feed(html)
    return " ".join(" ".join(parser.text).split()), parser.links


def _crawl(browser: Browser) -> dict[str, str]:
    """Path → visible text of every page reached from the home page (bounded)."""
    seen: set[str] = set()
    per_path: dict[str, int] = {}
    pages: dict[str, str] = {}
    queue = deque(["/"])
    while queue and len(pages) < PAGES_PER_ROLE:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = browser.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        text, links = _read(response.get_data(as_text=True))
        pages[url] = text
        for href in links:
            parts = urlsplit(urljoin("http://localhost" + url, href))
            if parts.netloc != "localhost" or parts.path.startswith(SKIP):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen or target in queue:
                continue
            kind = NUMBER.sub("/#", parts.path)
            if parts.query or kind != parts.path or kind.startswith("/sms/templates/"):
                kind = "/sms/templates/*" if kind.startswith("/sms/templates/") else kind
                per_path[kind] = per_path.get(kind, 0) + 1
                if per_path[kind] > VARIANTS_PER_PATH:
                    continue
            queue.append(target)
    return pages


def french(app, db, username: str) -> Browser:
    user = accounts.find_user(db, username)
    assert user is not None
    user.language = "fr"
    db.flush()
    browser = Browser(app.test_client())
    log_in_directly(browser.client, db, username)
    return browser


@pytest.mark.parametrize("username", ["admin", "coordination", "accueil", "as1", "aide1", "rue1"])
def test_no_page_of_the_french_ui_shows_english_or_a_raw_code(app, db, username):
    pages = _crawl(french(app, db, username))
    assert len(pages) >= 2, pages.keys()
    problems = []
    sentences = english_sentences()
    for url, text in pages.items():
        for sentence in sentences:
            if sentence in text:
                problems.append(f"{url}: English « {sentence} »")
        if url.startswith(RAW_ALLOWED_ON):
            continue
        for pattern in RAW_CODES:
            for code in set(pattern.findall(text)) - ALLOWED_CODES:
                problems.append(f"{url}: raw code « {code} »")
    assert not problems, "\n".join(sorted(problems))


def test_the_aide_home_greets_her_with_her_role_and_the_sync_badge(app, db):
    page = french(app, db, "aide1").get("/").get_data(as_text=True)
    assert "Bonjour Fatima El Amrani" in page.split("</h1>")[0]
    assert "Aide familiale" in page.split("</dl>")[0]
    assert "data-sync-status" in page  # her visits are on her phone (issue 18)
    # A street educator's work is synced too; a reception's is not.
    assert "data-sync-status" in french(app, db, "rue1").get("/").get_data(as_text=True)
    assert "data-sync-status" not in french(app, db, "accueil").get("/").get_data(as_text=True)


def test_a_dutch_aide_reads_her_team_in_dutch(app, db):
    user = accounts.find_user(db, "aide2")
    assert user.team.name_nl == "Dienst voor gezinshulp"
    browser = Browser(app.test_client())
    log_in_directly(browser.client, db, "aide2")  # her language: Dutch
    page = browser.get("/").get_data(as_text=True)
    assert "Dienst voor gezinshulp" in page and "Service d&#39;aide aux familles" not in page
    assert "Service d&#39;aide aux familles" in french(app, db, "aide1").get("/").get_data(
        as_text=True
    )
