"""Per-tenant figures through the admin API: a minute at a time for the last hour, and the busiest tenants."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import pytest

from tenantedge.admin.openapi import SCHEMAS, openapi_document
from tenantedge.http.edge import EdgeApp
from tenantedge.telemetry.minutes import BUCKETS, FIGURES, WINDOW, LocalMinutes, RedisMinutes, render_percentile
from tenantedge.telemetry.requests import RENDER_BUCKETS_MS, RENDERS, TENANT_FIGURES, RequestStats
from tests.admin.conftest import SCOPED_TOKEN, AdminClient

pytestmark = pytest.mark.anyio
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def app(make_app: Callable[..., EdgeApp]) -> EdgeApp:
    return make_app(metrics=True)  # requests are counted only when asked for


def figures(*counts: int, renders: dict[int, int] | None = None) -> list[int]:
    """A tenant's figures as RequestStats counts them: `counts` in its order, `renders` by bucket bound (ms)."""
    row = [*counts, *[0] * (TENANT_FIGURES - len(counts))]
    for bound, number in (renders or {}).items():
        row[RENDERS + RENDER_BUCKETS_MS.index(bound)] = number
    return row


def documented(name: str) -> dict[str, Any]:
    """The OpenAPI document's schema `name`, resolvable on its own (schemathesis brings jsonschema-rs)."""
    document = openapi_document("test")
    return {**document["components"]["schemas"][name], "components": document["components"]}


async def traffic(client: AdminClient, visits: dict[str, list[str]]) -> None:
    for host, paths in visits.items():
        for path in paths:
            await client.site(host, path)
    # A scrape brings this worker's figures up to date (the background flush does it every second).
    assert (await client.get("/_edge/metrics")).status_code == 200


async def test_a_tenants_minutes_count_its_requests_errors_and_hits(client: AdminClient) -> None:
    await traffic(client, {"basicsite.com": ["/", "/", "/", "/missing"]})
    response = await client.get("/api/tenants/basicsite/stats")
    assert response.status_code == 200
    body = response.json()
    assert len(body["minutes"]) == WINDOW and body["shared"] is False
    assert set(body["minutes"][-1]) == {"minute", *FIGURES, "hit_ratio", "error_rate", *PERCENTILES, "render_histogram"}
    jsonschema_rs.validate(documented("TenantStats"), body)
    totals = body["totals"]
    assert (totals["requests"], totals["client_errors"], totals["server_errors"]) == (4, 1, 0)
    assert totals["hits"] == 2 and totals["hit_ratio"] == 0.5  # the first "/" and the 404 rendered
    assert totals["render_ms"] > 0 and totals["bytes"] > 0
    assert totals["error_rate"] == 0.25 and sum(totals["render_histogram"]) == 2
    assert 0 < totals["render_p50_ms"] <= totals["render_p95_ms"]
    assert [minute["requests"] for minute in body["minutes"][:-1]] == [0] * (WINDOW - 1)  # zeros, not gaps


async def test_the_last_publish_is_acknowledged_by_the_one_worker(client: AdminClient) -> None:
    documented = SCHEMAS["TenantStats"]
    before = (await client.get("/api/tenants/basicsite/stats")).json()
    assert set(before) == set(documented["required"])
    assert before["last_publish"] is None  # nothing published since this worker started
    changed = await client.patch("/api/tenants/basicsite", {"name": "Renamed"}, if_match='"1"')
    assert changed.status_code == 200
    last = (await client.get("/api/tenants/basicsite/stats")).json()["last_publish"]
    types = {"integer": int, "number": float}
    for name, schema in documented["properties"]["last_publish"]["properties"].items():
        kind = schema["type"] if isinstance(schema["type"], str) else schema["type"][0]
        assert type(last[name]) is types[kind], name
    assert set(last) == set(documented["properties"]["last_publish"]["required"])
    assert (last["version"], last["workers"], last["expected_workers"]) == (changed.json()["version"], 1, 1)
    assert 0 <= last["propagation_seconds"] < 1 and last["published_at"] > 1.7e9


async def test_the_busiest_tenants_come_first_and_a_scoped_token_sees_its_own(client: AdminClient) -> None:
    await traffic(client, {"codersinflow.com": ["/", "/", "/"], "basicsite.com": ["/nope", "/nope-2"]})
    busiest = (await client.get("/api/stats?sort=requests")).json()
    jsonschema_rs.validate(documented("StatsRanking"), busiest)
    assert [item["tenant"] for item in busiest["items"]][:2] == ["codersinflow", "basicsite"]
    errors = (await client.get("/api/stats?sort=errors&limit=1")).json()
    assert [item["tenant"] for item in errors["items"]] == ["basicsite"]
    scoped = (await client.get("/api/stats", token=SCOPED_TOKEN)).json()
    assert [item["tenant"] for item in scoped["items"]] == ["basicsite"]


@pytest.mark.parametrize(
    ("path", "status", "token"),
    [
        ("/api/stats?sort=fastest", 400, None),
        ("/api/stats?limit=0", 400, None),
        ("/api/tenants/nobody/stats", 404, None),
        ("/api/tenants/codersinflow/stats", 404, SCOPED_TOKEN),
    ],
    ids=["unknown-sort", "limit-out-of-range", "unknown-tenant", "another-tenant-for-a-scoped-token"],
)
async def test_refused(client: AdminClient, path: str, status: int, token: str | None) -> None:
    response = await (client.get(path) if token is None else client.get(path, token=token))
    assert response.status_code == status


async def test_every_workers_figures_add_up_in_redis() -> None:
    prefix = f"te-test-{secrets.token_hex(4)}:"
    workers = [RedisMinutes(REDIS, prefix=prefix) for _ in range(2)]
    try:
        for number, worker in enumerate(workers):
            worker.add(
                {"acme": figures(3, 1, 0, 300, 2_000_000, 2, renders={2: 1}), "other-co": figures(number + 1, 0, 1, 10)}
            )
            await worker.send()
        minutes = await workers[0].series("acme")
        assert len(minutes) == WINDOW
        histogram = [0, 2, *[0] * (len(BUCKETS) - 2)]
        assert minutes[-1] | {"minute": ""} == {
            "minute": "", "requests": 6, "client_errors": 2, "server_errors": 0, "bytes": 600, "render_ms": 4,
            "hits": 4, "hit_ratio": 0.6667, "error_rate": 0.3333, "render_p50_ms": 1.5, "render_p95_ms": 1.95,
            "render_histogram": histogram,
        }  # fmt: skip
        assert minutes[0]["render_histogram"] == [0] * len(BUCKETS) and minutes[0]["render_p50_ms"] is None
        ranked = await workers[1].ranking("errors", 10, None)
        assert ranked[0]["render_p95_ms"] == 1.95  # the buckets add up in the ranking too
        assert [(row["tenant"], row["client_errors"], row["server_errors"]) for row in ranked] == [
            ("acme", 2, 0),
            ("other-co", 0, 2),
        ]
        assert [row["tenant"] for row in await workers[1].ranking("requests", 10, {"other-co"})] == ["other-co"]
    finally:
        for worker in workers:
            await worker.close()


async def test_redis_down_keeps_the_figures_for_the_next_send() -> None:
    minutes = RedisMinutes("redis://127.0.0.1:1/0", timeout=0.2)
    minutes.add({"acme": figures(1, 0, 0, 10, 0, 1)})
    await minutes.send()  # logged, not raised
    assert minutes.pending() == 1
    await minutes.close()


async def test_one_worker_keeps_an_hour_at_most() -> None:
    local = LocalMinutes()
    local.add({"acme": figures(2, 0, 1, 20, 0, 1)})
    [row] = await local.ranking("requests", 5, None)
    assert (row["tenant"], row["requests"], row["server_errors"]) == ("acme", 2, 1)


PERCENTILES = ("render_p50_ms", "render_p95_ms")


@pytest.mark.parametrize(
    ("renders", "p50", "p95"),
    [
        ({}, None, None),
        ({1: 1}, 0.5, 0.95),
        ({1: 50, 2: 50}, 1.0, 1.9),
        ({10: 10, 100: 10}, 10.0, 95.0),
        ({1000: 19, 2000: 1}, 763.158, 1000.0),
        ({2000: 4}, 1000.0, 1000.0),
    ],
    ids=["no-render", "one-render", "two-buckets", "far-apart", "one-over-the-last-bound", "all-over"],
)
def test_render_percentiles_interpolate_within_the_bucket(
    renders: dict[int, int], p50: float | None, p95: float | None
) -> None:
    buckets = [0] * len(BUCKETS)
    for bound, number in renders.items():
        buckets[RENDER_BUCKETS_MS.index(bound) if bound in RENDER_BUCKETS_MS else -1] = number
    assert (render_percentile(buckets, 0.5), render_percentile(buckets, 0.95)) == (p50, p95)


def test_a_render_counts_in_its_bucket_and_a_cache_hit_in_none() -> None:
    stats = RequestStats()
    stats.record(200, 1, "acme", 10, 9_000_000, 3_000_000)  # a miss rendered in 3 ms: the (2, 5] bucket
    stats.record(200, 1, "acme", 10, 9_000_000, 5_000_000)  # exactly 5 ms: still (2, 5]
    stats.record(200, 0, "acme", 10, 50_000, 0)  # a hit
    row = stats.take_tenants()["acme"]
    assert row[RENDERS:] == [0, 0, 2, *[0] * (len(BUCKETS) - 3)]
