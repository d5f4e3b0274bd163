"""The tenant store's families in /_edge/metrics of the real app on real tiers: read durations per tier, each
tier's breaker, and responses served from a stale copy counted as the `stale` cache outcome."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tenantedge.app import create_app
from tenantedge.clock import ManualClock
from tenantedge.http.edge import EdgeApp
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tests.conftest import ROOT, running
from tests.http.conftest import OPS_PORT, EdgeClient, connect
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, PrivateRedis, SeaweedS3, publish_demo

pytestmark = pytest.mark.anyio
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
READS = "tenantedge_store_read_duration_seconds"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)


async def app_on(endpoint: str, registry: SectionRegistry, clock: ManualClock, **settings: Any) -> EdgeApp:
    """The app, counting requests, on the demo tenants published to the S3 at `endpoint` under a prefix of its own."""
    prefix = f"metrics-{uuid.uuid4().hex[:10]}/"
    await publish_demo(endpoint, prefix, registry)
    return create_app(
        Settings(
            templates_dir=ROOT / "templates",
            s3_endpoint=endpoint,
            s3_bucket=BUCKET,
            s3_prefix=prefix,
            s3_timeout=0.3,
            ops_port=OPS_PORT,
            metrics=True,
            **settings,
        ),
        clock,
    )


async def scrape(ops: EdgeClient) -> Samples:
    text = (await ops.get("any.host", "/_edge/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_origin_reads_timed_outs_included_its_breaker_and_stale_responses(
    tmp_path: Path, registry: SectionRegistry
) -> None:
    private = SeaweedS3(tmp_path)
    clock = ManualClock()
    try:
        app = await app_on(private.endpoint, registry, clock)
        async with running(app), connect(app) as client, connect(app, port=OPS_PORT) as ops:
            assert (await client.get("codersinflow.com", "/")).status_code == 200
            fresh = await scrape(ops)
            # The domain and the tenant, read from S3 (no Redis here).
            assert fresh[(f"{READS}_count", (("tier", "origin"),))] == 2
            assert fresh[("tenantedge_store_breaker_open", (("tier", "origin"),))] == 0
            assert fresh[("tenantedge_http_requests_total", (("cache", "miss"), ("status", "2xx")))] == 1

            clock.advance(61)  # past the memory's TTL
            private.pause()  # S3 hangs: the read times out, the breaker opens, the stale copy answers
            for path in ("/", "/", "/", "/about"):  # a cached page three times, then one rendered from the copy
                response = await client.get("codersinflow.com", path)
                assert response.status_code == 200 and "Coders in Flow" in response.text
            down = await scrape(ops)
    finally:
        private.stop()
    requests = "tenantedge_http_requests_total"
    assert down[(requests, (("cache", "stale"), ("status", "2xx")))] == 4, "every response from a stale copy"
    assert down[(requests, (("cache", "miss"), ("status", "2xx")))] == 1
    assert down[("tenantedge_store_breaker_open", (("tier", "origin"),))] == 1
    # One read hung until its timeout and is counted with its time; the refused ones never reached S3.
    assert down[(f"{READS}_count", (("tier", "origin"),))] == 3
    assert down[(f"{READS}_bucket", (("le", "0.5"), ("tier", "origin")))] <= 2
    assert down[(f"{READS}_sum", (("tier", "origin"),))] >= 0.5
    assert down[("tenantedge_store_reads_stale_total", ())] >= 6


async def test_redis_reads_are_timed_and_its_open_breaker_shows(seaweed: SeaweedS3, registry: SectionRegistry) -> None:
    redis = PrivateRedis()
    clock = ManualClock()
    try:
        app = await app_on(seaweed.endpoint, registry, clock, redis_url=redis.url, redis_timeout=0.3)
        async with running(app), connect(app) as client, connect(app, port=OPS_PORT) as ops:
            assert (await client.get("codersinflow.com", "/")).status_code == 200
            before = await scrape(ops)
            assert before[(f"{READS}_count", (("tier", "redis"),))] == 2, "missed in Redis, then read from S3"
            assert before[(f"{READS}_count", (("tier", "origin"),))] == 2
            assert before[("tenantedge_store_breaker_open", (("tier", "redis"),))] == 0
            redis.stop()  # refused connections: three failures open the breaker
            for host in ("darkflows.com", "clientsite.com"):
                assert (await client.get(host, "/")).status_code == 200
            after = await scrape(ops)
    finally:
        redis.stop()
    assert after[("tenantedge_store_breaker_open", (("tier", "redis"),))] == 1
    assert after[("tenantedge_store_breaker_open", (("tier", "origin"),))] == 0
    # Four reads went Redis's way: the failed ones are timed, those the open breaker refused are not (write-backs
    # failing count towards opening it too, so how many of each varies).
    assert 2 < after[(f"{READS}_count", (("tier", "redis"),))] < 2 + 4
    assert after[(f"{READS}_count", (("tier", "origin"),))] == 2 + 4
