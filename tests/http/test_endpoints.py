"""Operator endpoints answer on the operations listener (and, with a token, on the admin host), never on a
tenant's domain; `ask` says 200 exactly for the hosts the public listener would serve a site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from tenantedge.errors import StoreUnavailable
from tenantedge.http.edge import EdgeApp
from tenantedge.http.lookup import PageLookup
from tests.http.conftest import OPS_PORT, ROOT, EdgeClient, build_app, connect

pytestmark = pytest.mark.anyio
TOKEN = "endpoints-test-token-0001"
OPERATOR_PATHS = ["/_edge/metrics", "/_edge/ready", "/_edge/ask?domain=codersinflow.com"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> EdgeApp:
    """The demo tenants and one more, not yet published."""
    tenants = tmp_path_factory.mktemp("endpoints") / "tenants.json"
    document = orjson.loads((ROOT / "tenants.json").read_bytes())
    draft = {**document["tenants"]["basicsite"], "domains": ["drafty.example"], "published": False}
    document["tenants"]["drafty"] = draft
    tenants.write_bytes(orjson.dumps(document))
    return build_app(tenants_file=tenants, admin_token=TOKEN, reload_interval=0)


@pytest.fixture
async def ops(app: EdgeApp) -> AsyncIterator[EdgeClient]:
    async with connect(app, port=OPS_PORT) as client:
        yield client


@pytest.mark.parametrize("path", OPERATOR_PATHS, ids=["metrics", "ready", "ask"])
@pytest.mark.parametrize("host", ["codersinflow.com", "studio.darkflows.com", "nobody.example", "127.0.0.1"])
async def test_operator_paths_are_an_unknown_edge_path_on_the_public_listener(
    client: EdgeClient, host: str, path: str
) -> None:
    answer, unknown = await client.get(host, path), await client.get(host, "/_edge/nope")
    assert answer.status_code == 404
    same = [{k: v for k, v in r.headers.items() if k != "x-request-id"} for r in (answer, unknown)]
    assert (answer.content, same[0]) == (unknown.content, same[1])


@pytest.mark.parametrize("host", ["codersinflow.com", "nobody.example", "bad host", None])
async def test_operator_paths_answer_on_the_operations_listener_for_any_host(ops: EdgeClient, host: str | None) -> None:
    metrics = await ops.get(host, "/_edge/metrics")
    assert metrics.status_code == 200 and "# TYPE tenantedge_page_cache_hits_total counter" in metrics.text
    ready = await ops.get(host, "/_edge/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert (await ops.get(host, "/_edge/ask?domain=codersinflow.com")).status_code == 200
    health = await ops.get(host, "/_edge/health")
    assert health.status_code == 200 and isinstance(health.json()["worker"], int)


async def test_public_health_says_nothing_but_ok(client: EdgeClient) -> None:
    response = await client.get("codersinflow.com", "/_edge/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("domain", "status"),
    [
        ("codersinflow.com", 200),
        ("www.codersinflow.com", 200),
        ("CodersInFlow.COM.", 200),  # as a Host header would name it
        ("studio.darkflows.com", 200),  # wildcard
        ("a.b.darkflows.com", 200),  # wildcard, deeper
        ("codersinflow.net", 200),  # alias: it redirects, over TLS too
        ("www.clientsite.com", 200),  # alias
        ("nobody.example", 404),
        ("darkflows.org", 404),
        ("admin.localhost", 404),  # the admin host is no tenant's site
        ("drafty.example", 404),  # a tenant not yet published is not served
        ("127.0.0.1", 404),
        ("", 400),
        ("bad host", 400),
        ("*.darkflows.com", 400),
        ("codersinflow.com:443", 400),
        ("a" * 64 + ".com", 400),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None,
)
async def test_ask_answers_200_exactly_for_served_hosts(ops: EdgeClient, domain: str, status: int) -> None:
    response = await ops.get("anything", f"/_edge/ask?domain={domain}")
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"


async def test_ask_without_a_domain_is_a_400(ops: EdgeClient) -> None:
    assert (await ops.get("anything", "/_edge/ask")).status_code == 400


async def test_ask_ignores_the_default_tenant() -> None:
    app = build_app(default_tenant="basicsite")
    async with connect(app) as public, connect(app, port=OPS_PORT) as ops:
        assert (await public.get("nobody.example")).status_code == 200  # served the default tenant's site
        assert (await ops.get("x", "/_edge/ask?domain=nobody.example")).status_code == 404  # but no certificate
        assert (await ops.get("x", "/_edge/ask?domain=basicsite.com")).status_code == 200


async def test_ask_is_a_503_when_no_tier_can_tell(ops: EdgeClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def down(self: PageLookup, host: str) -> bool:
        raise StoreUnavailable("every tier is down")

    monkeypatch.setattr(PageLookup, "serves", down)
    response = await ops.get("x", "/_edge/ask?domain=codersinflow.com")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"


async def test_the_admin_host_answers_metrics_and_readiness_to_token_holders(client: EdgeClient) -> None:
    for path in ("/_edge/metrics", "/_edge/ready"):
        assert (await client.get("admin.localhost", path)).status_code == 401
        signed = await client.get("admin.localhost", path, headers={"authorization": f"Bearer {TOKEN}"})
        assert signed.status_code == 200 and signed.headers["cache-control"] == "no-store"
    # The ask endpoint and the worker's pid stay on the operations listener.
    assert (await client.get("admin.localhost", "/_edge/ask?domain=codersinflow.com")).status_code == 404
    assert (await client.get("admin.localhost", "/_edge/health")).json() == {"status": "ok"}


async def test_without_an_operations_port_nothing_answers_as_one(tmp_path: Path) -> None:
    app = build_app(ops_port=0)
    async with connect(app, port=OPS_PORT) as client:
        assert (await client.get("codersinflow.com", "/_edge/metrics")).status_code == 404
        assert (await client.get("codersinflow.com")).status_code == 200
