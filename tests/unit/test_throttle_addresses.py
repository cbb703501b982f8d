"""The unit a client address is counted by in the login throttle."""

from __future__ import annotations

import pytest

from core.throttle import address_group


@pytest.mark.parametrize(
    ("address", "group"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # an IPv4 client seen through IPv6
        ("unknown", "unknown"),
        ("", "unknown"),
    ],
)
def test_addresses_are_grouped_ipv4_alone_ipv6_per_64(address, group):
    assert address_group(address) == group


def test_two_addresses_of_one_64_are_one_group_and_the_next_64_is_another():
    assert address_group("2001:db8::1") == address_group("2001:db8::abcd:1")
    assert address_group("2001:db8::1") != address_group("2001:db8:0:1::1")
