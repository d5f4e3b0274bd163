"""Which hosts a tenant may claim: the rules on their own, and the index that finds another tenant's overlap."""

from __future__ import annotations

import pytest

from tenantedge.claims import Claim, HostClaims, Overlap, host_refusal, is_ip_literal
from tenantedge.hosts import normalise_pattern

ADMIN = frozenset({"admin.example.net"})


def refusal(raw: str) -> str | None:
    return host_refusal(raw, normalise_pattern(raw), ADMIN)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("example.com", id="domain"),
        pytest.param("www.example.com", id="subdomain"),
        pytest.param("*.example.com", id="wildcard"),
        pytest.param("*.shop.example.co.uk", id="wildcard-under-a-public-suffix"),
        pytest.param("bakery.co.uk", id="under-a-two-label-suffix"),
        pytest.param("*.me.github.io", id="wildcard-under-a-private-suffix"),
        pytest.param("acme.localhost", id="local-development-name"),
        pytest.param("Bücher.example", id="idn"),
        pytest.param("example.net", id="the-admin-hosts-parent"),
        pytest.param("1.2.3.4.example.com", id="digits-not-last"),
    ],
)
def test_hosts_a_tenant_may_claim(raw: str) -> None:
    assert refusal(raw) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("127.0.0.1", "'127.0.0.1' is an IP address; a tenant needs a hostname", id="ipv4"),
        pytest.param("2130706433", "IP address", id="ipv4-as-a-number"),
        pytest.param("0x7f.1", "IP address", id="ipv4-in-hex"),
        pytest.param(
            "com", "'com' is a public suffix (like 'com' or 'co.uk'), not a domain one site can own", id="tld"
        ),
        pytest.param("co.uk", "public suffix", id="two-label-suffix"),
        pytest.param("github.io", "public suffix", id="private-suffix"),
        pytest.param("intranet", "public suffix", id="one-label"),
        pytest.param("*.com", "'*.com' is too broad: 'com' is a public suffix", id="wildcard-over-a-tld"),
        pytest.param("*.co.uk", "too broad", id="wildcard-over-a-public-suffix"),
        pytest.param("*.github.io", "too broad", id="wildcard-over-a-private-suffix"),
        pytest.param("*.localhost", "too broad", id="wildcard-over-localhost"),
        pytest.param("localhost", "'localhost' names this machine; no tenant may claim it", id="localhost"),
        pytest.param("LocalHost.", "names this machine", id="localhost-any-case"),
        pytest.param("admin.example.net", "'admin.example.net' is the admin host; no tenant may claim it", id="admin"),
        pytest.param("x.admin.example.net", "is under the admin host 'admin.example.net'", id="under-admin"),
        pytest.param("*.admin.example.net", "is under the admin host", id="wildcard-under-admin"),
        pytest.param("*.example.net", "covers the admin host 'admin.example.net'", id="wildcard-over-admin"),
    ],
)
def test_hosts_no_tenant_may_claim(raw: str, message: str) -> None:
    found = refusal(raw)
    assert found is not None and message in found, found


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("127.0.0.1", True),
        ("[::1]", True),
        ("::1", True),
        ("2001:db8::1", True),
        ("10.0.0.1.", True),
        ("4294967295", True),
        ("0x7f", True),
        ("example.com", False),
        ("1.example.com", False),
        ("x1", False),
    ],
)
def test_ip_literals(raw: str, expected: bool) -> None:
    assert is_ip_literal(raw) is expected


HELD = [
    Claim("acme", "acme.com", "tenants.acme.domains[0]"),
    Claim("acme", "*.acme.com", "tenants.acme.domains[1]"),
    Claim("shop", "shop.example.org"),
    Claim("deep", "*.a.b.example.net"),
]


@pytest.mark.parametrize(
    ("pattern", "overlap", "other"),
    [
        pytest.param("acme.com", Overlap.SAME, "acme.com", id="same-host"),
        pytest.param("*.acme.com", Overlap.SAME, "*.acme.com", id="same-wildcard"),
        pytest.param("www.acme.com", Overlap.COVERED, "*.acme.com", id="under-a-wildcard"),
        pytest.param("a.b.c.acme.com", Overlap.COVERED, "*.acme.com", id="deep-under-a-wildcard"),
        pytest.param("*.x.acme.com", Overlap.COVERED, "*.acme.com", id="wildcard-under-a-wildcard"),
        pytest.param("*.example.org", Overlap.COVERS, "shop.example.org", id="wildcard-over-a-host"),
        pytest.param("*.shop.example.org", Overlap.COVERS, "shop.example.org", id="wildcard-over-its-base"),
        pytest.param("shop.example.org", Overlap.SAME, "shop.example.org", id="exact"),
        pytest.param("*.example.net", Overlap.COVERS, "*.a.b.example.net", id="wildcard-over-a-wildcard"),
        pytest.param("a.b.example.net", Overlap.COVERED, "*.a.b.example.net", id="the-base-of-a-wildcard"),
    ],
)
def test_a_clash_with_another_tenant(pattern: str, overlap: Overlap, other: str) -> None:
    clash = HostClaims.of(HELD).clash("newcomer", pattern)
    assert clash is not None and (clash.overlap, clash.other.pattern) == (overlap, other)


@pytest.mark.parametrize(
    "pattern",
    ["acme.org", "example.org", "other.example.org", "b.example.net", "*.c.example.net", "x.b.example.net"],
)
def test_no_clash(pattern: str) -> None:
    assert HostClaims.of(HELD).clash("newcomer", pattern) is None


def test_a_tenant_never_clashes_with_itself() -> None:
    claims = HostClaims.of(HELD)
    assert claims.clash("acme", "www.acme.com") is None and claims.clash("acme", "*.x.acme.com") is None


def test_a_wildcard_finds_another_tenant_below_it_whatever_came_first() -> None:
    # Below example.com: the asker's own host first, then two others; one of them must still be found.
    claims = HostClaims.of(
        [Claim("me", "me.example.com"), Claim("me", "me2.example.com"), Claim("you", "you.example.com")]
    )
    clash = claims.clash("me", "*.example.com")
    assert clash is not None and clash.other.tenant == "you"


def test_messages_for_administrators_and_for_everyone_else() -> None:
    clash = HostClaims.of(HELD).clash("newcomer", "www.acme.com")
    assert clash is not None
    assert clash.message("www.acme.com") == (
        "domain 'www.acme.com' is covered by '*.acme.com' of tenant 'acme' at tenants.acme.domains[1]"
    )
    assert clash.redacted("www.acme.com") == "'www.acme.com' is taken by another tenant"
    same = HostClaims.of(HELD).clash("newcomer", "shop.example.org")
    assert same is not None and same.message("shop.example.org") == (
        "domain 'shop.example.org' belongs to tenant 'shop'"
    )


def test_many_claims_are_checked_one_by_one_not_against_each_other() -> None:
    claims = HostClaims.of(Claim(f"t{n}", f"h{n}.example.com") for n in range(50_000))
    assert claims.clash("t1", "h1.example.com") is None
    found = claims.clash("newcomer", "*.example.com")
    assert found is not None and found.overlap is Overlap.COVERS
