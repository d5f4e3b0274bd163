"""/robots.txt and /sitemap.xml on every tenant's hosts, through the real app: generated from the published pages,
overridden by the document, cached like pages, and nothing for hosts that show no site."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tenantedge.http.edge import EdgeApp
from tenantedge.invalidation import Change, ChangeKind
from tenantedge.store.files import FileStore
from tests.http.conftest import ROOT, EdgeClient, build_app, connect

pytestmark = pytest.mark.anyio
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def locations(xml: str) -> list[str]:
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    assert root.tag == f"{NS}urlset"
    return [url.findtext(f"{NS}loc", "") for url in root.iter(f"{NS}url")]


def edited_demo(tmp_path: Path, **tenants: dict[str, Any]) -> EdgeApp:
    """The demo tenants with some documents changed or added."""
    document = json.loads((ROOT / "tenants.json").read_text())
    for tenant_id, changes in tenants.items():
        document["tenants"][tenant_id] = {**document["tenants"].get(tenant_id, {}), **changes}
    (tmp_path / "tenants.json").write_text(json.dumps(document))
    return build_app(tenants_file=tmp_path / "tenants.json", reload_interval=0)


@pytest.mark.parametrize(
    ("host", "domain", "pages"),
    [
        ("codersinflow.com", "codersinflow.com", ["/", "/about", "/pricing"]),
        ("www.codersinflow.com", "codersinflow.com", ["/", "/about", "/pricing"]),
        ("codersinflow.localhost:8000", "codersinflow.com", ["/", "/about", "/pricing"]),
        ("studio.darkflows.com", "darkflows.com", ["/", "/work"]),
        ("clientsite.localhost", "clientsite.com", ["/", "/about"]),
        ("basicsite.com", "basicsite.com", ["/"]),
    ],
)
async def test_each_host_serves_its_tenants_files_on_the_canonical_domain(
    client: EdgeClient, host: str, domain: str, pages: list[str]
) -> None:
    robots = await client.get(host, "/robots.txt")
    assert robots.status_code == 200 and robots.headers["content-type"] == "text/plain; charset=utf-8"
    assert robots.text.startswith("User-agent: *\nAllow: /\nDisallow: /_edge/\n")
    assert f"\nSitemap: https://{domain}/sitemap.xml\n" in robots.text
    sitemap = await client.get(host, "/sitemap.xml")
    assert sitemap.status_code == 200 and sitemap.headers["content-type"] == "application/xml; charset=utf-8"
    # The content database is off: no blog in the sitemap, as no blog page is served.
    assert locations(sitemap.text) == [f"https://{domain}{path}" for path in pages]


async def test_the_files_are_cached_and_tagged_like_pages(client: EdgeClient) -> None:
    first = await client.get("darkflows.com", "/sitemap.xml")
    assert "public" in first.headers["cache-control"] and first.headers["vary"] == "Accept-Encoding"
    assert first.headers["surrogate-key"] == "tenant:darkflows page:darkflows:/sitemap.xml"
    again = await client.get("darkflows.com", "/sitemap.xml", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    head = await client.get("darkflows.com", "/robots.txt", method="HEAD")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0


async def test_nothing_names_the_platform(client: EdgeClient) -> None:
    for path in ("/robots.txt", "/sitemap.xml"):
        response = await client.get("codersinflow.com", path)
        shown = response.text + "".join(f"{name}: {value}" for name, value in response.headers.items())
        assert "tenantedge" not in shown.lower(), path


@pytest.mark.parametrize("path", ["/robots.txt", "/sitemap.xml"])
async def test_an_alias_redirects_to_the_canonical_file(client: EdgeClient, path: str) -> None:
    response = await client.get("codersinflow.net", path)
    assert response.status_code == 301 and response.headers["location"] == f"http://codersinflow.com{path}"


@pytest.mark.parametrize("path", ["/robots.txt", "/sitemap.xml"])
async def test_an_unknown_host_has_no_files(client: EdgeClient, path: str) -> None:
    response = await client.get("nosuch.example", path)
    assert response.status_code == 404 and "No site here" in response.text


@pytest.mark.parametrize("path", ["/robots.txt", "/sitemap.xml"])
async def test_a_tenant_not_yet_published_has_no_files(tmp_path: Path, path: str) -> None:
    unpublished = {"domains": ["hidden.example"], "published": False, "pages": {"/": [], "/secret": []}}
    async with connect(edited_demo(tmp_path, hidden=unpublished)) as client:
        response = await client.get("hidden.example", path)
        unknown = await client.get("nosuch.example", path)
    assert response.status_code == 404 and response.content == unknown.content
    assert "secret" not in response.text


async def test_a_tenant_overrides_its_files(tmp_path: Path) -> None:
    robots = "User-agent: *\nDisallow: /about\n"
    app = edited_demo(
        tmp_path,
        clientsite={"seo": {"robots": robots}},
        darkflows={"seo": {"exclude": ["/work"]}},
        basicsite={"seo": {"sitemap": False}},
    )
    async with connect(app) as client:
        assert (await client.get("clientsite.com", "/robots.txt")).text == robots
        assert locations((await client.get("clientsite.com", "/sitemap.xml")).text)[1] == "https://clientsite.com/about"
        assert locations((await client.get("darkflows.com", "/sitemap.xml")).text) == ["https://darkflows.com/"]
        assert "Sitemap:" not in (await client.get("basicsite.com", "/robots.txt")).text
        missing = await client.get("basicsite.com", "/sitemap.xml")
        assert missing.status_code == 404 and "Basic Bakery" in missing.text  # the tenant's own 404 page


async def test_a_change_of_the_document_changes_the_cached_sitemap(tmp_path: Path) -> None:
    app = edited_demo(tmp_path)
    store = app._lookup._store
    assert isinstance(store, FileStore)
    async with connect(app) as client:
        for _ in range(2):  # the second one from the page cache
            assert "https://basicsite.com/menu" not in (await client.get("basicsite.com", "/sitemap.xml")).text
        document = json.loads((tmp_path / "tenants.json").read_text())
        document["tenants"]["basicsite"]["pages"]["/menu"] = [{"type": "Hero"}]
        (tmp_path / "tenants.json").write_text(json.dumps(document))
        assert await store.check() is None  # first sight of the save: wait for it to settle
        changed = await store.check()
        assert changed == {"basicsite"}
        app._lookup.forget(Change(ChangeKind.DOCUMENT, "basicsite"))
        assert "https://basicsite.com/menu" in (await client.get("basicsite.com", "/sitemap.xml")).text
