"""Operator writes to the tiers: publish a tenants document (`sync`) or one document (`kv`), validated first.

Writes go to the origin first, then to Redis, so a reader never finds in Redis what the origin lacks.
A tenant's version goes up whenever its content changes; domains a tenant no longer claims are removed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from tenantedge.errors import BackendError, ConfigError, DocumentError, HostError, ValidationIssue
from tenantedge.hosts import normalise_pattern
from tenantedge.sections import SectionRegistry
from tenantedge.store.layout import DOMAIN, TENANT, DocKey, decode_domain
from tenantedge.store.publish import tenant_documents
from tenantedge.tenants import TenantSet, compact_json, parse_tenant


class WritableTier(Protocol):
    name: str

    async def get(self, key: DocKey) -> bytes | None: ...

    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None: ...

    async def delete(self, key: DocKey) -> None: ...

    async def names(self, kind: str) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Targets:
    """Where writes go: the origin (S3) and the shared cache (Redis); either may be absent, not both."""

    origin: WritableTier | None
    cache: WritableTier | None

    def __post_init__(self) -> None:
        if self.origin is None and self.cache is None:
            raise ConfigError("nothing to write to: set TENANTEDGE_S3_BUCKET and/or TENANTEDGE_REDIS_URL")

    @property
    def source(self) -> WritableTier:
        """The tier whose copy counts: the origin when there is one."""
        tier = self.origin or self.cache
        assert tier is not None
        return tier

    async def write(self, documents: dict[DocKey, bytes], removed: Collection[DocKey] = ()) -> None:
        for tier in (self.origin, self.cache):
            if tier is None:
                continue
            for key, data in documents.items():
                await tier.put(key, data)
            for key in removed:
                await tier.delete(key)


async def sync(tenants: TenantSet, registry: SectionRegistry, targets: Targets, *, prune: bool = False) -> list[str]:
    """Publish every tenant of a validated document; only changed ones are written. One line per tenant."""
    source = targets.source
    stored = set(await source.names(TENANT))
    lines: list[str] = []
    for tenant_id in sorted(tenants.tenants):
        lines.append(await _publish(tenant_id, orjson.loads(tenants.documents[tenant_id]), registry, targets))
    for tenant_id in sorted(stored - set(tenants.tenants)):
        if prune:
            await delete_tenant(tenant_id, targets)
            lines.append(f"- {tenant_id}: removed")
        else:
            lines.append(f"! {tenant_id}: stored but not in the document; kept (use --prune to remove it)")
    return lines


async def put_tenant(tenant_id: str, data: bytes, registry: SectionRegistry, targets: Targets, source: str) -> str:
    """Validate one tenant document and store it with its version bumped."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise DocumentError(
            source, [ValidationIssue("", f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}")]
        ) from e
    if isinstance(raw, dict):
        raw.pop("version", None)  # the store decides the version
    parse_tenant(tenant_id, raw, registry, source=source)
    return await _publish(tenant_id, raw, registry, targets, force=True)


async def put_domain(pattern: str, data: bytes, targets: Targets) -> str:
    try:
        host = normalise_pattern(pattern)
    except HostError as e:
        raise ConfigError(str(e)) from e
    match = decode_domain(host, data, f"domain {host}")
    if await targets.source.get((TENANT, match.tenant_id)) is None:
        raise ConfigError(f"domain {host}: tenant {match.tenant_id!r} does not exist in {targets.source.name}")
    await targets.write({(DOMAIN, host): data})
    return f"~ domain {host} -> {match.tenant_id} ({match.rule})"


async def delete_tenant(tenant_id: str, targets: Targets) -> None:
    old = await targets.source.get((TENANT, tenant_id))
    if old is None:
        raise ConfigError(f"tenant {tenant_id!r} does not exist in {targets.source.name}")
    removed = {(TENANT, tenant_id)} | {(DOMAIN, host) for host in claimed_hosts(orjson.loads(old))}
    await targets.write({}, removed)


async def delete_domain(pattern: str, targets: Targets) -> None:
    await targets.write({}, {(DOMAIN, normalise_pattern(pattern))})


async def get_document(kind: str, name: str, targets: Targets) -> Any:
    data = await targets.source.get((kind, name if kind == TENANT else normalise_pattern(name)))
    if data is None:
        raise ConfigError(f"no {kind} {name!r} in {targets.source.name}")
    return orjson.loads(data)


async def _publish(
    tenant_id: str, raw: dict[str, Any], registry: SectionRegistry, targets: Targets, *, force: bool = False
) -> str:
    old_data = await targets.source.get((TENANT, tenant_id))
    old = orjson.loads(old_data) if old_data else None
    if old is not None and not force and _content(old) == _content(raw):
        return f"= {tenant_id}: unchanged (version {old.get('version', 1)})"
    previous = int(old.get("version", 0)) if old else 0
    version = max(int(raw.get("version", 1)), previous + 1)
    document = {**raw, "version": version}
    tenant = parse_tenant(tenant_id, document, registry, source=f"tenant {tenant_id}")
    documents = tenant_documents(tenant, compact_json(document))
    await refuse_taken_domains(tenant_id, documents, targets.source)
    gone = {(DOMAIN, host) for host in claimed_hosts(old)} - set(documents) if old else set()
    await targets.write(documents, gone)
    return (
        f"+ {tenant_id}: new (version {version})" if old is None else f"~ {tenant_id}: version {previous} -> {version}"
    )


async def refuse_taken_domains(tenant_id: str, documents: dict[DocKey, bytes], source: WritableTier) -> None:
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


def _content(document: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {key: value for key, value in document.items() if key != "version"}, option=orjson.OPT_SORT_KEYS
    )


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
