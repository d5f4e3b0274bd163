"""Request ids and per-tenant labels, in-process: what a request counts and echoes."""

from __future__ import annotations

import ipaddress

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.http.conftest import OPS_PORT, build_app, connect

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("peer", "kept"), [("10.1.2.3", True), ("203.0.113.9", False)], ids=["trusted-proxy", "anyone-else"]
)
async def test_a_request_id_is_believed_from_a_trusted_proxy_only(peer: str, kept: bool) -> None:
    app = build_app(metrics=True, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    async with connect(app, peer) as client:
        for path in ("/", "/_edge/health", "/nope"):  # a cached page, an endpoint, a 404
            response = await client.get("codersinflow.com", path, headers={"x-request-id": "edge-7"})
            assert (response.headers["x-request-id"] == "edge-7") is kept, path


async def test_made_up_ids_differ_per_request() -> None:
    async with connect(build_app(metrics=True)) as client:
        ids = {(await client.get("codersinflow.com", "/")).headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


async def test_only_the_top_tenants_get_a_label_and_the_rest_add_up_as_other() -> None:
    app = build_app(metrics=True, metrics_top_tenants=1)
    async with connect(app) as client, connect(app, port=OPS_PORT) as ops:
        for _ in range(5):
            await client.get("codersinflow.com", "/")
        await client.get("darkflows.com", "/")
        text = (await ops.get("any.host", "/_edge/metrics")).text
    requests = {
        sample.labels["tenant"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "tenantedge_tenant_requests"
        for sample in family.samples
    }
    assert requests == {"codersinflow": 5, "other": 1}
