"""deploy/grafana/tenantedge.json: a Grafana dashboard whose every PromQL expression names metrics that a real
`tenantedge serve` (Redis bus, PostgreSQL pool, metrics on) exposes, read from a scrape after real traffic."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.database import create_database, drop_database
from tests.server import ROOT, Server, copy_demo

DASHBOARD: dict[str, Any] = json.loads((ROOT / "deploy" / "grafana" / "tenantedge.json").read_text())
TOKEN = "grafana-test-token-00001"
REDIS = "redis://127.0.0.1:6379/0"

# A PromQL expression as tokens: strings, label matchers, ranges, durations (`offset 5m`), numbers, identifiers,
# and any other character.
_TOKENS = re.compile(
    r"""(?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)"""
    r"|(?P<matchers>\{(?:\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|[^}])*\})"
    r"|(?P<range>\[[^\]]*\])"
    r"|(?P<duration>(?:\d+(?:ms|[smhdwy]))+\b)"
    r"|(?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?\b)"
    r"|(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)"
    r"|(?P<other>\S)"
)
# Words that take a parenthesised list of labels, and words that are operators or modifiers.
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
_NAME_MATCHER = re.compile(r"""__name__\s*=\s*["']([A-Za-z_:][A-Za-z0-9_:]*)["']""")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions or aggregations (followed by
    `(`, `by` or `without`), keywords or labels (of `by (...)` and the like), and `__name__="..."` matchers."""
    tokens = [(match.lastgroup, match.group()) for match in _TOKENS.finditer(expr)]
    names: set[str] = set()
    skip_list = False
    depth = 0
    for index, (kind, text) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        if skip_list:  # inside `by (...)`: labels, not metrics
            depth += text == "("
            depth -= text == ")"
            skip_list = depth > 0
            continue
        if kind == "matchers":
            names.update(_NAME_MATCHER.findall(text))
        elif kind == "name":
            lowered = text.lower()
            if lowered in _LABEL_LISTS and following == "(":
                skip_list, depth = True, 0
            elif following != "(" and following.lower() not in ("by", "without") and lowered not in _KEYWORDS:
                names.add(text)
    return names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('sum by (status, cache) (rate(a_total{instance=~"$i", x="by (y)"}[5m]))', {"a_total"}),
        ("histogram_quantile(0.95, sum without (job) (rate(b_bucket[$__rate_interval])))", {"b_bucket"}),
        ("sum(rate(a[5m])) / on (instance) group_left (tenant) sum(b) > bool 0.5", {"a", "b"}),
        ("a offset 5m and b unless c or d", {"a", "b", "c", "d"}),
        ('{__name__="c_total", le="+Inf"}', {"c_total"}),
        ("topk(10, sum by(tenant)(rate(d[1h])))", {"d"}),
        ('label_replace(e, "dst", "$1", "src", "(.*)")', {"e"}),
        ("1e3 * f", {"f"}),
    ],
    ids=["bare", "by-list-and-strings", "quantile", "vector-matching", "operators", "name-matcher", "no-spaces",
         "string-arguments", "number"],
)  # fmt: skip
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panels(panel)  # a collapsed row holds its panels


def expressions(dashboard: dict[str, Any]) -> list[str]:
    found = [target["expr"] for panel in panels(dashboard) for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else ""
        # Grafana's label_values(selector, label) is not PromQL: its selector is.
        found.extend(re.findall(r"label_values\((.*),\s*\w+\)", text))
    return found


def test_the_dashboard_is_one_grafana_can_import() -> None:
    assert DASHBOARD["uid"] == "tenantedge" and isinstance(DASHBOARD["schemaVersion"], int)
    found = list(panels(DASHBOARD))
    ids = [panel["id"] for panel in found]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in found:
        position = panel["gridPos"]
        assert position["x"] + position["w"] <= 24 and position["h"] > 0, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"] and all(target["expr"] for target in panel["targets"]), panel["title"]
            refs = [target["refId"] for target in panel["targets"]]
            assert len(refs) == len(set(refs)), panel["title"]
    assert {variable["name"] for variable in DASHBOARD["templating"]["list"]} == {"datasource", "instance"}


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every sample name of a scrape of a real server, after requests (some failing) and a publish."""
    folder = tmp_path_factory.mktemp("grafana")
    copy_demo(folder)
    urls = asyncio.run(create_database())
    env = {
        "TENANTEDGE_METRICS": "1", "TENANTEDGE_ADMIN_TOKEN": TOKEN, "TENANTEDGE_RELOAD_INTERVAL": "0",
        "TENANTEDGE_REDIS_URL": REDIS, "TENANTEDGE_REDIS_PREFIX": f"te:{folder.name}:",
        "TENANTEDGE_DATABASE_URL": urls.app,
    }  # fmt: skip
    try:
        server = Server("--tenants", str(folder / "tenants.json"), env=env)
        try:
            return _traffic_then_scrape(server)
        finally:
            server.stop()
    finally:
        asyncio.run(drop_database(urls))
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(match=env["TENANTEDGE_REDIS_PREFIX"] + "*"):
            client.delete(key)
        client.close()


def _traffic_then_scrape(server: Server) -> set[str]:
    for path in ("/", "/", "/about", "/nope"):
        server.get("codersinflow.com", path)
    server.get("basicsite.com", "/blog")  # a page reading posts: the database pool lends a connection
    admin = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}
    etag = httpx.get(server.url + "/api/tenants/basicsite", headers=admin, timeout=10).headers["etag"]
    changed = httpx.patch(
        server.url + "/api/tenants/basicsite",
        content=orjson.dumps({"name": "Scraped"}),
        headers={**admin, "if-match": etag, "content-type": "application/merge-patch+json"},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    deadline = time.monotonic() + 10
    while True:  # the worker hears its own publish on the bus, then flushes its counts once a second
        text = httpx.get(server.ops_url + "/_edge/metrics", timeout=10).text
        samples = {sample.name: sample for family in text_string_to_metric_families(text) for sample in family.samples}
        lag = samples.get("tenantedge_events_lag_seconds_count")
        if (lag is not None and lag.value >= 1) or time.monotonic() > deadline:
            return set(samples)
        time.sleep(0.2)


@pytest.mark.parametrize("expr", expressions(DASHBOARD))
def test_every_metric_an_expression_names_is_in_a_real_scrape(expr: str, scraped: set[str]) -> None:
    names = metric_names(expr)
    assert names, f"no metric in {expr!r}"
    assert names <= scraped, f"{sorted(names - scraped)} not exposed (used by {expr!r})"
