"""Row-level security holds: each tenant sees and changes only its own posts, whatever the pool does."""

from __future__ import annotations

import asyncpg
import pytest

from tenantedge.clock import SystemClock
from tenantedge.content import posts
from tenantedge.content.db import ContentDatabase
from tests.content.conftest import Urls

pytestmark = pytest.mark.anyio


def post(slug: str, status: str = "published") -> dict[str, object]:
    return posts.validate_post({"slug": slug, "title": slug.title(), "body": f"body of {slug}", "status": status})


async def seed(database: ContentDatabase) -> None:
    for tenant, slugs in {"alpha": ["a-one", "a-two", "shared"], "beta": ["b-one", "shared"]}.items():
        async with database.tenant(tenant) as session:
            for slug in slugs:
                await posts.create(session, post(slug))
        async with database.tenant(tenant) as session:
            await posts.create(session, post(f"{tenant}-draft", "draft"))


async def test_every_access_function_returns_only_the_callers_rows(
    database: ContentDatabase, owner: asyncpg.Connection
) -> None:
    await seed(database)
    for tenant, mine in {"alpha": {"a-one", "a-two", "shared"}, "beta": {"b-one", "shared"}}.items():
        async with database.tenant(tenant) as session:
            latest, total = await posts.latest(session, 50)
            assert {p.slug for p in latest} == mine and total == len(mine)
            everything, count = await posts.every(session, 50, 0)
            assert {p.slug for p in everything} == mine | {f"{tenant}-draft"} and count == len(mine) + 1
            other = "b-one" if tenant == "alpha" else "a-one"
            assert await posts.by_slug(session, other, published=False) is None
            shared = await posts.by_slug(session, "shared")
            assert shared is not None
            rows = await owner.fetch("SELECT tenant_id FROM posts WHERE id = $1", shared.id)
            assert [row["tenant_id"] for row in rows] == [tenant]
            assert await posts.delete(session, other, None) is None  # cannot touch it, not even to delete
    assert await owner.fetchval("SELECT count(*) FROM posts") == 7


async def test_an_update_cannot_move_a_row_and_an_insert_cannot_land_in_another_tenant(
    database: ContentDatabase,
) -> None:
    await seed(database)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with database.tenant("alpha") as session:
            await session.execute("UPDATE posts SET tenant_id = 'beta' WHERE slug = 'a-one'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with database.tenant("alpha") as session:
            await session.execute(
                "INSERT INTO posts (tenant_id, slug, title, status) VALUES ('beta', 'planted', 'Planted', 'draft')"
            )
    async with database.tenant("beta") as session:
        assert await posts.by_slug(session, "planted", published=False) is None
        assert await posts.by_slug(session, "a-one", published=False) is None


async def test_with_no_tenant_set_every_row_is_invisible(database: ContentDatabase, urls: Urls) -> None:
    await seed(database)
    connection = await asyncpg.connect(urls.app)
    try:
        assert await connection.fetchval("SELECT count(*) FROM posts") == 0
        await connection.execute("SELECT set_config('app.tenant_id', '', false)")
        assert await connection.fetchval("SELECT count(*) FROM posts") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(
                "INSERT INTO posts (tenant_id, slug, title) VALUES ('alpha', 'no-tenant', 'No tenant')"
            )
    finally:
        await connection.close()


async def fail_half_way(database: ContentDatabase, tenant: str) -> None:
    async with database.tenant(tenant) as session:
        await session.fetch("SELECT slug FROM posts")
        await session.fetchval("SELECT 1 / 0")


async def test_a_pool_of_one_never_carries_a_tenant_into_the_next_transaction(
    urls: Urls, owner: asyncpg.Connection
) -> None:
    database = ContentDatabase(urls.app, SystemClock(), timeout=5.0, max_size=1)
    try:
        await seed(database)
        seen: list[tuple[str, set[str]]] = []
        for round_ in range(6):
            tenant = "alpha" if round_ % 2 == 0 else "beta"
            if round_ % 3 == 1:
                # A transaction that fails half-way: its tenant setting must die with it.
                with pytest.raises(asyncpg.DivisionByZeroError):
                    await fail_half_way(database, tenant)
            async with database.tenant(tenant) as session:
                seen.append((tenant, {row["slug"] for row in await session.fetch("SELECT slug FROM posts")}))
            # Straight after, on the one pooled connection, outside the access layer: no tenant is left set.
            async with database.tenant(tenant):
                pass
        alpha = {"a-one", "a-two", "shared", "alpha-draft"}
        beta = {"b-one", "shared", "beta-draft"}
        assert all(slugs == (alpha if tenant == "alpha" else beta) for tenant, slugs in seen)
    finally:
        await database.close()


async def test_a_tenant_id_that_is_not_one_is_refused_before_any_query(database: ContentDatabase) -> None:
    with pytest.raises(ValueError, match="not a tenant id"):
        async with database.tenant("' OR 1=1 --"):
            pass
