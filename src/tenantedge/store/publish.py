"""The documents that represent one tenant in a tier (its own, one per domain, alias and wildcard); who holds a host."""

from __future__ import annotations

from typing import Any, Protocol

from tenantedge.errors import BackendError, ConfigError, HostError
from tenantedge.hosts import MATCH_ALIAS, MATCH_EXACT, MATCH_WILDCARD, HostMatch, normalise_pattern
from tenantedge.store.layout import DOMAIN, TENANT, DocKey, decode_domain, encode_domain
from tenantedge.tenants import Tenant


class DocumentReader(Protocol):
    async def get(self, key: DocKey) -> bytes | None: ...


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


async def refuse_taken_domains(tenant_id: str, documents: dict[DocKey, bytes], source: DocumentReader) -> None:
    """A domain stored for another tenant is not silently taken over: that tenant must let it go first."""
    for kind, host in documents:
        if kind != DOMAIN:
            continue
        current = await source.get((DOMAIN, host))
        if current is None:
            continue
        try:
            owner = decode_domain(host, current, host).tenant_id
        except BackendError:
            continue  # a broken index entry is overwritten by a good one
        if owner != tenant_id and await source.get((TENANT, owner)) is not None:
            raise ConfigError(f"tenant {tenant_id}: domain {host!r} belongs to tenant {owner!r}; remove it there first")


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
