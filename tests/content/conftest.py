"""A fresh database per test module on the real PostgreSQL, migrated, with the application role to connect as."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tenantedge.clock import SystemClock
from tenantedge.content.db import ContentDatabase
from tests.database import MIGRATIONS, SERVER, Urls, fresh_database

__all__ = ["MIGRATIONS", "SERVER", "Urls"]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def urls() -> AsyncIterator[Urls]:
    async with fresh_database() as found:
        yield found


@pytest.fixture
async def owner(urls: Urls) -> AsyncIterator[asyncpg.Connection]:
    """The owner's connection, for setting up and inspecting rows (its own session, outside the access layer).
    Every test starts with no posts."""
    connection = await asyncpg.connect(urls.owner)
    await connection.execute("TRUNCATE posts")
    yield connection
    await connection.close()


@pytest.fixture
async def database(urls: Urls, owner: asyncpg.Connection) -> AsyncIterator[ContentDatabase]:
    """The access layer, as the application role, over a table emptied for this test."""
    found = ContentDatabase(urls.app, SystemClock(), timeout=5.0)
    yield found
    await found.close()
