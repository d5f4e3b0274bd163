from __future__ import annotations

import pytest

from tenantedge.errors import HostError
from tenantedge.hosts import (
    MATCH_ALIAS,
    MATCH_EXACT,
    MATCH_WILDCARD,
    HostTable,
    normalise_host,
    normalise_pattern,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("example.com", "example.com", id="plain"),
        pytest.param("Example.COM", "example.com", id="case"),
        pytest.param("example.com:8000", "example.com", id="port"),
        pytest.param("example.com.", "example.com", id="trailing-dot"),
        pytest.param("EXAMPLE.com.:443", "example.com", id="case-dot-port"),
        pytest.param("bücher.de", "xn--bcher-kva.de", id="idna-unicode"),
        pytest.param("BÜCHER.de:80", "xn--bcher-kva.de", id="idna-upper-port"),
        pytest.param("xn--bcher-kva.de", "xn--bcher-kva.de", id="punycode-kept"),
        pytest.param("straße.de", "xn--strae-oqa.de", id="idna2008-eszett"),
        pytest.param("127.0.0.1:8000", "127.0.0.1", id="ipv4"),
        pytest.param("[::1]:8000", "[::1]", id="ipv6-port"),
        pytest.param("[0:0:0:0:0:0:0:1]", "[::1]", id="ipv6-compressed"),
        pytest.param("a-b_c.example.com", "a-b_c.example.com", id="hyphen-underscore"),
        pytest.param("localhost", "localhost", id="single-label"),
    ],
)
def test_normalise_host(raw: str, expected: str) -> None:
    assert normalise_host(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(".", id="only-dot"),
        pytest.param("example.com:", id="empty-port"),
        pytest.param("example.com:99999", id="port-too-big"),
        pytest.param("example.com:80a", id="port-not-number"),
        pytest.param("exa mple.com", id="space"),
        pytest.param("example.com/evil", id="slash"),
        pytest.param("user@example.com", id="userinfo"),
        pytest.param("example..com", id="empty-label"),
        pytest.param("-example.com", id="leading-hyphen"),
        pytest.param("example-.com", id="trailing-hyphen"),
        pytest.param("a" * 64 + ".com", id="label-too-long"),
        pytest.param(".".join(["abcdefghi"] * 26), id="host-too-long"),
        pytest.param("[::1", id="ipv6-unclosed"),
        pytest.param("[nope]", id="ipv6-bogus"),
        pytest.param("[::1]x", id="ipv6-junk"),
        pytest.param("exam\x00ple.com", id="nul"),
        pytest.param("example.com\r\nX-Injected: 1", id="crlf"),
        pytest.param("<script>.com", id="markup"),
        pytest.param("*.example.com", id="wildcard-as-host"),
        pytest.param("a:b:c", id="many-colons"),
    ],
)
def test_normalise_host_rejects(raw: str | None) -> None:
    with pytest.raises(HostError):
        normalise_host(raw)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*.Example.com", "*.example.com"),
        ("Shop.Example.com.", "shop.example.com"),
        ("*.bücher.de", "*.xn--bcher-kva.de"),
    ],
)
def test_normalise_pattern(pattern: str, expected: str) -> None:
    assert normalise_pattern(pattern) == expected


@pytest.mark.parametrize("pattern", ["a.*.example.com", "*example.com", "*", "**.example.com"])
def test_normalise_pattern_rejects_inner_wildcards(pattern: str) -> None:
    with pytest.raises(HostError):
        normalise_pattern(pattern)


@pytest.fixture
def table() -> HostTable:
    table = HostTable()
    table.add("acme", ["acme.com", "www.acme.com", "*.acme.com"], ["acme.net"])
    table.add("eu", ["*.eu.acme.com"])
    table.add("shop", ["shop.acme.com"])
    return table


@pytest.mark.parametrize(
    ("host", "tenant", "rule"),
    [
        pytest.param("acme.com", "acme", MATCH_EXACT, id="exact"),
        pytest.param("www.acme.com", "acme", MATCH_EXACT, id="exact-second-domain"),
        pytest.param("shop.acme.com", "shop", MATCH_EXACT, id="exact-beats-wildcard"),
        pytest.param("blog.acme.com", "acme", MATCH_WILDCARD, id="wildcard"),
        pytest.param("a.b.acme.com", "acme", MATCH_WILDCARD, id="wildcard-deep"),
        pytest.param("paris.eu.acme.com", "eu", MATCH_WILDCARD, id="longest-wildcard-wins"),
        pytest.param("eu.acme.com", "acme", MATCH_WILDCARD, id="wildcard-not-own-apex"),
        pytest.param("acme.net", "acme", MATCH_ALIAS, id="alias"),
    ],
)
def test_lookup(table: HostTable, host: str, tenant: str, rule: str) -> None:
    match = table.lookup(host)
    assert match is not None
    assert (match.tenant_id, match.rule) == (tenant, rule)
    if tenant == "acme":
        assert match.canonical == "acme.com"


@pytest.mark.parametrize("host", ["example.org", "acme.org", "com", "notacme.com", "www.acme.net"])
def test_lookup_unknown(table: HostTable, host: str) -> None:
    assert table.lookup(host) is None


def test_claiming_a_taken_domain_fails(table: HostTable) -> None:
    with pytest.raises(ValueError, match="taken by 'acme'"):
        table.add("thief", ["acme.com"])


def test_lookup_cost_does_not_grow_with_domains() -> None:
    """Routing probes one dict per label, whatever the number of domains (10,000 here)."""

    class CountingDict(dict[str, object]):
        probes = 0

        def get(self, key: str, default: object = None) -> object:
            CountingDict.probes += 1
            return super().get(key, default)

    table = HostTable()
    for number in range(10_000):
        table.add(f"t{number}", [f"site{number}.example", f"*.site{number}.example"])
    table._exact = CountingDict(table._exact)  # type: ignore[assignment]
    table._wildcards = CountingDict(table._wildcards)  # type: ignore[assignment]
    assert len(table) == 20_000
    match = table.lookup("a.b.site9999.example")
    assert match is not None and match.tenant_id == "t9999"
    assert CountingDict.probes == 3  # exact, then "b.site9999.example", then "site9999.example"
