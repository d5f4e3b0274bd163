"""Faults while requests flow through a real server: S3 hangs, Redis is killed and restarted. No 5xx for
tenants already known, and the server recovers with no restart."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tenantedge.sections import SectionRegistry
from tests.server import Server, Traffic
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, PrivateRedis, SeaweedS3, publish_demo

HOSTS = ["codersinflow.com", "darkflows.com", "clientsite.com", "basicsite.com"]


@pytest.fixture
def stack(tmp_path: Path, registry: SectionRegistry) -> Iterator[tuple[Server, SeaweedS3, PrivateRedis]]:
    s3, redis = SeaweedS3(tmp_path / "s3"), PrivateRedis()
    prefix = f"faults-{uuid.uuid4().hex[:8]}/"
    asyncio.run(publish_demo(s3.endpoint, prefix, registry))
    env = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "TENANTEDGE_S3_ENDPOINT": s3.endpoint, "TENANTEDGE_S3_BUCKET": BUCKET, "TENANTEDGE_S3_PREFIX": prefix,
        "TENANTEDGE_REDIS_URL": redis.url, "TENANTEDGE_L1_TTL": "1", "TENANTEDGE_S3_TIMEOUT": "0.3",
        "TENANTEDGE_REDIS_TIMEOUT": "0.2", "TENANTEDGE_PAGE_CACHE_ENTRIES": "0",
    }  # fmt: skip
    server = Server(env=env)
    yield server, s3, redis
    server.stop()
    s3.stop()
    redis.stop()


def test_no_5xx_while_s3_hangs_and_redis_dies(stack: tuple[Server, SeaweedS3, PrivateRedis]) -> None:
    server, s3, redis = stack
    for host in HOSTS:  # known tenants: in memory and in Redis
        assert server.get(host).status_code == 200
    traffic = Traffic(server.url, [(host, "/") for host in HOSTS])
    time.sleep(1)
    s3.pause()  # S3 hangs: L1 expires every second, Redis still answers
    time.sleep(2.5)
    redis.stop()  # and now Redis refuses too: stale copies in memory keep serving
    time.sleep(2.5)
    assert server.get("never-seen.example").status_code == 503, "unknown and unverifiable: try again later"
    redis.start()
    s3.resume()
    time.sleep(3)  # breakers close again: recovery needs no restart
    statuses = traffic.stop()
    assert statuses[200] > 50, statuses
    assert not [code for code in statuses if code >= 500], statuses
    assert server.get("codersinflow.com").status_code == 200
    ready = httpx.get(server.ops_url + "/_edge/ready", timeout=10).json()
    assert ready["status"] == "ready", ready
