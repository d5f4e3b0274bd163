"""The embedded origin: a tenants.json file, validated whole, held in memory, reloaded when saved."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from tenantedge.errors import BackendError, ConfigError, DocumentError
from tenantedge.invalidation import Change
from tenantedge.sections import SectionRegistry
from tenantedge.store.base import Found
from tenantedge.store.breaker import BreakerState
from tenantedge.store.layout import TENANT, DocKey, encode_domain
from tenantedge.tenants import DEFAULT_LIMITS, DocumentLimits, Tenant, TenantSet, parse_document

log = logging.getLogger("tenantedge.store")

Signature = tuple[int, int, int]  # inode, size, mtime in ns: changes on every save, in place or by rename


def load_tenants_file(
    path: Path,
    registry: SectionRegistry,
    previous: TenantSet | None = None,
    *,
    documents: bool = False,
    limits: DocumentLimits = DEFAULT_LIMITS,
) -> TenantSet:
    """Read and validate a tenants file; ConfigError when it cannot be read, DocumentError when invalid."""
    return parse_document(_read(path), str(path), registry, previous, documents=documents, limits=limits)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: tenants file not found") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read tenants file: {e.strerror}") from e


def _signature(path: Path) -> Signature | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class FileStore:
    """Tenants from one tenants.json, answered from memory; a valid save replaces them, an invalid one is refused."""

    def __init__(
        self,
        path: Path,
        registry: SectionRegistry,
        tenants: TenantSet,
        signature: Signature | None,
        *,
        documents: bool = False,
        limits: DocumentLimits = DEFAULT_LIMITS,
    ) -> None:
        self.path = path
        # Every save is held to them, as every other write is.
        self.limits = limits
        self._documents = documents
        self._registry = registry
        self._set = tenants
        self._loaded = signature
        self._pending: Signature | None = None
        self._refused: bytes | None = None

    @classmethod
    def open(
        cls, path: Path, registry: SectionRegistry, *, documents: bool = False, limits: DocumentLimits = DEFAULT_LIMITS
    ) -> FileStore:
        """Load the file; with `documents`, keep each tenant's JSON (when the file is the origin of a tier)."""
        signature = _signature(path)
        tenants = load_tenants_file(path, registry, documents=documents, limits=limits)
        return cls(path, registry, tenants, signature, documents=documents, limits=limits)

    @property
    def tenants(self) -> TenantSet:
        return self._set

    @property
    def keeps_documents(self) -> bool:
        return self._documents

    def adopt(self, tenants: TenantSet, signature: Signature | None = None) -> set[str]:
        """Serve a set this worker wrote to the file itself (validated already); the ids that changed."""
        old, self._set = self._set, tenants
        self._loaded, self._pending, self._refused = signature or _signature(self.path), None, None
        return {
            tid
            for tid in old.tenants.keys() | tenants.tenants.keys()
            if old.tenants.get(tid) is not tenants.tenants.get(tid)
        }

    def peek(self, host: str) -> Found | None:
        match = self._set.hosts.lookup(host)
        if match is None:
            return None
        tenant = self._set.tenants.get(match.tenant_id)
        return None if tenant is None else (match, tenant)

    async def resolve(self, host: str) -> Found | None:
        return self.peek(host)

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self._set.tenants.get(tenant_id)

    def forget(self, change: Change) -> None:
        return None  # what it holds is the file itself, reloaded when saved

    async def follow(self, apply: Callable[[Change], None]) -> None:
        return None  # no shared tier: saves are found by `watch`

    def metrics(self) -> dict[str, tuple[str, str, float]]:
        return {"tenantedge_tenants": ("gauge", "Tenants in tenants.json.", len(self._set.tenants))}

    async def close(self) -> None:
        return None

    async def probe(self) -> dict[str, object]:
        return {"file": {"state": "up", "path": str(self.path), "tenants": len(self._set.tenants)}}

    async def watch(self, interval: float, on_change: Callable[[set[str], TenantSet], Awaitable[None]]) -> None:
        """Check the file every `interval` seconds, forever; after a reload, await `on_change` with the tenants
        it changed and the set served before."""
        while True:
            await asyncio.sleep(interval)
            before = self._set
            try:
                changed = await self.check()
            except Exception:
                log.exception("%s: reload failed; still serving the previous version", self.path)
                continue
            if changed:
                try:
                    await on_change(changed, before)
                except Exception:
                    log.exception("%s: reloaded, but publishing the change failed", self.path)

    async def check(self) -> set[str] | None:
        """Reload if the file was saved and has stayed unchanged since the last check; the ids that changed.

        A save is read only once its size and mtime held still for one interval, so an editor writing in
        two steps is not caught half-way; and whatever is read must validate before it replaces anything.
        """
        signature = _signature(self.path)
        if signature is None or signature == self._loaded:
            self._pending = None
            return None
        if signature != self._pending:
            self._pending = signature
            return None
        self._pending = None
        data = await asyncio.to_thread(_read, self.path)
        if _signature(self.path) != signature:
            return None  # written again while we read: wait for it to settle
        fingerprint = hashlib.blake2b(data, digest_size=16).digest()
        if fingerprint == self._refused:
            self._loaded = signature
            return None
        try:
            fresh = await asyncio.to_thread(
                lambda: parse_document(
                    data, str(self.path), self._registry, self._set, documents=self._documents, limits=self.limits
                )
            )
        except DocumentError as e:
            self._refused, self._loaded = fingerprint, signature
            log.error("refused a change, still serving the previous version: %s", e)
            return None
        changed = self.adopt(fresh, signature)
        log.info("%s reloaded: %s; %d tenant(s) changed", self.path, fresh.summary(), len(changed))
        return changed


class FileOrigin:
    """tenants.json as the origin tier of a TieredStore (read-only: operators edit the file)."""

    name = "file"
    breaker_state = BreakerState.CLOSED  # a file read needs no breaker

    def __init__(self, store: FileStore) -> None:
        self._store = store

    async def get(self, key: DocKey) -> bytes | None:
        tenants = self._store.tenants
        kind, name = key
        if kind == TENANT:
            return tenants.documents.get(name)
        match = tenants.hosts.entry(name)
        if match is None:
            return None
        return encode_domain(match, tenants.tenants[match.tenant_id].version)

    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None:
        raise BackendError(f"{self._store.path}: the file origin is read-only; edit the file to change {key[1]}")

    async def delete(self, key: DocKey) -> None:
        raise BackendError(f"{self._store.path}: the file origin is read-only; edit the file to remove {key[1]}")

    async def probe(self) -> dict[str, object]:
        return {"state": "up", "path": str(self._store.path), "tenants": len(self._store.tenants.tenants)}

    async def close(self) -> None:
        return None
