"""Whether a publish reached every worker: each worker acknowledges the publishes it applied and says it is alive.

With Redis, every worker heartbeats into one sorted set (`{prefix}propagation:workers`: a member per worker, its
wall clock as the score; members silent for `live` seconds are pruned) and records each publish it applied in
the tenant's hash (`{prefix}propagation:tenant:{id}`: `version`, `published_at`, `expected` and a `worker:{id}`
field per worker with the time it applied it, kept a day). The first acknowledgement of a newer version starts
the hash afresh and fixes `expected`: the workers alive at the publish. So Redis holds one set as large as the
instance and one small hash per tenant published in the last day. Without Redis the one worker acknowledges
itself. Only publish events count (a tenant's document or a page), and only those stamped with a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Protocol

from tenantedge.clock import Clock
from tenantedge.errors import BackendError
from tenantedge.events import PAGE_PUBLISHED, TENANT_UPDATED, Event

log = logging.getLogger("tenantedge.telemetry")

PUBLISH_EVENTS = (TENANT_UPDATED, PAGE_PUBLISHED)
KEEP = 24 * 3600  # seconds a tenant's last publish is kept
_PENDING = 1_000  # acknowledgements held while Redis does not answer; the oldest go first

# KEYS: the workers' set, the tenant's hash. ARGV: worker, applied at, published at, version, live, keep.
_ACKNOWLEDGE = """
local version = tonumber(ARGV[4])
local held = tonumber(redis.call('HGET', KEYS[2], 'version') or '-1')
if version < held then return 0 end
if version > held then
  redis.call('DEL', KEYS[2])
  local alive = redis.call('ZCOUNT', KEYS[1], tonumber(ARGV[3]) - tonumber(ARGV[5]), '+inf')
  redis.call('HSET', KEYS[2], 'version', ARGV[4], 'published_at', ARGV[3], 'expected', math.max(alive, 1))
end
redis.call('HSETNX', KEYS[2], 'worker:' .. ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1
"""


@dataclass(frozen=True, slots=True)
class LastPublish:
    """A tenant's last publish: how many workers applied it of those expected, and when the last one did."""

    version: int
    published_at: float  # Unix seconds, the publisher's clock
    workers: int
    expected_workers: int
    propagation_seconds: float | None  # publish to the last expected worker applying it; None until all did

    @classmethod
    def of(cls, version: int, published_at: float, expected: int, applied: list[float]) -> LastPublish:
        seconds = None
        if applied and len(applied) >= expected:
            seconds = round(max(0.0, max(applied) - published_at), 6)  # clocks may disagree: never below 0
        return cls(version, published_at, len(applied), expected, seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "published_at": self.published_at,
            "workers": self.workers,
            "expected_workers": self.expected_workers,
            "propagation_seconds": self.propagation_seconds,
        }


class Propagation(Protocol):
    """Where workers acknowledge the publishes they applied, and where the admin reads a tenant's last one."""

    def applied(self, event: Event) -> None:
        """A bus listener: this worker has applied `event` (anything but a timed publish is ignored)."""
        ...

    async def run(self) -> None:
        """Heartbeats and acknowledgements, sent in the background for as long as the worker lives."""
        ...

    async def last_publish(self, tenant: str) -> LastPublish | None:
        """The tenant's last publish kept; None when there is none. BackendError when it cannot be read."""
        ...

    async def close(self) -> None: ...


def _publish(event: Event) -> bool:
    return event.type in PUBLISH_EVENTS and event.published_at is not None


class LocalPropagation:
    """One worker alone (no Redis): it is every worker, and acknowledges each publish itself."""

    def __init__(self, clock: Clock, *, max_tenants: int = 10_000) -> None:
        self._clock = clock
        self._max_tenants = max_tenants
        self._last: OrderedDict[str, LastPublish] = OrderedDict()  # the least recently published first

    def applied(self, event: Event) -> None:
        if not _publish(event) or event.published_at is None:
            return
        held = self._last.get(event.tenant)
        if held is not None and held.version >= event.version:
            return  # heard again (the file watch), or an older publish arriving late
        self._last.pop(event.tenant, None)
        self._last[event.tenant] = LastPublish.of(event.version, event.published_at, 1, [self._clock.wall()])
        if len(self._last) > self._max_tenants:
            self._last.popitem(last=False)

    async def run(self) -> None:
        return None

    async def last_publish(self, tenant: str) -> LastPublish | None:
        return self._last.get(tenant)

    async def close(self) -> None:
        return None


class RedisPropagation:
    """Every worker of every instance sharing the Redis prefix: heartbeats and acknowledgements in Redis."""

    def __init__(
        self,
        url: str,
        clock: Clock,
        *,
        prefix: str = "te:",
        timeout: float = 1.0,
        worker: str | None = None,
        heartbeat: float = 5.0,
        live: float = 15.0,
    ) -> None:
        # Imported here: a worker with no Redis does not load redis-py.
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._failures: tuple[type[Exception], ...] = (RedisError, OSError, TimeoutError)
        self._acknowledge = self._client.register_script(_ACKNOWLEDGE)
        self._clock = clock
        self._workers_key = f"{prefix}propagation:workers"
        self._prefix = f"{prefix}propagation:tenant:"
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self._heartbeat = heartbeat
        self._live = live
        self._pending: deque[tuple[Event, float]] = deque(maxlen=_PENDING)
        self._wake = asyncio.Event()

    def applied(self, event: Event) -> None:
        if _publish(event):
            self._pending.append((event, self._clock.wall()))
            self._wake.set()

    async def beat(self) -> None:
        """Say this worker is alive, and forget the workers that stopped saying it."""
        now = self._clock.wall()
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.zadd(self._workers_key, {self.worker: now})
                pipe.zremrangebyscore(self._workers_key, "-inf", now - self._live)
                pipe.expire(self._workers_key, round(4 * self._live))
                await pipe.execute()
        except self._failures as e:
            log.warning("worker heartbeat not sent to Redis: %s", e)

    async def send(self) -> None:
        """Record the acknowledgements pending; kept for the next try when Redis does not answer."""
        if not self._pending:
            return
        pending, self._pending = self._pending, deque(maxlen=_PENDING)
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for event, at in pending:
                    keys = [self._workers_key, self._prefix + event.tenant]
                    args = (self.worker, repr(at), repr(event.published_at), event.version, self._live, KEEP)
                    await self._acknowledge(keys, args, client=pipe)
                await pipe.execute()
        except self._failures as e:
            log.warning("%d publish acknowledgements not sent to Redis: %s", len(pending), e)
            # Back in front of what came since, in order; past the bound the oldest go first.
            self._pending = deque([*pending, *self._pending], maxlen=_PENDING)

    def pending(self) -> int:
        """Acknowledgements not yet in Redis."""
        return len(self._pending)

    async def run(self) -> None:
        # The first beat comes before any acknowledgement: a publish always expects this worker.
        due = self._clock.now()
        while True:
            if self._clock.now() >= due:
                await self.beat()
                due = self._clock.now() + self._heartbeat
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, due - self._clock.now()))
            self._wake.clear()
            await self.send()

    async def last_publish(self, tenant: str) -> LastPublish | None:
        try:
            raw = await self._client.hgetall(self._prefix + tenant)
        except self._failures as e:
            raise BackendError(f"redis publish acknowledgements: {type(e).__name__}: {e}") from e
        if not raw:
            return None
        fields = {_text(key): _text(value) for key, value in raw.items()}
        try:
            applied = [float(value) for key, value in fields.items() if key.startswith("worker:")]
            version, published_at = int(fields["version"]), float(fields["published_at"])
            return LastPublish.of(version, published_at, int(fields["expected"]), applied)
        except (KeyError, ValueError):
            return None  # not one this code wrote: as good as none

    async def close(self) -> None:
        """Leave the workers' set (a publish from now on does not expect this worker), and disconnect."""
        with contextlib.suppress(*self._failures):
            await self.send()
            await self._client.zrem(self._workers_key, self.worker)
        await self._client.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
