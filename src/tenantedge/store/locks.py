"""The write lock: one writer per tenant at a time, across the workers of a machine (flock) or every machine (Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tenantedge.errors import BackendError

if TYPE_CHECKING:
    from redis.asyncio import Redis

LOCK_TIMEOUT = 5.0


class WriteLock(Protocol):
    def hold(self, tenant_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Exclusive rights to write this tenant, across every worker that shares the lock."""
        ...

    async def close(self) -> None: ...


class FileWriteLock:
    """One writer at a time across the workers of one machine: `flock` on a file beside tenants.json."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def hold(self, tenant_id: str) -> AsyncIterator[None]:
        async with self._local:
            fd = await asyncio.to_thread(self._acquire)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    async def close(self) -> None:
        return None

    def _acquire(self) -> int:
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise BackendError(f"{self._path}: cannot open the write lock: {e.strerror}") from e
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    os.close(fd)
                    raise BackendError(f"{self._path}: another writer holds the lock; try again") from e
                time.sleep(0.005)


# Releases the lock only if it is still ours: a writer that overran the lease must not free the next one's.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class RedisWriteLock:
    """One writer per tenant across every instance: a Redis key with a lease (SET NX PX), released by owner only."""

    def __init__(self, url: str, *, prefix: str = "te:", lease: float = 10.0, timeout: float = 1.0) -> None:
        from redis.asyncio import Redis

        self._client: Redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix
        self._lease = lease

    @contextlib.asynccontextmanager
    async def hold(self, tenant_id: str) -> AsyncIterator[None]:
        from redis.exceptions import RedisError

        key, token = f"{self._prefix}lock:tenant:{tenant_id}", secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_TIMEOUT
        try:
            while not await self._client.set(key, token, nx=True, px=int(self._lease * 1000)):
                if time.monotonic() > deadline:
                    raise BackendError(f"tenant {tenant_id}: another writer holds the lock; try again")
                await asyncio.sleep(0.005)
        except (RedisError, OSError) as e:
            raise BackendError(f"redis lock: {type(e).__name__}: {e}") from e
        try:
            yield
        finally:
            with contextlib.suppress(RedisError, OSError):
                await self._client.eval(_RELEASE, 1, key, token)

    async def close(self) -> None:
        await self._client.aclose()
