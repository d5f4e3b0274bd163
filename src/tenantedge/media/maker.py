"""Making an image's width variants once: after its upload, off the request path, or for the first request that
finds them missing, never twice at the same time for the same image.

In a worker, the requests and the upload that want one image's variants share one making (single-flight), and
one image is decoded at a time (a 12-megapixel photo is 36 MB once decoded). Across workers and machines, the
making is done under the variants' lock (flock, or a Redis lease) and starts by looking for the variants in the
origin: whoever comes second finds them made. The smallest is written last, so finding it means all are there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from cachetools import TTLCache

from tenantedge.clock import Clock
from tenantedge.errors import BackendError
from tenantedge.media.kinds import WEBP
from tenantedge.media.store import AssetStore
from tenantedge.media.variants import WIDTHS, make_variants, parse_variant, variant_id, variant_widths
from tenantedge.store.locks import WriteLock

log = logging.getLogger("tenantedge.media")

Key = tuple[str, str]  # (tenant, the original's digest)
_ABSENT = 16_384


class VariantMaker:
    def __init__(self, store: AssetStore, lock: WriteLock, clock: Clock, *, negative_ttl: float = 5.0) -> None:
        self._store = store
        self._lock = lock
        self._flights: dict[Key, asyncio.Future[bool]] = {}
        # Variant names whose tenant has no such image (or no such width): a flood of made-up names reads the
        # library once each, per few seconds.
        self._absent: TTLCache[tuple[str, str], bool] = TTLCache(_ABSENT, negative_ttl, timer=clock.now)
        self._decoding = asyncio.Semaphore(1)
        self._background: set[asyncio.Task[bool]] = set()
        self.made = 0  # images whose variants this worker made

    async def ensure(self, tenant: str, asset: str) -> bool:
        """Make the variants of the tenant's image `asset` unless they are made; False when it gets none (no such
        asset, another kind, too narrow). BackendError when the origin or the lock fails."""
        key = (tenant, asset.split(".", 1)[0])
        flight = self._flights.get(key)
        if flight is None:
            # A task of its own: a request that gives up does not cancel the making for the others.
            flight = asyncio.ensure_future(self._make(tenant, asset))
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._flights.pop(key, None))
        return await asyncio.shield(flight)

    async def ensure_variant(self, tenant: str, variant: str) -> bool:
        """Make the variants a request names (`{sha256}-{width}w.webp`), if the tenant has that image and it gets
        that width; False otherwise."""
        parsed = parse_variant(variant)
        if parsed is None or (tenant, variant) in self._absent:
            return False
        digest, width = parsed
        library = await self._store.library(tenant)
        record = next((record for record in library.values() if record.id.split(".", 1)[0] == digest), None)
        if record is None or width not in variant_widths(record.id, record.width):
            self._absent[tenant, variant] = True
            return False
        return await self.ensure(tenant, record.id)

    def start(self, tenant: str, asset: str) -> None:
        """Make an image's variants in the background, as soon as it is uploaded."""
        digest = asset.split(".", 1)[0]
        for width in WIDTHS:
            self._absent.pop((tenant, variant_id(digest, width)), None)  # a miss remembered before it was uploaded
        task = asyncio.ensure_future(self._logged(self.ensure(tenant, asset), tenant, asset))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        """Wait for the makings under way (a variant is written whole or not at all), then let the lock go."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._lock.close()

    async def _logged(self, making: Coroutine[Any, Any, bool], tenant: str, asset: str) -> bool:
        try:
            return await making
        except BackendError as e:
            # The first request for a variant makes it instead.
            log.warning("tenant %s asset %s: variants not made: %s", tenant, asset, e)
            return False

    async def _make(self, tenant: str, asset: str) -> bool:
        record = (await self._store.library(tenant)).get(asset)
        widths = variant_widths(asset, record.width) if record is not None else ()
        if not widths:
            return False
        digest = asset.split(".", 1)[0]
        names = [variant_id(digest, width) for width in widths]
        async with self._lock.hold(f"{tenant}/{digest}"):
            if await self._stored(tenant, names[-1]):
                return True
            opened = await self._store.open(tenant, asset)
            if opened is None:
                return False  # deleted meanwhile
            data = b"".join([chunk async for chunk in opened.chunks])
            async with self._decoding:
                variants = await asyncio.to_thread(make_variants, data, widths)
            for name, variant in zip(names, variants, strict=True):
                await self._store.put(tenant, name, variant.data, WEBP.content_type)
            self.made += 1
            log.info("tenant %s asset %s: variants made at %s", tenant, asset, ", ".join(f"{w}w" for w in widths))
        return True

    async def _stored(self, tenant: str, name: str) -> bool:
        opened = await self._store.open(tenant, name, 0, 0)
        if opened is None:
            return False
        await opened.close()
        return True

    def metrics(self) -> dict[str, tuple[str, str, float]]:
        return {
            "tenantedge_media_variants_made_total": (
                "counter",
                "Images whose width variants this worker made.",
                self.made,
            ),
        }
