"""HTTP caching as RFC 9110/9111/5861 describe it, and the page cache behind it."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from tenantedge.app import create_app
from tenantedge.clock import ManualClock
from tenantedge.http.edge import EdgeApp
from tenantedge.http.lookup import Lookup
from tenantedge.invalidation import EVERYTHING, Change, ChangeKind
from tenantedge.pagecache import CachedPage
from tenantedge.render.folders import TemplateFolders
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tenantedge.store.files import FileStore
from tenantedge.store.publish import tenant_documents
from tenantedge.store.s3 import S3Tier
from tenantedge.tenants import parse_tenant
from tests.conftest import running
from tests.http.conftest import OPS_PORT, ROOT, EdgeClient, build_app, connect
from tests.server import copy_demo
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedS3

pytestmark = pytest.mark.anyio
PAGE_CC = "public, max-age=60, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:24] + '"'


async def test_etag_is_derived_from_the_bytes_served(client: EdgeClient) -> None:
    plain = await client.get("codersinflow.com")
    packed = await client.get("codersinflow.com", headers={"accept-encoding": "gzip"})
    assert plain.headers["etag"] == etag_of(plain.content)
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) == packed.num_bytes_downloaded
    raw = gzip.compress(plain.content, compresslevel=6, mtime=0)
    assert packed.headers["etag"] == etag_of(raw) != plain.headers["etag"]
    assert packed.content == plain.content  # httpx decoded it: the same page


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [("gzip", True), ("br, gzip;q=0.5", True), ("*", True), ("gzip;q=0", False), ("identity", False), ("br", False)],
)
async def test_gzip_is_chosen_by_accept_encoding(client: EdgeClient, accept_encoding: str, gzipped: bool) -> None:
    response = await client.get("darkflows.com", headers={"accept-encoding": accept_encoding})
    assert ("content-encoding" in response.headers) is gzipped
    assert response.headers["vary"] == "Accept-Encoding"


async def test_small_pages_stay_plain() -> None:
    async with connect(build_app(gzip_min_bytes=1_000_000)) as edge:
        response = await edge.get("darkflows.com", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in response.headers


async def test_caching_headers(client: EdgeClient) -> None:
    response = await client.get("codersinflow.com", "/about")
    assert response.headers["cache-control"] == PAGE_CC
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["surrogate-key"] == "tenant:codersinflow page:codersinflow:/about"
    assert int(response.headers["content-length"]) == len(response.content)


async def test_lifetimes_are_configurable() -> None:
    app = build_app(
        max_age=5, s_maxage=50, stale_while_revalidate=7, stale_if_error=8, not_found_max_age=3, redirect_max_age=9
    )
    async with connect(app) as edge:
        page = await edge.get("clientsite.com")
        missing = await edge.get("clientsite.com", "/nope")
        moved = await edge.get("www.clientsite.com")
    assert page.headers["cache-control"] == "public, max-age=5, s-maxage=50, stale-while-revalidate=7, stale-if-error=8"
    assert missing.headers["cache-control"] == "public, max-age=3, s-maxage=3"
    assert moved.headers["cache-control"] == "public, max-age=9"


async def test_404_and_redirects_are_cacheable_for_less_time(client: EdgeClient) -> None:
    missing = await client.get("clientsite.com", "/nope")
    assert missing.status_code == 404 and missing.headers["cache-control"] == "public, max-age=30, s-maxage=30"
    assert missing.headers["surrogate-key"] == "tenant:clientsite"
    nosite = await client.get("nobody.example")
    assert nosite.status_code == 404 and nosite.headers["cache-control"] == "public, max-age=30, s-maxage=30"
    moved = await client.get("codersinflow.net")
    assert moved.status_code == 301 and moved.headers["cache-control"] == "public, max-age=3600"
    bad = await client.get("bad host")
    assert bad.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"nope", {etag}', '"a",W/{etag},"b"', "*"],
    ids=["exact", "weak", "list", "list-weak", "star"],
)
async def test_if_none_match_gives_304(client: EdgeClient, encoding: str, if_none_match: str) -> None:
    first = await client.get("darkflows.com", "/work", headers={"accept-encoding": encoding})
    etag = first.headers["etag"]
    for method in ("GET", "HEAD"):
        again = await client.get(
            "darkflows.com", "/work", method=method,
            headers={"accept-encoding": encoding, "if-none-match": if_none_match.format(etag=etag)},
        )  # fmt: skip
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == PAGE_CC
        assert again.headers["vary"] == "Accept-Encoding"
        assert "content-encoding" not in again.headers and "content-type" not in again.headers


async def test_other_etags_get_the_page(client: EdgeClient) -> None:
    first = await client.get("darkflows.com", headers={"accept-encoding": "gzip"})
    # The identity ETag does not validate the gzip representation, and vice versa.
    plain_etag = (await client.get("darkflows.com")).headers["etag"]
    again = await client.get("darkflows.com", headers={"accept-encoding": "gzip", "if-none-match": plain_etag})
    assert again.status_code == 200 and again.headers["etag"] == first.headers["etag"]


async def test_preconditions_do_not_turn_a_404_into_304(client: EdgeClient) -> None:
    response = await client.get("clientsite.com", "/nope", headers={"if-none-match": "*"})
    assert response.status_code == 404 and "does not exist" in response.text


@pytest.mark.parametrize(
    ("host", "path", "encoding"),
    [
        ("codersinflow.com", "/", "identity"),
        ("codersinflow.com", "/", "gzip"),
        ("clientsite.com", "/nope", "gzip"),
        ("nobody.example", "/", "identity"),
        ("codersinflow.net", "/x?y=1", "identity"),
        ("darkflows.com", "/_edge/theme.css", "identity"),
    ],
)
async def test_head_equals_get_without_a_body(client: EdgeClient, host: str, path: str, encoding: str) -> None:
    got = await client.get(host, path, headers={"accept-encoding": encoding})
    head = await client.get(host, path, method="HEAD", headers={"accept-encoding": encoding})
    assert head.status_code == got.status_code
    assert head.num_bytes_downloaded == 0
    assert {k: v for k, v in head.headers.items() if k not in ("date", "x-request-id")} == {
        k: v for k, v in got.headers.items() if k not in ("date", "x-request-id")
    }


async def test_error_pages_never_leak_another_tenant(client: EdgeClient) -> None:
    names = {
        "codersinflow": "Coders in Flow",
        "darkflows": "DarkFlows",
        "clientsite": "Harbor",
        "basicsite": "Basic Bakery",
    }
    hosts = {
        "codersinflow": "codersinflow.com",
        "darkflows": "darkflows.com",
        "clientsite": "clientsite.com",
        "basicsite": "basicsite.com",
    }
    for _ in range(2):  # the second round is served from the cache
        for tenant, host in hosts.items():
            body = (await client.get(host, "/no-such-page")).text
            assert names[tenant] in body
            assert all(name not in body for other, name in names.items() if other != tenant)
        nosite = (await client.get("nobody.example", "/no-such-page")).text
        assert all(name not in nosite for name in names.values())


async def test_a_hit_does_not_render(app: EdgeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    async with connect(app) as edge:
        first = await edge.get("basicsite.com", "/")
        hits = app._pages.hits

        def no_render(*args: object) -> None:
            raise AssertionError("a page-cache hit must not render")

        monkeypatch.setattr(PageRenderer, "render_page", no_render)
        # The second request finds the page through the route cache, the later ones by Host header and path.
        again = [await edge.get("basicsite.com", "/") for _ in range(3)]
    assert all(response.status_code == 200 and response.content == first.content for response in again)
    assert app._pages.hits - hits == 3


def copy_site(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return copy_demo(tmp_path)


def edit(tenants: Path, tenant: str, name: str) -> None:
    doc = orjson.loads(tenants.read_bytes())
    doc["tenants"][tenant]["name"] = name
    tenants.write_bytes(orjson.dumps(doc))


async def test_a_new_version_misses_while_other_tenants_keep_their_hits(tmp_path: Path) -> None:
    tenants = copy_site(tmp_path)
    app = build_app(tenants_file=tenants, templates_dir=tmp_path / "templates", debug=True, reload_interval=0)
    store = app._lookup._store
    assert isinstance(store, FileStore)
    async with connect(app, port=OPS_PORT) as edge:
        for host in ("clientsite.com", "basicsite.com"):
            assert "cache=miss" in (await edge.get(host)).headers["x-tenantedge-explain"]
            assert "cache=hit" in (await edge.get(host)).headers["x-tenantedge-explain"]
        edit(tenants, "clientsite", "Harbor & Pine Legal")
        assert await store.check() is None  # first sight of the save: wait for it to settle
        changed = await store.check()
        assert changed == {"clientsite"}
        for tenant_id in changed:
            app._lookup.forget(Change(ChangeKind.DOCUMENT, tenant_id))
        fresh = await edge.get("clientsite.com")
        assert "cache=miss" in fresh.headers["x-tenantedge-explain"] and "Harbor &amp; Pine Legal" in fresh.text
        assert "cache=hit" in (await edge.get("basicsite.com")).headers["x-tenantedge-explain"]


async def test_a_host_claimed_by_a_new_tenant_stops_getting_the_default_tenants_page(tmp_path: Path) -> None:
    tenants = copy_site(tmp_path)
    app = build_app(tenants_file=tenants, templates_dir=tmp_path / "templates", default_tenant="basicsite")
    store = app._lookup._store
    assert isinstance(store, FileStore)
    async with connect(app) as edge:
        for _ in range(3):  # long enough for the page to be found by the Host header alone
            assert "Fresh bread" in (await edge.get("newcomer.example")).text
        doc = orjson.loads(tenants.read_bytes())
        doc["tenants"]["newcomer"] = {**doc["tenants"]["clientsite"], "domains": ["newcomer.example"], "aliases": []}
        tenants.write_bytes(orjson.dumps(doc))
        assert await store.check() is None  # first sight of the save: wait for it to settle
        changed = await store.check()
        assert changed == {"newcomer"}  # the event names the newcomer only, not the default tenant
        for tenant_id in changed:
            app._lookup.forget(Change(ChangeKind.DOCUMENT, tenant_id))
        assert "Harbor" in (await edge.get("newcomer.example")).text


async def test_a_render_that_raced_a_tenant_change_leaves_no_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app()
    render = app._render

    async def render_while_tenants_change(*args: Any) -> CachedPage | None:
        page = await render(*args)  # a blog page awaits the database here: tenants may change meanwhile
        app._lookup.forget(EVERYTHING)
        return page

    async with connect(app) as edge:
        await edge.get("clientsite.com", "/")  # the host's route is now cached
        monkeypatch.setattr(app, "_render", render_while_tenants_change)
        assert (await edge.get("clientsite.com", "/about")).status_code == 200
    # An alias made now would outlive the change it raced: the Host header may name another tenant by now.
    assert app._pages.by_alias((b"clientsite.com", "/about")) is None


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("codersinflow.com", "/", ["tenant=codersinflow", "rule=exact", "pattern=codersinflow.com",
                                   "tenants/codersinflow/sections/Hero.html"]),
        ("studio.darkflows.com", "/", ["tenant=darkflows", "rule=wildcard", "pattern=*.darkflows.com",
                                       "default/sections/Hero.split.html"]),
        ("codersinflow.net", "/", ["rule=alias", "redirect=alias"]),
        ("nobody.example", "/", ["rule=unknown-host", "default/errors/no-site.html"]),
        ("clientsite.com", "/nope", ["tenant=clientsite", "default/errors/404.html"]),
        ("bad host", "/", ["rule=bad-host"]),
    ],
)  # fmt: skip
async def test_explain_mode(host: str, path: str, expected: list[str]) -> None:
    async with connect(build_app(debug=True), port=OPS_PORT) as edge:
        explain = (await edge.get(host, path)).headers["x-tenantedge-explain"]
    for text in expected:
        assert text in explain


async def test_explain_names_the_default_rule_and_every_section() -> None:
    async with connect(build_app(debug=True, default_tenant="basicsite"), port=OPS_PORT) as edge:
        explain = (await edge.get("unknown.example")).headers["x-tenantedge-explain"]
    assert "rule=default" in explain
    assert (
        "templates=default/sections/Navigation.html,default/sections/Hero.split.html,default/sections/RichText.html"
        in explain
    )


async def test_explain_is_off_by_default(client: EdgeClient) -> None:
    for host in ("codersinflow.com", "codersinflow.net", "nobody.example", "bad host"):
        assert "x-tenantedge-explain" not in (await client.get(host)).headers


async def test_explain_mode_never_explains_on_the_public_listener() -> None:
    async with connect(build_app(debug=True)) as edge:
        for host in ("codersinflow.com", "codersinflow.net", "nobody.example", "bad host"):
            assert "x-tenantedge-explain" not in (await edge.get(host)).headers


async def test_a_store_that_knows_tenants_for_a_while_gets_aliases_for_that_while(
    seaweed: SeaweedS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 behind memory: the Host header becomes an alias of the page until the memory's copy goes stale."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    prefix = f"alias-{uuid.uuid4().hex[:10]}/"
    registry = SectionRegistry.from_directories(TemplateFolders.find(ROOT / "templates").defaults("sections"))
    clock = ManualClock()
    origin = S3Tier(seaweed.endpoint, BUCKET, clock, prefix=prefix)

    async def publish(name: str, version: int) -> None:
        document = {"name": name, "version": version, "domains": ["acme.example"], "pages": {"/": [{"type": "Hero"}]}}
        for key, data in tenant_documents(parse_tenant("acme", document, registry), orjson.dumps(document)).items():
            await origin.put(key, data)

    await publish("Old Acme", 1)
    settings = Settings(templates_dir=ROOT / "templates", s3_endpoint=seaweed.endpoint, s3_bucket=BUCKET)
    app = create_app(replace(settings, s3_prefix=prefix, l1_ttl=30, admin_token="a" * 32), clock)
    asked: list[str] = []
    find = app._lookup.find

    async def counted(host: str, *args: Any, **kwargs: Any) -> Lookup:
        asked.append(host)
        return await find(host, *args, **kwargs)

    monkeypatch.setattr(app._lookup, "find", counted)
    async with running(app), connect(app) as edge:
        for _ in range(3):  # rendered, then found through the store's memory, then through the alias
            assert "Old Acme" in (await edge.get("acme.example")).text
        assert len(asked) == 2, "the third request was answered by the alias alone"
        await publish("New Acme", 2)  # edited in S3, with no event
        clock.advance(29)
        assert "Old Acme" in (await edge.get("acme.example")).text, "as the store's memory would answer"
        clock.advance(2)  # past the TTL: the alias goes with the memory's copy
        assert "New Acme" in (await edge.get("acme.example")).text
        assert "New Acme" in (await edge.get("acme.example")).text
        app._lookup.forget(Change(ChangeKind.DOCUMENT, "acme"))  # an announced change drops every alias at once
        assert app._pages.by_alias((b"acme.example", "/")) is None
    await origin.close()
