"""Per-tenant assets through the admin API and on the tenants' domains, against the file origin and real SeaweedFS:
upload → reference in a page → publish → served with the right headers on that tenant's domains alone."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tenantedge.sections import SectionRegistry
from tests.admin.conftest import (
    FULL_TOKEN,
    ROOT,
    SCOPED_TOKEN,
    AdminClient,
    Workdir,
    app_on_origin,
    build_app,
    connect,
    problem,
)
from tests.conftest import running
from tests.media import images

LOGO = images.png((8, 8), (10, 120, 200))
# The demo bakery's own logo, favicon and hero image, in its library from the start.
DEMO = json.loads((ROOT / "assets" / "basicsite" / "index.json").read_bytes())["assets"]
DEMO_BYTES = sum(record["size"] for record in DEMO.values())


@pytest.fixture(params=["file", "s3"])
async def origin(
    request: pytest.FixtureRequest, workdir: Workdir, registry: SectionRegistry, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AdminClient]:
    """The admin and the sites, with tenants.json or S3 (SeaweedFS) as the origin of tenants and their assets."""
    limits: dict[str, Any] = {
        "asset_quota_bytes": 64 * 1024,
        "max_asset_bytes": 32 * 1024,
        "max_image_pixels": 1_000_000,
    }
    app = await app_on_origin(request, workdir, registry, monkeypatch, "assets", **limits)
    async with running(app), connect(app) as client:
        yield client


async def upload(
    client: AdminClient, tenant: str, data: bytes, name: str, *, token: str = FULL_TOKEN
) -> httpx.Response:
    return await client.http.post(
        f"/api/tenants/{tenant}/assets",
        files={"file": (name, data, "application/octet-stream")},
        headers={"host": "admin.localhost", "authorization": f"Bearer {token}"},
    )


async def use_as_hero_image(client: AdminClient, tenant: str, reference: str) -> httpx.Response:
    etag = (await client.get(f"/api/tenants/{tenant}")).headers["etag"]
    hero = {"type": "Hero", "variant": "split", "props": {"title": "Our logo", "image": reference}}
    return await client.api("PUT", f"/api/tenants/{tenant}/pages/", [hero], if_match=etag)


def added(items: list[dict[str, Any]]) -> list[str]:
    """The assets of a listing the demo did not bring."""
    return [item["id"] for item in items if item["id"] not in DEMO]


async def media(client: AdminClient, host: str, path: str, **headers: str) -> httpx.Response:
    return await client.http.get(path, headers={"host": host, **headers})


@pytest.mark.anyio
async def test_upload_reference_publish_and_serve_on_the_tenants_own_domain(origin: AdminClient) -> None:
    response = await upload(origin, "basicsite", LOGO, "logo.png")
    assert response.status_code == 201, response.text
    asset = response.json()
    digest = hashlib.sha256(LOGO).hexdigest()
    assert asset["id"] == f"{digest}.png"
    assert asset["path"] == f"/_edge/media/{digest}.png"
    assert asset["reference"] == f"asset:{digest}.png"
    assert (asset["content_type"], asset["size"], asset["width"], asset["height"]) == ("image/png", len(LOGO), 8, 8)
    # The same bytes again: stored once.
    again = await upload(origin, "basicsite", LOGO, "other-name.png")
    assert again.status_code == 200 and again.json()["id"] == asset["id"]

    published = await use_as_hero_image(origin, "basicsite", asset["reference"])
    assert published.status_code == 200, published.text
    page = await origin.site("basicsite.com")
    assert f'src="{asset["path"]}"' in page.text

    served = await media(origin, "basicsite.com", asset["path"])
    assert served.status_code == 200 and served.content == LOGO
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["etag"] == f'"{digest}"'
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["accept-ranges"] == "bytes"

    listing = (await origin.get("/api/tenants/basicsite/assets")).json()
    assert added(listing["items"]) == [asset["id"]]
    assert listing["items"][0]["used_in"] == ["page /"]
    assert listing["used_bytes"] == DEMO_BYTES + len(LOGO)

    # Another tenant's domain never serves it, nor tells that it exists.
    elsewhere = await media(origin, "clientsite.com", asset["path"])
    assert elsewhere.status_code == 404
    assert (await media(origin, "clientsite.com", asset["path"], **{"if-none-match": f'"{digest}"'})).status_code == 404

    # In use by a published page: not deleted, and the answer names the page.
    refused = problem(await origin.api("DELETE", f"/api/tenants/basicsite/assets/{asset['id']}"), 409)
    assert "page /" in refused["detail"]
    assert (await media(origin, "basicsite.com", asset["path"])).status_code == 200


@pytest.mark.anyio
async def test_conditional_head_and_range_requests(origin: AdminClient) -> None:
    asset = (await upload(origin, "basicsite", LOGO, "logo.png")).json()
    path, etag, size = asset["path"], f'"{asset["id"].split(".")[0]}"', len(LOGO)
    not_modified = await media(origin, "basicsite.com", path, **{"if-none-match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    head = await origin.http.head(path, headers={"host": "basicsite.com"})
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(size)
    part = await media(origin, "basicsite.com", path, range="bytes=0-7")
    assert part.status_code == 206 and part.content == LOGO[:8]
    assert part.headers["content-range"] == f"bytes 0-7/{size}"
    tail = await media(origin, "basicsite.com", path, range="bytes=-4")
    assert tail.status_code == 206 and tail.content == LOGO[-4:]
    beyond = await media(origin, "basicsite.com", path, range=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    stale = await media(origin, "basicsite.com", path, range="bytes=0-7", **{"if-range": '"other"'})
    assert stale.status_code == 200 and stale.content == LOGO


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("data", "name", "status", "words"),
    [
        (images.png((4, 4)), "logo.svg", 201, ""),  # a PNG named .svg is a PNG
        (images.HTML, "page.png", 415, "not a file type"),
        (images.SVG_SCRIPT, "icon.svg", 422, "<script>"),
        (images.png_bomb(10_000, 10_000), "bomb.png", 422, "pixels"),
        (images.png((200, 200), (1, 2, 3)) + b"\x00" * 40_000, "big.png", 413, "TENANTEDGE_MAX_ASSET_BYTES"),
    ],
    ids=["png-named-svg", "html-named-png", "svg-with-script", "decompression-bomb", "over-the-size-limit"],
)
async def test_uploads_are_judged_by_their_bytes(
    origin: AdminClient, data: bytes, name: str, status: int, words: str
) -> None:
    response = await upload(origin, "basicsite", data, name)
    assert response.status_code == status, response.text
    listing = (await origin.get("/api/tenants/basicsite/assets")).json()["items"]
    if status == 201:
        assert response.json()["content_type"] == "image/png" and response.json()["name"] == "logo.png"
        return
    assert words in problem(response, status)["detail"]
    assert added(listing) == []  # nothing stored


@pytest.mark.anyio
async def test_a_raw_body_upload_names_the_file_in_the_query(origin: AdminClient) -> None:
    response = await origin.api(
        "POST", "/api/tenants/basicsite/assets?filename=icon.svg", content=images.SVG, content_type="image/svg+xml"
    )
    assert response.status_code == 201, response.text
    asset = response.json()
    assert (asset["name"], asset["content_type"], asset["width"]) == ("icon.svg", "image/svg+xml", 24)
    served = await media(origin, "basicsite.com", asset["path"])
    assert served.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert served.headers["content-type"] == "image/svg+xml"
    nameless = await origin.api(
        "POST", "/api/tenants/basicsite/assets", content=images.SVG, content_type="image/svg+xml"
    )
    assert problem(nameless, 400)["issues"][0]["path"] == "filename"


@pytest.mark.anyio
async def test_the_quota_refuses_what_would_pass_it(origin: AdminClient) -> None:
    stored = 0
    for shade in range(40):
        data = images.png((64, 64), (shade, 255 - shade, 7)) + bytes([shade]) * 9_000
        response = await upload(origin, "basicsite", data, f"photo-{shade}.png")
        if response.status_code != 201:
            assert "TENANTEDGE_ASSET_QUOTA_BYTES" in problem(response, 413)["detail"]
            break
        stored += len(data)
    else:
        pytest.fail("the quota never refused an upload")
    listing = (await origin.get("/api/tenants/basicsite/assets")).json()
    assert listing["used_bytes"] == DEMO_BYTES + stored <= listing["quota_bytes"]


@pytest.mark.anyio
async def test_a_reference_to_a_missing_asset_is_refused_with_its_json_path(origin: AdminClient) -> None:
    missing = "asset:" + "ab" * 32 + ".png"
    body = problem(await use_as_hero_image(origin, "basicsite", missing), 422)
    assert body["issues"] == [
        {
            "path": 'pages["/"][0].props.image',
            "message": f"no asset {missing[6:]} in this tenant's library (upload it first)",
        }
    ]
    # Another tenant's asset is missing from this one's library too.
    theirs = (await upload(origin, "clientsite", LOGO, "logo.png")).json()
    assert (await use_as_hero_image(origin, "basicsite", theirs["reference"])).status_code == 422


@pytest.mark.anyio
async def test_scoped_tokens_reach_only_their_tenants_assets(origin: AdminClient) -> None:
    assert (await upload(origin, "basicsite", LOGO, "logo.png", token=SCOPED_TOKEN)).status_code == 201
    assert (await upload(origin, "clientsite", LOGO, "logo.png", token=SCOPED_TOKEN)).status_code == 404
    assert (await origin.get("/api/tenants/clientsite/assets", token=SCOPED_TOKEN)).status_code == 404


@pytest.mark.anyio
async def test_the_admin_host_shows_assets_to_the_dashboard_and_the_draft_preview(origin: AdminClient) -> None:
    """The admin host is none of the tenant's domains: thumbnails and the preview use its own copy of the media."""
    asset = (await upload(origin, "basicsite", LOGO, "logo.png")).json()
    shown = f"/preview/basicsite{asset['path']}"
    thumbnail = await origin.get(shown)
    assert thumbnail.status_code == 200 and thumbnail.content == LOGO
    assert thumbnail.headers["content-type"] == "image/png"
    assert thumbnail.headers["cache-control"].startswith("private")
    assert (await origin.get(shown, token=SCOPED_TOKEN)).status_code == 200
    assert (await origin.get(f"/preview/clientsite{asset['path']}")).status_code == 404  # another tenant's library
    assert (await origin.get(f"/preview/clientsite{asset['path']}", token=SCOPED_TOKEN)).status_code == 404
    assert (await origin.get("/preview/basicsite/_edge/media/../tenants.json")).status_code == 404
    assert (await origin.http.get(shown, headers={"host": "admin.localhost"})).status_code == 401  # no token

    assert (await use_as_hero_image(origin, "basicsite", asset["reference"])).status_code == 200
    preview = await origin.get("/preview/basicsite/")
    assert f'src="{shown}"' in preview.text and f'src="{asset["path"]}"' not in preview.text
    svg = (await upload(origin, "basicsite", images.SVG, "icon.svg")).json()
    icon = await origin.get(f"/preview/basicsite{svg['path']}")
    assert icon.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@pytest.mark.anyio
async def test_an_unused_asset_is_deleted_and_no_longer_served(origin: AdminClient) -> None:
    asset = (await upload(origin, "basicsite", LOGO, "logo.png")).json()
    assert (await media(origin, "basicsite.com", asset["path"])).status_code == 200
    assert (await origin.api("DELETE", f"/api/tenants/basicsite/assets/{asset['id']}")).status_code == 204
    assert (await media(origin, "basicsite.com", asset["path"])).status_code == 404
    assert added((await origin.get("/api/tenants/basicsite/assets")).json()["items"]) == []
    assert (await origin.api("DELETE", f"/api/tenants/basicsite/assets/{asset['id']}")).status_code == 404


@pytest.mark.anyio
async def test_the_theme_favicon_answers_favicon_ico(origin: AdminClient) -> None:
    demo = await origin.site("basicsite.com", "/favicon.ico")  # the demo's own icon, a PNG
    assert demo.status_code == 200 and demo.headers["content-type"] == "image/png"
    icon = images.raster("ICO", (32, 32))
    asset = (await upload(origin, "basicsite", icon, "favicon.ico")).json()
    etag = (await origin.get("/api/tenants/basicsite")).headers["etag"]
    theme = {"theme": {"favicon": asset["reference"], "logo": asset["reference"]}}
    assert (await origin.patch("/api/tenants/basicsite", theme, if_match=etag)).status_code == 200
    page = (await origin.site("basicsite.com")).text
    assert f'<link rel="icon" href="{asset["path"]}">' in page
    assert f'<img src="{asset["path"]}" alt="" width="32" height="32">' in page
    served = await origin.site("basicsite.com", "/favicon.ico")
    assert served.status_code == 200 and served.content == icon
    assert served.headers["content-type"] == "image/x-icon"
    assert served.headers["cache-control"] == "public, max-age=300"
    assert (await origin.site("clientsite.com", "/favicon.ico")).content not in (icon, demo.content)
    assert (
        "theme.favicon"
        in problem(await origin.api("DELETE", f"/api/tenants/basicsite/assets/{asset['id']}"), 409)["detail"]
    )


@pytest.mark.anyio
async def test_an_uploaded_font_is_loaded_by_the_theme(origin: AdminClient) -> None:
    font = (await upload(origin, "basicsite", images.WOFF2, "brand.woff2")).json()
    assert font["content_type"] == "font/woff2" and font["name"] == "brand.woff2"
    etag = (await origin.get("/api/tenants/basicsite")).headers["etag"]
    theme = {"theme": {"fonts": ["Brand"], "font_files": [{"family": "Brand", "src": font["reference"]}]}}
    assert (await origin.patch("/api/tenants/basicsite", theme, if_match=etag)).status_code == 200
    css = (await origin.site("basicsite.com", "/_edge/theme.css")).text
    assert f'src: url("{font["path"]}") format("woff2")' in css
    served = await media(origin, "basicsite.com", font["path"])
    assert served.headers["content-type"] == "font/woff2" and served.content == images.WOFF2
    assert (await origin.get("/api/tenants/basicsite/assets")).json()["items"][0]["used_in"] == ["theme.font_files"]


@pytest.mark.anyio
async def test_a_theme_asset_must_be_a_reference(origin: AdminClient) -> None:
    etag = (await origin.get("/api/tenants/basicsite")).headers["etag"]
    response = await origin.patch(
        "/api/tenants/basicsite", {"theme": {"logo": "https://x.example/l.png"}}, if_match=etag
    )
    assert problem(response, 422)["issues"][0]["path"] == "theme.logo"


@pytest.mark.anyio
async def test_the_file_origin_keeps_assets_beside_tenants_json(workdir: Workdir) -> None:
    app = build_app(workdir)
    async with running(app), connect(app) as client:
        asset = (await upload(client, "basicsite", LOGO, "logo.png")).json()
    assert (workdir.root / "assets" / "basicsite" / asset["id"]).read_bytes() == LOGO
    assert asset["id"] in (workdir.root / "assets" / "basicsite" / "index.json").read_text()


@pytest.mark.anyio
async def test_an_asset_a_draft_uses_is_not_deleted_and_the_listing_names_the_draft(origin: AdminClient) -> None:
    asset = (await upload(origin, "basicsite", LOGO, "logo.png")).json()
    page = [{"type": "Hero", "variant": "split", "props": {"title": "Our menu", "image": asset["reference"]}}]
    assert (await origin.api("PUT", "/api/tenants/basicsite/drafts/menu", page)).status_code == 200
    item = (await origin.get(f"/api/tenants/basicsite/assets/{asset['id']}")).json()
    assert item["used_in"] == ["draft of page /menu"]
    listed = (await origin.get("/api/tenants/basicsite/assets")).json()["items"]
    assert next(entry for entry in listed if entry["id"] == asset["id"])["used_in"] == ["draft of page /menu"]
    # Deleting it would leave a draft that can no longer be published.
    refused = problem(await origin.api("DELETE", f"/api/tenants/basicsite/assets/{asset['id']}"), 409)
    assert "draft of page /menu" in refused["detail"]
    assert (await origin.api("DELETE", "/api/tenants/basicsite/drafts/menu")).status_code == 204
    assert (await origin.api("DELETE", f"/api/tenants/basicsite/assets/{asset['id']}")).status_code == 204


@pytest.mark.anyio
async def test_the_preview_shows_the_tenants_assets_from_the_admins_origin(origin: AdminClient) -> None:
    preview = (await origin.get("/preview/basicsite/")).text
    shown = set(re.findall(r'(?:src|href)="(/[^"]*_edge/media/[^"]+)"', preview))
    assert shown and all(path.startswith("/preview/basicsite/_edge/media/") for path in shown), shown
    for path in shown:
        served = await origin.get(path)
        assert served.status_code == 200 and served.headers["content-type"].startswith("image/"), path
        assert served.content == (ROOT / "assets" / "basicsite" / path.rsplit("/", 1)[1]).read_bytes()
    assert (await origin.get("/preview/basicsite/_edge/media/" + "ab" * 32 + ".png")).status_code == 404
    clients = (await origin.get("/preview/clientsite/")).text
    theirs = next(iter(shown)).replace("/preview/basicsite/", "/preview/clientsite/")
    assert theirs not in clients and (await origin.get(theirs)).status_code == 404
