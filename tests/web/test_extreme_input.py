"""Dates of year 1 or 9999, digits that are not ASCII, ids longer than an int column:
every page answers with a message or a 404, never a server error (found in review).
Then the request limits (security review, issue 13): JSON nested 100,000 deep, lone
surrogates, numbers beyond 64 bits, NUL and other control characters in every form."""

from __future__ import annotations

import html
import re
import uuid
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from sqlalchemy import String, select

from appointments.online import parse_start
from core import clock
from core.ids import parse_id
from core.text import CONTROL
from outreach.demo import demo_id

MOMO = demo_id("momo")
FAR = ("0001-01-01", "9999-12-31")


def test_parsers_refuse_what_would_overflow_or_is_not_an_ascii_number():
    assert parse_id("42") == 42
    for raw in ("²", "٣", "-1", "", " ", "9999999999", "1e3", None):
        assert parse_id(raw) is None, raw
    for raw in (*FAR, "2026-13-01", "x"):
        assert clock.parse_day(raw) is None, raw
    assert clock.parse_month("2026-11").isoformat() == "2026-11-01"
    assert clock.parse_month("9999-12") is None
    assert parse_start("0001-01-01T00:00:00") is None
    assert parse_start("9999-12-31T23:59:59-01:00") is None


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("accueil", f"/accueil/?day={FAR[0]}"),
        ("accueil", f"/accueil/?day={FAR[1]}"),
        ("coordination", "/parametres/rendez-vous/indicateurs?month=9999-12"),
        ("coordination", "/parametres/rendez-vous/indicateurs.csv?month=0001-01"),
        ("coordination", "/outreach/indicateurs?month=9999-12"),
        ("coordination", "/sms/report?month=9999-12"),
        ("admin", f"/admin/audit?date_from={FAR[0]}&date_to={FAR[1]}"),
        (
            "accueil",
            "/api/appointments/slots?cpas=bruxelles&service=permanence-sociale"
            f"&location=bxl-marolles&from={FAR[0]}",
        ),
    ],
)
def test_far_dates_get_a_message_not_a_server_error(login, username, path):
    response = login(username).get(path)
    assert response.status_code < 500, (path, response.status_code)


def test_ids_beyond_an_int_column_are_not_found(login):
    browser = login("accueil")
    response = browser.post("/accueil/appointments/99999999999999999999/move", {})
    assert response.status_code == 404
    response = browser.post("/accueil/appointments/1/call", {"agent": "²"})
    assert response.status_code < 500


def test_a_consent_dated_year_one_is_refused_with_a_message(login):
    response = login("rue1").post(
        f"/outreach/personnes/{MOMO}/consentements",
        {"scopes": ["identity"], "method": "oral", "given_at": "0001-01-01T00:00"},
    )
    assert response.status_code == 422


# --- Request limits: JSON depth, lone surrogates, huge numbers, control characters ---------

DEEP = b"[" * 100_000
ROLES = ("street_educator", "reception", "admin", "coordinator", "social_worker", "aide")


def _json_post_rules(app) -> list[str]:
    """Every POST route under /api that has no variable: the JSON-accepting endpoints."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and "POST" in (rule.methods or ()) and not rule.arguments
    )


def test_every_json_endpoint_refuses_deep_nesting_with_400_before_parsing(app, login):
    from tests.conftest import DEMO_USER_FOR_ROLE

    paths = _json_post_rules(app)
    assert {"/api/sync", "/api/appointments"} <= set(paths)
    browsers = {role: login(DEMO_USER_FOR_ROLE[role]) for role in ROLES}
    for path in paths:
        answers = []
        for role, browser in browsers.items():
            for body in (DEEP, b'{"ops": ' + DEEP, b'{"a": "[[[[", "b": ' + b"{" * 40):
                response = browser.client.post(
                    path,
                    data=body,
                    content_type="application/json",
                    headers={"X-CSRFToken": browser.token},
                )
                assert response.status_code < 500, (path, role)
                answers.append((role, response.status_code, response.get_json()))
        refused = [answer for answer in answers if answer[1] == 400]
        assert refused, (path, answers)  # some role may post here: it got the 400
        for _role, _status, body in refused:
            assert body["error"] == "too_deep" and body["max_depth"] == 32
            assert body["message"]


def test_json_nesting_is_counted_outside_strings_only():
    from core import text

    assert text.json_too_deep("[" * 100_000)
    assert not text.json_too_deep("[" * 32 + "]" * 32)
    assert text.json_too_deep("[" * 33 + "]" * 33)
    assert not text.json_too_deep('{"note": "' + "[{" * 500 + '"}')
    assert not text.json_too_deep('["\\"' + "[" * 100 + '"]')


def _sync(browser, data: dict, type_: str = "outreach.encounter.create") -> dict:
    from tests.db.encounter_ops import op

    response = browser.client.post(
        "/api/sync", json={"ops": [op(type_, data)]}, headers={"X-CSRFToken": browser.token}
    )
    assert response.status_code == 200
    return response.get_json()["results"][0]


def test_a_lone_surrogate_or_a_huge_number_in_an_op_is_rejected_with_its_field(login, caplog):
    from tests.db.encounter_ops import encounter_data

    browser = login("rue1")
    for field in ("note", "nickname"):
        result = _sync(browser, encounter_data(**{field: "caf\ud800"}))
        assert result["status"] == "rejected", result
        assert result["errors"][field]["code"] == "invalid_text"
        assert "cannot be stored" in result["errors"][field]["message"]
    start = {"id": str(uuid.uuid4()), "area": "Gare du Nord", "started_at": _minutes_ago(5)}
    for members, code in (([2**64 + 1], "number_too_large"), ([2**40], "unknown_user")):
        result = _sync(browser, {**start, "member_ids": members}, "outreach.maraude.start")
        assert result["status"] == "rejected", result
        assert result["errors"]["member_ids"]["code"] == code
    result = _sync(browser, {**start, "member_ids": ["99999999999999999999"]}, MARAUDE_START)
    assert result["errors"]["member_ids"]["code"] == "unknown_user"
    assert "server_error" not in caplog.text and "Traceback" not in caplog.text


MARAUDE_START = "outreach.maraude.start"


def _minutes_ago(minutes: int) -> str:
    from datetime import timedelta

    return clock.to_local(clock.now() - timedelta(minutes=minutes)).isoformat()


def test_control_characters_in_an_op_are_dropped_and_notes_keep_their_lines(login, db):
    from outreach.models import Encounter, Person
    from tests.db.encounter_ops import encounter_data

    browser = login("rue1")
    data = encounter_data(nickname="Le\x00 gui\ntariste\x07", note="Ligne 1\nLigne\x00 2\tfin")
    result = _sync(browser, data)
    assert result["status"] == "applied", result
    encounter = db.get(Encounter, uuid.UUID(data["id"]))
    assert encounter.note == "Ligne 1\nLigne 2\tfin"
    person = db.get(Person, uuid.UUID(data["person_id"]))
    assert person.nickname == "Le gui tariste"


def test_the_appointments_api_refuses_surrogates_and_huge_numbers_and_drops_nul(login, db):
    browser = login("accueil")
    for body, field, code in (
        ({"service": "x", "person": {"name": "A\udfff"}}, "name", "invalid_text"),
        ({"service": "x\ud800"}, "service", "invalid_text"),
        ({"service": "x", "agent_id": 2**70}, "agent_id", "number_too_large"),
    ):
        response = browser.client.post(
            "/api/appointments", json=body, headers={"X-CSRFToken": browser.token}
        )
        assert response.status_code == 422, response.get_json()
        answer = response.get_json()
        assert answer["error"] == "invalid"
        assert answer["errors"][field]["code"] == code
        assert answer["errors"][field]["message"]
    response = browser.client.post(
        "/api/appointments",
        json={"service": "permanence\x00", "location": "\x00", "agent_id": 2**40},
        headers={"X-CSRFToken": browser.token},
    )
    assert response.status_code == 422  # unknown service and place, said in fields


# --- Every form, every field: NUL and other control characters ------------------------------

NUL = "Nul\x00 ctrl\x07\x1b"
SKIP_PATHS = ("/logout", "/static/", "/sw.js", "/language", "/profile")
SKIP_SUFFIXES = (".csv", ".xlsx", ".ics", ".webmanifest", ".json")
MAX_PAGES = 100
TYPED = ("text", "search", "tel", "email", "url", "password")  # and textareas


class _Forms(HTMLParser):
    """Links and forms of a page: each form's method, action and fields (name, value)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._textarea: list | None = None
        self._select: list | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attr = dict(attrs)
        if tag == "a" and (attr.get("href") or "").startswith("/"):
            self.links.append(attr["href"])
        elif tag == "form":
            method = (attr.get("method") or "get").lower()
            self.forms.append({"method": method, "action": attr.get("action"), "fields": []})
        elif not self.forms or "name" not in attr:
            return
        elif tag == "input":
            kind = (attr.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attr:
                return
            if kind not in ("submit", "button", "file", "image", "reset"):
                typed = kind in TYPED
                self.forms[-1]["fields"].append([attr["name"], attr.get("value") or "", typed])
        elif tag == "textarea":
            self._textarea = [attr["name"], "", True]
            self.forms[-1]["fields"].append(self._textarea)
        elif tag == "select":
            self._select = [attr["name"], None, False]
            self.forms[-1]["fields"].append(self._select)
        elif (
            tag == "option"
            and self._select is not None
            and (self._select[1] is None or "selected" in attr)
        ):
            self._select[1] = attr.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data


def _shape(path: str) -> str:
    """A path with its ids blanked: one visit per kind of page or form."""
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<uuid>", path)
    return re.sub(r"/\d+", "/<id>", path.split("?")[0])


def _crawl(browser, start: list[str] | None = None) -> tuple[list[str], list[tuple[str, dict]]]:
    """Pages the user can reach from the menu, and one of each kind of form on them."""
    seen_pages: set[str] = set()
    queue, pages, forms = list(start or ["/", "/menu"]), [], {}
    while queue and len(pages) < MAX_PAGES:
        path = html.unescape(queue.pop(0))
        if (
            _shape(path) in seen_pages
            or path.startswith(SKIP_PATHS)
            or path.split("?")[0].endswith(SKIP_SUFFIXES)
        ):
            continue
        seen_pages.add(_shape(path))
        response = browser.get(path)
        assert response.status_code < 500, path
        if response.mimetype != "text/html":
            continue
        pages.append(path)
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        queue.extend(parser.links)
        for form in parser.forms:
            action = html.unescape(form["action"] or path)
            if action.startswith(SKIP_PATHS):
                continue
            key = (form["method"], _shape(action), tuple(sorted(f[0] for f in form["fields"])))
            forms.setdefault(key, (action, form))
    return pages, list(forms.values())


def _text_columns() -> list:
    """(table, its text columns) of every table that has some."""
    from core.db import Base

    found = []
    for table in Base.metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, String)]
        if columns:
            found.append((table, columns))
    return found


def _stored_control_characters(db) -> list[str]:
    found = []
    for table, columns in _text_columns():
        # Read back in Python (SQLite's LIKE stops at a NUL in its pattern): one query per
        # table, its text columns side by side.
        for row in db.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is not None and CONTROL.search(value):
                    found.append(f"{table.name}.{column.name}")
    return sorted(set(found))


@pytest.mark.parametrize("role", (*ROLES, "anonymous"))
def test_nul_in_every_field_of_every_form_is_never_a_server_error_nor_stored(app, login, db, role):
    from tests.conftest import DEMO_USER_FOR_ROLE, Browser

    if role == "anonymous":
        browser = Browser(app.test_client())
        _pages, forms = _crawl(browser, ["/login", "/rendez-vous"])
    else:
        browser = login(DEMO_USER_FOR_ROLE[role])
        _pages, forms = _crawl(browser)
    posted = 0
    for action, form in forms:
        # Control characters in every field one types in (the others as the page gave
        # them: the form is valid but for them), then in every field at all.
        for only_typed in (True, False):
            data: dict[str, list[str]] = {}
            for name, value, typed in form["fields"]:
                if name != "csrf_token":
                    changed = (value or "") + NUL if typed or not only_typed else value or ""
                    data.setdefault(name, []).append(changed)
            if form["method"] == "post":
                response = browser.post(action, data)
                posted += 1
            else:
                response = browser.get(action, query_string=data)
            assert response.status_code < 500, (action, sorted(data))
        # Every field's value a NUL and invalid UTF-8 (a surrogate's bytes) alone.
        raw = "&".join(f"{quote(name)}=%00%ED%A0%80" for name in data)
        if form["method"] == "post":
            response = browser.client.post(
                action,
                data=f"csrf_token={quote(browser.token)}&{raw}",
                content_type="application/x-www-form-urlencoded",
            )
        else:
            response = browser.client.get(f"{action.split('?')[0]}?{raw}")
        assert response.status_code < 500, (action, sorted(data), "raw")
    assert posted or role == "aide"  # home care has no pages yet
    assert _stored_control_characters(db) == []


def test_a_control_character_in_the_address_names_nothing(login):
    browser = login("accueil")
    assert browser.get("/r/abc%00def").status_code == 404
    assert browser.get("/parametres/rendez-vous/services/x%00y").status_code in (404, 405)


def test_nul_in_a_form_is_dropped_the_same_on_every_database(login, db):
    from outreach.models import Place

    browser = login("rue1")
    place = db.get(Place, demo_id("gare-nord"))
    response = browser.post(
        f"/outreach/places/{place.id}",
        {
            "id": str(place.id),
            "base_version": str(place.version),
            "name": "Gare\x00 du\tNord\n",
            "notes": "Ligne 1\r\nLigne\x00 2",
        },
    )
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:300]
    db.expire_all()
    assert place.name == "Gare du Nord"
    assert place.notes.replace("\r\n", "\n") == "Ligne 1\nLigne 2"


def test_names_are_kept_on_one_line_whatever_the_path(db):
    from appointments import booking
    from notifications.contacts import create_contact

    person = booking.person_for(db, "Amina\r\nTest\x00\t", "+32470990123", None, reuse=False)
    assert person.name == "Amina Test"
    contact = create_contact(
        db, actor=None, display_name="Jean\nDupont\x1b", language="fr", phones=["0470990124"]
    )
    assert contact.display_name == "Jean Dupont"


def test_the_shared_parsers_refuse_a_surrogate_and_keep_names_on_one_line(db):
    from core import accounts
    from core.errors import Invalid
    from outreach.services import read_place

    with pytest.raises(Invalid) as refused:
        read_place({"id": str(demo_id("gare-nord")), "name": "Gare\ud800"})
    assert refused.value.errors["name"].code == "invalid_text"
    user = accounts.create_user(
        db,
        username="n.line",
        display_name="Nadia\nLigne\x00",
        role="aide",
        password="a long enough password 42",
    )
    assert user.display_name == "Nadia Ligne"
