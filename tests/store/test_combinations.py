"""The whole app on each combination of tiers: file only, file + Redis, S3 + Redis, S3 alone."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from tenantedge.app import create_app
from tenantedge.settings import Settings
from tenantedge.store.files import FileStore
from tenantedge.store.publish import tenant_documents
from tenantedge.store.tiered import TieredStore
from tenantedge.tenants import parse_document
from tests.http.conftest import OPS_PORT, ROOT, connect
from tests.services import BUCKET, SeaweedS3, free_port, publish_demo
from tests.store.conftest import SHARED_REDIS

pytestmark = pytest.mark.anyio


def settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "tenants_file": ROOT / "tenants.json",
        "templates_dir": ROOT / "templates",
        "reload_interval": 0,
        "ops_port": OPS_PORT,
    }
    return Settings(**{**base, **overrides})


@pytest.mark.parametrize("tiers", ["file", "file+redis", "s3+redis", "s3"])
async def test_every_combination_serves_the_demo(tiers: str, seaweed: SeaweedS3, registry: Any) -> None:
    prefix = f"combo-{uuid.uuid4().hex[:10]}/"
    options: dict[str, Any] = {}
    if "redis" in tiers:
        options |= {"redis_url": SHARED_REDIS, "redis_prefix": f"te:{prefix}"}
    if "s3" in tiers:
        await publish_demo(seaweed.endpoint, prefix, registry)
        options |= {
            "s3_endpoint": seaweed.endpoint,
            "s3_bucket": BUCKET,
            "s3_prefix": prefix,
            "tenants_file": Path("/nonexistent"),
        }
    app = create_app(settings(**options))
    assert isinstance(app._lookup._store, FileStore if tiers == "file" else TieredStore)
    async with connect(app) as client, connect(app, port=OPS_PORT) as ops:
        for host, marker in [("codersinflow.com", "te-hero--terminal"), ("studio.darkflows.com", "te-hero--split")]:
            response = await client.get(host)
            assert response.status_code == 200 and marker in response.text, (tiers, host)
        alias = await client.get("codersinflow.net", "/about")
        assert alias.status_code == 301 and alias.headers["location"] == "http://codersinflow.com/about"
        assert (await client.get("nobody.example")).status_code == 404
        ready = (await ops.get("any", "/_edge/ready")).json()
    assert ready["status"] == "ready"
    expected = {
        "file": {"file"},
        "file+redis": {"l1", "redis", "file"},
        "s3+redis": {"l1", "redis", "s3"},
        "s3": {"l1", "s3"},
    }
    assert set(ready["tiers"]) == expected[tiers]
    if isinstance(app._lookup._store, TieredStore):
        await app._lookup._store.close()


async def test_503_with_retry_after_when_no_tier_can_answer(tmp_path: Path) -> None:
    # An S3 endpoint where nothing listens, and no Redis: a tenant found nowhere cannot be told apart from a
    # tenant that exists, so the answer is "try again", never a 404 or a 500.
    app = create_app(settings(s3_endpoint=f"http://127.0.0.1:{free_port()}", s3_bucket=BUCKET, s3_timeout=0.2))
    async with connect(app) as client, connect(app, port=OPS_PORT) as ops:
        response = await client.get("codersinflow.com")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5" and response.headers["cache-control"] == "no-store"
        ready = (await ops.get("any", "/_edge/ready")).json()
    assert ready["status"] == "degraded" and ready["tiers"]["s3"]["state"] == "down"
    assert ready["tiers"]["l1"]["state"] == "up"
    assert isinstance(app._lookup._store, TieredStore)
    await app._lookup._store.close()


async def test_ask_answers_from_memory_and_redis_not_the_origin(seaweed: SeaweedS3, registry: Any) -> None:
    prefix = f"ask-{uuid.uuid4().hex[:10]}/"
    await publish_demo(seaweed.endpoint, prefix, registry)
    options = {
        "s3_endpoint": seaweed.endpoint, "s3_bucket": BUCKET, "s3_prefix": prefix, "tenants_file": Path("/nonexistent"),
        "redis_url": SHARED_REDIS, "redis_prefix": f"te:{prefix}",
    }  # fmt: skip
    first, second = create_app(settings(**options)), create_app(settings(**options))
    stores = [app._lookup._store for app in (first, second)]
    assert isinstance(stores[0], TieredStore) and isinstance(stores[1], TieredStore)
    ask = "/_edge/ask?domain="
    try:
        async with connect(first) as public, connect(first, port=OPS_PORT) as ops:
            for host in ("codersinflow.com", "studio.darkflows.com"):  # fetched once, and written to Redis
                assert (await public.get(host)).status_code == 200
            origin_reads = stores[0].counts["origin"]
            for domain in ("codersinflow.com", "studio.darkflows.com"):
                assert (await ops.get("x", ask + domain)).status_code == 200
            assert stores[0].counts["origin"] == origin_reads  # the public requests' lookups, from memory
            assert (await ops.get("x", ask + "nobody.example")).status_code == 404
            reads = stores[0].counts["origin"]
            assert (await ops.get("x", ask + "nobody.example")).status_code == 404  # remembered as absent
            assert stores[0].counts["origin"] == reads and stores[0].counts["absent"] >= 1
        await stores[0].drain()
        async with connect(second, port=OPS_PORT) as ops:  # another worker, memory empty: Redis answers
            assert (await ops.get("x", ask + "codersinflow.com")).status_code == 200
            assert stores[1].counts["origin"] == 0 and stores[1].counts["l2"] >= 1
    finally:
        for store in stores:
            await store.close()


def test_tenant_documents_round_trip(registry: Any) -> None:
    demo = parse_document((ROOT / "tenants.json").read_bytes(), "tenants.json", registry, documents=True)
    documents = tenant_documents(demo.tenants["codersinflow"], demo.documents["codersinflow"])
    assert orjson.loads(documents[("domain", "codersinflow.net")])["rule"] == "alias"
    assert orjson.loads(documents[("tenant", "codersinflow")])["name"] == "Coders in Flow"
