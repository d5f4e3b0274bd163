"""Search-engine files per tenant: the document's `seo` settings, and the robots.txt and sitemap.xml built from them.

Builders take plain values (a canonical domain, page paths, post dates), so the tenant document can import the
settings from here and the edge can build the files from a tenant without either importing the other.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple
from xml.sax.saxutils import escape

from tenantedge.blog import BLOG_PATH
from tenantedge.errors import ValidationIssue
from tenantedge.jsonpath import JsonPath, child, item
from tenantedge.media.references import MEDIA_PREFIX
from tenantedge.props import describe, short, suggest

ROBOTS_PATH = "/robots.txt"
SITEMAP_PATH = "/sitemap.xml"
SEO_PATHS = frozenset((ROBOTS_PATH, SITEMAP_PATH))
# The sitemaps.org limit for one file (and 50 MB: 50,000 URLs of at most ~700 bytes each stay well under it).
MAX_URLS = 50_000
# A robots.txt written by hand: generous (Google reads 500 KiB), but a document stays small.
MAX_ROBOTS = 32_768
_SEO_KEYS = ("robots", "sitemap", "exclude")
# Platform endpoints (health, metrics) stay out of search; what pages need to render (their CSS) does not.
# Platform paths are closed to crawlers, except what pages need to render: stylesheets, shared assets and the
# tenant's own media (its images belong in image search).
_ROBOTS = (
    "User-agent: *\nAllow: /\nDisallow: /_edge/\nAllow: /_edge/theme.css\nAllow: /_edge/assets/\n"
    f"Allow: {MEDIA_PREFIX}\n"
)
_URLSET = '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'


@dataclass(frozen=True, slots=True)
class SeoSettings:
    """A tenant's overrides: its own robots.txt (None: the generated one), no sitemap, pages left out of it."""

    robots: str | None = None
    sitemap: bool = True
    exclude: frozenset[str] = frozenset()


DEFAULT_SEO = SeoSettings()


class SitemapPost(NamedTuple):
    """A published post as a sitemap lists it."""

    slug: str
    modified: datetime


def parse_seo(raw: object, path: JsonPath, pages: Collection[str], issues: list[ValidationIssue]) -> SeoSettings:
    """The `seo` object of a tenant document; `pages`: the tenant's page paths, which `exclude` must name."""
    if not isinstance(raw, dict):
        issues.append(ValidationIssue.at(path, f"expected an object like {{'sitemap': false}}, found {describe(raw)}"))
        return DEFAULT_SEO
    for key in raw:
        if key not in _SEO_KEYS:
            expected = f"unknown key{suggest(key, _SEO_KEYS)}; expected one of {', '.join(_SEO_KEYS)}"
            issues.append(ValidationIssue.at(child(path, key), expected))
    return SeoSettings(
        _robots(raw["robots"], child(path, "robots"), issues) if "robots" in raw else None,
        _sitemap(raw.get("sitemap", True), child(path, "sitemap"), issues),
        _exclude(raw.get("exclude", []), child(path, "exclude"), pages, issues),
    )


def robots_txt(settings: SeoSettings, domain: str) -> str:
    """The tenant's robots.txt: its own text as written, or everything allowed but platform paths, and where the
    sitemap is when it has one."""
    if settings.robots is not None:
        return settings.robots
    return f"{_ROBOTS}\nSitemap: {origin(domain)}{SITEMAP_PATH}\n" if settings.sitemap else _ROBOTS


def sitemap_xml(
    domain: str, pages: Iterable[str], settings: SeoSettings, posts: Iterable[SitemapPost] | None = None
) -> str:
    """A sitemaps.org urlset: the pages not excluded, then with `posts` (the blog is on) the blog's index and its
    posts, newest first; at most MAX_URLS in all."""
    base = escape(origin(domain))
    entries = [path for path in sorted(pages) if path not in settings.exclude]
    if posts is not None and BLOG_PATH not in settings.exclude and BLOG_PATH not in entries:
        entries.append(BLOG_PATH)
    lines = [f"<url><loc>{base}{escape(path)}</loc></url>\n" for path in entries[:MAX_URLS]]
    for post in posts or ():
        if len(lines) >= MAX_URLS:
            break
        modified = post.modified.astimezone(UTC).isoformat(timespec="seconds")
        lines.append(f"<url><loc>{base}{BLOG_PATH}/{escape(post.slug)}</loc><lastmod>{modified}</lastmod></url>\n")
    return _URLSET + "".join(lines) + "</urlset>\n"


def origin(domain: str) -> str:
    """Canonical URLs name the site as the public reaches it: over HTTPS on its canonical domain, whatever scheme
    or port a request came in on (TLS ends at a proxy in front of the edge)."""
    return f"https://{domain}"


def _robots(raw: object, path: JsonPath, issues: list[ValidationIssue]) -> str | None:
    if isinstance(raw, str) and len(raw) <= MAX_ROBOTS:
        return raw
    expected = f"expected the text of robots.txt, at most {MAX_ROBOTS} characters, found {describe(raw)}"
    issues.append(ValidationIssue.at(path, expected))
    return None


def _sitemap(raw: object, path: JsonPath, issues: list[ValidationIssue]) -> bool:
    if isinstance(raw, bool):
        return raw
    issues.append(ValidationIssue.at(path, f"expected true or false (false: no /sitemap.xml), found {short(raw)}"))
    return True


def _exclude(raw: object, path: JsonPath, pages: Collection[str], issues: list[ValidationIssue]) -> frozenset[str]:
    if not isinstance(raw, list):
        issues.append(ValidationIssue.at(path, f"expected a list of page paths, found {describe(raw)}"))
        return frozenset()
    excluded: set[str] = set()
    for index, value in enumerate(raw):
        if isinstance(value, str) and (value in pages or value == BLOG_PATH):
            excluded.add(value)
            continue
        hint = suggest(value, pages) if isinstance(value, str) else ""
        expected = f"expected one of this tenant's page paths (or '{BLOG_PATH}'), found {short(value)}{hint}"
        issues.append(ValidationIssue.at(item(path, index), expected))
    return frozenset(excluded)
