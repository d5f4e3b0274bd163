"""Blog data: the posts a page shows, read before it renders and handed to the renderer, kept per worker, and
standing in when the database is down.

A listing or post read from the database is kept until an event says the tenant's posts changed (or for
`ttl` seconds, in case an event was lost). When the database fails, the last copy is shown (and the page is
not cached, so the fresh one follows soon); with no copy, Blog sections say posts are unavailable and a post
page answers 503.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from cachetools import LRUCache

from tenantedge.blog import BLOG_PATH, FRESH, STALE, UNAVAILABLE, Listing, PostView
from tenantedge.clock import Clock
from tenantedge.content import posts
from tenantedge.content.db import ContentDatabase
from tenantedge.errors import BackendError, StoreUnavailable
from tenantedge.integers import bounded_integer
from tenantedge.invalidation import Change, ChangeKind
from tenantedge.seo import MAX_URLS, SitemapPost
from tenantedge.tenants import Tenant

BLOG_SECTION = "Blog"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PagePosts:
    """The posts one page shows: the latest for its Blog sections or a page of the index (a Listing), or a post."""

    posts: Listing | PostView
    cacheable: bool  # False when the posts shown are a stale copy or missing: the page must not outlive them


@dataclass(slots=True)
class _Kept(Generic[T]):
    value: T
    fetched: float


class BlogContent:
    def __init__(self, database: ContentDatabase, clock: Clock, *, per_page: int = 10, ttl: float = 300.0) -> None:
        self.database = database
        self._clock = clock
        self.per_page = per_page
        self._ttl = ttl
        self._listings: LRUCache[Any, _Kept[Any]] = LRUCache(10_000)
        self._posts: LRUCache[Any, _Kept[Any]] = LRUCache(10_000)
        self._sitemaps: LRUCache[Any, _Kept[Any]] = LRUCache(1_000)

    async def page_posts(self, tenant: Tenant, path: str) -> PagePosts | None:
        """The posts the page at `path` shows; None for any other page (rendered without posts), a page past the
        index's last, or no such post.

        Raises StoreUnavailable for a post page when the database is down and no copy of the post is kept.
        """
        page = tenant.pages.get(path)
        if page is not None:
            wanted = [
                int(section.props.get("posts", 3))
                for section in (*tenant.header, *page.sections, *tenant.footer)
                if section.type == BLOG_SECTION
            ]
            if not wanted:
                return None
            listing = await self.listing(tenant.id, 1, max(wanted))
            return PagePosts(listing, listing.state == FRESH)
        number = _listing_page(path)
        if number is not None:
            listing = await self.listing(tenant.id, number, self.per_page)
            if number > listing.pages and listing.state == FRESH:
                return None
            return PagePosts(listing, listing.state == FRESH)
        slug = path.removeprefix(BLOG_PATH + "/")
        if not path.startswith(BLOG_PATH + "/") or not posts.SLUG.match(slug):
            return None
        post, state = await self.post(tenant.id, slug)
        if post is None:
            if state == UNAVAILABLE:
                raise StoreUnavailable(f"tenant {tenant.id}: post {slug!r}: the database is down, no copy is kept")
            return None
        return PagePosts(post, state == FRESH)

    async def listing(self, tenant_id: str, page: int, per_page: int) -> Listing:
        async def read() -> Listing:
            async with self.database.tenant(tenant_id) as session:
                found, total = await posts.latest(session, per_page, (page - 1) * per_page)
            return Listing(tuple(_view(post) for post in found), total, page, per_page)

        kept, state = await self._read(self._listings, (tenant_id, page, per_page), read)
        if kept is None:
            return Listing((), 0, page, per_page, UNAVAILABLE)
        return kept if state == FRESH else replace(kept, state=state)

    async def post(self, tenant_id: str, slug: str) -> tuple[PostView | None, str]:
        async def read() -> PostView | None:
            async with self.database.tenant(tenant_id) as session:
                found = await posts.by_slug(session, slug)
            return None if found is None else _view(found)

        return await self._read(self._posts, (tenant_id, slug), read)

    async def sitemap_posts(self, tenant_id: str) -> tuple[tuple[SitemapPost, ...], bool]:
        """The newest published posts a sitemap can list, and whether they are fresh (not a copy kept while the
        database is down). Raises StoreUnavailable when it is down and no copy is kept."""

        async def read() -> tuple[SitemapPost, ...]:
            async with self.database.tenant(tenant_id) as session:
                return tuple(SitemapPost(*found) for found in await posts.published_dates(session, MAX_URLS))

        found, state = await self._read(self._sitemaps, (tenant_id,), read)
        if found is None:
            raise StoreUnavailable(f"tenant {tenant_id}: sitemap: the database is down, no copy of its posts is kept")
        return found, state == FRESH

    def forget(self, change: Change) -> None:
        """A tenant's posts changed: read them again next time (after a reconnect, every tenant's)."""
        if change.kind not in (ChangeKind.POSTS, ChangeKind.EVERYTHING):
            return
        for table in (self._listings, self._posts, self._sitemaps):
            for key in [key for key in table if change.kind is ChangeKind.EVERYTHING or key[0] == change.tenant]:
                table.pop(key, None)

    async def _read(
        self,
        table: LRUCache[Any, _Kept[Any]],
        key: tuple[str, ...] | tuple[str, int, int],
        read: Callable[[], Awaitable[T]],
    ) -> tuple[T | None, str]:
        kept = table.get(key)
        now = self._clock.now()
        if kept is not None and now - kept.fetched < self._ttl:
            return kept.value, FRESH
        try:
            value = await read()
        except BackendError:
            return (kept.value, STALE) if kept is not None else (None, UNAVAILABLE)
        table[key] = _Kept(value, now)
        return value, FRESH


def _view(post: posts.Post) -> PostView:
    return PostView(
        post.slug, post.title, post.excerpt, post.author, post.published_at, post.tags, post.body, post.body_format,
    )  # fmt: skip


def _listing_page(path: str) -> int | None:
    if path == BLOG_PATH:
        return 1
    if not path.startswith(BLOG_PATH + "/page/"):
        return None
    return bounded_integer(path.removeprefix(BLOG_PATH + "/page/"), 2, 100_000)  # page 1 is /blog itself
