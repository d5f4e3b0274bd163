"""`tenantedge migrate`: the SQL files of `migrations/`, applied in order, each in its own transaction, recorded.

A file is applied whole or not at all; a failure names the file, the line and the statement, and leaves the
database as the last good file left it. Concurrent runs wait for each other (an advisory lock). Migrations run
as the database owner; the application itself connects as the role they create.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


def migrations(folder: Path) -> list[Migration]:
    """The migration files, in order; ConfigError for a stray file or a number used twice."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: migrations folder not found")
    found: dict[str, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = MIGRATION.match(path.name)
        if match is None:
            raise ConfigError(f"{path}: expected a name like 0001_create_posts.sql (four digits, lowercase words)")
        if match.group(1) in found:
            raise ConfigError(f"{path}: number {match.group(1)} is also used by {found[match.group(1)].path.name}")
        found[match.group(1)] = Migration(path.name, path)
    return list(found.values())


async def status(url: str, folder: Path) -> list[tuple[str, str | None]]:
    """Each migration and when it was applied (None: pending)."""
    connection = await _connect(url)
    try:
        await connection.execute(_TABLE)
        rows = await connection.fetch("SELECT name, applied_at FROM tenantedge_migrations")
        applied = {row["name"]: row["applied_at"].isoformat(timespec="seconds") for row in rows}
    finally:
        await connection.close()
    return [(migration.name, applied.get(migration.name)) for migration in migrations(folder)]


async def migrate(url: str, folder: Path, *, tick: Callable[[], None] = lambda: None) -> list[str]:
    """Apply what is pending; the names applied (none when up to date). `tick` after each one applied."""
    pending = migrations(folder)
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
            try:
                async with connection.transaction():
                    await connection.execute(sql)
                    await connection.execute("INSERT INTO tenantedge_migrations (name) VALUES ($1)", migration.name)
            except asyncpg.PostgresError as e:
                raise MigrationError(_describe(migration, sql, e)) from e
            done.append(migration.name)
            tick()
    finally:
        await connection.close()
    return done


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
