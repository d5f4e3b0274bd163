"""Hostnames: normalise a Host header and route it to a tenant by exact domain, wildcard or alias."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import idna

from tenantedge.errors import HostError

# Match rules, strongest first: an exact domain beats any wildcard; the default tenant is the last resort.
MATCH_EXACT = "exact"
MATCH_ALIAS = "alias"
MATCH_WILDCARD = "wildcard"
MATCH_DEFAULT = "default"

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")
_PORT = re.compile(r"[0-9]{1,5}\Z")
_MAX_HOST_LENGTH = 253


@dataclass(frozen=True, slots=True)
class HostMatch:
    """Which tenant answers a host, by which rule, and the tenant's canonical domain (for redirects)."""

    tenant_id: str
    rule: str
    pattern: str
    canonical: str


def normalise_host(raw: str | None) -> str:
    """Lowercase, strip port and trailing dot, convert IDNA to punycode; raise HostError if it is no hostname."""
    if not raw:
        raise HostError("missing Host header")
    return _normalise(raw)


@lru_cache(maxsize=8192)
def _normalise(raw: str) -> str:
    if raw.startswith("["):
        return _normalise_ipv6(raw)
    host, colon, port = raw.rpartition(":")
    if not colon:
        host = raw
    elif not _valid_port(port):
        raise HostError(f"malformed Host header {raw!r}: port must be a number from 0 to 65535")
    return normalise_domain(host, raw=raw)


def _normalise_ipv6(raw: str) -> str:
    literal, bracket, rest = raw[1:].partition("]")
    if not bracket or (rest and not (rest.startswith(":") and _valid_port(rest[1:]))):
        raise HostError(f"malformed Host header {raw!r}: expected [ipv6] or [ipv6]:port")
    try:
        return f"[{ipaddress.IPv6Address(literal).compressed}]"
    except ValueError as e:
        raise HostError(f"malformed Host header {raw!r}: {literal!r} is not an IPv6 address") from e


def _valid_port(port: str) -> bool:
    return bool(_PORT.match(port)) and int(port) <= 65535


def normalise_domain(host: str, *, raw: str | None = None) -> str:
    """Normalise a bare hostname (no port) as written in a Host header or a tenants document."""
    shown = raw if raw is not None else host
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise HostError(f"malformed host {shown!r}: empty hostname")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as e:
            raise HostError(f"malformed host {shown!r}: not a valid internationalised domain name ({e})") from e
    host = host.lower()
    if len(host) > _MAX_HOST_LENGTH:
        raise HostError(f"malformed host {shown!r}: longer than {_MAX_HOST_LENGTH} characters")
    for label in host.split("."):
        if not _LABEL.match(label):
            raise HostError(
                f"malformed host {shown!r}: label {label!r} must be 1-63 letters, digits, '-' or '_', "
                "not starting or ending with '-'"
            )
    return host


def normalise_pattern(pattern: str) -> str:
    """Normalise a domain entry of a tenants document: a hostname, or `*.suffix` for every subdomain."""
    if pattern.startswith("*."):
        return "*." + normalise_domain(pattern[2:], raw=pattern)
    if "*" in pattern:
        raise HostError(
            f"malformed domain {pattern!r}: a wildcard is only allowed as the first label, as '*.example.com'"
        )
    return normalise_domain(pattern)


class HostTable:
    """Routes normalised hosts in O(number of labels), whatever the number of domains.

    Exact domains and aliases live in one dict; wildcards in another, keyed by their suffix, so a
    lookup tries the host itself, then each parent suffix from the longest down.
    """

    def __init__(self) -> None:
        self._exact: dict[str, HostMatch] = {}
        self._wildcards: dict[str, HostMatch] = {}

    def add(self, tenant_id: str, domains: Iterable[str], aliases: Iterable[str] = ()) -> None:
        """Register a tenant's normalised domains (the first is canonical) and aliases."""
        domains = list(domains)
        if not domains:
            raise ValueError(f"tenant {tenant_id!r} has no domain")
        canonical = domains[0]
        for domain in domains:
            if domain.startswith("*."):
                self._claim(self._wildcards, domain[2:], HostMatch(tenant_id, MATCH_WILDCARD, domain, canonical))
            else:
                self._claim(self._exact, domain, HostMatch(tenant_id, MATCH_EXACT, domain, canonical))
        for alias in aliases:
            self._claim(self._exact, alias, HostMatch(tenant_id, MATCH_ALIAS, alias, canonical))

    @staticmethod
    def _claim(table: dict[str, HostMatch], key: str, match: HostMatch) -> None:
        other = table.get(key)
        if other is not None and other.tenant_id != match.tenant_id:
            raise ValueError(f"domain {match.pattern!r} of tenant {match.tenant_id!r} is taken by {other.tenant_id!r}")
        table.setdefault(key, match)

    def lookup(self, host: str) -> HostMatch | None:
        """The match for a normalised host, or None when no tenant claims it."""
        match = self._exact.get(host)
        if match is not None or not self._wildcards:
            return match
        rest = host
        while True:
            dot = rest.find(".")
            if dot < 0:
                return None
            rest = rest[dot + 1 :]
            match = self._wildcards.get(rest)
            if match is not None:
                return match

    def entry(self, pattern: str) -> HostMatch | None:
        """The entry registered for exactly this domain or `*.suffix` pattern (no wildcard matching)."""
        if pattern.startswith("*."):
            return self._wildcards.get(pattern[2:])
        return self._exact.get(pattern)

    def __len__(self) -> int:
        return len(self._exact) + len(self._wildcards)
