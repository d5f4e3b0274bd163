"""A fresh, migrated database on the real PostgreSQL (127.0.0.1:5432), dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tenantedge.app import installed_plugins
from tenantedge.content.migrate import migrate
from tenantedge.settings import Settings

SERVER = "postgresql://postgres@127.0.0.1:5432"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@dataclass(frozen=True, slots=True)
class Urls:
    owner: str
    app: str


async def create_database(*, plugins: bool = True) -> Urls:
    """A new database with every migration applied (the installed plugins' too, unless not `plugins`): the
    owner's URL and the application role's."""
    name = f"te_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    found = Urls(f"{SERVER}/{name}", f"postgresql://tenantedge_app@127.0.0.1:5432/{name}")
    try:
        await migrate(found.owner, MIGRATIONS, plugins=plugin_migrations() if plugins else None)
    except BaseException:
        await drop_database(found)
        raise
    return found


def plugin_migrations() -> dict[str, Path]:
    """Each installed plugin's migrations folder, as `tenantedge migrate` applies them after tenantedge's own."""
    loaded = installed_plugins(Settings()).loaded
    return {name: plugin.manifest.migrations for name, plugin in loaded.items() if plugin.manifest.migrations.is_dir()}


async def drop_database(urls: Urls) -> None:
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'DROP DATABASE "{urls.owner.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def fresh_database(*, plugins: bool = True) -> AsyncIterator[Urls]:
    found = await create_database(plugins=plugins)
    try:
        yield found
    finally:
        await drop_database(found)
