"""Publish acknowledgements: each worker's in a real Redis (or the one worker's own), and the last publish read back."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tenantedge.clock import ManualClock
from tenantedge.errors import BackendError
from tenantedge.events import DRAFT_SAVED, PAGE_PUBLISHED, POST_UPDATED, TENANT_UPDATED, Event
from tenantedge.telemetry.propagation import LastPublish, LocalPropagation, RedisPropagation

pytestmark = pytest.mark.anyio
REDIS = "redis://127.0.0.1:6379/0"
T0 = 1_764_000_000.0


def published(version: int, at: float = T0, kind: str = TENANT_UPDATED) -> Event:
    return Event(kind, "acme", version, None, version, at)


@pytest.fixture
async def workers() -> AsyncIterator[tuple[ManualClock, list[RedisPropagation]]]:
    prefix = f"te-test-{secrets.token_hex(4)}:"
    clock = ManualClock(T0)
    found = [RedisPropagation(REDIS, clock, prefix=prefix, worker=f"w{n}") for n in range(3)]
    yield clock, found
    client = aioredis.Redis.from_url(REDIS)
    await client.delete(f"{prefix}propagation:workers", f"{prefix}propagation:tenant:acme")
    await client.aclose()
    for worker in found:
        await worker.close()


async def test_a_publish_is_done_once_every_live_worker_applied_it(
    workers: tuple[ManualClock, list[RedisPropagation]],
) -> None:
    clock, (one, two, three) = workers
    for worker in (one, two):
        await worker.beat()
    clock.advance(0.010)
    one.applied(published(4))
    await one.send()
    assert await two.last_publish("acme") == LastPublish(4, T0, 1, 2, None)  # one of the two alive
    clock.advance(0.015)
    two.applied(published(4))
    two.applied(published(4))  # heard again: the first time counts
    await two.send()
    assert await three.last_publish("acme") == LastPublish(4, T0, 2, 2, 0.025)
    assert (await three.last_publish("acme") or LastPublish(0, 0, 0, 0, None)).to_json() == {
        "version": 4, "published_at": T0, "workers": 2, "expected_workers": 2, "propagation_seconds": 0.025,
    }  # fmt: skip


async def test_a_newer_publish_starts_afresh_and_a_late_older_one_is_ignored(
    workers: tuple[ManualClock, list[RedisPropagation]],
) -> None:
    clock, (one, two, _) = workers
    await one.beat()
    one.applied(published(4))
    await one.send()
    clock.advance(20)  # `two` starts after the old worker `one` fell silent for longer than `live`
    await two.beat()
    two.applied(published(5, at=clock.wall(), kind=PAGE_PUBLISHED))
    two.applied(published(3))
    await two.send()
    assert await one.last_publish("acme") == LastPublish(5, T0 + 20, 1, 1, 0.0)


async def test_workers_that_stop_leave_the_expected_count(workers: tuple[ManualClock, list[RedisPropagation]]) -> None:
    _, (one, two, three) = workers
    for worker in (one, two, three):
        await worker.beat()
    await three.close()
    one.applied(published(7))
    await one.send()
    assert await one.last_publish("acme") == LastPublish(7, T0, 1, 2, None)


@pytest.mark.parametrize(
    "event",
    [
        Event(TENANT_UPDATED, "acme", 2),  # from a publisher of an older version: no time
        Event(DRAFT_SAVED, "acme", 2, "/", 1, T0),
        Event(POST_UPDATED, "acme", 2, "hello", 1, T0),
    ],
    ids=["untimed", "draft", "post"],
)
async def test_only_timed_publishes_are_acknowledged(event: Event) -> None:
    local = LocalPropagation(ManualClock(T0))
    local.applied(event)
    assert await local.last_publish("acme") is None


async def test_one_worker_alone_acknowledges_itself_and_keeps_a_bounded_number_of_tenants() -> None:
    clock = ManualClock(T0 + 0.002)
    local = LocalPropagation(clock, max_tenants=2)
    local.applied(published(3, at=T0 + 0.005))  # a publisher clock ahead of this one: 0, not negative
    assert await local.last_publish("acme") == LastPublish(3, T0 + 0.005, 1, 1, 0.0)
    for tenant in ("b", "c"):
        local.applied(Event(TENANT_UPDATED, tenant, 1, None, 1, T0))
    assert await local.last_publish("acme") is None and await local.last_publish("c") is not None


async def test_acknowledgements_wait_while_redis_is_away_and_reading_it_is_a_backend_error() -> None:
    away = RedisPropagation("redis://127.0.0.1:1/0", ManualClock(T0), timeout=0.2)
    away.applied(published(1))
    await away.send()  # logged, kept
    assert away.pending() == 1
    with pytest.raises(BackendError, match="redis publish acknowledgements"):
        await away.last_publish("acme")
    await away.close()
