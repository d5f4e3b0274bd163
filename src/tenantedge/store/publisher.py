"""The one way anything public changes: validate → tenant lock → conditional write → history → Redis → one event.

The admin API and dashboard, `tenantedge sync` and `kv`, rollback and a tenants.json saved by an editor all
publish here, so each gets the same guarantees: a refused write stores nothing, a write replaces only the
version it was checked against (VersionConflict otherwise), every published version can be restored from the
history (with who wrote it), a reader never finds in Redis what the origin lacks, and every worker hears of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from tenantedge.errors import BackendError, Conflict, DocumentError, NotFound, PreconditionRequired, TenantEdgeError
from tenantedge.events import TENANT_DELETED, TENANT_UPDATED, Event, EventBus
from tenantedge.integers import bounded_integer
from tenantedge.sections import SectionRegistry
from tenantedge.store.blobs import Blobs
from tenantedge.store.layout import DOMAIN, DRAFT, HISTORY, TENANT, DocKey, draft_path
from tenantedge.store.locks import WriteLock
from tenantedge.store.origins import TenantOrigin
from tenantedge.store.publish import tenant_documents
from tenantedge.tenants import DEFAULT_LIMITS, DocumentLimits, Tenant, TenantSet, parse_tenant

log = logging.getLogger("tenantedge.publish")
ANY_VERSION = -1  # an If-Match of `*`: whichever version is current
FILE_WRITER = "file"  # who published a tenants.json saved by an editor
IMPORTER = "origin"  # who published a version found in the origin before anything here recorded it
# What a write makes of the current document (None: no tenant yet): the new one, or None to remove the tenant.
Build = Callable[[dict[str, Any] | None], dict[str, Any] | None]


class CacheTier(Protocol):
    """The shared cache (Redis) that mirrors the origin, written in batches (a tenant may have 1,000 domains)."""

    async def put_many(self, documents: Mapping[DocKey, bytes], *, ttl: float | None = None) -> None: ...

    async def delete_many(self, keys: Iterable[DocKey]) -> None: ...


class AssetCheck(Protocol):
    """The tenant's asset library, as validation asks it: every `asset:` reference must name a stored asset."""

    async def check(self, tenant: str, document: dict[str, Any]) -> None:
        """DocumentError naming each reference to a missing asset by its JSON path."""
        ...


class Publisher:
    def __init__(
        self,
        origin: TenantOrigin,
        blobs: Blobs,
        registry: SectionRegistry,
        bus: EventBus,
        lock: WriteLock,
        *,
        cache: CacheTier | None = None,
        limits: DocumentLimits = DEFAULT_LIMITS,
    ) -> None:
        self.origin = origin
        self.blobs = blobs
        self._registry = registry
        self._bus = bus
        self._lock = lock
        self._cache = cache
        self.limits = limits
        # This worker's own copy of an event, applied at once (before the bus echoes it, or if the bus is down).
        self.applied: Callable[[Event], None] | None = None
        # The asset library references are checked against (None: documents may not refer to assets yet).
        self.assets: AssetCheck | None = None

    @property
    def lock(self) -> WriteLock:
        """The tenant write lock, for other writers of a tenant's data (its asset library) to share."""
        return self._lock

    async def close(self) -> None:
        await self._lock.close()

    async def load(self, tenant_id: str) -> dict[str, Any] | None:
        """The published document, with its version, as a writer checks it."""
        return await self.origin.load(tenant_id)

    async def drafts(self, tenant_id: str) -> dict[str, Any]:
        """The tenant's unpublished drafts: each page path and the page its draft holds."""
        pages: dict[str, Any] = {}
        for name in await self.blobs.names(DRAFT, f"{tenant_id}/"):
            data = await self.blobs.get((DRAFT, name))
            if data is not None:  # deleted since it was listed
                pages[draft_path(name.split("/", 1)[1])] = orjson.loads(data)["page"]
        return pages

    async def write(
        self,
        tenant_id: str,
        build: Build,
        *,
        if_match: int | None,
        by: str,
        action: str,
        kind: str = TENANT_UPDATED,
        path: str | None = None,
        require: bool = True,
        skip_unchanged: bool = False,
    ) -> dict[str, Any]:
        """Publish what `build` makes of the current document; the document published ({} once removed).

        `if_match`: the version the caller changed (ANY_VERSION: whichever is current; None only where
        `require` is False: a tenant that may not exist yet). `skip_unchanged`: a document equal to the
        current one (version aside) is not published again, and the current one is returned.
        """
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
            if skip_unchanged and current is not None and changed is not None and same_content(current, changed):
                return current
            history = await self.history(tenant_id)
            newest = history[0] if history else 0
            # Published before any writer here saw it (tenants.json, an old sync): recorded too, so it can be restored.
            imported = current is not None and not await self._recorded(tenant_id, current, history)
            if imported:
                imported_as = current_version if current_version not in history else newest + 1
                newest = max(newest, imported_as or 0)
            document: dict[str, Any] | None = None
            version = current_version or 0
            if changed is not None:
                version = max(current_version or 0, newest) + 1
                document = {**without_version(changed), "version": version}
                await self.validate(tenant_id, document)
            recorded = []
            if current is not None and imported:
                recorded.append(await self._record(tenant_id, current, "imported", IMPORTER, imported_as))
            if document is not None:
                recorded.append(await self._record(tenant_id, document, action, by))
            try:
                written, removed = await self.origin.commit(tenant_id, document, current_version)
            except TenantEdgeError:
                for key in recorded:  # refused by the origin (a domain another tenant holds): nothing stays
                    await self.blobs.delete(key)
                raise
            await self._mirror(written, removed)
        await self.announce(Event(kind, tenant_id, version, path))
        return document or {}

    async def file_saved(self, old: TenantSet, new: TenantSet, changed: set[str]) -> None:
        """An editor saved tenants.json and this worker serves it now (`new`, was `old`): Redis gets the new
        copies, and the first worker to get here records each change in the history and tells every worker.

        Every worker mirrors (each may be the first to serve the save, and must not then read Redis's old
        copy back); the history and the event are written once, under the lock.
        """
        documents = await self.origin.documents(changed)
        for tenant_id in sorted(changed) if self._cache is not None else ():
            before, tenant = old.tenants.get(tenant_id), new.tenants.get(tenant_id)
            gone = {(DOMAIN, host) for host in (*before.domains, *before.aliases)} if before else set()
            if tenant is None:
                await self._mirror({}, gone | {(TENANT, tenant_id)})
            else:
                # A worker with Redis keeps each tenant's document as saved (FileStore documents=True).
                written = tenant_documents(tenant, new.documents[tenant_id])
                await self._mirror(written, gone - set(written))
        for tenant_id in sorted(changed):
            tenant = new.tenants.get(tenant_id)
            if tenant is not None and self.assets is not None:
                await self._report_missing_assets(tenant_id, documents.get(tenant_id))
            event = Event(TENANT_UPDATED, tenant_id, tenant.version) if tenant else Event(TENANT_DELETED, tenant_id, 0)
            try:
                first = await self._record_file_save(tenant_id, documents.get(tenant_id))
            except BackendError as e:
                log.error("tenant %s: the saved file is served, but not recorded in the history: %s", tenant_id, e)
                first = True
            if first or not self._bus.shared:
                await self.announce(event)
            elif self.applied is not None:
                self.applied(event)

    async def _report_missing_assets(self, tenant_id: str, document: dict[str, Any] | None) -> None:
        """A saved file is served as saved: a reference to a missing asset is told to the log (its image 404s)."""
        assert self.assets is not None
        try:
            await self.assets.check(tenant_id, document or {})
        except DocumentError as e:
            log.error("tenants.json saved with %s", e)
        except BackendError as e:
            log.error("tenant %s: its asset references were not checked: %s", tenant_id, e)

    async def _record_file_save(self, tenant_id: str, document: dict[str, Any] | None) -> bool:
        """Record a saved document as the next history entry, unless another worker did; whether this one did."""
        async with self._lock.hold(tenant_id):
            history = await self.history(tenant_id)
            if document is None:
                return True  # a removal leaves the history as it is: every version in it can still be restored
            if await self._recorded(tenant_id, document, history):
                return False
            number = (history[0] if history else 0) + 1
            await self._record(tenant_id, document, "saved tenants.json", FILE_WRITER, number)
            return True

    # -- history ---------------------------------------------------------------------------------------

    async def history(self, tenant_id: str) -> list[int]:
        """The versions recorded for this tenant, newest first."""
        names = await self.blobs.names(HISTORY, f"{tenant_id}/")
        versions = (bounded_integer(name.split("/", 1)[1], 1, 1 << 62) for name in names)
        return sorted((version for version in versions if version is not None), reverse=True)

    async def version(self, tenant_id: str, version: int) -> dict[str, Any]:
        data = await self.blobs.get((HISTORY, f"{tenant_id}/{version}"))
        if data is None:
            raise NotFound(f"tenant {tenant_id}: no version {version} in the history")
        record: dict[str, Any] = orjson.loads(data)
        return record

    async def _recorded(self, tenant_id: str, document: dict[str, Any], history: list[int]) -> bool:
        """Whether the newest history entry holds this document (version aside)."""
        if not history:
            return False
        newest = await self.blobs.get((HISTORY, f"{tenant_id}/{history[0]}"))
        return newest is not None and same_content(orjson.loads(newest).get("document") or {}, document)

    async def _record(
        self, tenant_id: str, document: dict[str, Any], action: str, by: str, number: int | None = None
    ) -> DocKey:
        version = int(document["version"]) if number is None else number
        saved = {**document, "version": version}
        record = {"version": version, "saved_at": _now(), "by": by, "action": action, "document": saved}
        key = (HISTORY, f"{tenant_id}/{version}")
        await self.blobs.put(key, orjson.dumps(record))
        return key

    # -- validation, Redis, events ---------------------------------------------------------------------

    async def validate(self, tenant_id: str, document: dict[str, Any]) -> Tenant:
        """The tenant this document makes, as the readers will parse it, held to the limits; DocumentError naming
        each problem. In a worker thread: a 1 MB document must not hold up every other request of this worker."""
        tenant = await asyncio.to_thread(
            parse_tenant, tenant_id, document, self._registry, f"tenant {tenant_id}", limits=self.limits
        )
        if self.assets is not None:
            await self.assets.check(tenant_id, document)
        return tenant

    async def _mirror(self, written: dict[DocKey, bytes], removed: set[DocKey]) -> None:
        """Redis after the origin; a Redis that fails to take the new copy must at least lose the old one."""
        if self._cache is None:
            return
        try:
            await self._cache.put_many(written)
        except BackendError as e:
            log.error("%d documents not all written to the shared cache (%s); dropping the old copies", len(written), e)
            removed = removed | set(written)
        try:
            await self._cache.delete_many(removed)
        except BackendError as e:
            log.error("%d documents: the shared cache may serve old copies until their TTL: %s", len(removed), e)

    async def announce(self, event: Event) -> None:
        """Apply an event in this worker at once, then tell every other one (a bus failure is logged)."""
        if self.applied is not None:
            self.applied(event)  # this worker serves the change even if the bus is down
        try:
            await self._bus.publish(event)
        except BackendError as e:
            log.error("event %s not sent (%s): other workers see it within their L1 TTL", event, e)


def without_version(document: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "version"}


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two tenant documents say the same, versions aside."""
    return orjson.dumps(without_version(a), option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        without_version(b), option=orjson.OPT_SORT_KEYS
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
