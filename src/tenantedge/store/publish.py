"""The documents that represent one tenant in a document tier: its own, and one per domain, alias and wildcard."""

from __future__ import annotations

from tenantedge.hosts import MATCH_ALIAS, MATCH_EXACT, MATCH_WILDCARD, HostMatch
from tenantedge.store.layout import DOMAIN, TENANT, DocKey, encode_domain
from tenantedge.tenants import Tenant


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
