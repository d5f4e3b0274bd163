"""The admin's write side: validated, versioned writes with optimistic concurrency, drafts, history and rollback.

Every write takes the tenant's write lock, checks the caller's `If-Match` version against the origin, validates
the new document with the same validator that serves it, then stores in this order: history record, origin,
shared cache (Redis), event. A refused write stores nothing; a reader never finds in Redis what the origin lacks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from tenantedge.admin.jsondiff import diff, merge_patch
from tenantedge.admin.origins import Blobs, Summary, TenantOrigin, WriteLock
from tenantedge.admin.responses import ANY_VERSION
from tenantedge.errors import (
    BackendError,
    Conflict,
    DocumentError,
    NotFound,
    PreconditionRequired,
    TenantEdgeError,
    ValidationIssue,
)
from tenantedge.events import DRAFT_SAVED, PAGE_PUBLISHED, TENANT_DELETED, TENANT_UPDATED, Event, EventBus
from tenantedge.hosts import normalise_pattern
from tenantedge.sections import SectionRegistry
from tenantedge.store.layout import DRAFT, HISTORY, DocKey
from tenantedge.tenants import DEFAULT_PAGES, Tenant, parse_tenant

log = logging.getLogger("tenantedge.admin")
HOME_DRAFT = "@"  # the draft key of the home page: '@' is never part of a page path


class CacheTier(Protocol):
    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None: ...

    async def delete(self, key: DocKey) -> None: ...


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a tenant, as the API shows it."""

    path: str
    value: Any


class AdminService:
    def __init__(
        self,
        origin: TenantOrigin,
        blobs: Blobs,
        registry: SectionRegistry,
        bus: EventBus,
        lock: WriteLock,
        *,
        cache: CacheTier | None = None,
        reserved_hosts: frozenset[str] = frozenset(),
        written: Callable[[Event], None] | None = None,
    ) -> None:
        self.origin = origin
        self._blobs = blobs
        self._registry = registry
        self._bus = bus
        self._lock = lock
        self._cache = cache
        self._reserved = reserved_hosts
        self.written = written
        self._index: dict[str, Summary] | None = None
        self._stale: set[str] = set()

    async def close(self) -> None:
        await self._lock.close()

    # -- reading ---------------------------------------------------------------------------------------

    async def list_tenants(
        self, query: str, offset: int, limit: int, allowed: frozenset[str] | None
    ) -> tuple[int, list[Summary]]:
        index = await self._summaries()
        needle = query.strip().lower()
        found = [
            summary
            for tenant_id, summary in sorted(index.items())
            if (allowed is None or tenant_id in allowed) and (not needle or summary.matches(needle))
        ]
        return len(found), found[offset : offset + limit]

    def forget(self, tenant_id: str) -> None:
        """A tenant changed elsewhere (an event): refresh its entry in the list before showing it again."""
        self._stale.add(tenant_id)

    async def get(self, tenant_id: str) -> dict[str, Any]:
        document = await self.origin.load(tenant_id)
        if document is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        return document

    async def tenant(self, tenant_id: str) -> Tenant:
        document = await self.get(tenant_id)
        return parse_tenant(tenant_id, document, self._registry, source=f"tenant {tenant_id}")

    async def pages(self, tenant_id: str) -> tuple[dict[str, Any], int]:
        document = await self.get(tenant_id)
        return _pages(document), int(document["version"])

    async def page(self, tenant_id: str, path: str) -> tuple[Page, int]:
        document = await self.get(tenant_id)
        pages = _pages(document)
        if path not in pages:
            raise NotFound(f"tenant {tenant_id}: no page {path!r}")
        return Page(path, pages[path]), int(document["version"])

    # -- writing ---------------------------------------------------------------------------------------

    async def create(self, tenant_id: str, document: Any, by: str) -> dict[str, Any]:
        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            if current is not None:
                raise Conflict(f"tenant {tenant_id!r} already exists", int(current["version"]))
            return _object(document)

        return await self._write(tenant_id, build, None, by, "create", TENANT_UPDATED, require=False)

    async def replace(self, tenant_id: str, document: Any, if_match: int | None, by: str) -> dict[str, Any]:
        return await self._write(tenant_id, lambda _: _object(document), if_match, by, "replace", TENANT_UPDATED)

    async def patch(self, tenant_id: str, patch: Any, if_match: int | None, by: str) -> dict[str, Any]:
        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            assert current is not None
            return _object(merge_patch({k: v for k, v in current.items() if k != "version"}, patch))

        return await self._write(tenant_id, build, if_match, by, "patch", TENANT_UPDATED)

    async def delete(self, tenant_id: str, if_match: int | None, by: str) -> None:
        await self._write(tenant_id, lambda _: None, if_match, by, "delete", TENANT_DELETED)

    async def put_page(self, tenant_id: str, path: str, value: Any, if_match: int | None, by: str) -> dict[str, Any]:
        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            assert current is not None
            return {**current, "pages": {**_pages(current), path: value}}

        return await self._write(tenant_id, build, if_match, by, f"page {path}", PAGE_PUBLISHED, path=path)

    async def delete_page(self, tenant_id: str, path: str, if_match: int | None, by: str) -> dict[str, Any]:
        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            assert current is not None
            if path == "/":
                issue = ValidationIssue('pages["/"]', "the home page cannot be removed; replace it instead")
                raise DocumentError(f"tenant {tenant_id}", [issue])
            pages = _pages(current)
            if pages.pop(path, None) is None:
                raise NotFound(f"tenant {tenant_id}: no page {path!r}")
            return {**current, "pages": pages}

        return await self._write(tenant_id, build, if_match, by, f"delete page {path}", TENANT_UPDATED, path=path)

    async def rollback(self, tenant_id: str, version: int, if_match: int | None, by: str) -> dict[str, Any]:
        record = await self.version(tenant_id, version)
        old = {k: v for k, v in record["document"].items() if k != "version"}
        return await self._write(tenant_id, lambda _: old, if_match, by, f"rollback to {version}", TENANT_UPDATED)

    async def check(self, tenant_id: str, document: Any) -> None:
        """Validate as a write would (domains another tenant holds included), storing nothing."""
        raw = {k: v for k, v in _object(document).items() if k != "version"}
        tenant = self._validate(tenant_id, {**raw, "version": 1})
        index = await self._summaries()
        claimed = {
            host: summary.id for summary in index.values() if summary.id != tenant_id for host in summary.domains
        }
        issues = [
            ValidationIssue(f"{field}[{number}]", f"{host!r} belongs to tenant {claimed[host]!r}")
            for field, hosts in (("domains", tenant.domains), ("aliases", tenant.aliases))
            for number, host in enumerate(hosts)
            if host in claimed
        ]
        if issues:
            raise DocumentError(f"tenant {tenant_id}", issues)

    # -- drafts ----------------------------------------------------------------------------------------

    async def save_draft(self, tenant_id: str, path: str, value: Any, by: str) -> dict[str, Any]:
        document = await self.get(tenant_id)
        self._validate(tenant_id, {**document, "pages": {**_pages(document), path: value}})
        record = {"path": path, "base": document["version"], "saved_at": self._now(), "by": by, "page": value}
        await self._blobs.put((DRAFT, _draft_name(tenant_id, path)), orjson.dumps(record))
        await self.announce(Event(DRAFT_SAVED, tenant_id, int(document["version"]), path))
        return record

    async def draft(self, tenant_id: str, path: str) -> dict[str, Any]:
        data = await self._blobs.get((DRAFT, _draft_name(tenant_id, path)))
        if data is None:
            raise NotFound(f"tenant {tenant_id}: no draft of page {path!r}")
        record: dict[str, Any] = orjson.loads(data)
        return record

    async def drafts(self, tenant_id: str) -> list[str]:
        names = await self._blobs.names(DRAFT, f"{tenant_id}/")
        return sorted(_draft_path(name.split("/", 1)[1]) for name in names)

    async def delete_draft(self, tenant_id: str, path: str) -> None:
        await self.draft(tenant_id, path)
        await self._blobs.delete((DRAFT, _draft_name(tenant_id, path)))

    async def publish(self, tenant_id: str, path: str, if_match: int | None, by: str) -> dict[str, Any]:
        record = await self.draft(tenant_id, path)
        document = await self.put_page(tenant_id, path, record["page"], if_match, by)
        await self._blobs.delete((DRAFT, _draft_name(tenant_id, path)))
        return document

    async def preview(self, tenant_id: str, path: str) -> Tenant:
        """The tenant as it would be with this page's draft published (the page as published when no draft)."""
        document = await self.get(tenant_id)
        try:
            record = await self.draft(tenant_id, path)
        except NotFound:
            return self._validate(tenant_id, document)
        pages = {**_pages(document), path: record["page"]}
        return self._validate(tenant_id, {**document, "pages": pages})

    # -- history ---------------------------------------------------------------------------------------

    async def history(self, tenant_id: str) -> list[int]:
        names = await self._blobs.names(HISTORY, f"{tenant_id}/")
        return sorted((int(name.split("/", 1)[1]) for name in names if name.split("/", 1)[1].isdigit()), reverse=True)

    async def version(self, tenant_id: str, version: int) -> dict[str, Any]:
        data = await self._blobs.get((HISTORY, f"{tenant_id}/{version}"))
        if data is None:
            raise NotFound(f"tenant {tenant_id}: no version {version} in the history")
        record: dict[str, Any] = orjson.loads(data)
        return record

    async def diff(self, tenant_id: str, old: int, new: int) -> list[dict[str, Any]]:
        before, after = await self.version(tenant_id, old), await self.version(tenant_id, new)
        strip = ("version",)
        return diff(
            {k: v for k, v in before["document"].items() if k not in strip},
            {k: v for k, v in after["document"].items() if k not in strip},
        )

    # -- the write path ---------------------------------------------------------------------------------

    async def _write(
        self,
        tenant_id: str,
        build: Callable[[dict[str, Any] | None], dict[str, Any] | None],
        if_match: int | None,
        by: str,
        action: str,
        kind: str,
        *,
        path: str | None = None,
        require: bool = True,
    ) -> dict[str, Any]:
        if require and if_match is None:
            raise PreconditionRequired("this write needs If-Match with the version it changes (the ETag of a GET)")
        async with self._lock.hold(tenant_id):
            current = await self.origin.load(tenant_id)
            current_version = int(current["version"]) if current is not None else None
            if require and current is None:
                raise NotFound(f"no tenant {tenant_id!r}")
            if if_match not in (None, ANY_VERSION, current_version):
                raise Conflict(
                    f"tenant {tenant_id}: version {if_match} is not the current one ({current_version}); "
                    "reload it and apply your change again",
                    current_version,
                )
            changed = build(current)
            history = await self.history(tenant_id)
            document: dict[str, Any] | None = None
            version = current_version or 0
            if changed is not None:
                version = max(current_version or 0, history[0] if history else 0) + 1
                document = {**{k: v for k, v in changed.items() if k != "version"}, "version": version}
                self._validate(tenant_id, document)
            recorded = []
            if current is not None and current_version not in history:
                # Published before the admin saw it (tenants.json, sync): kept, so it can be restored.
                recorded.append(await self._record(tenant_id, current, "imported", "origin"))
            if document is not None:
                recorded.append(await self._record(tenant_id, document, action, by))
            try:
                written, removed = await self.origin.commit(tenant_id, document, current_version)
            except TenantEdgeError:
                for key in recorded:  # refused by the origin (a domain another tenant holds): nothing stays
                    await self._blobs.delete(key)
                raise
            await self._mirror(written, removed)
        self._stale.add(tenant_id)
        await self.announce(Event(kind, tenant_id, version, path))
        return document or {}

    async def _record(self, tenant_id: str, document: dict[str, Any], action: str, by: str) -> DocKey:
        version = int(document["version"])
        record = {"version": version, "saved_at": self._now(), "by": by, "action": action, "document": document}
        key = (HISTORY, f"{tenant_id}/{version}")
        await self._blobs.put(key, orjson.dumps(record))
        return key

    def _validate(self, tenant_id: str, document: dict[str, Any]) -> Tenant:
        tenant = parse_tenant(tenant_id, document, self._registry, source=f"tenant {tenant_id}")
        issues = [
            ValidationIssue(f"{field}[{index}]", f"{host!r} is the admin host; no tenant may claim it")
            for field in ("domains", "aliases")
            for index, host in enumerate(document.get(field) or [])
            if isinstance(host, str) and _normalised(host) in self._reserved
        ]
        if issues:
            raise DocumentError(f"tenant {tenant_id}", issues)
        return tenant

    async def _mirror(self, written: dict[DocKey, bytes], removed: set[DocKey]) -> None:
        """Redis after the origin; a Redis that fails to take the new copy must at least lose the old one."""
        if self._cache is None:
            return
        for key, data in written.items():
            try:
                await self._cache.put(key, data)
            except BackendError as e:
                log.error("%s: not written to the shared cache (%s); dropping the old copy", key, e)
                removed = removed | {key}
        for key in removed:
            try:
                await self._cache.delete(key)
            except BackendError as e:
                log.error("%s: the shared cache may serve an old copy until its TTL: %s", key, e)

    async def announce(self, event: Event) -> None:
        """Apply an event in this worker at once, then tell every other one (a bus failure is logged)."""
        if self.written is not None:
            self.written(event)  # this worker serves the change even if the bus is down
        try:
            await self._bus.publish(event)
        except BackendError as e:
            log.error("event %s not sent (%s): other workers see it within their L1 TTL", event, e)

    async def _summaries(self) -> dict[str, Summary]:
        if self._index is None:
            self._index = await self.origin.summaries()
            self._stale.clear()
        for tenant_id in list(self._stale):
            self._stale.discard(tenant_id)
            document = await self.origin.load(tenant_id)
            if document is None:
                self._index.pop(tenant_id, None)
            else:
                try:
                    self._index[tenant_id] = Summary.of(parse_tenant(tenant_id, document, self._registry))
                except DocumentError:
                    self._index.pop(tenant_id, None)
        return self._index

    def _now(self) -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds")


def _pages(document: dict[str, Any]) -> dict[str, Any]:
    """The document's pages; a document without any serves the default ones."""
    pages = document.get("pages")
    return dict(pages) if isinstance(pages, dict) else dict(DEFAULT_PAGES)


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DocumentError("request body", [ValidationIssue("", "expected a JSON object (a tenant document)")])
    return value


def _normalised(host: str) -> str:
    try:
        return normalise_pattern(host)
    except TenantEdgeError:
        return host


def _draft_name(tenant_id: str, path: str) -> str:
    return f"{tenant_id}/{HOME_DRAFT if path == '/' else path[1:]}"


def _draft_path(name: str) -> str:
    return "/" if name == HOME_DRAFT else "/" + name
