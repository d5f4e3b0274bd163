"""The documents that represent one tenant in a tier (its own, one per domain, alias and wildcard); who holds a host."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from tenantedge.claims import Claim, HostClaims, parents
from tenantedge.errors import BackendError, HostError, ValidationIssue
from tenantedge.hosts import MATCH_ALIAS, MATCH_EXACT, MATCH_WILDCARD, HostMatch, normalise_pattern
from tenantedge.store.layout import DOMAIN, TENANT, DocKey, decode_domain, encode_domain
from tenantedge.tenants import Tenant

# Reads of domain documents worth more than listing them all first (a listing page holds 1,000 names).
LISTING = 64


class DomainIndex(Protocol):
    """Where the domain documents are (S3): read in batches, and listed."""

    async def get_many(self, keys: Iterable[DocKey]) -> dict[DocKey, bytes | None]: ...

    async def names(self, kind: str) -> list[str]: ...


def tenant_documents(tenant: Tenant, document: bytes) -> dict[DocKey, bytes]:
    """Everything a tier must hold for this tenant to be found by any of its hosts."""
    documents: dict[DocKey, bytes] = {(TENANT, tenant.id): document}
    canonical = tenant.canonical_domain
    for domain in tenant.domains:
        rule = MATCH_WILDCARD if domain.startswith("*.") else MATCH_EXACT
        documents[(DOMAIN, domain)] = encode_domain(HostMatch(tenant.id, rule, domain, canonical), tenant.version)
    for alias in tenant.aliases:
        documents[(DOMAIN, alias)] = encode_domain(HostMatch(tenant.id, MATCH_ALIAS, alias, canonical), tenant.version)
    return documents


async def taken_hosts(tenant: Tenant, held: set[str], index: DomainIndex) -> list[ValidationIssue]:
    """The hosts `tenant` adds (those not in `held`, its current document's) that meet a host another existing
    tenant holds, as issues at their JSON paths: the same host, one under another's wildcard, a wildcard over
    another's hosts.

    Only domain documents that could clash are read: each new host's own and its wildcard parents'. More of
    them than one listing would cost, or any new wildcard (whatever is stored under it), take one listing of
    the domain documents first, and only those listed are read.
    """
    entries = [
        (field, number, pattern)
        for field, patterns in (("domains", tenant.domains), ("aliases", tenant.aliases))
        for number, pattern in enumerate(patterns)
        if pattern not in held
    ]
    wanted: set[str] = set()
    for _, _, pattern in entries:
        name = pattern.removeprefix("*.")
        wanted.update([pattern, "*." + name, name, *("*." + parent for parent in parents(name))])
    below = {pattern[2:] for _, _, pattern in entries if pattern.startswith("*.")}
    if below or len(wanted) > LISTING:
        listed = set(await index.names(DOMAIN))
        wanted &= listed
        wanted.update(name for name in listed if not below.isdisjoint(parents(name.removeprefix("*."))))
    found = await index.get_many((DOMAIN, pattern) for pattern in wanted)
    claims = []
    for (_, pattern), data in found.items():
        if data is None:
            continue
        try:
            owner = decode_domain(pattern, data, pattern).tenant_id
        except BackendError:
            continue  # a broken index entry routes nothing: it is overwritten by a good one
        if owner != tenant.id:
            claims.append(Claim(owner, pattern))
    owners = await index.get_many({(TENANT, claim.tenant) for claim in claims})
    # A domain document whose tenant is gone is a leftover, not a claim.
    others = HostClaims.of(claim for claim in claims if owners[(TENANT, claim.tenant)] is not None)
    issues = []
    for field, number, pattern in entries:
        clash = others.clash(tenant.id, pattern)
        if clash is not None:
            path = f"{field}[{number}]"
            redacted = ValidationIssue(path, clash.redacted(pattern))
            issues.append(ValidationIssue(path, clash.message(pattern), redacted=redacted))
    return issues


def claimed_hosts(document: dict[str, Any] | None) -> set[str]:
    if not document:
        return set()
    hosts = set()
    for pattern in [*document.get("domains", []), *document.get("aliases", [])]:
        try:
            hosts.add(normalise_pattern(pattern))
        except HostError:
            continue
    return hosts
