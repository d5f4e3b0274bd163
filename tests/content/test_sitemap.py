"""The sitemap with the content database on: the blog and its published posts, shown again when a post is published,
and a 503 rather than a sitemap without them when the database is down with nothing kept."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg
import httpx
import pytest

from tenantedge.app import create_app
from tenantedge.clock import ManualClock
from tenantedge.content.db import ContentDatabase
from tests.conftest import running
from tests.content.conftest import Urls
from tests.content.test_blog_pages import TOKEN, blog_settings, write
from tests.http.conftest import OPS_PORT

pytestmark = pytest.mark.anyio
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ADMIN = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}


def entries(response: httpx.Response) -> dict[str, str | None]:
    """Each URL of a sitemap and its lastmod."""
    assert response.status_code == 200 and response.headers["content-type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(response.text)  # noqa: S314 - our own output
    return {url.findtext(f"{NS}loc", ""): url.findtext(f"{NS}lastmod") for url in root.iter(f"{NS}url")}


@pytest.fixture
async def client(urls: Urls, database: ContentDatabase) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(blog_settings(urls, debug=True, ops_port=OPS_PORT))
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://t:{OPS_PORT}") as http:
            yield http


async def sitemap(client: httpx.AsyncClient, host: str = "codersinflow.com") -> httpx.Response:
    return await client.get("/sitemap.xml", headers={"host": host})


async def test_the_sitemap_lists_the_blog_and_published_posts_with_their_last_change(
    client: httpx.AsyncClient, database: ContentDatabase, owner: asyncpg.Connection
) -> None:
    await write(database, "codersinflow", 2)
    await write(database, "codersinflow", 1, "draft")
    await owner.execute("UPDATE posts SET updated_at = '2026-02-03T04:05:06Z' WHERE slug = 'published-0'")
    found = entries(await sitemap(client))
    assert list(found) == [
        "https://codersinflow.com/", "https://codersinflow.com/about", "https://codersinflow.com/pricing",
        "https://codersinflow.com/blog", "https://codersinflow.com/blog/published-1",
        "https://codersinflow.com/blog/published-0",
    ]  # fmt: skip
    assert found["https://codersinflow.com/blog/published-0"] == "2026-02-03T04:05:06+00:00"
    modified = found["https://codersinflow.com/blog/published-1"]
    assert modified is not None and datetime.fromisoformat(modified).tzinfo is not None


async def test_a_tenant_without_the_blog_lists_no_posts(client: httpx.AsyncClient, database: ContentDatabase) -> None:
    await write(database, "basicsite", 1)  # written behind its back: the feature is off
    assert list(entries(await sitemap(client, "basicsite.com"))) == ["https://basicsite.com/"]


async def test_publishing_a_post_puts_it_in_the_cached_sitemap(
    client: httpx.AsyncClient, database: ContentDatabase
) -> None:
    await write(database, "codersinflow", 1)
    first = await sitemap(client)
    assert "posts:codersinflow" in first.headers["surrogate-key"]
    again = await sitemap(client)
    assert "cache=hit" in again.headers["x-tenantedge-explain"] and again.text == first.text
    body = {"slug": "brand-new", "title": "Brand new post", "status": "published"}
    created = await client.post("/api/tenants/codersinflow/posts", json=body, headers=ADMIN)
    assert created.status_code == 201
    fresh = await sitemap(client)
    assert "cache=miss" in fresh.headers["x-tenantedge-explain"]
    assert "https://codersinflow.com/blog/brand-new" in entries(fresh)
    draft = {"slug": "not-yet", "title": "Not yet", "status": "draft"}
    assert (await client.post("/api/tenants/codersinflow/posts", json=draft, headers=ADMIN)).status_code == 201
    assert "https://codersinflow.com/blog/not-yet" not in entries(await sitemap(client))


async def test_with_the_database_down_and_nothing_kept_the_sitemap_is_a_503(urls: Urls) -> None:
    app = create_app(blog_settings(urls, database_url="postgresql://tenantedge_app@127.0.0.1:1/none"))
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://t:{OPS_PORT}") as http:
            down = await sitemap(http)
            assert down.status_code == 503 and down.headers["cache-control"] == "no-store"
            robots = await http.get("/robots.txt", headers={"host": "codersinflow.com"})
            assert robots.status_code == 200  # needs no posts
            assert list(entries(await sitemap(http, "basicsite.com"))) == ["https://basicsite.com/"]


async def test_with_the_database_down_the_last_copy_of_the_posts_is_listed_and_not_kept(
    urls: Urls, database: ContentDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    await write(database, "codersinflow", 1)
    clock = ManualClock()
    app = create_app(blog_settings(urls, debug=True, ops_port=OPS_PORT), clock)
    dead = ContentDatabase("postgresql://tenantedge_app@127.0.0.1:1/none", clock, timeout=1.0)
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://t:{OPS_PORT}") as http:
            assert "https://codersinflow.com/blog/published-0" in entries(await sitemap(http))
            assert app._blog is not None
            monkeypatch.setattr(app._blog, "database", dead)
            clock.advance(3600)  # the copy kept of the posts is old: the database is asked, and is down
            app._pages.clear()
            for _ in range(2):
                stale = await sitemap(http)
                assert "https://codersinflow.com/blog/published-0" in entries(stale)
                assert "cache=miss" in stale.headers["x-tenantedge-explain"]  # never kept: fresh posts follow
    await dead.close()
