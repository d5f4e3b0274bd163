"""Serving assets when the origin falters, and from memory: S3 stopped keeps serving what memory holds, files too
large to hold stream (ranges asked of S3 as ranges), and many requests for one cold asset make one fetch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tenantedge.app import create_app
from tenantedge.clock import ManualClock
from tenantedge.media.cache import Large, MediaCache
from tenantedge.media.store import AssetStream, FolderAssets
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tests.admin.conftest import FULL_TOKEN, ROOT
from tests.conftest import running
from tests.media import images
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedS3, publish_demo

ADMIN = {"host": "admin.localhost", "authorization": f"Bearer {FULL_TOKEN}"}
SITE = {"host": "basicsite.com"}


@pytest.fixture
def private_s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeaweedS3]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    server = SeaweedS3(tmp_path / "s3")
    yield server
    server.stop()


async def _upload(http: httpx.AsyncClient, data: bytes, name: str) -> str:
    response = await http.post(
        "/api/tenants/basicsite/assets", files={"file": (name, data, "application/octet-stream")}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    path: str = response.json()["path"]
    return path


@pytest.mark.anyio
async def test_s3_stopped_keeps_serving_what_memory_holds(private_s3: SeaweedS3, registry: SectionRegistry) -> None:
    await publish_demo(private_s3.endpoint, "", registry)
    settings = Settings(
        templates_dir=ROOT / "templates",
        s3_endpoint=private_s3.endpoint,
        s3_bucket=BUCKET,
        s3_timeout=0.5,
        admin_token=FULL_TOKEN,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        hot = await _upload(http, images.png((5, 5), (1, 1, 1)), "hot.png")
        cold = await _upload(http, images.png((5, 5), (2, 2, 2)), "cold.png")
        assert (await http.get(hot, headers=SITE)).status_code == 200  # now in memory
        private_s3.stop()
        served = await http.get(hot, headers=SITE)
        assert served.status_code == 200 and served.content == images.png((5, 5), (1, 1, 1))
        unavailable = await http.get(cold, headers=SITE)
        assert unavailable.status_code == 503
        assert unavailable.headers["retry-after"] == "5"
        assert unavailable.headers["cache-control"] == "no-store"


@pytest.mark.anyio
async def test_a_file_too_large_to_hold_streams_and_its_ranges_come_from_s3(
    seaweed: SeaweedS3, registry: SectionRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    await publish_demo(seaweed.endpoint, "large/", registry)
    settings = Settings(
        templates_dir=ROOT / "templates",
        s3_endpoint=seaweed.endpoint,
        s3_bucket=BUCKET,
        s3_prefix="large/",
        admin_token=FULL_TOKEN,
        asset_memory_bytes=16 * 1024,  # one entry may take 1 KiB
    )
    big = images.png((64, 64), (9, 9, 9)) + bytes(range(256)) * 64
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        path = await _upload(http, big, "big.png")
        whole = await http.get(path, headers=SITE)
        assert whole.status_code == 200 and whole.content == big
        assert whole.headers["content-length"] == str(len(big))
        part = await http.get(path, headers={**SITE, "range": "bytes=100-299"})
        assert part.status_code == 206 and part.content == big[100:300]
        assert part.headers["content-range"] == f"bytes 100-299/{len(big)}"
        head = await http.head(path, headers=SITE)
        assert head.status_code == 200 and head.headers["content-length"] == str(len(big)) and head.content == b""


class _CountingStore(FolderAssets):
    """The folder store, counting how often the origin is asked, and slow to answer so requests pile up."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.opened = 0

    async def open(
        self, tenant: str, asset: str, first: int | None = None, last: int | None = None
    ) -> AssetStream | None:
        self.opened += 1
        await asyncio.sleep(0.05)
        return await super().open(tenant, asset, first, last)


@pytest.mark.anyio
async def test_many_requests_for_one_cold_asset_make_one_fetch(tmp_path: Path) -> None:
    store = _CountingStore(tmp_path)
    data = images.png((3, 3))
    asset = "cd" * 32 + ".png"
    await store.put("t", asset, data, "image/png")
    cache = MediaCache(store, ManualClock(), budget=1 << 20)
    found = await asyncio.gather(*(cache.get(("t", asset)) for _ in range(20)))
    assert found == [data] * 20
    assert store.opened == 1
    assert cache.peek(("t", asset)) == data and cache.bytes == len(data)
    # Unknown ids are remembered as missing for a while.
    assert await cache.get(("t", "ef" * 32 + ".png")) is None
    assert await cache.get(("t", "ef" * 32 + ".png")) is None
    assert store.opened == 2


@pytest.mark.anyio
async def test_the_budget_keeps_the_most_recently_used(tmp_path: Path) -> None:
    store = FolderAssets(tmp_path)
    names = [f"{index:02x}" * 32 + ".png" for index in range(30)]
    for index, asset in enumerate(names):
        await store.put("t", asset, bytes([index]) * 50, "image/png")
    cache = MediaCache(store, ManualClock(), budget=1000)  # an entry may take 62 bytes
    for asset in names:
        await cache.get(("t", asset))
    assert cache.bytes == 1000
    assert cache.peek(("t", names[0])) is None and cache.peek(("t", names[-1])) == bytes([29]) * 50
    await store.put("t", "ff" * 32 + ".png", b"x" * 100, "image/png")
    large = await cache.get(("t", "ff" * 32 + ".png"))
    assert isinstance(large, Large) and large.stream is not None and large.stream.size == 100
    await large.stream.close()
    assert cache.bytes == 1000
