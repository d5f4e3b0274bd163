"""Blog pages from the database, through the real app: listings, posts, 404s, and exactly the right pages
dropped when a post is published."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenantedge.app import create_app
from tenantedge.content import posts
from tenantedge.content.db import ContentDatabase
from tenantedge.invalidation import Change, ChangeKind
from tenantedge.settings import Settings
from tests.conftest import ROOT, running
from tests.content.conftest import Urls
from tests.http.conftest import OPS_PORT

pytestmark = pytest.mark.anyio
TOKEN = "blog-pages-test-token-1"
SITE = "codersinflow.com"


async def write(database: ContentDatabase, tenant: str, count: int, status: str = "published") -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with database.tenant(tenant) as session:
        for number in range(count):
            raw = {
                "slug": f"{status}-{number}", "title": f"{status.title()} number {number}", "status": status,
                "body": f"Body **{number}**", "published_at": (start + timedelta(days=number)).isoformat(),
            }  # fmt: skip
            await posts.create(session, posts.validate_post(raw))


def blog_settings(urls: Urls, **overrides: Any) -> Settings:
    """The demo tenants with the content database, the watcher off."""
    settings = Settings(
        tenants_file=ROOT / "tenants.json", templates_dir=ROOT / "templates", database_url=urls.app,
        admin_token=TOKEN, reload_interval=0,
    )  # fmt: skip
    return replace(settings, **overrides)


@pytest.fixture
async def client(urls: Urls, database: ContentDatabase) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(blog_settings(urls, blog_per_page=2, debug=True, ops_port=OPS_PORT))
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        # On the operations listener, where explain mode tells whether each page was a cache hit.
        async with httpx.AsyncClient(transport=transport, base_url=f"http://t:{OPS_PORT}") as http:
            yield http


async def page(client: httpx.AsyncClient, path: str, host: str = SITE) -> httpx.Response:
    return await client.get(path, headers={"host": host})


def titles(response: httpx.Response) -> list[str]:
    return re.findall(r'<a href="/blog/[a-z0-9-]+">([^<]+)</a>', response.text)


async def test_the_blog_lists_published_posts_newest_first_by_page(
    client: httpx.AsyncClient, database: ContentDatabase
) -> None:
    await write(database, "codersinflow", 5)
    await write(database, "codersinflow", 2, "draft")
    first = await page(client, "/blog")
    assert first.status_code == 200
    assert titles(first) == ["Published number 4", "Published number 3"]
    assert "posts:codersinflow" in first.headers["surrogate-key"]
    assert 'href="/blog/page/2"' in first.text and "Page 1 of 3" in first.text
    assert titles(await page(client, "/blog/page/3")) == ["Published number 0"]
    assert (await page(client, "/blog/page/4")).status_code == 404
    assert "Draft number" not in (await page(client, "/blog")).text


@pytest.mark.parametrize(
    "number",
    ["%C2%B2", "%D9%A1%D9%A2", "%EF%BC%97", "-2", "+2", "2.0", "1_0", "9" * 5000, "0", "1", "100001"],
    ids=["superscript", "arabic-indic", "fullwidth", "negative", "plus", "fraction", "underscore", "huge", "zero",
         "one", "past-the-limit"],
)  # fmt: skip
async def test_a_listing_page_number_that_is_not_one_is_a_404(
    client: httpx.AsyncClient, database: ContentDatabase, number: str
) -> None:
    await write(database, "codersinflow", 3)
    response = await page(client, f"/blog/page/{number}")
    assert response.status_code == 404 and "Page not found · Coders in Flow" in response.text


async def test_a_post_page_and_its_404s(client: httpx.AsyncClient, database: ContentDatabase) -> None:
    await write(database, "codersinflow", 1)
    await write(database, "codersinflow", 1, "draft")
    post = await page(client, "/blog/published-0")
    assert post.status_code == 200 and "<strong>0</strong>" in post.text and "Published number 0 · Coders" in post.text
    for missing in ("/blog/draft-0", "/blog/no-such-post", "/blog/Not_A_Slug"):
        response = await page(client, missing)
        assert response.status_code == 404 and "Page not found · Coders in Flow" in response.text, missing


async def test_blog_sections_show_the_latest_posts_and_tenants_without_the_feature_have_no_blog(
    client: httpx.AsyncClient, database: ContentDatabase
) -> None:
    await write(database, "codersinflow", 4)
    home = await page(client, "/")
    assert titles(home)[:3] == ["Published number 3", "Published number 2", "Published number 1"]
    assert (await page(client, "/blog", "basicsite.com")).status_code == 404  # blog feature off


async def test_publishing_a_post_drops_exactly_the_pages_that_show_posts(
    client: httpx.AsyncClient, database: ContentDatabase
) -> None:
    await write(database, "codersinflow", 1)
    for path in ("/", "/blog", "/about"):
        await page(client, path)
        assert "cache=hit" in (await page(client, path)).headers["x-tenantedge-explain"]
    body = {"slug": "brand-new", "title": "Brand new post", "status": "published"}
    headers = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}
    created = await client.post("/api/tenants/codersinflow/posts", json=body, headers=headers)
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    assert "cache=hit" in (await page(client, "/about")).headers["x-tenantedge-explain"]  # shows no posts: kept
    for path in ("/", "/blog"):
        response = await page(client, path)
        assert "cache=miss" in response.headers["x-tenantedge-explain"] and "Brand new post" in response.text
    assert (await page(client, "/blog/brand-new")).status_code == 200


@pytest.mark.parametrize(
    "published_at",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"],
    ids=["year-10000-in-utc", "year-0-in-utc"],
)
async def test_a_date_the_database_cannot_hold_is_a_422_naming_it(client: httpx.AsyncClient, published_at: str) -> None:
    headers = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}
    body = {"slug": "far-future", "title": "Far", "status": "published", "published_at": published_at}
    refused = await client.post("/api/tenants/codersinflow/posts", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert [issue["path"] for issue in refused.json()["issues"]] == ["published_at"]


async def test_the_admin_api_writes_posts_with_versions(client: httpx.AsyncClient) -> None:
    headers = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}
    url = "/api/tenants/codersinflow/posts"
    bad = await client.post(url, json={"slug": "Bad Slug"}, headers=headers)
    assert bad.status_code == 422 and {i["path"] for i in bad.json()["issues"]} >= {"slug", "title"}
    assert (await client.post(url, json={"slug": "draft-one", "title": "Draft"}, headers=headers)).status_code == 201
    assert (await page(client, "/blog/draft-one")).status_code == 404
    publish = {"title": "Now live", "status": "published"}
    assert (await client.put(f"{url}/draft-one", json=publish, headers=headers)).status_code == 428
    stale = await client.put(f"{url}/draft-one", json=publish, headers={**headers, "if-match": '"7"'})
    assert stale.status_code == 409 and stale.headers["etag"] == '"1"'
    live = await client.put(f"{url}/draft-one", json=publish, headers={**headers, "if-match": '"1"'})
    assert live.status_code == 200 and live.headers["etag"] == '"2"'
    assert "Now live" in (await page(client, "/blog/draft-one")).text
    listed = (await client.get(url, headers=headers)).json()
    assert listed["total"] == 1 and listed["items"][0]["status"] == "published"
    assert (await client.delete(f"{url}/draft-one", headers={**headers, "if-match": '"2"'})).status_code == 204
    assert (await page(client, "/blog/draft-one")).status_code == 404
    admin = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}
    ready = (await client.get("/_edge/ready", headers=admin)).json()
    assert ready["tiers"]["database"]["state"] == "up"


async def test_every_posts_route_sees_only_its_own_tenant(client: httpx.AsyncClient) -> None:
    headers = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}
    for tenant in ("codersinflow", "basicsite"):
        for slug in (f"{tenant}-only", "same-slug"):
            body = {"slug": slug, "title": f"{tenant} {slug}", "status": "published"}
            created = await client.post(f"/api/tenants/{tenant}/posts", json=body, headers=headers)
            assert created.status_code == 201, created.text
    for tenant, other in (("codersinflow", "basicsite"), ("basicsite", "codersinflow")):
        listed = (await client.get(f"/api/tenants/{tenant}/posts", headers=headers)).json()
        assert {item["slug"] for item in listed["items"]} == {f"{tenant}-only", "same-slug"}
        assert all(item["title"].startswith(tenant) for item in listed["items"])
        same = (await client.get(f"/api/tenants/{tenant}/posts/same-slug", headers=headers)).json()
        assert same["title"] == f"{tenant} same-slug"
        url = f"/api/tenants/{tenant}/posts/{other}-only"
        assert (await client.get(url, headers=headers)).status_code == 404
        write = {"title": "taken over", "status": "published"}
        assert (await client.put(url, json=write, headers={**headers, "if-match": "*"})).status_code == 404
        assert (await client.delete(url, headers={**headers, "if-match": "*"})).status_code == 404
    blog = await page(client, "/blog")
    assert "codersinflow same-slug" in blog.text and "basicsite" not in blog.text
    assert (await page(client, "/blog/basicsite-only")).status_code == 404


async def test_a_tenant_overrides_the_post_layout_like_any_template(
    urls: Urls, database: ContentDatabase, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    override = tmp_path / "templates" / "tenants" / "codersinflow" / "layouts" / "post.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text('<article class="custom-post"><h1>{{ post.title }}</h1>{{ post.body }}</article>\n')
    await write(database, "codersinflow", 1)
    app = create_app(blog_settings(urls, templates_dir=tmp_path / "templates"))
    async with running(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await page(http, "/blog/published-0")
    assert response.status_code == 200 and '<article class="custom-post"><h1>Published number 0</h1>' in response.text


async def test_a_page_whose_posts_were_read_before_a_publish_is_not_kept(
    urls: Urls, database: ContentDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    await write(database, "codersinflow", 1)
    app = create_app(blog_settings(urls))
    async with running(app):
        blog = app._blog
        assert blog is not None
        read_posts = blog.page_posts

        async def read_while_a_post_is_published(*args: Any) -> Any:
            shown = await read_posts(*args)  # the listing is read: now a post is published, as an event says
            async with database.tenant("codersinflow") as session:
                await posts.create(
                    session, posts.validate_post({"slug": "late", "title": "Late post", "status": "published"})
                )
            published = Change(ChangeKind.POSTS, "codersinflow")
            app._lookup.forget(published)  # as the invalidation owner hands it to each cache
            blog.forget(published)
            return shown

        monkeypatch.setattr(app._blog, "page_posts", read_while_a_post_is_published)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            raced = await page(http, "/blog")
            monkeypatch.undo()
            assert raced.status_code == 200 and "Late post" not in raced.text
            assert "Late post" in (await page(http, "/blog")).text  # the raced page was not kept
