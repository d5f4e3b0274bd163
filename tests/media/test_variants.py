"""Width variants of tenants' images: the widths and format made, the aspect and orientation kept, made once however
many ask at the same time, served on the tenant's own domains, and shown by pages in srcset with the image's size."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageCms

from tenantedge.clock import ManualClock
from tenantedge.media.cache import MediaCache
from tenantedge.media.kinds import inspect
from tenantedge.media.maker import VariantMaker
from tenantedge.media.store import AssetRecord, AssetStream, FolderAssets
from tenantedge.media.variants import make_variants, variant_id, variant_widths
from tenantedge.sections import SectionRegistry
from tenantedge.store.locks import FileWriteLock
from tests.admin.conftest import FULL_TOKEN, AdminClient, Workdir, app_on_origin, build_app, connect
from tests.conftest import running
from tests.media import images
from tests.server import copy_demo

OPS_PORT = 9100
WIDE = images.photo((2000, 1500))
DIGEST = hashlib.sha256(WIDE).hexdigest()


@pytest.mark.parametrize(
    ("asset", "width", "widths"),
    [
        ("a.jpg", 4000, (1600, 960, 480)),
        ("a.png", 1600, (960, 480)),
        ("a.webp", 961, (960, 480)),
        ("a.jpg", 480, ()),
        ("a.jpg", 300, ()),
        ("a.gif", 4000, ()),
        ("a.avif", 4000, ()),
        ("a.svg", 4000, ()),
        ("a.ico", 256, ()),
        ("a.woff2", None, ()),
    ],
    ids=["photo", "png", "webp-just-wider", "as-wide-as-the-smallest", "narrow", "gif", "avif", "svg", "ico", "font"],
)
def test_the_widths_an_asset_gets(asset: str, width: int | None, widths: tuple[int, ...]) -> None:
    assert variant_widths(asset, width) == widths


def test_variants_are_webp_at_each_width_with_the_aspect_kept_and_no_metadata() -> None:
    made = make_variants(images.photo((2000, 1000), orientation=1), (1600, 960, 480))
    assert [(variant.width, variant.height) for variant in made] == [(1600, 800), (960, 480), (480, 240)]
    for variant in made:
        with Image.open(io.BytesIO(variant.data)) as image:
            assert image.format == "WEBP" and image.size == (variant.width, variant.height)
            assert not image.getexif()


def test_exif_orientation_is_the_size_shown_and_the_variants_stand_upright() -> None:
    # Stored 1200 x 800, left half red; orientation 6: shown turned a quarter clockwise, 800 x 1200, red on top.
    sideways = images.photo((1200, 800), orientation=6)
    inspected = inspect(sideways, max_pixels=10_000_000)
    assert (inspected.width, inspected.height) == (800, 1200)
    [variant] = make_variants(sideways, variant_widths("x.jpg", inspected.width))
    assert (variant.width, variant.height) == (480, 720)
    with Image.open(io.BytesIO(variant.data)) as image:
        top, bottom = image.convert("RGB").getpixel((240, 100)), image.convert("RGB").getpixel((240, 620))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


def test_transparency_and_animation_are_kept() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (1000, 500), (0, 0, 0, 0)).save(out, format="PNG")
    [clear, _] = make_variants(out.getvalue(), (960, 480))
    with Image.open(io.BytesIO(clear.data)) as image:
        assert image.mode == "RGBA" and image.getpixel((10, 10)) == (0, 0, 0, 0)
    [moving] = make_variants(images.animated_png((600, 300), 3), (480,))
    with Image.open(io.BytesIO(moving.data)) as image:
        assert image.size == (480, 240) and getattr(image, "n_frames", 1) == 3


class _CountingStore(FolderAssets):
    """The folder store, counting reads of originals, slow to answer so that requests pile up."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.originals_read = 0

    async def open(
        self, tenant: str, asset: str, first: int | None = None, last: int | None = None
    ) -> AssetStream | None:
        await asyncio.sleep(0.02)
        if first is None:
            self.originals_read += 1
        return await super().open(tenant, asset, first, last)


async def _stored_photo(root: Path) -> tuple[_CountingStore, str]:
    store = _CountingStore(root)
    asset = f"{DIGEST}.jpg"
    await store.put("t", asset, WIDE, "image/jpeg")
    record = AssetRecord(asset, "wide.jpg", "image/jpeg", len(WIDE), 2000, 1500, "2026-01-01T00:00:00+00:00", "test")
    await store.save_library("t", {asset: record})
    return store, asset


@pytest.mark.anyio
async def test_many_requests_and_the_upload_make_the_variants_once(tmp_path: Path) -> None:
    store, asset = await _stored_photo(tmp_path)
    maker = VariantMaker(store, FileWriteLock(tmp_path / "variants.lock"), ManualClock())
    maker.start("t", asset)  # as the upload does
    asked = [maker.ensure("t", asset) for _ in range(5)]
    asked += [maker.ensure_variant("t", variant_id(DIGEST, width)) for width in (480, 960, 1600) for _ in range(5)]
    assert await asyncio.gather(*asked) == [True] * 20
    await maker.close()
    assert maker.made == 1 and store.originals_read == 1
    for width in (480, 960, 1600):
        assert (tmp_path / "assets" / "t" / "variants" / variant_id(DIGEST, width)).is_file()
    # Made already: found in the origin, not made again.
    assert await maker.ensure("t", asset) and maker.made == 1 and store.originals_read == 1


@pytest.mark.anyio
async def test_two_workers_sharing_the_lock_make_them_once(tmp_path: Path) -> None:
    store, asset = await _stored_photo(tmp_path)
    # Two workers: each its own maker and its own lock file handle (flock holds across them as across processes).
    workers = [VariantMaker(store, FileWriteLock(tmp_path / "variants.lock"), ManualClock()) for _ in range(2)]
    assert await asyncio.gather(*(worker.ensure("t", asset) for worker in workers)) == [True, True]
    assert sum(worker.made for worker in workers) == 1 and store.originals_read == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tenant", "name"),
    [
        ("t", variant_id(DIGEST, 1234)),  # a width it does not get
        ("t", variant_id("ab" * 32, 480)),  # an image it does not have
        ("other", variant_id(DIGEST, 480)),  # another tenant's image
    ],
    ids=["unplanned-width", "unknown-image", "other-tenant"],
)
async def test_variants_no_image_gets_are_not_made(tmp_path: Path, tenant: str, name: str) -> None:
    store, _ = await _stored_photo(tmp_path)
    maker = VariantMaker(store, FileWriteLock(tmp_path / "variants.lock"), ManualClock())
    assert not await maker.ensure_variant(tenant, name)
    assert maker.made == 0 and store.originals_read == 0


@pytest.fixture
def workdir(tmp_path: Path) -> Workdir:
    copy_demo(tmp_path)
    (tmp_path / "admin-tokens.json").write_text('{"tokens": []}')
    return Workdir(tmp_path)


@pytest.fixture(params=["file", "s3"])
async def site(
    request: pytest.FixtureRequest, workdir: Workdir, registry: SectionRegistry, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[AdminClient, AdminClient]]:
    """The admin and the sites (and the operations listener, for metrics), on tenants.json or S3 (SeaweedFS)."""
    limits: dict[str, Any] = {"max_asset_bytes": 4 << 20, "max_image_pixels": 10_000_000, "ops_port": OPS_PORT}
    app = await app_on_origin(request, workdir, registry, monkeypatch, "variants", **limits)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with (
        running(app),
        connect(app) as client,
        httpx.AsyncClient(transport=transport, base_url=f"http://testserver:{OPS_PORT}") as ops,
    ):
        yield client, AdminClient(ops)


async def _upload(client: AdminClient, data: bytes, name: str) -> dict[str, Any]:
    response = await client.http.post(
        "/api/tenants/basicsite/assets",
        files={"file": (name, data, "application/octet-stream")},
        headers={"host": "admin.localhost", "authorization": f"Bearer {FULL_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _show(client: AdminClient, image: str) -> None:
    etag = (await client.get("/api/tenants/basicsite")).headers["etag"]
    hero = {"type": "Hero", "variant": "split", "props": {"title": "Wide", "image": image, "image_alt": "A view"}}
    team = {"type": "Team", "props": {"members": [{"name": "Ada Lovelace", "photo": image}]}}
    published = await client.api("PUT", "/api/tenants/basicsite/pages/", [hero, team], if_match=etag)
    assert published.status_code == 200, published.text


def _made(metrics: str) -> float:
    found = re.search(r"^tenantedge_media_variants_made_total (\S+)$", metrics, re.M)
    assert found is not None
    return float(found.group(1))


@pytest.mark.anyio
async def test_an_uploaded_photo_is_shown_in_srcset_and_its_variants_served_on_its_own_domains(
    site: tuple[AdminClient, AdminClient],
) -> None:
    client, ops = site
    asset = await _upload(client, WIDE, "wide.jpg")
    names = [variant_id(DIGEST, width) for width in (480, 960, 1600)]
    # The upload's background making and a crowd of first requests share one making.
    crowd = [client.site("basicsite.com", f"/_edge/media/{name}") for name in names for _ in range(4)]
    served = await asyncio.gather(*crowd)
    assert [response.status_code for response in served] == [200] * 12
    assert _made((await ops.site("x", "/_edge/metrics")).text) == 1

    variant = served[0]
    with Image.open(io.BytesIO(variant.content)) as image:
        assert image.format == "WEBP" and image.size == (480, 360)
    assert variant.headers["content-type"] == "image/webp"
    assert variant.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert variant.headers["etag"] == f'"{DIGEST}-480w"'
    assert variant.headers["x-content-type-options"] == "nosniff"
    part = await client.http.get(f"/_edge/media/{names[0]}", headers={"host": "basicsite.com", "range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == variant.content[:10]
    again = {"host": "basicsite.com", "if-none-match": f'"{DIGEST}-480w"'}
    assert (await client.http.get(f"/_edge/media/{names[0]}", headers=again)).status_code == 304
    # Another tenant's domain, and widths the image does not get: plain 404s.
    assert (await client.site("clientsite.com", f"/_edge/media/{names[0]}")).status_code == 404
    assert (await client.site("basicsite.com", f"/_edge/media/{variant_id(DIGEST, 1234)}")).status_code == 404
    assert (await client.site("basicsite.com", f"/_edge/media/{variant_id(DIGEST, 2000)}")).status_code == 404

    await _show(client, asset["reference"])
    page = (await client.site("basicsite.com")).text
    candidates = [f"/_edge/media/{variant_id(DIGEST, each)} {each}w" for each in (480, 960, 1600)]
    srcset = ", ".join([*candidates, f"{asset['path']} 2000w"])
    hero = f'<img class="te-hero__image" src="{asset["path"]}" srcset="{srcset}" sizes="(min-width: 800px) 50vw, 100vw"'
    assert hero + ' alt="A view" width="2000" height="1500" loading="eager">' in page
    assert f'srcset="{srcset}" sizes="96px" alt="" width="2000" height="1500" loading="lazy">' in page
    assert _made((await ops.site("x", "/_edge/metrics")).text) == 1


@pytest.mark.anyio
async def test_a_url_image_keeps_a_plain_src_and_small_or_vector_images_get_no_srcset(
    site: tuple[AdminClient, AdminClient],
) -> None:
    client, ops = site
    await _show(client, "https://images.example/cat.jpg")
    page = (await client.site("basicsite.com")).text
    plain = '<img class="te-hero__image" src="https://images.example/cat.jpg" alt="A view" width="560" height="420"'
    assert plain in page
    assert "srcset" not in page

    small = await _upload(client, images.photo((400, 300)), "small.jpg")
    await _show(client, small["reference"])
    page = (await client.site("basicsite.com")).text
    assert f'src="{small["path"]}" alt="A view" width="400" height="300" loading="eager">' in page
    assert "srcset" not in page
    icon = await _upload(client, images.SVG, "icon.svg")
    await _show(client, icon["reference"])
    assert "srcset" not in (await client.site("basicsite.com")).text
    digest = icon["id"].split(".")[0]
    assert (await client.site("basicsite.com", f"/_edge/media/{digest}-480w.webp")).status_code == 404
    assert _made((await ops.site("x", "/_edge/metrics")).text) == 0


@pytest.mark.anyio
async def test_deleting_an_image_deletes_its_variants(workdir: Workdir) -> None:
    app = build_app(workdir, max_asset_bytes=4 << 20, max_image_pixels=10_000_000)
    async with running(app), connect(app) as client:
        asset = await _upload(client, WIDE, "wide.jpg")
        name = variant_id(DIGEST, 960)
        assert (await client.site("basicsite.com", f"/_edge/media/{name}")).status_code == 200
        kept = workdir.root / "assets" / "basicsite" / "variants"
        assert sorted(path.name for path in kept.iterdir()) == sorted(
            variant_id(DIGEST, width) for width in (480, 960, 1600)
        )
        assert (await client.api("DELETE", f"/api/tenants/basicsite/assets/{asset['id']}")).status_code == 204
        assert list(kept.iterdir()) == []
        assert (await client.site("basicsite.com", f"/_edge/media/{name}")).status_code == 404


@pytest.mark.anyio
async def test_the_draft_preview_shows_the_variants_from_the_admin_host(workdir: Workdir) -> None:
    app = build_app(workdir, max_asset_bytes=4 << 20, max_image_pixels=10_000_000)
    async with running(app), connect(app) as client:
        asset = await _upload(client, WIDE, "wide.jpg")
        await _show(client, asset["reference"])
        preview = (await client.get("/preview/basicsite/")).text
        shown = f"/preview/basicsite/_edge/media/{variant_id(DIGEST, 480)}"
        assert f"{shown} 480w, " in preview and 'width="2000" height="1500"' in preview
        variant = await client.get(shown)
        assert variant.status_code == 200 and variant.headers["content-type"] == "image/webp"
        assert (await client.get(f"/preview/clientsite/_edge/media/{variant_id(DIGEST, 480)}")).status_code == 404
        assert (await client.get(f"/preview/basicsite/_edge/media/{variant_id(DIGEST, 1234)}")).status_code == 404


def test_the_colour_profile_is_kept_only_for_pixels_that_keep_their_mode() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    made = {}
    for mode in ("RGB", "CMYK"):
        out = io.BytesIO()
        Image.new(mode, (600, 400)).save(out, format="JPEG", icc_profile=profile)
        [made[mode]] = make_variants(out.getvalue(), (480,))
    with Image.open(io.BytesIO(made["RGB"].data)) as image:
        assert image.info.get("icc_profile") == profile
    with Image.open(io.BytesIO(made["CMYK"].data)) as image:
        assert image.mode == "RGB" and not image.info.get("icc_profile")


@pytest.mark.anyio
async def test_a_variant_in_memory_is_rechecked_by_its_originals_listing(tmp_path: Path) -> None:
    store, _ = await _stored_photo(tmp_path)
    name = variant_id(DIGEST, 480)
    await store.put("t", name, b"webp bytes", "image/webp")
    clock = ManualClock()
    cache = MediaCache(store, clock, budget=1 << 20, negative_ttl=5.0)
    assert await cache.get(("t", name)) == b"webp bytes"
    assert cache.hot(("t", name)) == b"webp bytes"
    clock.advance(6)
    # Unchecked for the TTL: not sent at once, but checked (the index lists its original) and held on.
    assert cache.hot(("t", name)) is None
    assert await cache.get(("t", name)) == b"webp bytes"
    assert cache.hot(("t", name)) == b"webp bytes"
    # The original deleted, and the event never came: the variant goes with it.
    await store.save_library("t", {})
    clock.advance(6)
    assert await cache.get(("t", name)) is None
