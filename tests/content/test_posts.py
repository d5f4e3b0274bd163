"""Posts: validation names each field, versions guard writes, and hostile bodies render harmless."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from tenantedge.content import posts
from tenantedge.content.db import ContentDatabase
from tenantedge.errors import DocumentError, PostConflict
from tenantedge.richtext import post_html


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"slug": "Bad Slug", "title": "t"}, "slug"),
        ({"slug": "ok"}, "title"),
        ({"slug": "ok", "title": "t", "status": "live"}, "status"),
        ({"slug": "ok", "title": "t", "body_format": "rtf"}, "body_format"),
        ({"slug": "ok", "title": "t", "tags": "x"}, "tags"),
        ({"slug": "ok", "title": "t", "published_at": "yesterday"}, "published_at"),
        ({"slug": "ok", "title": "t", "colour": "red"}, "colour"),
        ({"slug": "ok", "title": "\x1c\u3000"}, "title"),
        ({"slug": "ok", "title": "t", "body": "a\x00b"}, "body"),
        ({"slug": "ok", "title": "t", "tags": ["a\x00"]}, "tags"),
    ],
    ids=[
        "slug",
        "missing-title",
        "status",
        "format",
        "tags",
        "date",
        "unknown-field",
        "blank-title",
        "nul-body",
        "nul-tag",
    ],
)
def test_validation_names_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(DocumentError) as refused:
        posts.validate_post(raw)
    assert field in [issue.path for issue in refused.value.issues]


@pytest.mark.parametrize(
    "published_at",
    [
        pytest.param("9999-12-31T23:59:59-14:00", id="year-10000-in-utc"),
        pytest.param("0001-01-01T00:00:00+14:00", id="year-0-in-utc"),
        pytest.param("2026-01-01", id="date-only"),
        pytest.param("2026-W01-1", id="week-date"),
        pytest.param("20260101", id="basic-format"),
        pytest.param(20260101, id="number"),
        pytest.param("\uff12\uff10\uff12\uff16-01-01T00:00:00Z", id="fullwidth-digits"),
        pytest.param("2026-02-30T00:00:00Z", id="no-such-day"),
        pytest.param("2026-01-01T00:00:00+24:00", id="offset-out-of-range"),
        pytest.param("", id="empty"),
    ],
)
def test_published_at_is_an_rfc_3339_moment_within_years_1_to_9999_in_utc(published_at: object) -> None:
    with pytest.raises(DocumentError) as refused:
        posts.validate_post({"slug": "ok", "title": "t", "published_at": published_at})
    assert [issue.path for issue in refused.value.issues] == ["published_at"]


@pytest.mark.parametrize(
    ("published_at", "expected"),
    [
        pytest.param("2026-01-31T09:30:00Z", datetime(2026, 1, 31, 9, 30, tzinfo=UTC), id="utc"),
        pytest.param("2026-01-31t09:30:00.25z", datetime(2026, 1, 31, 9, 30, 0, 250000, tzinfo=UTC), id="lowercase"),
        pytest.param("2026-01-31T09:30:00-14:00", datetime(2026, 1, 31, 23, 30, tzinfo=UTC), id="offset"),
        pytest.param("2026-01-31 09:30:00", datetime(2026, 1, 31, 9, 30, tzinfo=UTC), id="no-offset-is-utc"),
        pytest.param("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), id="last-second"),
        pytest.param("0001-01-01T00:00:00-14:00", datetime(1, 1, 1, 14, tzinfo=UTC), id="first-day"),
    ],
)
def test_published_at_is_kept_in_utc(published_at: str, expected: datetime) -> None:
    assert posts.validate_post({"slug": "ok", "title": "t", "published_at": published_at})["published_at"] == expected


@pytest.mark.parametrize(
    ("body", "body_format"),
    [
        ("<script>alert(1)</script><p>text</p>", "html"),
        ('<img src="x" onerror="alert(1)">', "html"),
        ('<a href="javascript:alert(1)">click</a>', "html"),
        ('<a href="JaVaScRiPt:alert(1)">click</a>', "html"),
        ('<svg onload="alert(1)"></svg><iframe src="https://evil.example"></iframe>', "html"),
        ('<p style="background:url(javascript:alert(1))">x</p>', "html"),
        ("[click](javascript:alert(1)) <script>alert(1)</script>", "markdown"),
        ("<img src=x onerror=alert(1)>\n\n![x](javascript:alert(1))", "markdown"),
    ],
    ids=["script", "onerror", "javascript-link", "mixed-case", "svg-iframe", "style", "md-link", "md-image"],
)
def test_hostile_bodies_render_harmless(body: str, body_format: str) -> None:
    found = _Markup()
    found.feed(str(post_html(body, body_format)))
    assert not found.tags & {"script", "iframe", "svg", "object", "embed", "style"}, found.tags
    for tag, name, value in found.attributes:
        assert not name.startswith("on") and name != "style", (tag, name)
        assert not (value or "").strip().lower().startswith(("javascript:", "vbscript:", "data:")), (tag, value)


class _Markup(HTMLParser):
    """The elements and attributes a browser would build from the HTML (text, escaped or not, is only text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]


def test_safe_html_keeps_its_structure() -> None:
    html = str(
        post_html('<h2>Title</h2><p>A <a href="https://example.com">link</a> and <em>emphasis</em>.</p>', "html")
    )
    assert (
        "<h2>Title</h2>" in html and '<a href="https://example.com" rel="noopener noreferrer nofollow">link</a>' in html
    )


@pytest.mark.anyio
async def test_writes_are_guarded_by_version_and_slug(database: ContentDatabase) -> None:
    def fields(title: str, **more: object) -> dict[str, object]:
        return posts.validate_post({"title": title, **more}, slug="one")

    async with database.tenant("alpha") as session:
        created = await posts.create(session, fields("One"))
    assert created.version == 1 and created.status == "draft"
    with pytest.raises(PostConflict, match="exists already"):
        async with database.tenant("alpha") as session:
            await posts.create(session, fields("Again"))
    async with database.tenant("alpha") as session:
        published = await posts.update(session, "one", fields("One", status="published"), 1)
    assert published is not None and published.version == 2 and published.published_at is not None
    with pytest.raises(PostConflict) as stale:
        async with database.tenant("alpha") as session:
            await posts.update(session, "one", fields("Stale"), 1)
    assert stale.value.current == 2
    async with database.tenant("alpha") as session:
        assert await posts.update(session, "missing", fields("x"), 1) is None
    with pytest.raises(PostConflict):
        async with database.tenant("alpha") as session:
            await posts.delete(session, "one", 1)
    async with database.tenant("alpha") as session:
        deleted = await posts.delete(session, "one", 2)
        assert deleted is not None and await posts.by_slug(session, "one", published=False) is None
