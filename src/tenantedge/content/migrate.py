"""`tenantedge migrate`: the SQL files of `migrations/`, applied in order, each in its own transaction, recorded.

A file is applied whole or not at all; a failure names the file, the line and the statement, and leaves the
database as the last good file left it. Concurrent runs wait for each other (an advisory lock). Migrations run
as the database owner; the application itself connects as the role they create.

Plugins ship their own, in the `migrations/` folder of the plugin, recorded as `<plugin>/<file>` and applied after
tenantedge's own (their tables may refer to its roles). A plugin's migration that leaves a new table without
forced row-level security is refused whole: every row a plugin keeps belongs to one tenant, and stays with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tenantedge.errors import ConfigError, MigrationError

MIGRATION = re.compile(r"(\d{4})_[a-z0-9_]+\.sql\Z")
_LOCK = 0x7E_0001  # pg_advisory_lock key: one migrating process at a time
_TABLE = """
CREATE TABLE IF NOT EXISTS tenantedge_migrations (
    name       text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    path: Path


def migrations(folder: Path, plugin: str | None = None) -> list[Migration]:
    """The migration files, in order; ConfigError for a stray file or a number used twice. A plugin's are named
    `<plugin>/<file>`."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: migrations folder not found")
    found: dict[str, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = MIGRATION.match(path.name)
        if match is None:
            raise ConfigError(f"{path}: expected a name like 0001_create_posts.sql (four digits, lowercase words)")
        if match.group(1) in found:
            raise ConfigError(f"{path}: number {match.group(1)} is also used by {found[match.group(1)].path.name}")
        found[match.group(1)] = Migration(f"{plugin}/{path.name}" if plugin else path.name, path)
    return list(found.values())


def every_migration(folder: Path, plugins: Mapping[str, Path] | None = None) -> list[Migration]:
    """tenantedge's migrations, then each plugin's (by plugin name), in order."""
    found = migrations(folder)
    for name, plugin_folder in sorted((plugins or {}).items()):
        found += migrations(plugin_folder, name)
    return found


async def status(url: str, folder: Path, plugins: Mapping[str, Path] | None = None) -> list[tuple[str, str | None]]:
    """Each migration and when it was applied (None: pending)."""
    connection = await _connect(url)
    try:
        await connection.execute(_TABLE)
        rows = await connection.fetch("SELECT name, applied_at FROM tenantedge_migrations")
        applied = {row["name"]: row["applied_at"].isoformat(timespec="seconds") for row in rows}
    finally:
        await connection.close()
    return [(migration.name, applied.get(migration.name)) for migration in every_migration(folder, plugins)]


async def migrate(
    url: str, folder: Path, *, plugins: Mapping[str, Path] | None = None, tick: Callable[[], None] = lambda: None
) -> list[str]:
    """Apply what is pending (plugins' migrations from their folders, by plugin name); the names applied (none when
    up to date). `tick` after each one applied."""
    pending = every_migration(folder, plugins)
    connection = await _connect(url)
    done: list[str] = []
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK)
        await connection.execute(_TABLE)
        applied = {row["name"] for row in await connection.fetch("SELECT name FROM tenantedge_migrations")}
        for migration in pending:
            if migration.name in applied:
                continue
            sql = migration.path.read_text(encoding="utf-8")
            plugin = "/" in migration.name
            try:
                async with connection.transaction():
                    before = await _unguarded(connection) if plugin else set()
                    await connection.execute(sql)
                    if plugin and (new := await _unguarded(connection) - before):
                        # Raised inside the transaction: nothing of the file stays.
                        raise MigrationError(
                            f"{migration.path}: tables without forced row-level security: {', '.join(sorted(new))} "
                            "(ALTER TABLE … ENABLE and FORCE ROW LEVEL SECURITY, with a policy on tenant_id)\n"
                            "  nothing of this file was applied"
                        )
                    await connection.execute("INSERT INTO tenantedge_migrations (name) VALUES ($1)", migration.name)
            except asyncpg.PostgresError as e:
                raise MigrationError(_describe(migration, sql, e)) from e
            done.append(migration.name)
            tick()
    finally:
        await connection.close()
    return done


async def _unguarded(connection: asyncpg.Connection) -> set[str]:
    """Tables of the public schema that row-level security does not hold (for their owner too)."""
    rows = await connection.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'tenantedge_migrations' "
        "AND NOT (c.relrowsecurity AND c.relforcerowsecurity)"
    )
    return {row["relname"] for row in rows}


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        raise ConfigError(f"cannot connect to the database to migrate: {e}") from e


def _describe(migration: Migration, sql: str, error: asyncpg.PostgresError) -> str:
    """The file, line and statement that failed, and PostgreSQL's own words."""
    position = getattr(error, "position", None)
    message = f"{migration.path}: {type(error).__name__}: {error}"
    if position:
        offset = int(position) - 1
        line = sql.count("\n", 0, offset) + 1
        start = sql.rfind(";", 0, offset) + 1
        end = sql.find(";", offset)
        statement = " ".join(sql[start : end if end >= 0 else len(sql)].split())
        message += f"\n  at line {line}: {statement[:300]}"
    return message + "\n  nothing of this file was applied"
