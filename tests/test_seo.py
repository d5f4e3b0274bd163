"""The `seo` settings of a tenant document, and robots.txt and sitemap.xml built from plain values."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from tenantedge.errors import DocumentError
from tenantedge.sections import SectionRegistry
from tenantedge.seo import DEFAULT_SEO, MAX_ROBOTS, MAX_URLS, SeoSettings, SitemapPost, robots_txt, sitemap_xml
from tenantedge.tenants import parse_document

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
PAGES = {"/": [{"type": "Hero"}], "/about": [{"type": "Hero"}], "/thanks": [{"type": "Hero"}]}


def tenant_doc(**overrides: Any) -> dict[str, Any]:
    return {"tenants": {"acme": {"domains": ["acme.com"], "pages": PAGES, **overrides}}}


def issues_of(doc: object, registry: SectionRegistry) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        parse_document(orjson.dumps(doc), "tenants.json", registry)
    return [str(issue) for issue in caught.value.issues]


def locations(xml: str) -> list[str]:
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    assert root.tag == f"{NS}urlset"
    return [url.findtext(f"{NS}loc", "") for url in root.iter(f"{NS}url")]


def test_a_document_without_seo_gets_the_defaults(registry: SectionRegistry) -> None:
    acme = parse_document(orjson.dumps(tenant_doc()), "tenants.json", registry).tenants["acme"]
    assert acme.seo == DEFAULT_SEO


def test_the_overrides_are_read(registry: SectionRegistry) -> None:
    seo = {"robots": "User-agent: *\nDisallow: /\n", "sitemap": False, "exclude": ["/thanks", "/blog"]}
    acme = parse_document(orjson.dumps(tenant_doc(seo=seo)), "tenants.json", registry).tenants["acme"]
    assert acme.seo == SeoSettings("User-agent: *\nDisallow: /\n", False, frozenset({"/thanks", "/blog"}))


@pytest.mark.parametrize(
    ("seo", "expected"),
    [
        (False, "tenants.acme.seo: expected an object like {'sitemap': false}, found a boolean"),
        ({"sitemaps": False}, "tenants.acme.seo.sitemaps: unknown key (did you mean 'sitemap'?)"),
        ({"sitemap": "no"}, "tenants.acme.seo.sitemap: expected true or false (false: no /sitemap.xml), found 'no'"),
        ({"robots": None}, "tenants.acme.seo.robots: expected the text of robots.txt, at most 32768 characters"),
        ({"robots": "x" * (MAX_ROBOTS + 1)}, "tenants.acme.seo.robots: expected the text of robots.txt"),
        ({"exclude": "/thanks"}, "tenants.acme.seo.exclude: expected a list of page paths, found a string"),
        ({"exclude": ["/thank"]}, "tenants.acme.seo.exclude[0]: expected one of this tenant's page paths (or"),
        ({"exclude": ["/", 7]}, "tenants.acme.seo.exclude[1]: expected one of this tenant's page paths"),
    ],
    ids=["not-an-object", "unknown-key", "sitemap-not-a-flag", "robots-null", "robots-too-long", "exclude-not-a-list",
         "exclude-no-such-page", "exclude-not-text"],
)  # fmt: skip
def test_bad_overrides_name_their_json_path(registry: SectionRegistry, seo: object, expected: str) -> None:
    issues = issues_of(tenant_doc(seo=seo), registry)
    assert len(issues) == 1 and issues[0].startswith(expected), issues


def test_a_misspelt_excluded_page_gets_a_suggestion(registry: SectionRegistry) -> None:
    assert "(did you mean '/thanks'?)" in issues_of(tenant_doc(seo={"exclude": ["/thank"]}), registry)[0]


@pytest.mark.parametrize("path", ["/robots.txt", "/sitemap.xml"])
def test_no_page_takes_the_path_of_a_generated_file(registry: SectionRegistry, path: str) -> None:
    issues = issues_of(tenant_doc(pages={**PAGES, path: []}), registry)
    assert issues == [f"tenants.acme.pages[\"{path}\"]: {path} is generated from the pages; change it under 'seo'"]


def test_robots_allows_all_but_platform_paths_and_names_the_sitemap() -> None:
    robots = robots_txt(DEFAULT_SEO, "acme.com")
    lines = robots.splitlines()
    assert lines[:3] == ["User-agent: *", "Allow: /", "Disallow: /_edge/"]
    assert "Allow: /_edge/theme.css" in lines  # pages need their stylesheet to be rendered by a crawler
    assert "Allow: /_edge/media/" in lines  # and the tenant's own images are the tenant's, to be found
    assert lines[-1] == "Sitemap: https://acme.com/sitemap.xml" and robots.endswith("\n")


def test_robots_without_a_sitemap_names_none_and_a_tenants_own_text_is_served_as_written() -> None:
    assert "Sitemap" not in robots_txt(SeoSettings(sitemap=False), "acme.com")
    assert robots_txt(SeoSettings(robots="User-agent: *\nDisallow: /private"), "acme.com") == (
        "User-agent: *\nDisallow: /private"
    )


def test_the_sitemap_lists_pages_then_the_blog_and_its_posts_newest_first() -> None:
    newer = datetime(2026, 3, 1, 12, 30, 5, 999, tzinfo=timezone(timedelta(hours=2)))
    posts = [SitemapPost("second", newer), SitemapPost("first", datetime(2026, 1, 1, tzinfo=UTC))]
    xml = sitemap_xml("acme.com", ["/about", "/"], DEFAULT_SEO, posts)
    assert locations(xml) == [
        "https://acme.com/", "https://acme.com/about", "https://acme.com/blog", "https://acme.com/blog/second",
        "https://acme.com/blog/first",
    ]  # fmt: skip
    modified = [url.findtext(f"{NS}lastmod") for url in ET.fromstring(xml).iter(f"{NS}url")]  # noqa: S314
    assert modified == [None, None, None, "2026-03-01T10:30:05+00:00", "2026-01-01T00:00:00+00:00"]


def test_the_sitemap_leaves_out_excluded_pages_and_the_blog_when_it_is_off() -> None:
    seo = SeoSettings(exclude=frozenset({"/thanks"}))
    assert locations(sitemap_xml("acme.com", PAGES, seo)) == ["https://acme.com/", "https://acme.com/about"]
    no_index = SeoSettings(exclude=frozenset({"/blog"}))
    posts = [SitemapPost("one", datetime(2026, 1, 1, tzinfo=UTC))]
    assert "https://acme.com/blog/one" in locations(sitemap_xml("acme.com", ["/"], no_index, posts))
    assert "https://acme.com/blog" not in locations(sitemap_xml("acme.com", ["/"], no_index, posts))


def test_a_page_at_the_blogs_path_is_listed_once() -> None:
    assert locations(sitemap_xml("acme.com", ["/", "/blog"], DEFAULT_SEO, [])).count("https://acme.com/blog") == 1


def test_the_sitemap_escapes_what_xml_needs_escaped() -> None:
    # Page paths and slugs cannot hold these; a domain that somehow did must still give well-formed XML.
    xml = sitemap_xml("a&b<c>.com", ["/"], DEFAULT_SEO)
    assert "a&amp;b&lt;c&gt;.com" in xml and locations(xml) == ["https://a&b<c>.com/"]


def test_the_sitemap_stops_at_the_protocols_limit() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    posts = (SitemapPost(f"post-{number}", moment) for number in range(MAX_URLS + 10))
    found = locations(sitemap_xml("acme.com", ["/", "/about"], DEFAULT_SEO, posts))
    assert len(found) == MAX_URLS and found[2] == "https://acme.com/blog"  # pages and the blog come first
    assert found[-1] == f"https://acme.com/blog/post-{MAX_URLS - 4}"
