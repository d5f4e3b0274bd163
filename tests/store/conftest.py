"""Real Redis (the shared one, with a key prefix per test) and a real SeaweedFS S3 for the whole session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tenantedge.clock import ManualClock
from tenantedge.store.redis import RedisTier
from tenantedge.store.s3 import S3Tier
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedS3

SHARED_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}/"


@pytest.fixture
async def s3(seaweed: SeaweedS3, clock: ManualClock, prefix: str) -> AsyncIterator[S3Tier]:
    tier = S3Tier(seaweed.endpoint, BUCKET, clock, prefix=prefix, timeout=1.0)
    yield tier
    await tier.close()


@pytest.fixture
async def redis_tier(clock: ManualClock, prefix: str) -> AsyncIterator[RedisTier]:
    redis_prefix = f"te:{prefix}"
    tier = RedisTier(SHARED_REDIS, clock, prefix=redis_prefix, ttl=60)
    yield tier
    await tier.close()
    client = aioredis.Redis.from_url(SHARED_REDIS)
    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
