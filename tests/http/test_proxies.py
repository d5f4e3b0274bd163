"""The visitor's address behind trusted proxies: X-Forwarded-For believed from them alone, read from the right."""

from __future__ import annotations

import ipaddress

import pytest

from tenantedge.http.proxies import IPNetwork, client_address

PROXIES: tuple[IPNetwork, ...] = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", [], "203.0.113.5"),
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        ("10.0.0.1", ["198.51.100.1, 10.0.0.9"], "198.51.100.1"),
        ("10.0.0.1", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),
        ("10.0.0.1", ["10.0.0.8, 10.0.0.9"], "10.0.0.8"),
        ("10.0.0.1", ["not-an-address, 198.51.100.1"], "198.51.100.1"),
        ("10.0.0.1", ["198.51.100.1, junk"], "10.0.0.1"),
        ("fd00::1", ["2001:db8::7"], "2001:db8::7"),
        (None, ["198.51.100.1"], None),
    ],
    ids=[
        "direct",
        "direct-forged-header",
        "proxy-without-header",
        "proxy",
        "made-up-first-hop",
        "chain-of-proxies",
        "two-header-lines",
        "only-proxies",
        "junk-before-the-visitor",
        "junk-last",
        "ipv6",
        "no-peer",
    ],
)
def test_the_client_address(peer: str | None, forwarded: list[str], expected: str | None) -> None:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {"type": "http", "client": (peer, 1234) if peer else None, "headers": headers}
    assert client_address(scope, PROXIES) == expected


def test_without_trusted_proxies_the_peer_counts() -> None:
    scope = {"type": "http", "client": ("10.0.0.1", 1), "headers": [(b"x-forwarded-for", b"198.51.100.1")]}
    assert client_address(scope, ()) == "10.0.0.1"
