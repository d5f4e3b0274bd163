"""How many messages one address sent one tenant this hour: in Redis when configured (every worker and instance
shares the count), else in this process. Counts are kept by the keyed hash of the address, never the address."""

from __future__ import annotations

import logging
import math
from typing import Protocol

log = logging.getLogger("tenantedge.plugins.contact-form")

WINDOW = 3600
# Counters one process keeps at most per window; past it, new addresses share one count (a spray cannot grow memory).
_MAX_KEYS = 10_000
_SHARED = "*"


class RateLimit(Protocol):
    async def hit(self, key: str, limit: int, now: float) -> int | None:
        """Count one attempt; None when within `limit` this window, else the seconds until the window ends."""
        ...


class MemoryRateLimit:
    """Fixed one-hour windows, counted in this process."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, key: str, limit: int, now: float) -> int | None:
        window = int(now // WINDOW)
        if window != self._window:
            self._window, self._counts = window, {}
        if key not in self._counts and len(self._counts) >= _MAX_KEYS:
            key = _SHARED
        count = self._counts[key] = self._counts.get(key, 0) + 1
        return None if count <= limit else _remaining(now)


class RedisRateLimit:
    """Fixed one-hour windows in Redis (`<prefix>contact-form:rate:<key>:<window>`); while Redis cannot answer, counted
    in this process instead, so an outage neither refuses every message nor lets a flood through."""

    # Short: the whole answer, Redis and PostgreSQL included, must fit the hook budget (TENANTEDGE_PLUGIN_TIMEOUT).
    def __init__(self, url: str, prefix: str, fallback: MemoryRateLimit, timeout: float = 0.2) -> None:
        self._url = url
        self._prefix = prefix
        self._fallback = fallback
        self._timeout = timeout

    async def hit(self, key: str, limit: int, now: float) -> int | None:
        # Imported here: a worker without Redis does not load redis-py (tens of MB).
        import redis.asyncio as redis
        from redis.exceptions import RedisError

        window = int(now // WINDOW)
        name = f"{self._prefix}contact-form:rate:{key}:{window}"
        try:
            # One connection per submission: contact forms are rare, and a client outlives no event loop.
            async with (
                redis.from_url(self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout) as r,
                r.pipeline(transaction=True) as pipe,
            ):
                pipe.incr(name)
                pipe.expire(name, WINDOW + 60)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as e:
            log.warning("contact-form: rate limit counted in this process, Redis did not answer: %s", e)
            return await self._fallback.hit(key, limit, now)
        return None if int(count) <= limit else _remaining(now)


def _remaining(now: float) -> int:
    return max(1, math.ceil((int(now // WINDOW) + 1) * WINDOW - now))
