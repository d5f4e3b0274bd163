"""The media memory cache against the tenant's index: a deletion whose event never reached this worker is not
served past the negative TTL, an asset still listed goes on being served, and an unreadable index is a stale hit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tenantedge.clock import ManualClock
from tenantedge.media.cache import MediaCache
from tenantedge.media.library import AssetLibrary, AssetLimits
from tenantedge.media.store import FolderAssets, Library
from tenantedge.store.locks import FileWriteLock
from tests.media import images

pytestmark = pytest.mark.anyio
TTL = 5.0


async def no_references(tenant: str) -> dict[str, Any] | None:
    return {"pages": {}}  # a published document that uses no asset


class _CountingFolder(FolderAssets):
    """The folder store, counting the reads of an index."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.index_reads = 0

    async def library(self, tenant: str) -> Library:
        self.index_reads += 1
        return await super().library(tenant)


@pytest.fixture
def store(tmp_path: Path) -> _CountingFolder:
    return _CountingFolder(tmp_path)


@pytest.fixture
def library(store: _CountingFolder, tmp_path: Path) -> AssetLibrary:
    return AssetLibrary(store, FileWriteLock(tmp_path / "lock"), no_references, AssetLimits())


async def stored(library: AssetLibrary, data: bytes) -> tuple[str, str]:
    return "t", (await library.upload("t", "photo.png", data, "test", new_tenant=True)).record.id


async def test_a_deletion_whose_event_was_lost_is_not_served_past_the_ttl(library: AssetLibrary) -> None:
    clock, data = ManualClock(), images.png((3, 3))
    key = await stored(library, data)
    cache = MediaCache(library.store, clock, budget=1 << 20, negative_ttl=TTL)
    assert await cache.get(key) == data
    await library.delete(*key)  # on another worker: this one never hears of it
    clock.advance(TTL - 1)
    assert await cache.get(key) == data  # within the TTL, memory answers as it did
    clock.advance(1)
    assert await cache.get(key) is None
    assert cache.bytes == 0


async def test_assets_still_listed_are_served_with_one_index_read_per_tenant(
    library: AssetLibrary, store: _CountingFolder
) -> None:
    clock = ManualClock()
    keys = [await stored(library, images.png((3, 3), (shade, 0, 0))) for shade in range(10)]
    cache = MediaCache(store, clock, budget=1 << 20, negative_ttl=TTL)
    for key in keys:
        assert await cache.get(key) is not None
    reads = store.index_reads
    clock.advance(TTL)
    for key in keys:
        assert await cache.get(key) is not None
    assert store.index_reads == reads + 1
    clock.advance(TTL - 1)
    for key in keys:  # checked again only a TTL after the last check
        assert await cache.get(key) is not None
    assert store.index_reads == reads + 1


async def test_an_unreadable_index_keeps_what_memory_holds(library: AssetLibrary, tmp_path: Path) -> None:
    clock, data = ManualClock(), images.png((3, 3))
    key = await stored(library, data)
    cache = MediaCache(library.store, clock, budget=1 << 20, negative_ttl=TTL)
    assert await cache.get(key) == data
    (tmp_path / "assets" / "t" / "index.json").write_text("{broken")
    clock.advance(TTL)
    assert await cache.get(key) == data  # a backend error is a stale hit, never a miss or an error
