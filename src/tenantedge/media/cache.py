"""Hot assets in memory within a byte budget, each fetched once however many requests want it (single-flight).

An asset's id names its content, so an entry never goes stale: it stays until the budget pushes it out, or the
asset is deleted. Files over the per-entry limit are never held: each request streams them from the origin.
What the origin does not have is remembered for a few seconds, so a flood of made-up digests costs it little.
While the origin is down, what memory holds is still served.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from cachetools import TTLCache

from tenantedge.clock import Clock
from tenantedge.media.store import AssetStore, AssetStream

Key = tuple[str, str]  # (tenant, asset id)
_MISSES = 16_384


@dataclass(frozen=True, slots=True)
class Large:
    """An asset too large to hold: the stream the request that found out opened, for it to send."""

    stream: AssetStream | None  # None for the followers of that request: each opens its own


class MediaCache:
    def __init__(self, store: AssetStore, clock: Clock, *, budget: int, negative_ttl: float = 5.0) -> None:
        self._store = store
        self.budget = budget
        # One entry may take a sixteenth of the budget: a few large files must not push out every small one.
        self.entry_limit = budget // 16
        self._entries: OrderedDict[Key, bytes] = OrderedDict()
        self.bytes = 0
        self._misses: TTLCache[Key, bool] = TTLCache(_MISSES, negative_ttl, timer=clock.now)
        self._flights: dict[Key, asyncio.Future[bytes | Large | None]] = {}
        self.hits = 0
        self.fetches = 0

    def peek(self, key: Key) -> bytes | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        return body

    async def get(self, key: Key) -> bytes | Large | None:
        """The asset's bytes, a stream to send (too large to hold), or None (the tenant has no such asset).
        BackendError when the origin cannot answer and memory has no copy."""
        body = self.peek(key)
        if body is not None:
            return body
        if key in self._misses:
            return None
        # The fetch runs as a task of its own: a request that gives up does not cancel it for the others.
        flight = self._flights.get(key)
        leader = flight is None
        if flight is None:
            flight = asyncio.ensure_future(self._fetch(key))
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        found = await asyncio.shield(flight)
        if isinstance(found, Large) and not leader:
            return Large(None)  # the stream is the leader's to send
        return found

    def _landed(self, key: Key, flight: asyncio.Future[bytes | Large | None]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]

    async def _fetch(self, key: Key) -> bytes | Large | None:
        self.fetches += 1
        opened = await self._store.open(*key)
        if opened is None:
            self._misses[key] = True
            return None
        if opened.size > self.entry_limit:
            return Large(opened)
        chunks = [chunk async for chunk in opened.chunks]
        body = b"".join(chunks)
        self._keep(key, body)
        return body

    def _keep(self, key: Key, body: bytes) -> None:
        self._entries[key] = body
        self.bytes += len(body)
        while self.bytes > self.budget and self._entries:
            _, dropped = self._entries.popitem(last=False)
            self.bytes -= len(dropped)

    def forget(self, tenant: str, asset: str) -> None:
        """A deleted asset, or one just uploaded (a remembered miss must not hide it)."""
        body = self._entries.pop((tenant, asset), None)
        if body is not None:
            self.bytes -= len(body)
        self._misses.pop((tenant, asset), None)

    def metrics(self) -> dict[str, tuple[str, str, float]]:
        return {
            "tenantedge_media_cache_bytes": ("gauge", "Bytes of tenant assets held by this worker.", self.bytes),
            "tenantedge_media_cache_hits_total": ("counter", "Asset requests answered from memory.", self.hits),
            "tenantedge_media_fetches_total": ("counter", "Asset fetches from the origin.", self.fetches),
        }
