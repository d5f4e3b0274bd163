"""The database handle a plugin gets: transactions of the one tenant it was called for, never the pool.

Each transaction sets the tenant before the plugin's first query, so row-level security holds every row it reads
or writes to that tenant (migrations/ enables it on every table). A query that would change who the transaction
is for is refused before it is sent, so a mistake in a plugin cannot reach another tenant's rows. (Plugins are
code the operator installed and run in the worker's process: this guards against mistakes, not against malice.)
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

from tenantedge.errors import ScopeRefused

if TYPE_CHECKING:
    from tenantedge.content.db import TenantSession

# set_config('app.tenant_id', ...), SET [LOCAL] app.tenant_id / ROLE / SESSION AUTHORIZATION, RESET.
_SCOPE_CHANGE = re.compile(
    r"set_config|app\.tenant_id|\bset\s+(?:local\s+|session\s+)?(?:role|session)\b|\breset\b", re.I
)


class TenantTransactions(Protocol):
    """Where tenant transactions come from (tenantedge.content.db.ContentDatabase)."""

    def tenant(self, tenant_id: str) -> AbstractAsyncContextManager[TenantSession]: ...


class PluginSession:
    """Queries inside one tenant's transaction."""

    def __init__(self, session: TenantSession) -> None:
        self._session = session
        self.tenant_id = session.tenant_id

    async def fetch(self, query: str, *args: object) -> list[Any]:
        return await self._session.fetch(_checked(query), *args)

    async def fetchrow(self, query: str, *args: object) -> Any:
        return await self._session.fetchrow(_checked(query), *args)

    async def fetchval(self, query: str, *args: object) -> Any:
        return await self._session.fetchval(_checked(query), *args)

    async def execute(self, query: str, *args: object) -> str:
        return await self._session.execute(_checked(query), *args)


class TenantDatabase:
    """`async with database.transaction() as session: await session.execute(...)`, for one tenant."""

    def __init__(self, transactions: TenantTransactions, tenant_id: str) -> None:
        self._transactions = transactions
        self.tenant_id = tenant_id

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[PluginSession]:
        """One transaction; tenantedge.errors.BackendError when the database cannot be reached in time."""
        async with self._transactions.tenant(self.tenant_id) as session:
            yield PluginSession(session)


def _checked(query: str) -> str:
    if _SCOPE_CHANGE.search(query):
        raise ScopeRefused("a plugin's query may not change its transaction's tenant or role")
    return query
