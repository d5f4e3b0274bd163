"""The content database: an asyncpg pool, and the one way in, a transaction that names its tenant.

Every query runs inside `ContentDatabase.tenant(tenant_id)`, which opens a transaction and sets
`app.tenant_id` with `set_config(..., true)` (local to the transaction, so a pooled connection never carries
one tenant's id into another's work). Row-level security does the rest. Every call has a timeout; after
repeated failures a circuit breaker stops trying for a while, and recovery needs no restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from time import perf_counter_ns
from typing import Any, TypeVar

import asyncpg

from tenantedge.clock import Clock
from tenantedge.errors import BackendError, UnsafeRole
from tenantedge.store.breaker import BreakerState, CircuitBreaker
from tenantedge.telemetry.timings import Timings
from tenantedge.tenants import TENANT_ID

log = logging.getLogger("tenantedge.content")
T = TypeVar("T")

_ROLE_CHECK = """
SELECT r.rolsuper, r.rolbypassrls,
       (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relkind = 'r'
          AND c.relnamespace = 'public'::regnamespace) AS owned
FROM pg_roles r WHERE r.rolname = current_user
"""
# What the database driver raises when the server is down, hung, restarting or refusing.
FAILURES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.QueryCanceledError,
    asyncpg.AdminShutdownError,
    OSError,
    TimeoutError,
)

_PROBE_FAILURES: tuple[type[BaseException], ...] = (*FAILURES, BackendError)


class TenantSession:
    """A connection inside a transaction whose tenant is set: the only handle queries get. Each query is timed."""

    def __init__(self, connection: asyncpg.pool.PoolConnectionProxy[Any], tenant_id: str, queries: Timings) -> None:
        self._connection = connection
        self.tenant_id = tenant_id
        self._queries = queries

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        return await self._timed(self._connection.fetch(query, *args))

    async def fetchrow(self, query: str, *args: object) -> asyncpg.Record | None:
        return await self._timed(self._connection.fetchrow(query, *args))

    async def fetchval(self, query: str, *args: object) -> Any:
        return await self._timed(self._connection.fetchval(query, *args))

    async def execute(self, query: str, *args: object) -> str:
        return await self._timed(self._connection.execute(query, *args))

    async def _timed(self, query: Awaitable[T]) -> T:
        started = perf_counter_ns()
        try:
            return await query
        finally:  # failed and timed-out queries too: they are the slow ones
            self._queries.observe_ns(perf_counter_ns() - started)


class ContentDatabase:
    def __init__(self, url: str, clock: Clock, *, timeout: float = 1.0, max_size: int = 10, min_size: int = 0) -> None:
        self._url = url
        self._timeout = timeout
        self._max_size = max_size
        self._min_size = min_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._breaker = CircuitBreaker(clock, threshold=3, cooldown=2.0)
        self._unsafe: str | None = None
        self.calls = 0
        # No label: the queries are few and named by the code that runs them, not by anything bounded to label.
        self.queries = Timings(
            "tenantedge_database_query_duration_seconds", "Queries run in tenant transactions, failed ones included."
        )

    @contextlib.asynccontextmanager
    async def tenant(self, tenant_id: str) -> AsyncIterator[TenantSession]:
        """A transaction for one tenant; BackendError when the database cannot be reached in time."""
        if not TENANT_ID.match(tenant_id):
            raise ValueError(f"not a tenant id: {tenant_id!r}")
        if self._unsafe is not None:
            raise UnsafeRole(self._unsafe)
        if not self._breaker.allow():
            raise BackendError("database: circuit open after repeated failures")
        self.calls += 1
        try:
            pool = await self._open()
            async with pool.acquire(timeout=self._timeout) as connection, connection.transaction():
                await connection.execute("SELECT set_config('app.tenant_id', $1, true)", tenant_id)
                yield TenantSession(connection, tenant_id, self.queries)
        except FAILURES as e:
            self._breaker.failed()
            raise BackendError(f"database: {type(e).__name__}: {e}") from e
        self._breaker.succeeded()

    def metrics(self) -> dict[str, tuple[str, str, float]]:
        pool = self._pool
        size = pool.get_size() if pool is not None else 0
        idle = pool.get_idle_size() if pool is not None else 0
        open_breaker = self._breaker.state is not BreakerState.CLOSED
        return {
            "tenantedge_database_pool_connections": ("gauge", "Connections the pools hold.", size),
            "tenantedge_database_pool_in_use": ("gauge", "Connections the pools have lent out.", size - idle),
            "tenantedge_database_transactions_total": ("counter", "Tenant transactions begun.", self.calls),
            "tenantedge_database_breaker_open": (
                "gauge",
                "Workers whose database breaker is not closed.",
                open_breaker,
            ),
        }

    async def probe(self) -> dict[str, Any]:
        if self._unsafe is not None:
            return {"state": "refused", "error": self._unsafe}
        try:
            pool = await asyncio.wait_for(self._open(), self._timeout * 2)
            await pool.fetchval("SELECT 1", timeout=self._timeout)
        except _PROBE_FAILURES as e:
            return {"state": "down", "breaker": self._breaker.state.value, "error": f"{type(e).__name__}: {e}"}
        return {"state": "up", "breaker": self._breaker.state.value}

    async def close(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(*FAILURES):
                await asyncio.wait_for(self._pool.close(), self._timeout * 5)
            self._pool = None

    async def _open(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                pool = await asyncpg.create_pool(
                    self._url,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    timeout=self._timeout,
                    command_timeout=self._timeout,
                )
                assert pool is not None
                await self._check_role(pool)
                self._pool = pool
        return self._pool

    async def _check_role(self, pool: asyncpg.Pool) -> None:
        """Refuse a role that row-level security would not hold: superuser, BYPASSRLS, or a table owner."""
        row = await pool.fetchrow(_ROLE_CHECK, timeout=self._timeout)
        problems: Sequence[str] = []
        if row is not None:
            problems = [
                what
                for what, bad in (
                    ("a superuser", row["rolsuper"]),
                    ("BYPASSRLS", row["rolbypassrls"]),
                    ("the owner of tables", row["owned"] > 0),
                )
                if bad
            ]
        if problems:
            self._unsafe = (
                f"the database role in TENANTEDGE_DATABASE_URL is {', '.join(problems)}: row-level security would "
                "not hold it; connect as tenantedge_app (created by `tenantedge migrate`)"
            )
            log.error("%s; database features are off", self._unsafe)
            await pool.close()
            raise UnsafeRole(self._unsafe)
