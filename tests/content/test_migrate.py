"""Migrations: applied in order, once; a failure names its file and line and leaves nothing of it behind;
and the catalogue afterwards says the application role is held by row-level security on every tenant table."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tenantedge.content.migrate import migrate, migrations, status
from tenantedge.errors import ConfigError, MigrationError
from tests.content.conftest import MIGRATIONS, SERVER, Urls

pytestmark = pytest.mark.anyio


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    name = f"te_mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{SERVER}/{name}"
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


async def test_migrations_apply_once_and_report_their_status(empty_database: str) -> None:
    names = [migration.name for migration in migrations(MIGRATIONS)]
    assert [applied for _, applied in await status(empty_database, MIGRATIONS)] == [None] * len(names)
    assert await migrate(empty_database, MIGRATIONS) == names
    assert await migrate(empty_database, MIGRATIONS) == []  # re-running changes nothing
    assert all(applied for _, applied in await status(empty_database, MIGRATIONS))


async def test_a_failing_migration_names_file_and_line_and_leaves_nothing(empty_database: str, tmp_path: Path) -> None:
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE kept (id int);\n")
    (tmp_path / "0002_bad.sql").write_text(
        "CREATE TABLE half_done (id int);\n\nINSERT INTO no_such_table VALUES (1);\nCREATE TABLE never (id int);\n"
    )
    with pytest.raises(MigrationError) as failed:
        await migrate(empty_database, tmp_path)
    message = str(failed.value)
    assert "0002_bad.sql" in message and "line 3" in message and "INSERT INTO no_such_table" in message
    assert "nothing of this file was applied" in message
    connection = await asyncpg.connect(empty_database)
    try:
        tables = {row["relname"] for row in await connection.fetch("SELECT relname FROM pg_class WHERE relkind = 'r'")}
        assert "kept" in tables and "half_done" not in tables and "never" not in tables
        recorded = [row["name"] for row in await connection.fetch("SELECT name FROM tenantedge_migrations")]
        assert recorded == ["0001_good.sql"]
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (["0001_a.sql", "notes.sql"], "expected a name like 0001_create_posts.sql"),
        (["0001_a.sql", "0001_b.sql"], "number 0001 is also used by 0001_a.sql"),
    ],
    ids=["stray-file", "number-twice"],
)
def test_a_migrations_folder_with_a_stray_file_is_refused(tmp_path: Path, files: list[str], problem: str) -> None:
    for name in files:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(ConfigError, match=problem):
        migrations(tmp_path)


async def test_the_application_role_is_held_by_row_level_security(urls: Urls) -> None:
    connection = await asyncpg.connect(urls.owner)
    try:
        role = await connection.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'tenantedge_app'"
        )
        assert role is not None and not any(role.values())
        owned = await connection.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'tenantedge_app'"
        )
        assert owned == 0
        tenant_tables = await connection.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped "
            "WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"
        )
        assert tenant_tables, "expected at least the posts table"
        for table in tenant_tables:
            assert table["relrowsecurity"] and table["relforcerowsecurity"], table["relname"]
            policies = await connection.fetch(
                "SELECT qual, with_check FROM pg_policies WHERE tablename = $1", table["relname"]
            )
            assert policies and all("app.tenant_id" in (p["qual"] or "") for p in policies)
            assert all("app.tenant_id" in (p["with_check"] or "") for p in policies)
    finally:
        await connection.close()
