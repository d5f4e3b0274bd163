"""Plugins' migrations: applied by `tenantedge migrate` after tenantedge's own, recorded under the plugin's name,
and refused whole when they leave a table that row-level security does not hold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tenantedge.clock import SystemClock
from tenantedge.content.db import ContentDatabase
from tenantedge.content.migrate import migrate, status
from tenantedge.errors import MigrationError
from tenantedge.plugins import TenantDatabase
from tests.database import MIGRATIONS, Urls, fresh_database
from tests.plugins.conftest import FIXTURES

pytestmark = pytest.mark.anyio
ECHO = {"echo": FIXTURES / "tefx_echo" / "migrations"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def urls() -> AsyncIterator[Urls]:
    async with fresh_database() as found:
        yield found


async def test_a_plugins_migrations_follow_tenantedges_and_its_table_is_per_tenant(urls: Urls) -> None:
    assert await migrate(urls.owner, MIGRATIONS, plugins=ECHO) == ["echo/0001_echo_messages.sql"]
    assert await migrate(urls.owner, MIGRATIONS, plugins=ECHO) == []
    listed = await status(urls.owner, MIGRATIONS, ECHO)
    assert [name for name, _ in listed] == ["0001_posts.sql", "echo/0001_echo_messages.sql"]
    assert all(applied is not None for _, applied in listed)
    database = ContentDatabase(urls.app, SystemClock(), timeout=5.0)
    try:
        async with TenantDatabase(database, "alpha").transaction() as session:
            await session.execute("INSERT INTO echo_messages (tenant_id, body) VALUES ('alpha', 'hello')")
        async with TenantDatabase(database, "beta").transaction() as session:
            assert await session.fetchval("SELECT count(*) FROM echo_messages") == 0
        async with TenantDatabase(database, "alpha").transaction() as session:
            assert await session.fetchval("SELECT body FROM echo_messages") == "hello"
    finally:
        await database.close()


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE leaky (tenant_id text NOT NULL, body text);",
        "CREATE TABLE leaky (tenant_id text NOT NULL); ALTER TABLE leaky ENABLE ROW LEVEL SECURITY;",
    ],
    ids=["no-row-level-security", "not-forced"],
)
async def test_a_plugin_migration_leaving_a_table_unguarded_is_refused_whole(
    urls: Urls, tmp_path: Path, sql: str
) -> None:
    tmp_path.joinpath("0001_leaky.sql").write_text(sql)
    with pytest.raises(MigrationError, match="tables without forced row-level security: leaky"):
        await migrate(urls.owner, MIGRATIONS, plugins={"leaky": tmp_path})
    connection = await asyncpg.connect(urls.owner)
    try:
        assert await connection.fetchval("SELECT to_regclass('public.leaky')") is None
        assert await connection.fetchval("SELECT count(*) FROM tenantedge_migrations WHERE name LIKE 'leaky/%'") == 0
    finally:
        await connection.close()
