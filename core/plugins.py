"""The registries the composition root fills: each domain describes itself with one
`Domain`, and `install()` puts it in.

Core never imports a domain. The one list of domains is `web/domains.py`; it hands the
descriptors to `install()`, which imports the modules they name (tables, op types and
feeds, the callables a domain registers with another's services) and records the rest
(jobs, audit entity types, SMS template kinds, demo seeders). The app, the `terrain`
command, the migrations and the tests all start there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import audit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Core's own tables (accounts, audit, sync ledger): loaded whatever the domains.
CORE_MODELS = ("core.models",)


@dataclass(frozen=True)
class Domain:
    """What a domain plugs into core; modules are named, not imported, so a descriptor is
    cheap to read and core stays free of domain imports."""

    name: str
    models: tuple[str, ...] = ()  # modules defining its tables (migrations, tests)
    sync: str | None = None  # module registering its op types and feed sources
    jobs: str | None = None  # module whose JOBS (core.scheduler.Job) the scheduler runs
    # Modules registering callables with another domain's services at import (an SMS
    # subject kind, an audience, an attendance source).
    hooks: tuple[str, ...] = ()
    entity_types: tuple[str, ...] = ()  # the kinds of record its audit entries name
    # Its SMS texts (notifications.TemplateKind: opaque here, read by notifications).
    template_kinds: tuple[Any, ...] = ()
    demo: str | None = None  # module whose seed(session) -> {what: count} loads demo data
    demo_after: tuple[str, ...] = ()  # domains whose demo data its own refers to

    def modules(self) -> tuple[str, ...]:
        """The modules `install()` imports: their import registers what they declare."""
        return (*self.models, *((self.sync,) if self.sync else ()), *self.hooks)


_DOMAINS: dict[str, Domain] = {}
_TEMPLATE_KINDS: dict[str, Any] = {}


def install(domains: Sequence[Domain]) -> None:
    """Register `domains` (again: nothing changes) and import the modules they name."""
    for domain in domains:
        known = _DOMAINS.get(domain.name)
        if known is not None and known != domain:
            raise ValueError(f"two domains named {domain.name}")
        _DOMAINS[domain.name] = domain
        for entity_type in domain.entity_types:
            if entity_type not in audit.ENTITY_TYPES:
                audit.ENTITY_TYPES.append(entity_type)
        for kind in domain.template_kinds:
            if _TEMPLATE_KINDS.get(kind.code, kind) != kind:
                raise ValueError(f"SMS template kind declared twice: {kind.code}")
            _TEMPLATE_KINDS[kind.code] = kind
    for domain in domains:
        missing = [name for name in domain.demo_after if name not in _DOMAINS]
        if missing:
            raise ValueError(f"{domain.name}'s demo needs unknown domains: {missing}")
    import_models()
    for domain in domains:
        for module in domain.modules():
            importlib.import_module(module)


def domains() -> list[Domain]:
    """The installed domains, in the order of the one list."""
    return list(_DOMAINS.values())


def import_models() -> None:
    """Load core's and every installed domain's tables, so Base.metadata is complete."""
    for module in (*CORE_MODELS, *(name for domain in domains() for name in domain.models)):
        importlib.import_module(module)


def sync_modules() -> list[str]:
    return [domain.sync for domain in domains() if domain.sync]


def job_modules() -> list[str]:
    return [domain.jobs for domain in domains() if domain.jobs]


def template_kinds() -> list[Any]:
    """Every domain's SMS template kinds (notifications reads them)."""
    return list(_TEMPLATE_KINDS.values())


def template_kind(code: str) -> Any | None:
    return _TEMPLATE_KINDS.get(code)


def demo_order(installed: Iterable[Domain] | None = None) -> list[Domain]:
    """The domains that have demo data, each after those its `demo_after` names (and
    otherwise in the list's order)."""
    pending = [domain for domain in (installed or domains()) if domain.demo]
    seeding = {domain.name for domain in pending}
    ordered: list[Domain] = []
    done: set[str] = set()
    while pending:
        ready = next(
            (
                domain
                for domain in pending
                if all(name in done or name not in seeding for name in domain.demo_after)
            ),
            None,
        )
        if ready is None:
            cycle = ", ".join(domain.name for domain in pending)
            raise ValueError(f"demo dependencies form a cycle: {cycle}")
        ordered.append(ready)
        done.add(ready.name)
        pending.remove(ready)
    return ordered


def demo_seeders() -> list[tuple[str, Callable[[Session], dict[str, int]]]]:
    """(domain, seed) in dependency order."""
    return [
        (domain.name, importlib.import_module(domain.demo).seed)
        for domain in demo_order()
        if domain.demo
    ]
