"""The sizes of the images a tenant version shows: read from its library once, before the version first renders;
an origin that cannot say leaves the version unprepared (its pages are not kept), and the next render asks again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantedge.errors import BackendError
from tenantedge.media.sizes import ImageSizes, ResponsiveImage
from tenantedge.media.store import AssetRecord, FolderAssets, Library
from tenantedge.sections import SectionRegistry
from tenantedge.tenants import parse_tenant

WIDE = "ab" * 32 + ".jpg"
ICON = "cd" * 32 + ".svg"


class _FlakyStore(FolderAssets):
    """The folder store, whose library cannot be read while `down`, counting the reads."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.down = False
        self.reads = 0

    async def library(self, tenant: str) -> Library:
        self.reads += 1
        if self.down:
            raise BackendError("the origin is down")
        return await super().library(tenant)


def _record(asset: str, width: int, height: int) -> AssetRecord:
    return AssetRecord(asset, asset, "image/jpeg", 1, width, height, "2026-01-01T00:00:00+00:00", "test")


@pytest.mark.anyio
async def test_sizes_are_read_once_per_version_and_not_while_the_origin_is_down(
    tmp_path: Path, registry: SectionRegistry
) -> None:
    store = _FlakyStore(tmp_path)
    await store.save_library("acme", {WIDE: _record(WIDE, 1200, 800), ICON: _record(ICON, 24, 24)})
    gallery = {"images": [{"src": f"asset:{WIDE}", "alt": "Wide"}, {"src": f"asset:{ICON}", "alt": "Icon"}]}
    document = {"name": "Acme", "domains": ["acme.com"], "pages": {"/": [{"type": "Gallery", "props": gallery}]}}
    tenant = parse_tenant("acme", document, registry)
    sizes = ImageSizes(store)

    store.down = True
    assert not await sizes.prepare(tenant) and not sizes.ready(tenant)
    assert sizes.image(tenant, f"/_edge/media/{WIDE}") == ResponsiveImage(f"/_edge/media/{WIDE}", "", None, None)
    store.down = False
    assert await sizes.prepare(tenant) and sizes.ready(tenant)
    assert await sizes.prepare(tenant) and store.reads == 2
    digest = WIDE.split(".")[0]
    srcset = f"/_edge/media/{digest}-480w.webp 480w, /_edge/media/{digest}-960w.webp 960w, /_edge/media/{WIDE} 1200w"
    assert sizes.image(tenant, f"/_edge/media/{WIDE}") == ResponsiveImage(f"/_edge/media/{WIDE}", srcset, 1200, 800)
    # An SVG is not among the images with sizes read (no variants; the section's size stands), nor is a URL.
    assert sizes.image(tenant, f"/_edge/media/{ICON}").width is None
    assert sizes.image(tenant, "https://images.example/a.jpg").srcset == ""


@pytest.mark.anyio
async def test_a_version_showing_no_uploaded_image_reads_nothing(tmp_path: Path, registry: SectionRegistry) -> None:
    store = _FlakyStore(tmp_path)
    hero = {"type": "Hero", "variant": "split", "props": {"image": "https://images.example/a.jpg"}}
    tenant = parse_tenant("acme", {"name": "Acme", "domains": ["acme.com"], "pages": {"/": [hero]}}, registry)
    sizes = ImageSizes(store)
    assert await sizes.prepare(tenant) and sizes.ready(tenant) and store.reads == 0
