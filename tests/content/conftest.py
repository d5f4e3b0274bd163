"""A fresh database per test module on the real PostgreSQL, migrated, with the application role to connect as."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from tenantedge.clock import SystemClock
from tenantedge.content.db import ContentDatabase
from tenantedge.content.migrate import migrate
from tests.conftest import ROOT

SERVER = "postgresql://postgres@127.0.0.1:5432"
MIGRATIONS = ROOT / "migrations"


@dataclass(frozen=True, slots=True)
class Urls:
    owner: str
    app: str


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def urls() -> AsyncIterator[Urls]:
    name = f"te_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        found = Urls(f"{SERVER}/{name}", f"postgresql://tenantedge_app@127.0.0.1:5432/{name}")
        await migrate(found.owner, MIGRATIONS)
        yield found
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


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
