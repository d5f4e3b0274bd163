"""A tenant's asset index in S3 (SeaweedFS) written by machines that share the bucket but no lock (no Redis):
each change is a compare-and-swap on the index's ETag, so no upload or deletion is lost to another's."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tenantedge.clock import ManualClock
from tenantedge.media.library import AssetLibrary, AssetLimits
from tenantedge.media.store import ObjectAssets
from tenantedge.store.locks import FileWriteLock
from tenantedge.store.s3 import S3Tier
from tests.media import images
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedS3

pytestmark = pytest.mark.anyio
TENANT = "racers"
MACHINES = 4


async def no_references(tenant: str) -> dict[str, Any] | None:
    return {"pages": {}}  # a published document that uses no asset


@pytest.fixture
async def machines(
    seaweed: SeaweedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[list[AssetLibrary]]:
    """The same bucket and prefix from several machines, each with its own lock file: none holds another's lock."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    prefix = f"library-{uuid.uuid4().hex[:10]}/"
    tiers = [S3Tier(seaweed.endpoint, BUCKET, ManualClock(), prefix=prefix, timeout=5) for _ in range(MACHINES)]
    yield [
        AssetLibrary(
            ObjectAssets(tier), FileWriteLock(tmp_path / f"machine-{number}.lock"), no_references, AssetLimits()
        )
        for number, tier in enumerate(tiers)
    ]
    for tier in tiers:
        await tier.close()


def photo(number: int) -> bytes:
    return images.png((4, 4), (number, 255 - number, 7))


async def test_concurrent_uploads_from_several_machines_all_reach_the_index(
    machines: list[AssetLibrary], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    uploads = [
        machines[number % MACHINES].upload(TENANT, f"photo-{number}.png", photo(number), "test", new_tenant=True)
        for number in range(32)
    ]
    uploaded = await asyncio.gather(*uploads)
    assert all(upload.created for upload in uploaded)
    stored = await machines[0].store.library(TENANT)
    assert sorted(stored) == sorted(upload.record.id for upload in uploaded)
    # SeaweedFS honours If-Match and If-None-Match: the tier never fell back to plain writes.
    assert "refuses conditional writes" not in caplog.text


def race_after_first_read(monkeypatch: pytest.MonkeyPatch, other: Callable[[], Awaitable[object]]) -> list[bool]:
    """The next read of an index is followed at once by `other` (another machine's own read and write), before
    this machine writes what it read; the list holds True once that happened."""
    original = S3Tier.get_object_tagged
    raced: list[bool] = []

    async def read_then_race(self: S3Tier, key: str) -> tuple[bytes, str] | None:
        found = await original(self, key)
        if not raced and key.endswith("/index.json"):
            raced.append(True)
            monkeypatch.setattr(S3Tier, "get_object_tagged", original)
            await other()
        return found

    monkeypatch.setattr(S3Tier, "get_object_tagged", read_then_race)
    return raced


async def test_an_upload_landing_between_the_read_and_the_write_is_kept(
    machines: list[AssetLibrary], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, theirs = machines[0], machines[1]
    first = await mine.upload(TENANT, "first.png", photo(1), "test", new_tenant=True)
    raced = race_after_first_read(
        monkeypatch, lambda: theirs.upload(TENANT, "theirs.png", photo(2), "test", new_tenant=True)
    )
    second = await mine.upload(TENANT, "mine.png", photo(3), "test", new_tenant=True)
    assert raced
    assert set(await mine.store.library(TENANT)) == {first.record.id, second.record.id, asset(photo(2))}

    # A deletion is a change like any other: an upload landing in the middle of it survives it.
    raced = race_after_first_read(
        monkeypatch, lambda: theirs.upload(TENANT, "later.png", photo(4), "test", new_tenant=True)
    )
    await mine.delete(TENANT, first.record.id)
    assert raced
    assert set(await mine.store.library(TENANT)) == {second.record.id, asset(photo(2)), asset(photo(4))}


def asset(data: bytes) -> str:
    return f"{hashlib.sha256(data).hexdigest()}.png"
