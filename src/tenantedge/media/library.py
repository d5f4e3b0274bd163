"""A tenant's asset library: upload, list and delete, with the same checks for the admin API and the CLI.

Every upload is held to the limits before anything is stored: its size, a type on the allowlist (by its bytes),
sane dimensions, and the tenant's quota. The library changes under the tenant's write lock, the lock every
publish takes, so an asset cannot be deleted while a page that uses it is being published.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tenantedge.errors import AssetRefused, DocumentError, NotFound, ValidationIssue, VersionConflict
from tenantedge.media.kinds import inspect
from tenantedge.media.references import asset_id, media_path, places, references
from tenantedge.media.store import AssetRecord, AssetStore, Library
from tenantedge.media.variants import every_variant
from tenantedge.store.locks import WriteLock

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
Loader = Callable[[str], Awaitable[dict[str, Any] | None]]
Drafts = Callable[[str], Awaitable[dict[str, Any]]]  # a tenant's drafts: page path -> the page it would publish


@dataclass(frozen=True, slots=True)
class AssetLimits:
    max_bytes: int = 10 << 20  # one file (TENANTEDGE_MAX_ASSET_BYTES)
    quota_bytes: int = 200 << 20  # one tenant's assets together (TENANTEDGE_ASSET_QUOTA_BYTES)
    max_pixels: int = 40_000_000  # one image, width x height x frames (TENANTEDGE_MAX_IMAGE_PIXELS)


@dataclass(frozen=True, slots=True)
class Uploaded:
    record: AssetRecord
    created: bool  # False: the same bytes were in the library already


class AssetLibrary:
    """The assets of every tenant in one origin. `load` reads a tenant's published document (None: no tenant),
    `drafts` its unpublished drafts, which use assets as much as the published pages do."""

    def __init__(
        self, store: AssetStore, lock: WriteLock, load: Loader, limits: AssetLimits, drafts: Drafts | None = None
    ) -> None:
        self.store = store
        self._lock = lock
        self._load = load
        self._drafts = drafts
        self.limits = limits

    async def upload(self, tenant: str, name: str, data: bytes, by: str, *, new_tenant: bool = False) -> Uploaded:
        """Store a file in the tenant's library once; AssetRefused (nothing stored) when the limits forbid it.
        `new_tenant`: the tenant may not be published yet (a sync carries its assets before its document)."""
        if len(data) > self.limits.max_bytes:
            raise too_large(len(data), self.limits.max_bytes)
        if not data:
            raise AssetRefused(422, "the file is empty")
        inspected = await asyncio.to_thread(inspect, data, max_pixels=self.limits.max_pixels)
        asset = asset_id(hashlib.sha256(data).hexdigest(), inspected.kind.ext)
        async with self._lock.hold(tenant):
            if not new_tenant:
                await self._tenant(tenant)
            library = await self.store.library(tenant)
            if asset in library:
                return Uploaded(library[asset], False)
            self._check_quota(tenant, library, len(data))
            record = AssetRecord(
                asset,
                clean_name(name, inspected.kind.ext),
                inspected.kind.content_type,
                len(data),
                inspected.width,
                inspected.height,
                datetime.now(UTC).isoformat(timespec="seconds"),
                by,
            )
            # The file first, then the library: a library never names a file that is not there.
            await self.store.put(tenant, asset, data, record.content_type)
            # Against the library as stored when written: another machine may have changed it since it was read.
            saved = await self.store.change_library(tenant, lambda current: self._add(tenant, current, record))
        return Uploaded(saved[asset], saved[asset] is record)

    def _add(self, tenant: str, library: Library, record: AssetRecord) -> Library | None:
        if record.id in library:
            return None  # the same bytes, stored by another writer meanwhile
        self._check_quota(tenant, library, record.size)
        return {**library, record.id: record}

    def _check_quota(self, tenant: str, library: Library, size: int) -> None:
        used = sum(record.size for record in library.values())
        if used + size > self.limits.quota_bytes:
            raise AssetRefused(
                413,
                f"tenant {tenant}: {size:,} more bytes would make {used + size:,}; its assets may "
                f"take {self.limits.quota_bytes:,} (TENANTEDGE_ASSET_QUOTA_BYTES): delete some first",
            )

    async def listing(self, tenant: str) -> list[dict[str, Any]]:
        """Every asset with its served path and where the published document uses it, newest first."""
        document = await self._tenant(tenant)
        library = await self.store.library(tenant)
        used = await self._usage(tenant, document)
        records = sorted(library.values(), key=lambda record: (record.uploaded_at, record.id), reverse=True)
        return [describe(record, used.get(record.id, [])) for record in records]

    async def get(self, tenant: str, asset: str) -> dict[str, Any]:
        document = await self._tenant(tenant)
        record = (await self.store.library(tenant)).get(asset)
        if record is None:
            raise NotFound(f"tenant {tenant}: no asset {asset!r}")
        return describe(record, (await self._usage(tenant, document)).get(asset, []))

    async def delete(self, tenant: str, asset: str) -> AssetRecord:
        """Remove an asset no published page or draft uses (VersionConflict naming the places that do)."""
        async with self._lock.hold(tenant):
            document = await self._tenant(tenant)
            library = await self.store.library(tenant)
            record = library.get(asset)
            if record is None:
                raise NotFound(f"tenant {tenant}: no asset {asset!r}")
            where = (await self._usage(tenant, document)).get(asset)
            if where:
                raise VersionConflict(
                    f"tenant {tenant}: asset {asset} is in use ({', '.join(where)}); stop using it first", None
                )
            # The library first: a file no library names is unreachable, never a dangling entry.
            await self.store.change_library(
                tenant, lambda current: {key: value for key, value in current.items() if key != asset}
            )
            await self.store.delete(tenant, asset)
            for variant in every_variant(asset):
                await self.store.delete(tenant, variant)
        return record

    async def check(self, tenant: str, document: dict[str, Any]) -> None:
        """DocumentError naming, by JSON path, each reference to an asset not in the tenant's library."""
        found = list(references(document))
        if not found:
            return
        library = await self.store.library(tenant)
        issues = [
            ValidationIssue.at(path, f"no asset {asset} in this tenant's library (upload it first)")
            for path, asset in found
            if asset not in library
        ]
        if issues:
            raise DocumentError(f"tenant {tenant}", issues)

    async def _usage(self, tenant: str, document: dict[str, Any]) -> dict[str, list[str]]:
        """Where each asset is used: the published document's places, then each draft that would publish it."""
        used = places(document)
        drafts = await self._drafts(tenant) if self._drafts is not None else {}
        for path, page in sorted(drafts.items()):
            for asset in sorted({asset for _, asset in references(page)}):
                used.setdefault(asset, []).append(f"draft of page {path}")
        return used

    async def _tenant(self, tenant: str) -> dict[str, Any]:
        document = await self._load(tenant)
        if document is None:
            raise NotFound(f"no tenant {tenant!r}")
        return document


def describe(record: AssetRecord, used_in: list[str]) -> dict[str, Any]:
    return {**record.to_json(), "path": media_path(record.id), "reference": f"asset:{record.id}", "used_in": used_in}


def too_large(size: int, limit: int) -> AssetRefused:
    return AssetRefused(413, f"the file is {size:,} bytes; the limit is {limit:,} (TENANTEDGE_MAX_ASSET_BYTES)")


def clean_name(name: str, ext: str) -> str:
    """The name as shown in the library: its last path part, plain characters, at most 100; the kind found decides
    the extension shown, not the one it was sent with."""
    base = _NAME_UNSAFE.sub("-", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .-")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{(stem or 'asset')[:100]}.{ext}"
