"""The invalidation bus: what changed, told to every worker of every instance and to every live dashboard.

Events are small JSON objects, `{"type": "tenant.updated", "tenant": id, "version": n, "seq": s, "at": t}`,
numbered by one counter per bus (`seq`), so a client that reconnects can ask for what it missed, and stamped
with the publisher's wall-clock time (`at`, Unix seconds; absent from events of older versions), so each worker
can tell how long one took to reach it. With Redis they travel
on pub/sub (`{prefix}events`), numbered by `INCR` and kept in a short sorted-set log for replays; without
Redis an in-process bus does the same for the one worker. Pub/sub can drop messages: a worker whose
connection dropped is told (`on_reconnect`) and must forget what it holds in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from tenantedge.clock import Clock, SystemClock
from tenantedge.errors import BackendError

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("tenantedge.events")

TENANT_UPDATED = "tenant.updated"
TENANT_DELETED = "tenant.deleted"
PAGE_PUBLISHED = "page.published"
DRAFT_SAVED = "draft.saved"
# A tenant's blog post changed (`path` is its slug): the pages that show posts are dropped.
POST_PUBLISHED = "post.published"
POST_UPDATED = "post.updated"
POST_DELETED = "post.deleted"
POST_EVENTS = (POST_PUBLISHED, POST_UPDATED, POST_DELETED)
# A tenant's asset library changed (`path` is the asset's id); nothing served changes until a document uses it.
ASSET_ADDED = "asset.added"
ASSET_DELETED = "asset.deleted"
ASSET_EVENTS = (ASSET_ADDED, ASSET_DELETED)
EVENT_TYPES = (TENANT_UPDATED, TENANT_DELETED, PAGE_PUBLISHED, DRAFT_SAVED, *POST_EVENTS, *ASSET_EVENTS)
# Events a replay can reach back to; older ones are gone and the client is told to reload instead.
REPLAY_LIMIT = 1_000

Listener = Callable[["Event"], None]


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    tenant: str
    version: int
    path: str | None = None  # the page, for page and draft events; the slug, for post events
    seq: int = 0
    published_at: float | None = None  # the publisher's wall clock (Unix seconds), stamped by the bus

    def to_json(self) -> bytes:
        body: dict[str, Any] = {"type": self.type, "tenant": self.tenant, "version": self.version, "seq": self.seq}
        if self.path is not None:
            body["path"] = self.path
        if self.published_at is not None:
            body["at"] = self.published_at
        return orjson.dumps(body)

    @classmethod
    def from_json(cls, data: bytes | str) -> Event:
        """Read an event; ValueError naming the field when it is not one."""
        raw = orjson.loads(data)
        if not isinstance(raw, dict):
            raise ValueError("event: expected a JSON object")
        kind, tenant, version, seq = raw.get("type"), raw.get("tenant"), raw.get("version"), raw.get("seq", 0)
        if kind not in EVENT_TYPES:
            raise ValueError(f"event.type: expected one of {EVENT_TYPES}, found {kind!r}")
        if not isinstance(tenant, str) or not isinstance(version, int) or not isinstance(seq, int):
            raise ValueError("event: expected 'tenant' (string), 'version' and 'seq' (integers)")
        path, at = raw.get("path"), raw.get("at")
        # `at` is optional (older publishers do not send it); a bool is not a time, though Python says it is an int.
        published_at = float(at) if isinstance(at, int | float) and not isinstance(at, bool) else None
        return cls(kind, tenant, version, path if isinstance(path, str) else None, seq, published_at)


class EventBus(Protocol):
    """Publishes events to every subscriber of every worker that shares the bus."""

    # True when other workers and machines hear what this one publishes (Redis); False for one worker alone.
    shared: bool

    @property
    def reconnects(self) -> int:
        """Times the connection to the other workers was lost and made again (0 for a bus that has none)."""
        ...

    async def publish(self, event: Event) -> Event:
        """Send an event; returns it numbered and stamped with the time. BackendError when it could not be sent."""
        ...

    def subscribe(self, listener: Listener, on_reconnect: Callable[[], None] | None = None) -> Callable[[], None]:
        """Call `listener` for every event (in this worker's event loop); returns the unsubscribe function."""
        ...

    async def since(self, seq: int) -> list[Event] | None:
        """Events after `seq`, oldest first; None when some of them are no longer kept (the client must reload)."""
        ...

    async def last_seq(self) -> int: ...

    async def run(self) -> None:
        """Receive events until cancelled (reconnecting as needed)."""
        ...

    async def close(self) -> None: ...


class _Subscribers:
    """The listeners of one worker; a listener that raises is logged and kept."""

    def __init__(self) -> None:
        self._listeners: list[tuple[Listener, Callable[[], None] | None]] = []

    def add(self, listener: Listener, on_reconnect: Callable[[], None] | None) -> Callable[[], None]:
        entry = (listener, on_reconnect)
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry) if entry in self._listeners else None

    def deliver(self, event: Event) -> None:
        for listener, _ in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %s", event)

    def reconnected(self) -> None:
        for _, on_reconnect in list(self._listeners):
            if on_reconnect is not None:
                on_reconnect()


class LocalBus:
    """The bus of one worker, when Redis is not configured (other workers learn of changes by the file watch)."""

    shared = False
    reconnects = 0

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._seq = 0
        self._log: deque[Event] = deque(maxlen=REPLAY_LIMIT)
        self._subscribers = _Subscribers()

    async def publish(self, event: Event) -> Event:
        self._seq += 1
        numbered = replace(event, seq=self._seq, published_at=self._clock.wall())
        self._log.append(numbered)
        self._subscribers.deliver(numbered)
        return numbered

    def subscribe(self, listener: Listener, on_reconnect: Callable[[], None] | None = None) -> Callable[[], None]:
        return self._subscribers.add(listener, on_reconnect)

    async def since(self, seq: int) -> list[Event] | None:
        return _replay(list(self._log), seq, self._seq)

    async def last_seq(self) -> int:
        return self._seq

    async def run(self) -> None:
        await asyncio.Event().wait()  # nothing to receive: events are delivered as they are published

    async def close(self) -> None:
        return None


class RedisBus:
    """Pub/sub on `{prefix}events`, numbered by `{prefix}events:seq`, the last events kept in `{prefix}events:log`."""

    shared = True

    def __init__(self, url: str, *, prefix: str = "te:", timeout: float = 1.0, clock: Clock | None = None) -> None:
        from redis.asyncio import Redis

        self._client: Redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        # The subscriber waits for messages indefinitely: no read timeout, but health checks find a dead link.
        self._listen: Redis = Redis.from_url(
            url, socket_connect_timeout=timeout, health_check_interval=5, client_name=f"tenantedge:{prefix}events"
        )
        self.channel = f"{prefix}events"
        self._seq_key = f"{prefix}events:seq"
        self._log_key = f"{prefix}events:log"
        self._timeout = timeout
        self._clock = clock or SystemClock()
        self._subscribers = _Subscribers()
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def publish(self, event: Event) -> Event:
        from redis.exceptions import RedisError

        try:
            seq = int(await asyncio.wait_for(self._client.incr(self._seq_key), self._timeout))
            numbered = replace(event, seq=seq, published_at=self._clock.wall())
            data = numbered.to_json()
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zadd(self._log_key, {data: seq})
                pipe.zremrangebyrank(self._log_key, 0, -REPLAY_LIMIT - 1)
                pipe.publish(self.channel, data)
                await asyncio.wait_for(pipe.execute(), self._timeout)
        except (RedisError, OSError, TimeoutError) as e:
            raise BackendError(f"redis events: {type(e).__name__}: {e}") from e
        return numbered

    def subscribe(self, listener: Listener, on_reconnect: Callable[[], None] | None = None) -> Callable[[], None]:
        return self._subscribers.add(listener, on_reconnect)

    async def since(self, seq: int) -> list[Event] | None:
        from redis.exceptions import RedisError

        try:
            # One round trip, and one snapshot: MULTI/EXEC, so no event lands between the three reads.
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zrangebyscore(self._log_key, seq + 1, "+inf")
                pipe.zrange(self._log_key, 0, 0, withscores=True)
                pipe.get(self._seq_key)
                raw, oldest, counter = await asyncio.wait_for(pipe.execute(), self._timeout)
        except (RedisError, OSError, TimeoutError) as e:
            raise BackendError(f"redis events: {type(e).__name__}: {e}") from e
        last = int(counter or 0)
        events = [Event.from_json(item) for item in raw if isinstance(item, bytes | str)]
        if oldest and int(oldest[0][1]) > seq + 1:
            return None
        return _replay(events, seq, last)

    async def last_seq(self) -> int:
        from redis.exceptions import RedisError

        try:
            return int(await asyncio.wait_for(self._client.get(self._seq_key), self._timeout) or 0)
        except (RedisError, OSError, TimeoutError) as e:
            raise BackendError(f"redis events: {type(e).__name__}: {e}") from e

    async def run(self) -> None:
        """Listen forever; after every (re)connection but the first, subscribers forget what they hold."""
        from redis.exceptions import RedisError

        backoff, first = 0.05, True
        while True:
            try:
                async with self._listen.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.connected.set()
                    if not first:
                        self.reconnects += 1
                        log.info("event bus reconnected: dropping what this worker held in memory")
                        self._subscribers.reconnected()
                    first, backoff = False, 0.05
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._receive(message["data"])
            except (RedisError, OSError) as e:
                self.connected.clear()
                log.warning("event bus connection lost (%s); reconnecting in %.2f s", e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _receive(self, data: bytes) -> None:
        try:
            event = Event.from_json(data)
        except ValueError as e:
            log.warning("ignored a malformed message on %s: %s", self.channel, e)
            return
        self._subscribers.deliver(event)

    async def close(self) -> None:
        for client in (self._client, self._listen):
            with contextlib.suppress(Exception):
                await client.aclose()


def _replay(events: list[Event], seq: int, last: int) -> list[Event] | None:
    if seq > last:
        return None  # the client counts from another bus (Redis was emptied): it must start over
    missed = [event for event in events if event.seq > seq]
    # A gap before what is kept: events were dropped. None kept past `seq` while the counter is ahead is no loss:
    # a publish numbered and not yet sent (Redis: INCR, then the log and the channel in one transaction) reaches
    # the client live, as it subscribed before asking.
    if missed and missed[0].seq != seq + 1:
        return None
    return missed
