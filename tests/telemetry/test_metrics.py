"""Metrics of a real `tenantedge serve --workers 4`: every worker's requests add up, exactly, in one scrape."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.server import Server

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
# The families README lists as stable: dashboards and alerts are built on these names.
FAMILIES = [
    "tenantedge_http_requests",
    "tenantedge_http_request_duration_seconds",
    "tenantedge_tenant_requests",
    "tenantedge_tenant_errors",
    "tenantedge_tenant_response_bytes",
    "tenantedge_tenant_render_seconds",
    "tenantedge_tenant_cache_hits",
    "tenantedge_page_cache_entries",
    "tenantedge_page_cache_bytes",
    "tenantedge_page_cache_hits",
    "tenantedge_page_cache_misses",
    "tenantedge_page_cache_evictions",
    "tenantedge_process_resident_memory_bytes",
    "tenantedge_tenants",
    "tenantedge_websocket_clients",
    "tenantedge_render_section_seconds",
    "tenantedge_events_lag_seconds",
    "tenantedge_events_applied",
    "tenantedge_events_reconnects",
]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    env = {"TENANTEDGE_ACCESS_LOG": "json", "TENANTEDGE_TRUSTED_PROXIES": "127.0.0.1", "TENANTEDGE_METRICS": "1"}
    env["TENANTEDGE_METRICS_TENANT_SECONDS"] = "1"  # per-tenant figures each second, as the totals
    running = Server("--workers", "4", env=env)
    try:
        yield running
    finally:
        running.stop()


def scrape(server: Server) -> tuple[str, Samples]:
    text = httpx.get(server.ops_url + "/_edge/metrics", timeout=10).text
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return text, samples


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (found, keys), value in samples.items() if found == name and wanted <= set(keys))


def test_a_scrape_adds_up_every_workers_requests_exactly(server: Server) -> None:
    time.sleep(1.5)  # the health checks of the start, flushed
    _, before = scrape(server)
    workers: Counter[str] = Counter()
    for number in range(130):
        path = "/" if number < 100 else "/about" if number < 120 else f"/nope-{number}"
        response = server.get("codersinflow.com", path)
        assert response.status_code == (200 if number < 120 else 404)
        workers[response.headers["x-request-id"].split("-")[0]] += 1
    assert len(workers) >= 2, f"every request reached one worker: {workers}"

    deadline = time.monotonic() + 10
    while True:  # each worker adds its figures to the shared files once a second
        text, after = scrape(server)
        done = total(after, "tenantedge_http_requests_total") - total(before, "tenantedge_http_requests_total")
        if done >= 130 or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    def gained(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert gained("tenantedge_http_requests_total") == 130
    assert gained("tenantedge_http_requests_total", status="2xx") == 120
    assert gained("tenantedge_http_requests_total", status="4xx") == 10
    assert gained("tenantedge_http_requests_total", status="4xx", cache="miss") == 10
    hits = gained("tenantedge_http_requests_total", status="2xx", cache="hit")
    misses = gained("tenantedge_http_requests_total", status="2xx", cache="miss")
    # Each worker renders each page once at most (two pages), then answers from its page cache.
    assert hits + misses == 120 and 1 <= misses <= 8
    assert gained("tenantedge_http_request_duration_seconds_count") == 130
    assert gained("tenantedge_http_request_duration_seconds_bucket", le="+Inf") == 130
    assert gained("tenantedge_http_request_duration_seconds_sum") > 0
    assert gained("tenantedge_tenant_requests_total", tenant="codersinflow") == 130
    assert gained("tenantedge_tenant_errors_total", tenant="codersinflow", status="4xx") == 10
    assert gained("tenantedge_tenant_cache_hits_total", tenant="codersinflow") == hits
    assert gained("tenantedge_tenant_render_seconds_total", tenant="codersinflow") > 0
    names = {family.name for family in text_string_to_metric_families(text)}
    assert set(FAMILIES) <= names, set(FAMILIES) - names


def test_the_exposition_parses_with_the_clients_own_parser(server: Server) -> None:
    text, samples = scrape(server)
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert families["tenantedge_http_requests"].type == "counter"
    assert families["tenantedge_http_request_duration_seconds"].type == "histogram"
    assert families["tenantedge_page_cache_entries"].type == "gauge"
    # Buckets are cumulative, ending with +Inf equal to the count, as Prometheus requires.
    buckets = sorted(
        (float(dict(keys)["le"]), value)
        for (name, keys), value in samples.items()
        if name == "tenantedge_http_request_duration_seconds_bucket"
    )
    assert [value for _, value in buckets] == sorted(value for _, value in buckets)
    assert buckets[-1][1] == total(samples, "tenantedge_http_request_duration_seconds_count")
    assert total(samples, "tenantedge_process_resident_memory_bytes") > 4 * 20e6  # four workers, summed


def test_metrics_answer_on_the_operations_listener_only(server: Server) -> None:
    assert server.get("codersinflow.com", "/_edge/metrics").status_code == 404
    assert server.get("127.0.0.1", "/_edge/metrics").status_code == 404


FIELDS = {
    "time": str,
    "request_id": str,
    "tenant": str,
    "host": str,
    "method": str,
    "path": str,
    "status": int,
    "bytes": int,
    "duration_us": int,
    "cache": str,
    "tier": str,
    "worker": int,
}


def access_lines(server: Server, request_id: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [orjson.loads(line) for line in server.output().splitlines() if f'"{request_id}"' in line]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no access log line for {request_id}")


def test_each_request_writes_one_json_line_with_every_field(server: Server) -> None:
    response = server.get("codersinflow.com", "/pricing?a=1")
    request_id = response.headers["x-request-id"]
    [line] = access_lines(server, request_id)
    assert {name: type(line[name]) for name in FIELDS} == FIELDS
    assert set(line) == set(FIELDS)
    assert line["tenant"] == "codersinflow" and line["host"] == "codersinflow.com"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/pricing", 200)
    assert line["bytes"] == len(response.content)
    assert line["cache"] in ("hit", "miss") and line["tier"] in ("page", "render")
    assert str(line["time"]).endswith("Z") and isinstance(line["worker"], int)


def test_a_hostile_path_stays_one_valid_json_line(server: Server) -> None:
    response = server.get("codersinflow.com", '/a"b\\c%0A%22\u00e9')
    [line] = access_lines(server, response.headers["x-request-id"])
    assert line["status"] == 404 and line["path"] == '/a"b\\c\n"\u00e9'


@pytest.mark.parametrize(
    ("offered", "kept"),
    [("proxy-42.abc", True), ("bad id with spaces", False), ("x" * 200, False)],
    ids=["accepted", "refused-characters", "refused-length"],
)
def test_a_trusted_proxys_request_id_is_kept_and_echoed(server: Server, offered: str, kept: bool) -> None:
    response = server.get("codersinflow.com", "/", headers={"x-request-id": offered})
    assert (response.headers["x-request-id"] == offered) is kept
    assert access_lines(server, response.headers["x-request-id"])[0]["request_id"] == response.headers["x-request-id"]
