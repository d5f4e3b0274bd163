"""The blog as pages show it: posts as views and a page of them, read by the content layer and rendered by
the renderer, which both import them from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from tenantedge.richtext import post_html

BLOG_PATH = "/blog"
# A listing's state: fresh from the database, the last copy kept while it is down, or nothing to show.
FRESH, STALE, UNAVAILABLE = "fresh", "stale", "unavailable"


@dataclass(frozen=True, slots=True)
class PostView:
    slug: str
    title: str
    excerpt: str
    author: str
    published: datetime | None
    tags: tuple[str, ...]
    source: str  # the body as written, in `body_format`: made safe HTML only when a template shows it
    body_format: str

    @property
    def body(self) -> Markup:
        return post_html(self.source, self.body_format)

    @property
    def href(self) -> str:
        return f"{BLOG_PATH}/{self.slug}"

    @property
    def date(self) -> str:
        return self.published.strftime("%-d %B %Y") if self.published else ""

    @property
    def datetime(self) -> str:
        return self.published.isoformat() if self.published else ""


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of published posts, newest first."""

    posts: tuple[PostView, ...]
    total: int
    page: int
    per_page: int
    state: str = FRESH

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def href(self, page: int) -> str:
        return BLOG_PATH if page == 1 else f"{BLOG_PATH}/page/{page}"
