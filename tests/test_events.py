"""The event bus: numbering, replay and reconnects, in process and on a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tenantedge.clock import ManualClock
from tenantedge.events import (
    PAGE_PUBLISHED,
    REPLAY_LIMIT,
    TENANT_DELETED,
    TENANT_UPDATED,
    Event,
    LocalBus,
    RedisBus,
)

REDIS = "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"[]", "expected a JSON object"),
        (b'{"type": "tenant.exploded", "tenant": "a", "version": 1}', "event.type"),
        (b'{"type": "tenant.updated", "tenant": 7, "version": 1}', "'tenant' (string)"),
        (b'{"type": "tenant.updated", "tenant": "a", "version": "1"}', "'version'"),
    ],
    ids=["not-an-object", "unknown-type", "tenant-not-string", "version-not-int"],
)
def test_malformed_events_are_refused_with_the_field_named(raw: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        Event.from_json(raw)


@pytest.mark.parametrize(
    "event",
    [Event(PAGE_PUBLISHED, "acme", 4, "/about", 12), Event(TENANT_UPDATED, "acme", 5, None, 13, 1_764_000_000.125)],
    ids=["untimed", "timed"],
)
def test_events_round_trip_through_json(event: Event) -> None:
    assert Event.from_json(event.to_json()) == event


@pytest.mark.parametrize(
    ("raw", "published_at"),
    [
        (b'{"type": "tenant.updated", "tenant": "a", "version": 1, "seq": 3}', None),
        (b'{"type": "tenant.updated", "tenant": "a", "version": 1, "seq": 3, "at": 1700000000}', 1_700_000_000.0),
        (b'{"type": "tenant.updated", "tenant": "a", "version": 1, "seq": 3, "at": "yesterday"}', None),
        (b'{"type": "tenant.updated", "tenant": "a", "version": 1, "seq": 3, "at": true}', None),
    ],
    ids=["older-publisher", "integer-time", "text-time", "boolean-time"],
)
def test_an_events_publish_time_is_optional(raw: bytes, published_at: float | None) -> None:
    event = Event.from_json(raw)
    assert (event.tenant, event.seq, event.published_at) == ("a", 3, published_at)


@pytest.mark.anyio
async def test_the_bus_stamps_each_event_with_the_publishers_wall_clock() -> None:
    clock = ManualClock(1_764_000_000.5)
    bus = LocalBus(clock)
    heard: list[Event] = []
    bus.subscribe(heard.append)
    sent = await bus.publish(Event(TENANT_UPDATED, "a", 2))
    assert sent.published_at == 1_764_000_000.5 and heard == [sent]


@pytest.mark.anyio
async def test_the_local_bus_numbers_delivers_and_replays() -> None:
    bus = LocalBus()
    heard: list[Event] = []
    unsubscribe = bus.subscribe(heard.append)
    first = await bus.publish(Event(TENANT_UPDATED, "a", 2))
    second = await bus.publish(Event(TENANT_DELETED, "b", 1))
    assert (first.seq, second.seq) == (1, 2) and heard == [first, second]
    assert await bus.since(0) == [first, second]
    assert await bus.since(1) == [second]
    assert await bus.since(2) == []
    assert await bus.since(5) is None  # a client ahead of the bus counts from another one: reload
    unsubscribe()
    await bus.publish(Event(TENANT_UPDATED, "a", 3))
    assert len(heard) == 2


@pytest.mark.anyio
async def test_the_local_bus_tells_a_client_that_fell_too_far_behind_to_reload() -> None:
    bus = LocalBus()
    for version in range(REPLAY_LIMIT + 5):
        await bus.publish(Event(TENANT_UPDATED, "a", version))
    assert await bus.since(0) is None
    replay = await bus.since(10)
    assert replay is not None and replay[0].seq == 11


@pytest.mark.anyio
async def test_a_listener_that_fails_does_not_stop_the_others() -> None:
    bus = LocalBus()
    heard: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    bus.subscribe(broken)
    bus.subscribe(heard.append)
    await bus.publish(Event(TENANT_UPDATED, "a", 1))
    assert len(heard) == 1


@pytest.fixture
async def redis_bus() -> AsyncIterator[RedisBus]:
    bus = RedisBus(REDIS, prefix=f"te:test-{uuid.uuid4().hex[:8]}:")
    yield bus
    client = aioredis.Redis.from_url(REDIS)
    await client.delete(bus.channel, f"{bus.channel}:seq", f"{bus.channel}:log")
    await client.aclose()
    await bus.close()


@pytest.mark.anyio
async def test_redis_bus_delivers_to_every_subscriber_and_replays(redis_bus: RedisBus) -> None:
    other = RedisBus(REDIS, prefix=redis_bus.channel.removesuffix("events"))
    heard: list[Event] = []
    heard_elsewhere: list[Event] = []
    redis_bus.subscribe(heard.append)
    other.subscribe(heard_elsewhere.append)
    tasks = [asyncio.create_task(redis_bus.run()), asyncio.create_task(other.run())]
    try:
        await asyncio.wait_for(redis_bus.connected.wait(), 5)
        await asyncio.wait_for(other.connected.wait(), 5)
        sent = [await redis_bus.publish(Event(TENANT_UPDATED, "a", version)) for version in (2, 3)]
        for _ in range(200):
            if len(heard) == 2 and len(heard_elsewhere) == 2:
                break
            await asyncio.sleep(0.01)
        assert heard == sent and heard_elsewhere == sent
        assert all(event.published_at is not None for event in heard_elsewhere)
        assert [event.seq for event in sent] == [1, 2]
        assert await other.since(0) == sent
        assert await other.since(1) == sent[1:]
        assert await other.last_seq() == 2
        # A publish numbered and not yet in the log (between its INCR and its transaction): nothing to reload.
        await other._client.incr(other._seq_key)
        assert await other.since(2) == [] and await other.since(0) == sent
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await other.close()


@pytest.mark.anyio
async def test_redis_bus_reconnects_after_its_connection_is_killed(redis_bus: RedisBus) -> None:
    heard: list[Event] = []
    reconnects: list[bool] = []
    redis_bus.subscribe(heard.append, lambda: reconnects.append(True))
    task = asyncio.create_task(redis_bus.run())
    client = aioredis.Redis.from_url(REDIS)
    try:
        await asyncio.wait_for(redis_bus.connected.wait(), 5)
        # Kill the bus's own connection (named after its channel; other tests share this Redis).
        ours = [info for info in await client.client_list() if info["name"] == f"tenantedge:{redis_bus.channel}"]
        assert len(ours) == 1
        await client.client_kill_filter(_id=ours[0]["id"])
        for _ in range(500):
            if reconnects:
                break
            await asyncio.sleep(0.01)
        assert reconnects == [True] and redis_bus.reconnects == 1
        await asyncio.wait_for(redis_bus.connected.wait(), 5)
        event = await redis_bus.publish(Event(TENANT_UPDATED, "a", 9))
        for _ in range(200):
            if heard:
                break
            await asyncio.sleep(0.01)
        assert heard == [event]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.aclose()


@pytest.mark.anyio
async def test_publishing_to_a_redis_that_is_not_there_is_a_backend_error() -> None:
    from tenantedge.errors import BackendError

    bus = RedisBus("redis://127.0.0.1:1/0", timeout=0.5)
    with pytest.raises(BackendError, match="redis events"):
        await bus.publish(Event(TENANT_UPDATED, "a", 1))
    await bus.close()
