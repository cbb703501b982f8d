"""What a domain plugs into the web layer: its `WebDomain` (web/<domain>/__init__.py).

`web/domains.py` lists them; `install_web()` puts their menu entries, audit labels,
error messages and offline modules in the shared tables, and `register_blueprints()`
adds their views to an app. The shared pages (home, menu, login, profile, admin, sync,
PWA, API) stay in web/.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask

from web import nav, offline, validation
from web.extensions import csrf

# The names of each domain's kinds of audited record (web/admin.py adds core's).
ENTITY_LABELS: dict[str, object] = {}
# The names staff read for each domain's SMS texts (notifications' pages show them).
TEMPLATE_LABELS: dict[str, object] = {}

# A domain's field-error sentences: (code, params) -> the sentence, or None when the code
# is not the domain's.
Messages = Callable[[str, Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class WebDomain:
    name: str
    blueprints: tuple[Blueprint, ...] = ()
    # Blueprints that prove their requests otherwise (a gateway's signature), not by CSRF.
    csrf_exempt: tuple[Blueprint, ...] = ()
    nav: tuple[nav.NavEntry, ...] = ()  # its menu entries, each with its place in the menu
    entity_labels: Mapping[str, object] = field(default_factory=dict)  # audit log kinds
    # The name of each SMS text it declares (its TemplateKind codes), for the SMS pages.
    template_labels: Mapping[str, object] = field(default_factory=dict)
    messages: Messages | None = None
    offline: tuple[offline.OfflineModule, ...] = ()  # its part of the phone's offline app


def install_web(domains: Sequence[WebDomain]) -> None:
    """Put every domain's menu entries, audit and SMS text labels and messages in place
    (idempotent)."""
    nav.install([entry for domain in domains for entry in domain.nav])
    for domain in domains:
        ENTITY_LABELS.update(domain.entity_labels)
        TEMPLATE_LABELS.update(domain.template_labels)
    validation.install([domain.messages for domain in domains if domain.messages])
    offline.install([module for domain in domains for module in domain.offline])


def register_blueprints(app: Flask, domains: Sequence[WebDomain]) -> None:
    for domain in domains:
        for blueprint in domain.blueprints:
            app.register_blueprint(blueprint)
        for blueprint in domain.csrf_exempt:
            csrf.exempt(blueprint)
