"""core.plugins: descriptors in, registries out; demo data in dependency order."""

from __future__ import annotations

import pytest

from core import audit, plugins
from core.plugins import Domain
from core.scheduler import load_jobs
from web import domains


def test_install_twice_changes_nothing():
    before = (list(audit.ENTITY_TYPES), plugins.domains(), plugins.template_kinds())
    domains.install()
    domains.install()
    assert (list(audit.ENTITY_TYPES), plugins.domains(), plugins.template_kinds()) == before


def test_every_domain_of_the_list_is_installed():
    assert [domain.name for domain in plugins.domains()][:4] == [
        "notifications",
        "appointments",
        "outreach",
        "homecare",
    ]
    assert {"outreach_person", "sms_inbound", "appointment", "homecare_week"} <= set(
        audit.ENTITY_TYPES
    )
    assert {"outreach.purge", "sms.dispatch"} <= {job.name for job in load_jobs()}


def test_every_sms_text_of_every_domain_has_a_name_for_staff():
    """Each domain names its SMS texts in its WebDomain; the SMS pages show those names."""
    from web.plugins import TEMPLATE_LABELS

    codes = {kind.code for kind in plugins.template_kinds()}
    assert codes and codes == set(TEMPLATE_LABELS)


def test_demo_data_follow_the_declared_dependencies():
    first = Domain("first", demo="x", demo_after=("second",))
    second = Domain("second", demo="y", demo_after=("third",))
    third = Domain("third", demo="z")
    no_demo = Domain("quiet")
    order = plugins.demo_order([first, no_demo, second, third])
    assert [domain.name for domain in order] == ["third", "second", "first"]
    # Otherwise in the list's order: the demo today seeds as it always did.
    assert [domain.name for domain in plugins.demo_order()] == [
        "notifications",
        "appointments",
        "outreach",
        "homecare",
        "rounds",
    ]


def test_a_dependency_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        plugins.demo_order(
            [Domain("a", demo="x", demo_after=("b",)), Domain("b", demo="y", demo_after=("a",))]
        )


def test_two_domains_with_one_name_are_refused():
    with pytest.raises(ValueError, match="two domains named outreach"):
        plugins.install([Domain("outreach")])
