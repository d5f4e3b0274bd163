"""The database handle plugins get: one tenant's transactions under row-level security, on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tenantedge.clock import SystemClock
from tenantedge.content.db import ContentDatabase
from tenantedge.errors import ScopeRefused
from tenantedge.plugins import TenantDatabase
from tests.database import Urls, fresh_database

pytestmark = pytest.mark.anyio
INSERT = "INSERT INTO posts (tenant_id, slug, title) VALUES ($1, $2, 'From a plugin')"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def urls() -> AsyncIterator[Urls]:
    async with fresh_database() as found:
        yield found


@pytest.fixture
async def database(urls: Urls) -> AsyncIterator[ContentDatabase]:
    owner = await asyncpg.connect(urls.owner)
    await owner.execute("TRUNCATE posts")
    await owner.close()
    found = ContentDatabase(urls.app, SystemClock(), timeout=5.0)
    yield found
    await found.close()


async def test_a_plugin_sees_and_writes_only_its_tenants_rows(database: ContentDatabase) -> None:
    alpha, beta = TenantDatabase(database, "alpha"), TenantDatabase(database, "beta")
    async with alpha.transaction() as session:
        await session.execute(INSERT, "alpha", "kept")
    async with beta.transaction() as session:
        assert await session.fetchval("SELECT count(*) FROM posts") == 0
        await session.execute(INSERT, "beta", "own")
    async with alpha.transaction() as session:
        assert [row["slug"] for row in await session.fetch("SELECT slug FROM posts")] == ["kept"]
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with alpha.transaction() as session:
            await session.execute(INSERT, "beta", "planted")


@pytest.mark.parametrize(
    "query",
    [
        "SELECT set_config('app.tenant_id', 'beta', true)",
        "SET LOCAL app.tenant_id = 'beta'",
        "SET ROLE postgres",
        "set session authorization postgres",
        "RESET ALL",
        "SELECT current_setting('app.tenant_id')",
    ],
    ids=["set-config", "set-local", "set-role", "session-authorization", "reset", "read-setting"],
)
async def test_a_query_changing_whom_the_transaction_is_for_is_refused(database: ContentDatabase, query: str) -> None:
    async with TenantDatabase(database, "alpha").transaction() as session:
        with pytest.raises(ScopeRefused):
            await session.execute(query)
