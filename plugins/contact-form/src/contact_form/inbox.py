"""The tenant's messages in PostgreSQL (table contact_form_messages, under row-level security): kept, listed
newest first, read and deleted, always within the one tenant's transaction the plugin was given."""

from __future__ import annotations

from typing import Any

from tenantedge.plugins import TenantDatabase


async def keep(
    database: TenantDatabase, *, name: str, email: str, message: str, client_hash: str | None, user_agent: str
) -> int:
    async with database.transaction() as session:
        found = await session.fetchval(
            "INSERT INTO contact_form_messages (tenant_id, name, email, message, client_hash, user_agent)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            database.tenant_id,
            name,
            email,
            message,
            client_hash,
            user_agent,
        )
    return int(found)


async def newest(database: TenantDatabase, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    """One page of messages, newest first, and how many there are."""
    async with database.transaction() as session:
        rows = await session.fetch(
            "SELECT id, created_at, name, email, message, client_hash, user_agent FROM contact_form_messages"
            " ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
            per_page,
            (page - 1) * per_page,
        )
        total = await session.fetchval("SELECT count(*) FROM contact_form_messages")
    return [_json(row) for row in rows], int(total)


async def one(database: TenantDatabase, message_id: int) -> dict[str, Any] | None:
    async with database.transaction() as session:
        row = await session.fetchrow(
            "SELECT id, created_at, name, email, message, client_hash, user_agent FROM contact_form_messages"
            " WHERE id = $1",
            message_id,
        )
    return _json(row) if row is not None else None


async def delete(database: TenantDatabase, message_id: int) -> bool:
    async with database.transaction() as session:
        status = await session.execute("DELETE FROM contact_form_messages WHERE id = $1", message_id)
    return status == "DELETE 1"


def _json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "created_at": row["created_at"].isoformat(),
        "name": row["name"],
        "email": row["email"],
        "message": row["message"],
        "client_hash": row["client_hash"],
        "user_agent": row["user_agent"],
    }


async def delete_all(database: TenantDatabase) -> int:
    async with database.transaction() as session:
        status = await session.execute("DELETE FROM contact_form_messages")
    return int(status.rpartition(" ")[2])
