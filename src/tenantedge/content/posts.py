"""Blog posts: the record, its validation (errors with field paths), and its queries, all through a TenantSession.

No function here names a tenant in SQL: the session's transaction has set it, and row-level security keeps
every row of other tenants out of sight, for reads and writes alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from tenantedge.content.db import TenantSession
from tenantedge.errors import DocumentError, PostConflict, ValidationIssue

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,119}\Z")
DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})?\Z"
)
FORMATS = ("markdown", "html")
STATUSES = ("draft", "published")
# Whole statements, never assembled from input: every value travels as a parameter.
_LATEST = (
    "SELECT id, slug, title, excerpt, body, body_format, tags, status, author, published_at, updated_at, version "
    "FROM posts WHERE status = 'published' ORDER BY published_at DESC, id LIMIT $1 OFFSET $2"
)
_BY_SLUG = (
    "SELECT id, slug, title, excerpt, body, body_format, tags, status, author, published_at, updated_at, version "
    "FROM posts WHERE slug = $1 AND (status = 'published' OR NOT $2)"
)
_SITEMAP = "SELECT slug, updated_at FROM posts WHERE status = 'published' ORDER BY published_at DESC, id LIMIT $1"
_EVERY = (
    "SELECT id, slug, title, excerpt, body, body_format, tags, status, author, published_at, updated_at, version "
    "FROM posts ORDER BY updated_at DESC, id LIMIT $1 OFFSET $2"
)
_INSERT = (
    "INSERT INTO posts (tenant_id, slug, title, excerpt, body, body_format, tags, status, author, published_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING "
    "id, slug, title, excerpt, body, body_format, tags, status, author, published_at, updated_at, version"
)
_UPDATE = (
    "UPDATE posts SET slug = $1, title = $2, excerpt = $3, body = $4, body_format = $5, tags = $6, status = $7, "
    "author = $8, published_at = $9, updated_at = now(), version = version + 1 WHERE id = $10 AND version = $11 "
    "RETURNING id, slug, title, excerpt, body, body_format, tags, status, author, published_at, updated_at, version"
)
_LIMITS = {"title": 200, "excerpt": 500, "body": 200_000, "author": 120}


@dataclass(frozen=True, slots=True)
class Post:
    id: str
    slug: str
    title: str
    excerpt: str
    body: str
    body_format: str
    tags: tuple[str, ...]
    status: str
    author: str
    published_at: datetime | None
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, row: asyncpg.Record) -> Post:
        return cls(
            str(row["id"]),
            row["slug"],
            row["title"],
            row["excerpt"],
            row["body"],
            row["body_format"],
            tuple(row["tags"]),
            row["status"],
            row["author"],
            row["published_at"],
            row["updated_at"],
            row["version"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "excerpt": self.excerpt,
            "body": self.body,
            "body_format": self.body_format,
            "tags": list(self.tags),
            "status": self.status,
            "author": self.author,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "updated_at": self.updated_at.isoformat(),
            "version": self.version,
        }


def validate_post(raw: object, *, slug: str | None = None) -> dict[str, Any]:
    """A post as sent to the API, checked field by field; DocumentError naming every bad field."""
    issues: list[ValidationIssue] = []
    if not isinstance(raw, dict):
        raise DocumentError("post", [ValidationIssue("", "expected a JSON object")])
    known = {"slug", "title", "excerpt", "body", "body_format", "tags", "status", "author", "published_at", "version"}
    issues += [ValidationIssue(key, "unknown field") for key in raw if key not in known]
    fields: dict[str, Any] = {"slug": raw.get("slug", slug)}
    if not isinstance(fields["slug"], str) or not SLUG.match(fields["slug"]):
        issues.append(ValidationIssue("slug", "expected lowercase letters, digits and '-' (at most 120)"))
    for name, limit in _LIMITS.items():
        value = raw.get(name, "" if name != "title" else None)
        if not _text(value, limit) or (name == "title" and not str(value).strip()):
            issues.append(ValidationIssue(name, f"expected text of at most {limit} characters, without NUL"))
        fields[name] = value
    fields["body_format"] = raw.get("body_format", "markdown")
    if fields["body_format"] not in FORMATS:
        issues.append(ValidationIssue("body_format", f"expected one of {FORMATS}"))
    fields["status"] = raw.get("status", "draft")
    if fields["status"] not in STATUSES:
        issues.append(ValidationIssue("status", f"expected one of {STATUSES}"))
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or len(tags) > 20 or not all(_text(tag, 40) and tag for tag in tags):
        issues.append(ValidationIssue("tags", "expected at most 20 tags of 1 to 40 characters, without NUL"))
    fields["tags"] = tags
    fields["published_at"] = _moment(raw.get("published_at"), "published_at", issues)
    if issues:
        raise DocumentError("post", issues)
    if fields["status"] == "published" and fields["published_at"] is None:
        fields["published_at"] = datetime.now(UTC)
    return fields


def _text(value: object, limit: int) -> bool:
    """Text PostgreSQL can store (it refuses NUL) within the limit."""
    return isinstance(value, str) and len(value) <= limit and "\x00" not in value


def _moment(raw: object, name: str, issues: list[ValidationIssue]) -> datetime | None:
    """An RFC 3339 date and time (UTC when it names no offset) within years 1 to 9999 in UTC, or None for null.

    `datetime.fromisoformat` alone also takes week dates and bare numbers, and a time that only becomes year 10000
    in UTC, which the database driver cannot send."""
    if raw is None:
        return None
    try:
        if not isinstance(raw, str) or not DATE_TIME.match(raw):
            raise ValueError(raw)
        moment = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        issues.append(ValidationIssue(name, "expected a date and time like 2026-01-31T09:30:00Z, in UTC years 1-9999"))
        return None


async def latest(session: TenantSession, limit: int, offset: int = 0) -> tuple[list[Post], int]:
    """The newest published posts, and how many are published in all."""
    rows = await session.fetch(_LATEST, limit, offset)
    total = await session.fetchval("SELECT count(*) FROM posts WHERE status = 'published'")
    return [Post.of(row) for row in rows], int(total)


async def published_dates(session: TenantSession, limit: int) -> list[tuple[str, datetime]]:
    """The newest published posts' slugs and when each last changed, for a sitemap."""
    return [(row["slug"], row["updated_at"]) for row in await session.fetch(_SITEMAP, limit)]


async def by_slug(session: TenantSession, slug: str, *, published: bool = True) -> Post | None:
    row = await session.fetchrow(_BY_SLUG, slug, published)
    return None if row is None else Post.of(row)


async def every(session: TenantSession, limit: int, offset: int) -> tuple[list[Post], int]:
    """Every post, drafts included, newest change first (for the admin)."""
    rows = await session.fetch(_EVERY, limit, offset)
    return [Post.of(row) for row in rows], int(await session.fetchval("SELECT count(*) FROM posts"))


async def create(session: TenantSession, fields: dict[str, Any]) -> Post:
    try:
        row = await session.fetchrow(_INSERT, session.tenant_id, *_values(fields))
    except asyncpg.UniqueViolationError as e:
        raise PostConflict(f"a post with slug {fields['slug']!r} exists already", None) from e
    assert row is not None
    return Post.of(row)


async def update(session: TenantSession, slug: str, fields: dict[str, Any], version: int | None) -> Post | None:
    """Replace a post's fields if it is still at `version` (None: whatever it is); None when there is no post."""
    current = await _at_version(session, slug, version)
    if current is None:
        return None
    try:
        row = await session.fetchrow(_UPDATE, *_values(fields), current.id, current.version)
    except asyncpg.UniqueViolationError as e:
        raise PostConflict(f"a post with slug {fields['slug']!r} exists already", current.version) from e
    if row is None:
        raise PostConflict(f"post {slug} changed while it was being saved; read it again", None)
    return Post.of(row)


async def delete(session: TenantSession, slug: str, version: int | None) -> Post | None:
    current = await _at_version(session, slug, version)
    if current is None:
        return None
    await session.execute("DELETE FROM posts WHERE id = $1", current.id)
    return current


async def _at_version(session: TenantSession, slug: str, version: int | None) -> Post | None:
    """The post, if any; PostConflict when the caller's version (None: any) is not the current one."""
    current = await by_slug(session, slug, published=False)
    if current is not None and version is not None and version != current.version:
        raise PostConflict(
            f"post {slug}: version {version} is not the current one ({current.version})", current.version
        )
    return current


def _values(fields: dict[str, Any]) -> tuple[Any, ...]:
    return (
        fields["slug"],
        fields["title"],
        fields["excerpt"],
        fields["body"],
        fields["body_format"],
        fields["tags"],
        fields["status"],
        fields["author"],
        fields["published_at"],
    )
