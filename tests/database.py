"""A fresh, migrated database on the real PostgreSQL (127.0.0.1:5432), dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tenantedge.content.migrate import migrate

SERVER = "postgresql://postgres@127.0.0.1:5432"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@dataclass(frozen=True, slots=True)
class Urls:
    owner: str
    app: str


async def create_database() -> Urls:
    """A new database with every migration applied: the owner's URL and the application role's."""
    name = f"te_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    found = Urls(f"{SERVER}/{name}", f"postgresql://tenantedge_app@127.0.0.1:5432/{name}")
    try:
        await migrate(found.owner, MIGRATIONS)
    except BaseException:
        await drop_database(found)
        raise
    return found


async def drop_database(urls: Urls) -> None:
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'DROP DATABASE "{urls.owner.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def fresh_database() -> AsyncIterator[Urls]:
    found = await create_database()
    try:
        yield found
    finally:
        await drop_database(found)
