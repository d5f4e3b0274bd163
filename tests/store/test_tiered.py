"""The tiered store against real Redis and a real SeaweedFS: read path, single flight, misses, staleness, faults."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from tenantedge.clock import ManualClock
from tenantedge.errors import StoreUnavailable
from tenantedge.hosts import MATCH_ALIAS, MATCH_EXACT, MATCH_WILDCARD
from tenantedge.sections import SectionRegistry
from tenantedge.store.breaker import BreakerState
from tenantedge.store.layout import DOMAIN, TENANT
from tenantedge.store.publish import tenant_documents
from tenantedge.store.redis import RedisTier
from tenantedge.store.s3 import S3Tier
from tenantedge.store.tiered import DocumentTier, TieredStore, TierSettings
from tenantedge.tenants import parse_tenant
from tests.services import BUCKET, PrivateRedis, SeaweedS3
from tests.store.conftest import SHARED_REDIS

pytestmark = pytest.mark.anyio
SETTINGS = TierSettings(ttl=30, negative_ttl=5, stale_if_error=600)


def acme(version: int = 1, name: str = "Acme") -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "domains": ["acme.example", "*.acme.example"],
        "aliases": ["acme.test"],
        "pages": {"/": [{"type": "Hero", "props": {"title": name}}]},
    }


async def publish(tier: DocumentTier, registry: SectionRegistry, tenant_id: str, doc: dict[str, Any]) -> None:
    tenant = parse_tenant(tenant_id, doc, registry)
    for key, data in tenant_documents(tenant, orjson.dumps(doc)).items():
        await tier.put(key, data)


async def publish_slowly(private: SeaweedS3, prefix: str, registry: SectionRegistry) -> None:
    """Publish acme with time to spare: a SeaweedFS just started can take longer than a test's short timeout."""
    tier = S3Tier(private.endpoint, BUCKET, ManualClock(), prefix=prefix, timeout=10)
    try:
        await publish(tier, registry, "acme", acme())
    finally:
        await tier.close()


class Counting:
    """Wraps a tier to count the reads that reach it."""

    def __init__(self, tier: DocumentTier) -> None:
        self.tier = tier
        self.name = tier.name
        self.gets: list[tuple[str, str]] = []

    @property
    def breaker_state(self) -> BreakerState:
        return self.tier.breaker_state

    async def get(self, key: tuple[str, str]) -> bytes | None:
        self.gets.append(key)
        return await self.tier.get(key)

    async def put(self, key: tuple[str, str], data: bytes, *, ttl: float | None = None) -> None:
        await self.tier.put(key, data, ttl=ttl)

    async def delete(self, key: tuple[str, str]) -> None:
        await self.tier.delete(key)

    async def probe(self) -> dict[str, Any]:
        return await self.tier.probe()

    async def close(self) -> None:
        await self.tier.close()


async def test_read_path_promotes_into_redis_and_memory(
    s3: S3Tier, redis_tier: RedisTier, registry: SectionRegistry, clock: ManualClock
) -> None:
    await publish(s3, registry, "acme", acme())
    origin, cache = Counting(s3), Counting(redis_tier)
    store = TieredStore(registry, origin, clock, cache=cache, settings=SETTINGS)
    assert store.peek("acme.example") is None
    found = await store.resolve("acme.example")
    assert found is not None and found[1].name == "Acme" and found[0].rule == MATCH_EXACT
    assert origin.gets == [(DOMAIN, "acme.example"), (TENANT, "acme")]
    await store.drain()  # promotions run off the request path
    assert await redis_tier.get((TENANT, "acme")) is not None, "the origin's copy is promoted into Redis"
    assert store.peek("acme.example") == found, "and into memory"
    fresh = TieredStore(registry, Counting(s3), clock, cache=redis_tier, settings=SETTINGS)
    assert (await fresh.resolve("acme.example")) is not None
    assert fresh.origin.gets == []  # type: ignore[attr-defined]


async def test_aliases_and_wildcards(s3: S3Tier, registry: SectionRegistry, clock: ManualClock) -> None:
    await publish(s3, registry, "acme", acme())
    store = TieredStore(registry, s3, clock, settings=SETTINGS)
    alias = await store.resolve("acme.test")
    assert alias is not None and alias[0].rule == MATCH_ALIAS and alias[0].canonical == "acme.example"
    wildcard = await store.resolve("shop.eu.acme.example")
    assert wildcard is not None and wildcard[0].rule == MATCH_WILDCARD and wildcard[0].pattern == "*.acme.example"
    assert store.peek("shop.eu.acme.example") == wildcard


async def test_single_flight(s3: S3Tier, redis_tier: RedisTier, registry: SectionRegistry, clock: ManualClock) -> None:
    await publish(s3, registry, "acme", acme())
    origin, cache = Counting(s3), Counting(redis_tier)
    store = TieredStore(registry, origin, clock, cache=cache, settings=SETTINGS)
    results = await asyncio.gather(*(store.resolve("acme.example") for _ in range(500)))
    assert all(result is not None and result[1].id == "acme" for result in results)
    assert sorted(cache.gets) == [(DOMAIN, "acme.example"), (TENANT, "acme")], "exactly one Redis GET per document"
    assert sorted(origin.gets) == [(DOMAIN, "acme.example"), (TENANT, "acme")], "at most one S3 GET per document"


async def test_unknown_hosts_cost_the_origin_once_and_memory_stays_bounded(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock
) -> None:
    origin = Counting(s3)
    store = TieredStore(registry, origin, clock, settings=TierSettings(l1_negative=50, negative_ttl=5))
    hosts = [f"h{random.getrandbits(40):x}.example" for _ in range(20)]
    for host in hosts:
        assert await store.resolve(host) is None
    first = len(origin.gets)
    assert first == 20 + 1, "each host once, and the '*.example' they share once"
    for host in hosts:
        assert await store.resolve(host) is None
    assert len(origin.gets) == first, "nothing new: misses are remembered"
    for number in range(200):
        await store.resolve(f"flood{number}.example")
    assert len(store._absent) <= 50


async def test_stale_copy_serves_while_the_origin_is_down(
    tmp_path: Any, registry: SectionRegistry, clock: ManualClock, prefix: str
) -> None:
    private = SeaweedS3(tmp_path)
    tier = S3Tier(private.endpoint, BUCKET, clock, prefix=prefix, timeout=0.3)
    try:
        await publish_slowly(private, prefix, registry)
        store = TieredStore(registry, tier, clock, settings=SETTINGS)
        assert await store.resolve("acme.example") is not None
        clock.advance(60)  # past the TTL
        private.pause()  # S3 hangs
        found = await asyncio.wait_for(store.resolve("acme.example"), timeout=20)
        assert found is not None and found[1].id == "acme", "stale but served"
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(store.resolve("never-seen.example"), timeout=20)
        clock.advance(SETTINGS.stale_if_error + 1)
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(store.resolve("acme.example"), timeout=20)
        private.resume()
        clock.advance(10)  # let the breaker try again
        assert await store.resolve("acme.example") is not None, "recovery needs no restart"
    finally:
        await tier.close()
        private.stop()


@pytest.fixture
async def origin_down(
    tmp_path: Path, registry: SectionRegistry, clock: ManualClock, prefix: str
) -> AsyncIterator[tuple[TieredStore, SeaweedS3]]:
    """A store holding acme past its TTL, and its S3 origin stopped (refused connections)."""
    private = SeaweedS3(tmp_path)
    tier = S3Tier(private.endpoint, BUCKET, clock, prefix=prefix, timeout=0.3)
    try:
        await publish_slowly(private, prefix, registry)
        store = TieredStore(registry, tier, clock, settings=SETTINGS)
        assert await store.resolve("acme.example") is not None
        clock.advance(SETTINGS.ttl + 1)
        private.stop()
        yield store, private
    finally:
        await tier.close()
        private.stop()


async def test_a_stale_serve_is_logged_once_per_outage_per_document(
    origin_down: tuple[TieredStore, SeaweedS3], clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    store, private = origin_down

    def logged() -> list[str]:
        return sorted(record.getMessage().split(":")[0] for record in caplog.records if "serving" in record.message)

    with caplog.at_level(logging.WARNING, logger="tenantedge.store"):
        for _ in range(5):
            assert await store.resolve("acme.example") is not None
        assert logged() == ["domain acme.example", "tenant acme"], "once per document, not once per request"
        private.start()
        # Fresh again: the outage is over once a read is not stale (a SeaweedFS just started may refuse a while).
        for _ in range(100):
            stale = store.counts["stale"]
            clock.advance(10)  # past the breaker's cooldown
            assert await store.resolve("acme.example") is not None
            if store.counts["stale"] == stale:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the origin never answered again after its restart")
        clock.advance(SETTINGS.ttl + 1)
        private.stop()  # the next outage is logged again
        caplog.clear()
        for _ in range(3):
            assert await store.resolve("acme.example") is not None
        assert logged() == ["domain acme.example", "tenant acme"]


async def test_stale_serves_are_counted(origin_down: tuple[TieredStore, SeaweedS3]) -> None:
    store, _ = origin_down
    for _ in range(3):
        assert await store.resolve("acme.example") is not None
    assert store.counts["stale"] == 6, "the domain and the tenant, three times each"
    assert store.metrics()["tenantedge_store_reads_stale_total"][2] == 6


async def test_redis_down_falls_back_to_s3_and_the_breaker_stops_hammering(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock, prefix: str
) -> None:
    private = PrivateRedis()
    redis_tier = RedisTier(private.url, clock, prefix=prefix, timeout=0.2)
    try:
        await publish(s3, registry, "acme", acme())
        await publish(s3, registry, "beta", {**acme(), "domains": ["beta.example"], "aliases": []})
        store = TieredStore(registry, s3, clock, cache=redis_tier, settings=SETTINGS)
        private.stop()  # refused connections
        for host in ("acme.example", "beta.example"):
            assert await asyncio.wait_for(store.resolve(host), timeout=20) is not None
        calls = redis_tier.calls
        store.clear()
        assert await store.resolve("acme.example") is not None
        assert redis_tier.calls == calls, "circuit open: Redis is not tried on every request"
        assert (await redis_tier.probe())["state"] == "down"
        private.start()
        clock.advance(10)
        store.clear()
        assert await store.resolve("acme.example") is not None
        assert (await redis_tier.probe())["state"] == "up", "recovery needs no restart"
    finally:
        await redis_tier.close()
        private.stop()


HUNG_REDIS_HOSTS = [
    "acme.example",  # exact
    "acme.test",  # alias
    "shop.acme.example",  # wildcard: the host, then *.acme.example
    "a.b.shop.acme.example",  # wildcard four domain documents down
    "beta.example",
    "nobody.example",  # no tenant: the host and *.example are both read and missing
]


async def test_a_hung_redis_costs_a_request_one_redis_timeout_at_most(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock, prefix: str
) -> None:
    timeout = 0.3
    private = PrivateRedis()
    store = TieredStore(registry, s3, clock, cache=RedisTier(private.url, clock, prefix=prefix, timeout=timeout))

    async def request(host: str) -> float:
        started = time.monotonic()
        await store.page_key(host)  # what the edge awaits for a page not in memory, then the tenant itself
        await store.resolve(host)
        return time.monotonic() - started

    try:
        await publish(s3, registry, "acme", acme())
        await publish(s3, registry, "beta", {**acme(name="Beta"), "domains": ["beta.example"], "aliases": []})
        private.pause()  # Redis hangs: connections open, nothing answers
        for host in HUNG_REDIS_HOSTS:
            elapsed = await request(host)
            assert elapsed < timeout + 0.1, f"{host}: {elapsed:.2f} s"
            clock.advance(2)  # past the breaker's cooldown: the next request's first Redis call is a trial again
        store.clear()
        burst = await asyncio.gather(*(request(host) for host in HUNG_REDIS_HOSTS))
        assert max(burst) < timeout + 0.1, dict(zip(HUNG_REDIS_HOSTS, burst, strict=True))
    finally:
        private.resume()
        await store.close()
        private.stop()


async def test_promotions_into_redis_run_off_the_request_path(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    timeout = 0.3
    private = PrivateRedis()
    admin = aioredis.Redis.from_url(private.url)
    first = TieredStore(registry, s3, clock, cache=RedisTier(private.url, clock, prefix=prefix, timeout=timeout))
    second = TieredStore(registry, s3, clock, cache=RedisTier(private.url, clock, prefix=prefix, timeout=timeout))
    try:
        await publish(s3, registry, "acme", acme())
        await admin.client_pause(30_000, all=False)  # Redis answers reads and holds every write
        with caplog.at_level(logging.DEBUG, logger="tenantedge.store"):
            started = time.monotonic()
            assert await first.resolve("acme.example") is not None
            assert time.monotonic() - started < timeout, "the request did not wait for its writes"
            await first.drain()  # each write gives up after the Redis timeout, saying so at debug level
        assert any("could not fill redis" in record.message for record in caplog.records if record.levelno == 10)
        assert await second.resolve("acme.example") is not None
        assert second._write_backs, "still pending when the request is answered"
        started = time.monotonic()
        await second.close()
        assert not second._write_backs and time.monotonic() - started < timeout + 0.1, "close() lets them finish"
    finally:
        await admin.client_unpause()
        await admin.aclose()
        await first.close()
        await second.close()
        private.stop()


async def test_a_fill_racing_an_invalidation_keeps_nothing_old(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock
) -> None:
    await publish(s3, registry, "acme", acme(version=1))
    gate = asyncio.Event()

    class Slow(Counting):
        async def get(self, key: tuple[str, str]) -> bytes | None:
            data = await super().get(key)
            if key[0] == TENANT:
                await gate.wait()
            return data

    store = TieredStore(registry, Slow(s3), clock, settings=SETTINGS)
    pending = asyncio.ensure_future(store.get_tenant("acme"))
    await asyncio.sleep(0.05)
    store.invalidate("acme", version=2)  # version 2 was published meanwhile
    gate.set()
    assert (await pending) is not None
    assert store._tenants.entries.get("acme") is None, "the version-1 copy fetched before the invalidation is not kept"


async def test_a_bad_document_in_the_origin_is_named_and_does_not_replace_a_good_copy(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    await publish(s3, registry, "acme", acme())
    store = TieredStore(registry, s3, clock, settings=SETTINGS)
    assert await store.resolve("acme.example") is not None
    await s3.put((TENANT, "acme"), orjson.dumps({**acme(), "pages": {"/": [{"type": "Nope"}]}}))
    clock.advance(60)
    found = await store.resolve("acme.example")
    assert found is not None and found[1].name == "Acme", "the previous copy keeps serving"
    assert any("unknown section 'Nope'" in record.getMessage() for record in caplog.records)


async def test_ready_reports_each_tier(
    s3: S3Tier, redis_tier: RedisTier, registry: SectionRegistry, clock: ManualClock
) -> None:
    store = TieredStore(registry, s3, clock, cache=redis_tier, settings=SETTINGS)
    tiers = await store.probe()
    assert tiers["l1"]["state"] == "up" and tiers["redis"]["state"] == "up" and tiers["s3"]["state"] == "up"
    assert tiers["redis"]["breaker"] == tiers["s3"]["breaker"] == "closed", "the state's name, as JSON shows it"


async def test_shared_redis_key_layout(redis_tier: RedisTier, prefix: str) -> None:
    await redis_tier.put((TENANT, "acme"), b'{"version": 1}')
    client = aioredis.Redis.from_url(SHARED_REDIS)
    try:
        assert await client.get(f"te:{prefix}tenant:acme") == b'{"version": 1}'
        assert 0 < await client.pttl(f"te:{prefix}tenant:acme") <= 60_000
    finally:
        await client.aclose()


async def test_an_edit_made_in_s3_shows_once_the_redis_copy_expires(
    s3: S3Tier, redis_tier: RedisTier, registry: SectionRegistry, clock: ManualClock, prefix: str
) -> None:
    await publish(s3, registry, "acme", acme(name="Old"))
    store = TieredStore(registry, s3, clock, cache=redis_tier, settings=SETTINGS)
    assert (await store.resolve("acme.example"))[1].name == "Old"  # type: ignore[index]
    await store.drain()
    await publish(s3, registry, "acme", acme(version=2, name="New"))  # edited in S3 directly
    clock.advance(SETTINGS.ttl + 1)
    assert (await store.resolve("acme.example"))[1].name == "Old", "Redis's copy is trusted for its TTL"  # type: ignore[index]
    client = aioredis.Redis.from_url(SHARED_REDIS)
    try:
        await client.delete(f"te:{prefix}tenant:acme")  # as its TTL would
    finally:
        await client.aclose()
    clock.advance(SETTINGS.ttl + 1)
    assert (await store.resolve("acme.example"))[1].name == "New"  # type: ignore[index]
    await store.drain()
    assert orjson.loads(await redis_tier.get((TENANT, "acme")) or b"{}")["version"] == 2, "Redis refilled"


async def test_keyspace_notifications_make_redis_edits_show_at_once(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock, prefix: str
) -> None:
    private = PrivateRedis()
    admin = aioredis.Redis.from_url(private.url)
    cache = RedisTier(private.url, clock, prefix=prefix, ttl=60)
    seen: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    connected = asyncio.Event()
    try:
        await admin.config_set("notify-keyspace-events", "K$g")
        await publish(s3, registry, "acme", acme(name="Before"))
        store = TieredStore(registry, s3, clock, cache=cache, settings=SETTINGS)
        assert (await store.resolve("acme.example"))[1].name == "Before"  # type: ignore[index]
        await store.drain()

        def changed(key: tuple[str, str]) -> None:
            store.changed(key)
            seen.put_nowait(key)

        watcher = asyncio.ensure_future(cache.watch(changed, connected.set))
        await asyncio.wait_for(connected.wait(), timeout=10)
        edited = orjson.loads(await cache.get((TENANT, "acme")) or b"{}")
        edited["name"] = "After"
        await admin.set(f"{prefix}tenant:acme", orjson.dumps(edited), px=60_000)  # an operator edits Redis
        while await asyncio.wait_for(seen.get(), timeout=10) != (TENANT, "acme"):
            pass
        assert store.peek("acme.example") is None, "our copy is gone at once"
        assert (await store.resolve("acme.example"))[1].name == "After"  # type: ignore[index]

        connected.clear()
        private.restart()  # the connection drops: the watcher reconnects and clears what it may have missed
        await admin.aclose()
        admin = aioredis.Redis.from_url(private.url)
        await admin.config_set("notify-keyspace-events", "K$g")
        await asyncio.wait_for(connected.wait(), timeout=30)
        watcher.cancel()
    finally:
        await admin.aclose()
        await cache.close()
        private.stop()


async def test_without_notifications_the_watcher_says_so_and_returns(
    clock: ManualClock, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    private = PrivateRedis()
    cache = RedisTier(private.url, clock, prefix=prefix)
    try:
        with caplog.at_level(logging.INFO, logger="tenantedge.store"):
            await asyncio.wait_for(cache.watch(lambda key: None, lambda: None), timeout=10)
        assert any("keyspace notifications are off" in record.getMessage() for record in caplog.records)
    finally:
        await cache.close()
        private.stop()


async def test_a_tenant_pushed_out_of_memory_still_finds_its_cached_pages(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock
) -> None:
    await publish(s3, registry, "acme", acme())
    await publish(s3, registry, "beta", {**acme(name="Beta"), "domains": ["beta.example"], "aliases": []})
    store = TieredStore(registry, s3, clock, settings=TierSettings(l1_tenants=1, ttl=30))
    first = await store.resolve("acme.example")
    assert first is not None
    assert await store.resolve("beta.example") is not None  # pushes acme's document out of the tenant LRU
    assert store.peek("acme.example") is None
    known = store.peek_page("acme.example")
    assert known is not None and known[:2] == (first[0], first[1].digest), "the page key is still known"
    store.invalidate("acme", version=2)
    assert store.peek_page("acme.example") is None
    clock.advance(31)
    assert store.peek_page("beta.example") is None, "and it expires with the TTL like everything else"


async def test_an_unchanged_document_is_not_parsed_again_on_refresh(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock
) -> None:
    await publish(s3, registry, "acme", acme())
    store = TieredStore(registry, s3, clock, settings=SETTINGS)
    first = await store.get_tenant("acme")
    clock.advance(SETTINGS.ttl + 1)
    assert await store.get_tenant("acme") is first, "same bytes: the parsed tenant is kept"
    await publish(s3, registry, "acme", acme(version=2, name="Changed"))
    clock.advance(SETTINGS.ttl + 1)
    changed = await store.get_tenant("acme")
    assert changed is not first and changed is not None and changed.name == "Changed"


async def test_page_keys_are_renewed_without_parsing_unchanged_tenants(
    s3: S3Tier, registry: SectionRegistry, clock: ManualClock
) -> None:
    await publish(s3, registry, "acme", acme())
    await publish(s3, registry, "beta", {**acme(name="Beta"), "domains": ["beta.example"], "aliases": []})
    store = TieredStore(registry, s3, clock, settings=TierSettings(l1_tenants=1, ttl=30))
    first = await store.page_key("acme.example")
    assert first is not None
    await store.resolve("beta.example")  # acme's document leaves the one-tenant LRU
    clock.advance(31)
    assert store.peek_page("acme.example") is None
    renewed = await store.page_key("acme.example")
    assert renewed is not None and renewed[:2] == first[:2]
    assert store._tenants.entries.get("acme") is None, "unchanged bytes: renewed without loading the tenant"
    assert store.peek_page("acme.example") == renewed
    await publish(s3, registry, "acme", acme(version=2, name="Changed"))
    clock.advance(31)
    changed = await store.page_key("acme.example")
    assert changed is not None and changed[1] != first[1], "changed bytes: parsed, new digest"
    assert await store.page_key("nobody.example") is None
