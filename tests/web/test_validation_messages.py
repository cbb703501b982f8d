"""Field error sentences: the shared table and each domain's own, with no code in two."""

from __future__ import annotations

from collections import Counter

import pytest
from flask import Flask

from core.errors import FieldError
from web import validation
from web.appointments import messages as appointments
from web.homecare import messages as homecare
from web.notifications import messages as notifications
from web.outreach import messages as outreach

DOMAINS = (outreach, appointments, notifications, homecare)


def test_each_domain_table_is_installed_and_no_code_is_in_two_tables(app: Flask):
    assert {domain.sentence for domain in DOMAINS} <= set(validation.DOMAIN_MESSAGES)
    with app.test_request_context():
        tables = (validation.shared_messages, *(domain.messages for domain in DOMAINS))
        counts = Counter(code for table in tables for code in table({}))
    assert [code for code, count in counts.items() if count > 1] == []


@pytest.mark.parametrize(
    ("error", "language", "sentence"),
    [
        (FieldError("required"), "en", "This is needed."),
        (FieldError("too_long", {"max": 80}), "en", "Too long: at most 80 characters."),
        (FieldError("no_protective_path"), "en", "Your team has nobody to tell about minors"),
        (FieldError("code_taken"), "fr", "Ce code est déjà utilisé"),
        (FieldError("no_recipients"), "en", "Nobody in this audience can get this message"),
        (FieldError("unknown_skill"), "en", "Unknown skill."),
        ({"code": "too_soon", "params": {"hours": 2}}, "en", "Too soon: book at least 2 hours"),
        (FieldError("no_such_code"), "en", "This value is not valid."),
    ],
)
def test_a_code_is_found_in_the_shared_or_its_domain_table(app: Flask, error, language, sentence):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert validation.message(error).startswith(sentence)
