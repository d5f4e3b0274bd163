"""Which hosts a tenant may claim: no host that names no one site, and none that overlaps another tenant's.

Every write path applies the same rules: the admin API, `tenantedge sync` and `kv`, and tenants.json saves.
`host_refusal` says why no tenant at all may claim a host (an IP address, a public suffix, this machine, the
admin host); `HostClaims` finds, in O(labels) per host, the claim of another tenant a host would overlap.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

LOCALHOST = "localhost"
# The WHATWG URL parser reads a host whose last label is a number (decimal, or hex with 0x) as an IPv4 address.
_NUMBER = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)\Z")


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    # The list the installed package ships (updated with its releases): nothing is fetched at run time.
    # Unknown top-level labels count as public suffixes too ('localhost', 'intranet').
    return PublicSuffixList()


def is_ip_literal(raw: str) -> bool:
    """Whether a domain entry, as written, is an IP address ('127.0.0.1', '::1', '[::1]', '2130706433')."""
    host = raw.strip().rstrip(".").lower()
    return host.startswith("[") or ":" in host or bool(_NUMBER.match(host.rpartition(".")[2]))


def host_refusal(raw: str, host: str, reserved: frozenset[str]) -> str | None:
    """Why no tenant may claim `host` (normalised, maybe `*.suffix`; `raw` as written), or None when one may.

    `reserved` holds the hosts tenantedge answers itself (the admin host): neither they nor any name under them
    may be claimed, nor a wildcard over them.
    """
    wildcard = host.startswith("*.")
    name = host[2:] if wildcard else host
    if is_ip_literal(name):
        return f"{raw!r} is an IP address; a tenant needs a hostname"
    if host == LOCALHOST:
        return f"{raw!r} names this machine; no tenant may claim it"
    if _suffixes().privatesuffix(name) is None:
        if wildcard:
            return (
                f"{raw!r} is too broad: {name!r} is a public suffix; a wildcard needs a domain of its own below it, "
                f"like '*.example.{name}'"
            )
        return f"{raw!r} is a public suffix (like 'com' or 'co.uk'), not a domain one site can own"
    for admin in reserved:
        if host == admin:
            return f"{raw!r} is the admin host; no tenant may claim it"
        if name == admin or name.endswith("." + admin):
            return f"{raw!r} is under the admin host {admin!r}; no tenant may claim it"
        if wildcard and admin.endswith("." + name):
            return f"{raw!r} covers the admin host {admin!r}; no tenant may claim it"
    return None


class Overlap(enum.Enum):
    """How a host meets another tenant's claim."""

    SAME = "same"  # the very same host or wildcard
    COVERED = "covered"  # under the other's wildcard (or the domain the other's wildcard is under)
    COVERS = "covers"  # a wildcard over the other's host, wildcard, or its base domain


@dataclass(frozen=True, slots=True)
class Claim:
    """A tenant's claim of a normalised host or `*.suffix`, and where it is made (a JSON path; '' unknown)."""

    tenant: str
    pattern: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class Clash:
    """A host that meets another tenant's claim: what to tell an administrator, and what anyone else."""

    overlap: Overlap
    other: Claim

    def message(self, pattern: str) -> str:
        other = self.other
        at = f" at {other.where}" if other.where else ""
        if self.overlap is Overlap.SAME:
            if not at:
                return f"domain {pattern!r} belongs to tenant {other.tenant!r}"
            return f"domain {pattern!r} is already claimed by tenant {other.tenant!r}{at}"
        if self.overlap is Overlap.COVERED:
            return f"domain {pattern!r} is covered by {other.pattern!r} of tenant {other.tenant!r}{at}"
        return f"{pattern!r} covers {other.pattern!r} of tenant {other.tenant!r}{at}"

    def redacted(self, pattern: str) -> str:
        """The message for a reader who may not know the other tenant (a token scoped to other tenants)."""
        if self.overlap is Overlap.COVERS:
            return f"{pattern!r} covers a host another tenant holds"
        return f"{pattern!r} is taken by another tenant"


class HostClaims:
    """Every tenant's claims, indexed so that finding the one a host would overlap costs O(labels):

    the host itself, then each parent suffix as a wildcard; for a wildcard, also the claims below its suffix
    (kept per suffix, at most one for each of two tenants: enough to find one that is not the asker's).
    """

    def __init__(self) -> None:
        self._exact: dict[str, Claim] = {}
        self._wildcards: dict[str, Claim] = {}  # by suffix: '*.example.com' under 'example.com'
        self._below: dict[str, tuple[Claim, ...]] = {}

    @classmethod
    def of(cls, claims: Iterable[Claim]) -> HostClaims:
        index = cls()
        for claim in claims:
            index.register(claim)
        return index

    def clash(self, tenant: str, pattern: str) -> Clash | None:
        """The first claim of another tenant that `pattern` (normalised) would overlap, if any."""
        wildcard = pattern.startswith("*.")
        name = pattern[2:] if wildcard else pattern
        same = (self._wildcards if wildcard else self._exact).get(name)
        if same is not None and same.tenant != tenant:
            return Clash(Overlap.SAME, same)
        base = (self._exact if wildcard else self._wildcards).get(name)
        if base is not None and base.tenant != tenant:
            return Clash(Overlap.COVERS if wildcard else Overlap.COVERED, base)
        for parent in parents(name):
            over = self._wildcards.get(parent)
            if over is not None and over.tenant != tenant:
                return Clash(Overlap.COVERED, over)
        if wildcard:
            for below in self._below.get(name, ()):
                if below.tenant != tenant:
                    return Clash(Overlap.COVERS, below)
        return None

    def register(self, claim: Claim) -> None:
        wildcard = claim.pattern.startswith("*.")
        name = claim.pattern[2:] if wildcard else claim.pattern
        (self._wildcards if wildcard else self._exact).setdefault(name, claim)
        for parent in parents(name):
            held = self._below.get(parent)
            if held is None:
                self._below[parent] = (claim,)
            elif len(held) == 1 and held[0].tenant != claim.tenant:
                self._below[parent] = (held[0], claim)


def parents(name: str) -> Iterator[str]:
    """'a.b.example.com' → 'b.example.com', 'example.com', 'com'."""
    dot = name.find(".")
    while dot >= 0:
        name = name[dot + 1 :]
        yield name
        dot = name.find(".")
