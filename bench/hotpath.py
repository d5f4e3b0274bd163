"""Hot-path bench: tenantedge against a raw-ASGI baseline on the same uvicorn settings, in the same run.

    .venv/bin/python bench/hotpath.py [--duration 10] [--tenants 10000] [--connections 64]

Each server is pinned to core 0 and wrk to core 1. Scenarios: one Host header; 10,000 Host headers drawn at
random (a wrk Lua script); cold runs where every request renders (page cache off), beside a straightforward
Starlette + Jinja renderer of the same pages (bench/straightforward.py), the yardstick the issue's cold target was
set by. Prints rps, p50, p99 and peak RSS per run, the ratio to the baseline, and whether each target of the
hot-path issue holds (exit 1 if not).

The baseline runs on the uvicorn settings `tenantedge serve` uses, protocol class included
(tenantedge.http.server: httptools offering the prepared-head extension, which a raw app never uses). Two more
rows run on stock httptools: the raw app, to show the protocol costs other apps nothing, and tenantedge, to show
what writing a cached page's head serialised in advance buys.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from generate import generate_tenants, host_of, wrk_scripts
from harness import BIN, ROOT, SERVER_CORE, WRK_CORE, Server, metric, require_tools, wrk

BASE, BASE_SAME, EDGE = "raw ASGI baseline", "raw ASGI, same headers", "tenantedge"
BASE_STOCK, EDGE_STOCK = "raw ASGI, stock httptools", "tenantedge, stock httptools"
# The same server with metrics and JSON access logs on (to a file); every other tenantedge row has both off.
OBSERVED = "tenantedge, metrics + JSON logs"
COLD, BARE = "tenantedge, page cache off", "tenantedge, every cache off"
STRAIGHT = "Starlette + Jinja, straightforward"
# The cold target, 5,000 pages/s, against the straightforward renderer it measured at 3,100.
YARDSTICK = 5000 / 3100
PREPARED = "tenantedge.http.server:PreparedHttpToolsProtocol"
ONE = "one host"
# A page of the same tenant and size running an A/B test on its Hero, asked for by a returning visitor (its cookie
# set): a hit on its variant's page-cache entry, against the plain hit of ONE in the same round.
EXPERIMENT = "one host, A/B page"
EXPERIMENT_PATH = "/ab"
VISITOR = "0123456789abcdef0123456789abcdef"


def with_experiment(document: dict[str, Any]) -> dict[str, Any]:
    """The generated document with a copy of site1's home page at EXPERIMENT_PATH, running an experiment on its Hero."""
    pages = document["tenants"]["site1"]["pages"]
    hero = {**pages["/"][0], "props": {**pages["/"][0]["props"], "title": "Welcome, variant B"}}
    experiment = {
        "id": "bench-hero",
        "state": "running",
        "section": 0,
        "goal": {"visit": "/about"},
        "variants": [{"name": "control"}, {"name": "b", "section": hero}],
    }
    pages[EXPERIMENT_PATH] = {"sections": pages["/"], "experiments": [experiment]}
    return document


def experiment_script(folder: Path) -> Path:
    path = folder / "experiment.lua"
    path.write_text(
        f'wrk.path = "{EXPERIMENT_PATH}"\n'
        f'wrk.headers["Host"] = "{host_of(1)}"\n'
        f'wrk.headers["Cookie"] = "te_vid={VISITOR}"\n'
    )
    return path


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; medians are reported")
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    many = f"{args.tenants:,} hosts"
    require_tools()
    folder = Path(tempfile.mkdtemp(prefix="tenantedge-bench-"))
    tenants_file = folder / "tenants.json"
    tenants_file.write_bytes(orjson.dumps(with_experiment(generate_tenants(args.tenants))))
    scripts = {**wrk_scripts(folder, args.tenants), "experiment": experiment_script(folder)}
    common = {"TENANTEDGE_ACCESS_LOG": "off", "TENANTEDGE_METRICS": "0", "TENANTEDGE_LOG_LEVEL": "warning"}
    common["TENANTEDGE_TENANTS"] = str(tenants_file)
    common["TENANTEDGE_TEMPLATES"] = str(ROOT / "templates")
    edge_command = [str(BIN / "tenantedge"), "serve", "--port", "{port}"]
    # The settings `tenantedge serve` gives uvicorn, for the baseline and for tenantedge on stock httptools.
    uvicorn = [str(BIN / "python"), "-m", "uvicorn", "--port", "{port}", "--loop", "uvloop", "--no-access-log"]
    uvicorn += ["--log-level", "warning", "--no-server-header", "--no-proxy-headers"]
    baseline_command = [*uvicorn, "baseline:app", "--app-dir", str(ROOT / "bench"), "--http", PREPARED]
    stock_baseline = [*uvicorn, "baseline:app", "--app-dir", str(ROOT / "bench"), "--http", "httptools"]
    stock_edge = [*uvicorn, "tenantedge.app:create_app", "--factory", "--http", "httptools"]
    straightforward = [*uvicorn, "straightforward:app", "--app-dir", str(ROOT / "bench"), "--http", PREPARED]
    servers: dict[str, Server] = {}
    try:
        servers[EDGE] = Server(EDGE, edge_command, common, "/_edge/health")
        page = httpx.get(servers[EDGE].url + "/", headers={"host": host_of(1), "accept-encoding": "identity"})
        same = [[k, v] for k, v in page.headers.items() if k not in ("date", "content-length", "content-type")]
        servers[BASE] = Server(BASE, baseline_command, {"BASELINE_BYTES": str(len(page.content))}, "/")
        servers[BASE_STOCK] = Server(BASE_STOCK, stock_baseline, {"BASELINE_BYTES": str(len(page.content))}, "/")
        same_env = {"BASELINE_BYTES": str(len(page.content)), "BASELINE_HEADERS": json.dumps(same)}
        servers[BASE_SAME] = Server(BASE_SAME, baseline_command, same_env, "/")
        servers[EDGE_STOCK] = Server(EDGE_STOCK, stock_edge, common, "/_edge/health")
        observed_env = {**common, "TENANTEDGE_ACCESS_LOG": "json", "TENANTEDGE_METRICS": "1"}
        servers[OBSERVED] = Server(OBSERVED, edge_command, observed_env, "/_edge/health")
        servers[COLD] = Server(COLD, edge_command, {**common, "TENANTEDGE_PAGE_CACHE_ENTRIES": "0"}, "/_edge/health")
        bare_env = {**common, "TENANTEDGE_PAGE_CACHE_ENTRIES": "0", "TENANTEDGE_FRAGMENT_CACHE_MB": "0"}
        servers[BARE] = Server(BARE, edge_command, bare_env, "/_edge/health")
        servers[STRAIGHT] = Server(STRAIGHT, straightforward, common, "/_edge/health")
        theirs = httpx.get(servers[STRAIGHT].url + "/", headers={"host": host_of(1)})
        if theirs.content != page.content:
            raise SystemExit("the straightforward renderer's page differs from tenantedge's: the comparison is off")
        for server in servers.values():
            wrk(server.url, scripts["one"], 2, args.connections)
        # Every tenant's home page into the page caches before the 10,000-host runs, checked, not hoped for.
        deadline = time.monotonic() + 300
        for filled in (servers[EDGE], servers[OBSERVED], servers[EDGE_STOCK]):
            while metric(filled.url, "tenantedge_page_cache_entries") < args.tenants:
                if time.monotonic() > deadline:
                    raise SystemExit("the page cache did not fill with every tenant's home page within 300 s")
                wrk(filled.url, scripts["sweep"], 5, args.connections)
        misses_before = metric(servers[EDGE].url, "tenantedge_page_cache_misses_total")

        runs: dict[tuple[str, str], list[tuple[float, float, float, int]]] = {}
        cached = [BASE, BASE_STOCK, BASE_SAME, EDGE, OBSERVED, EDGE_STOCK]
        plan = [
            (ONE, "one", [*cached, COLD, BARE, STRAIGHT]),
            (EXPERIMENT, "experiment", [BASE, EDGE]),
            (many, "random", [*cached, COLD]),
        ]
        for round_number in range(args.rounds):
            for scenario, script, names in plan:
                for name in names:
                    result = wrk(servers[name].url, scripts[script], args.duration, args.connections)
                    runs.setdefault((scenario, name), []).append(result)
                    print(
                        f"  round {round_number + 1}: {scenario:<16} {name:<34} {result[0]:>9.0f} rps", file=sys.stderr
                    )
        rss = {name: server.peak_rss_mb() for name, server in servers.items()}
        misses = metric(servers[EDGE].url, "tenantedge_page_cache_misses_total") - misses_before
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print(
        f"\ntenantedge hot path: {args.tenants} tenants, a {len(page.content)}-byte page, "
        f"{args.rounds} interleaved rounds of {args.duration:g} s, {args.connections} connections, "
        f"server pinned to core {SERVER_CORE}, wrk to core {WRK_CORE}"
    )
    print("medians over the rounds; 'vs base' is the median of each round's ratio to the baseline run just before it;")
    print(f"page-cache misses of the cached tenantedge during its measured runs: {misses:.0f}\n")
    heading = f"{'scenario':<16} {'server':<34} {'rps':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(f"{heading} {'peak RSS':>9} {'errors':>7} {'vs base':>8}")
    ratios: dict[tuple[str, str], float] = {}
    errors = 0
    for (scenario, name), results in runs.items():
        base = runs[(scenario, BASE)]
        ratio = median([mine[0] / theirs[0] for mine, theirs in zip(results, base, strict=True)])
        ratios[(scenario, name)] = ratio
        errors += sum(result[3] for result in results)
        shown = "" if name == BASE else f"{ratio:>7.1%}"
        rps, p50, p99 = (median([result[column] for result in results]) for column in range(3))
        print(
            f"{scenario:<16} {name:<34} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} "
            f"{rss[name]:>7.0f}MB {sum(r[3] for r in results):>7} {shown:>8}"
        )
    # Observability's cost: each round's run with metrics and JSON logs against the run with both off just before it.
    observed = {
        scenario: median(
            [on[0] / off[0] for on, off in zip(runs[(scenario, OBSERVED)], runs[(scenario, EDGE)], strict=True)]
        )
        for scenario in (ONE, many)
    }
    # An experiment page's hit against a normal page's hit of the same server in the same round.
    against_plain = zip(runs[(EXPERIMENT, EDGE)], runs[(ONE, EDGE)], strict=True)
    experiment_ratio = median([mine[0] / plain[0] for mine, plain in against_plain])
    cold_rps = median([r[0] for r in runs[(ONE, COLD)]])
    runs_against = zip(runs[(ONE, COLD)], runs[(ONE, STRAIGHT)], strict=True)
    over_straight = median([mine[0] / theirs[0] for mine, theirs in runs_against])
    targets = [
        ("page-cache hit, one host >= 90% of baseline rps", ratios[(ONE, EDGE)] >= 0.90, f"{ratios[(ONE, EDGE)]:.1%}"),
        (
            f"page-cache hit, {args.tenants} hosts >= 90% of baseline rps",
            ratios[(many, EDGE)] >= 0.90,
            f"{ratios[(many, EDGE)]:.1%}",
        ),
        (
            "page-cache hit on an A/B page >= 85% of a normal page's hit",
            experiment_ratio >= 0.85,
            f"{experiment_ratio:.1%}",
        ),
        ("every request renders a 6-section page >= 5,000 pages/s", cold_rps >= 5000, f"{cold_rps:.0f} pages/s"),
        (
            f"the same >= {YARDSTICK:.2f}x a straightforward Starlette + Jinja renderer (5,000 vs 3,100)",
            over_straight >= YARDSTICK,
            f"{over_straight:.2f}x",
        ),
        (f"peak RSS, {args.tenants} tenants, home pages cached <= 250 MB", rss[EDGE] <= 250, f"{rss[EDGE]:.0f} MB"),
        *(
            (f"page-cache hit, {scenario}, metrics + JSON logs on >= 97% of both off", ratio >= 0.97, f"{ratio:.1%}")
            for scenario, ratio in observed.items()
        ),
        ("no socket errors or non-2xx responses", errors == 0, str(errors)),
    ]
    print()
    for label, ok, shown in targets:
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {shown}")
    return 0 if all(ok for _, ok, _ in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
