"""L2: Redis, shared by every instance. Every call has a timeout, within the lookup's budget, and a circuit breaker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tenantedge.clock import Clock
from tenantedge.errors import BackendError
from tenantedge.store.breaker import BreakerState, CircuitBreaker
from tenantedge.store.budget import guarded_call
from tenantedge.store.layout import DOMAIN, TENANT, DocKey, redis_key

T = TypeVar("T")
log = logging.getLogger("tenantedge.store")
# Commands sent in one pipeline: a thousand domains in four round trips, each well within the call's timeout.
PIPELINE = 256


def _doc_key(channel: bytes | str, head: str) -> DocKey | None:
    name = channel.decode() if isinstance(channel, bytes) else channel
    if not name.startswith(head):
        return None
    kind, _, rest = name[len(head) :].partition(":")
    return (kind, rest) if kind in (TENANT, DOMAIN) and rest else None


class RedisTier:
    name = "redis"

    def __init__(
        self, url: str, clock: Clock, *, prefix: str = "te:", ttl: float = 300.0, timeout: float = 1.0
    ) -> None:
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False
        )
        self._prefix = prefix
        self._ttl = ttl
        self._timeout = timeout
        self._breaker = CircuitBreaker(clock, threshold=3, cooldown=2.0)

    async def get(self, key: DocKey) -> bytes | None:
        data = await self._call(self._client.get(redis_key(self._prefix, key)))
        return data.encode() if isinstance(data, str) else data

    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None:
        await self._call(self._client.set(redis_key(self._prefix, key), data, px=int((ttl or self._ttl) * 1000)))

    async def delete(self, key: DocKey) -> None:
        await self._call(self._client.delete(redis_key(self._prefix, key)))

    async def put_many(self, documents: Mapping[DocKey, bytes], *, ttl: float | None = None) -> None:
        """Several documents in pipelines of PIPELINE commands (one round trip each, not one per key)."""
        expiry = int((ttl or self._ttl) * 1000)
        items = list(documents.items())
        for start in range(0, len(items), PIPELINE):
            pipe = self._client.pipeline(transaction=False)
            for key, data in items[start : start + PIPELINE]:
                pipe.set(redis_key(self._prefix, key), data, px=expiry)
            await self._call(pipe.execute())

    async def delete_many(self, keys: Iterable[DocKey]) -> None:
        names = [redis_key(self._prefix, key) for key in keys]
        for start in range(0, len(names), PIPELINE):
            await self._call(self._client.delete(*names[start : start + PIPELINE]))

    async def names(self, kind: str) -> list[str]:
        """Every tenant id or domain pattern cached (SCAN, so Redis is never blocked)."""
        head = f"{self._prefix}{kind}:"

        async def scan() -> list[str]:
            return [key.decode()[len(head) :] async for key in self._client.scan_iter(match=f"{head}*", count=1000)]

        found: list[str] = await self._call(scan())
        return sorted(found)

    async def probe(self) -> dict[str, Any]:
        try:
            await self._call(self._client.ping())
        except BackendError as e:
            return {"state": "down", "breaker": self._breaker.state.value, "error": str(e)}
        return {"state": "up", "breaker": self._breaker.state.value}

    async def close(self) -> None:
        await self._client.aclose()

    async def watch(self, on_change: Callable[[DocKey], None], on_connect: Callable[[], None]) -> None:
        """Follow keyspace notifications for our keys, forever, reconnecting with backoff.

        Each (re)connection calls `on_connect` first: changes made while nobody listened were missed.
        Returns when the server has notifications off; changes then show within the L1 TTL.
        """
        backoff = 0.1
        db = self._client.connection_pool.connection_kwargs.get("db", 0)
        while True:
            try:
                config = await self._client.config_get("notify-keyspace-events")
                flags = str(config.get("notify-keyspace-events") or "")
                if "K" not in flags or not {"$", "A"} & set(flags):
                    log.info(
                        "Redis keyspace notifications are off (notify-keyspace-events=%r): "
                        "changes made in Redis directly show within the L1 TTL",
                        flags,
                    )
                    return
                async with self._client.pubsub() as pubsub:
                    await pubsub.psubscribe(f"__keyspace@{db}__:{self._prefix}*")
                    on_connect()
                    backoff = 0.1
                    async for message in pubsub.listen():
                        if message["type"] == "pmessage":
                            key = _doc_key(message["channel"], f"__keyspace@{db}__:{self._prefix}")
                            if key is not None:
                                on_change(key)
            except (RedisError, OSError) as e:
                log.warning("Redis notifications lost (%s); reconnecting in %.1f s", e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    @property
    def breaker_state(self) -> BreakerState:
        return self._breaker.state

    @property
    def calls(self) -> int:
        """Calls that reached the tier (not refused by the breaker or the lookup's wait budget)."""
        return self._breaker.tried

    async def _call(self, operation: Awaitable[T]) -> T:
        return await guarded_call(
            operation,
            tier="redis",
            label="Redis",
            wait=self._timeout,
            breaker=self._breaker,
            timeouts=(RedisTimeoutError, TimeoutError),
            failures=(RedisError, OSError),
        )
