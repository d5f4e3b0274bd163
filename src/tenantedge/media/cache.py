"""Hot assets in memory within a byte budget, each fetched once however many requests want it (single-flight).

An asset's id names its content, so an entry's bytes never go stale; the asset may still be deleted. The
`asset.deleted` event drops it at once, and in case the bus dropped that event, an entry not checked for the
negative TTL is checked against the tenant's index (one read per tenant, however many of its assets are asked)
before it is served again: a deletion is never served for longer than that. Files over the per-entry limit are
never held: each request streams them from the origin. What the origin does not have is remembered for the same
few seconds, so a flood of made-up digests costs it little. While the origin is down, what memory holds is still
served.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from cachetools import TTLCache

from tenantedge.clock import Clock
from tenantedge.errors import BackendError
from tenantedge.media.store import AssetStore, AssetStream

Key = tuple[str, str]  # (tenant, asset id)
_MISSES = 16_384
_INDEXES = 4_096  # tenants whose index was read within the TTL


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
        self._checked: dict[Key, float] = {}  # when each entry was last known to be in its tenant's index
        self.bytes = 0
        self._clock = clock
        self._ttl = negative_ttl
        self._misses: TTLCache[Key, bool] = TTLCache(_MISSES, negative_ttl, timer=clock.now)
        self._flights: dict[Key, asyncio.Future[bytes | Large | None]] = {}
        # Each tenant's index as last read (when, and the ids it listed), and the reads under way.
        self._indexes: TTLCache[str, tuple[float, frozenset[str]]] = TTLCache(_INDEXES, negative_ttl, clock.now)
        self._reading: dict[str, asyncio.Future[tuple[float, frozenset[str]]]] = {}
        self.hits = 0
        self.fetches = 0

    def peek(self, key: Key) -> bytes | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        return body

    def hot(self, key: Key) -> bytes | None:
        """The bytes held, if the entry was found in its tenant's index within the TTL: what may be sent at once."""
        if self._clock.now() - self._checked.get(key, 0.0) >= self._ttl:
            return None
        return self.peek(key)

    async def get(self, key: Key) -> bytes | Large | None:
        """The asset's bytes, a stream to send (too large to hold), or None (the tenant has no such asset).
        BackendError when the origin cannot answer and memory has no copy."""
        if key in self._entries and not await self._still_listed(key):
            self.forget(*key)  # deleted, and the event that said so never reached this worker
            self._misses[key] = True
            return None
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

    async def _still_listed(self, key: Key) -> bool:
        """Whether the tenant's index, read since the entry was last checked, lists it (True while it cannot be read:
        a backend error is a stale hit)."""
        checked = self._checked.get(key, 0.0)
        if self._clock.now() - checked < self._ttl:
            return True
        tenant, asset = key
        known = self._indexes.get(tenant)
        if known is None or known[0] < checked:
            reading = self._reading.get(tenant)
            if reading is None:
                reading = asyncio.ensure_future(self._read_index(tenant))
                self._reading[tenant] = reading
                reading.add_done_callback(lambda done: self._reading.pop(tenant, None))
            try:
                known = await asyncio.shield(reading)
            except BackendError:
                return True
        if _digest(asset) not in known[1]:
            return False
        if key in self._checked:
            self._checked[key] = known[0]
        return True

    async def _read_index(self, tenant: str) -> tuple[float, frozenset[str]]:
        read_at = self._clock.now()  # before the read: an index read then lists whatever was there by then
        # By digest: an image's width variants are listed as long as it is.
        known = (read_at, frozenset(_digest(asset) for asset in await self._store.library(tenant)))
        self._indexes[tenant] = known
        return known

    def _keep(self, key: Key, body: bytes) -> None:
        self._entries[key] = body
        self._checked[key] = self._clock.now()  # just read from the origin: it was there
        self.bytes += len(body)
        while self.bytes > self.budget and self._entries:
            dropped_key, dropped = self._entries.popitem(last=False)
            self._checked.pop(dropped_key, None)
            self.bytes -= len(dropped)

    def forget(self, tenant: str, asset: str) -> None:
        """A deleted asset, or one just uploaded (a remembered miss must not hide it)."""
        body = self._entries.pop((tenant, asset), None)
        if body is not None:
            self.bytes -= len(body)
        self._checked.pop((tenant, asset), None)
        self._misses.pop((tenant, asset), None)
        self._indexes.pop(tenant, None)  # the tenant's index changed

    def metrics(self) -> dict[str, tuple[str, str, float]]:
        return {
            "tenantedge_media_cache_bytes": ("gauge", "Bytes of tenant assets held by this worker.", self.bytes),
            "tenantedge_media_cache_hits_total": ("counter", "Asset requests answered from memory.", self.hits),
            "tenantedge_media_fetches_total": ("counter", "Asset fetches from the origin.", self.fetches),
        }


def _digest(asset: str) -> str:
    """The content digest an asset id or a variant's name starts with (`{sha256}.png`, `{sha256}-480w.webp`)."""
    return asset[:64]
