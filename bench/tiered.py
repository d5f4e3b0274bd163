"""Tiered-store bench: 10,000 tenants in S3 (SeaweedFS), Redis in front, L1 sized for 2,000, Zipf-distributed hosts.

    .venv/bin/python bench/tiered.py [--tenants 10000] [--l1 2000] [--zipf 1.0] [--rounds 3] [--duration 5]

Prints rps, p50/p99 and the ratio to a raw-ASGI baseline measured in the same run (interleaved rounds), where
reads were answered (memory, Redis, S3) and S3 GETs per second; then the time to first byte of tenants that are
only in S3 (never requested, not in Redis). Checks the tiered-store targets (exit 1 if one fails).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from generate import generate_tenants, host_of
from harness import BIN, ROOT, Server, metric, require_tools, wrk

sys.path.insert(0, str(ROOT))
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, PrivateRedis, SeaweedS3

from tenantedge.clock import SystemClock
from tenantedge.render.folders import TemplateFolders
from tenantedge.sections import SectionRegistry
from tenantedge.store.publish import tenant_documents
from tenantedge.store.s3 import S3Tier
from tenantedge.tenants import compact_json, parse_tenant

READS = ("l1", "l2", "origin", "absent", "stale")


def zipf_script(folder: Path, tenants: int, exponent: float) -> Path:
    """A wrk script drawing site numbers from a Zipf distribution (rank 0 most popular) by binary search."""
    path = folder / "zipf.lua"
    path.write_text(
        f"local n, s = {tenants}, {exponent}\n"
        "local cdf, total = {}, 0\n"
        "for k = 1, n do total = total + 1 / k ^ s; cdf[k] = total end\n"
        "for k = 1, n do cdf[k] = cdf[k] / total end\n"
        "request = function()\n"
        "  local u, lo, hi = math.random(), 1, n\n"
        "  while lo < hi do\n"
        "    local mid = math.floor((lo + hi) / 2)\n"
        "    if cdf[mid] < u then lo = mid + 1 else hi = mid end\n"
        "  end\n"
        '  return wrk.format("GET", "/", {["Host"] = "site" .. (lo - 1) .. ".example"})\n'
        "end\n"
    )
    return path


async def publish(endpoint: str, prefix: str, doc: dict[str, dict[str, object]], registry: SectionRegistry) -> None:
    tier = S3Tier(endpoint, BUCKET, SystemClock(), prefix=prefix, timeout=10)
    limit = asyncio.Semaphore(64)

    async def one(tenant_id: str, raw: dict[str, object]) -> None:
        tenant = parse_tenant(tenant_id, raw, registry)
        for key, data in tenant_documents(tenant, compact_json(raw)).items():
            async with limit:
                await tier.put(key, data)

    try:
        await asyncio.gather(*(one(tenant_id, raw) for tenant_id, raw in doc.items()))
    finally:
        await tier.close()


def reads(url: str) -> dict[str, float]:
    return {where: metric(url, f"tenantedge_store_reads_{where}_total") for where in READS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--l1", type=int, default=2_000)
    parser.add_argument("--zipf", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--cold", type=int, default=200, help="tenants only in S3 for the time-to-first-byte run")
    args = parser.parse_args()
    require_tools()
    folder = Path(tempfile.mkdtemp(prefix="tenantedge-tiered-"))
    os.environ |= {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    registry = SectionRegistry.from_directories(TemplateFolders.find(ROOT / "templates").defaults("sections"))
    s3, redis = SeaweedS3(folder / "s3"), PrivateRedis()
    servers: list[Server] = []
    try:
        tenants = generate_tenants(args.tenants + args.cold)["tenants"]
        started = time.monotonic()
        asyncio.run(publish(s3.endpoint, "bench/", tenants, registry))
        print(f"published {len(tenants)} tenants to S3 in {time.monotonic() - started:.0f} s", file=sys.stderr)
        env = {
            "TENANTEDGE_ACCESS_LOG": "0", "TENANTEDGE_LOG_LEVEL": "warning",
            "TENANTEDGE_TEMPLATES": str(ROOT / "templates"),
            "TENANTEDGE_S3_ENDPOINT": s3.endpoint, "TENANTEDGE_S3_BUCKET": BUCKET, "TENANTEDGE_S3_PREFIX": "bench/",
            "TENANTEDGE_REDIS_URL": redis.url, "TENANTEDGE_L1_TENANTS": str(args.l1),
        }  # fmt: skip
        edge = Server("tenantedge", [str(BIN / "tenantedge"), "serve", "--port", "{port}"], env, "/_edge/health")
        servers.append(edge)
        body = httpx.get(edge.url + "/", headers={"host": host_of(1)}).content
        baseline_command = [str(BIN / "python"), "-m", "uvicorn", "baseline:app", "--app-dir", str(ROOT / "bench")]
        baseline_command += ["--port", "{port}", "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
        baseline_command += ["--log-level", "warning", "--no-server-header"]
        baseline = Server("raw ASGI baseline", baseline_command, {"BASELINE_BYTES": str(len(body))}, "/")
        servers.append(baseline)
        script = zipf_script(folder, args.tenants, args.zipf)
        sweep = folder / "sweep.lua"
        sweep.write_text(
            f"local count, next = {args.tenants}, 0\n"
            "request = function()\n"
            "  next = (next + 1) % count\n"
            '  return wrk.format("GET", "/", {["Host"] = "site" .. next .. ".example"})\n'
            "end\n"
        )
        # Every tenant seen once (Redis and the page cache filled), checked, then the Zipf mix settles L1.
        deadline = time.monotonic() + 300
        while metric(edge.url, "tenantedge_page_cache_entries") < args.tenants:
            if time.monotonic() > deadline:
                raise SystemExit("the page cache did not fill with every tenant's home page within 300 s")
            wrk(edge.url, sweep, 5, args.connections)
        wrk(edge.url, script, 5, args.connections)
        wrk(baseline.url, script, 2, args.connections)
        before, seconds = reads(edge.url), 0.0
        runs: dict[str, list[tuple[float, float, float, int]]] = {"baseline": [], "tenantedge": []}
        for _ in range(args.rounds):
            runs["baseline"].append(wrk(baseline.url, script, args.duration, args.connections))
            runs["tenantedge"].append(wrk(edge.url, script, args.duration, args.connections))
            seconds += args.duration
        after = reads(edge.url)
        delta = {where: after[where] - before[where] for where in READS}
        cold = []
        with httpx.Client(timeout=10) as client:  # one client: building one costs more than the request
            for number in range(args.tenants, args.tenants + args.cold):
                started = time.perf_counter()
                with client.stream("GET", edge.url + "/", headers={"host": host_of(number)}) as response:
                    cold.append((time.perf_counter() - started) * 1000)  # headers are in: the first byte has arrived
                    assert response.status_code == 200, response.status_code
        rss = edge.peak_rss_mb()
    finally:
        for server in servers:
            server.stop()
        s3.stop()
        redis.stop()

    ratio = statistics.median(
        mine[0] / theirs[0] for mine, theirs in zip(runs["tenantedge"], runs["baseline"], strict=True)
    )
    lookups = sum(delta[where] for where in ("l1", "l2", "origin"))
    print(
        f"\ntiered store: {args.tenants} tenants in S3 (SeaweedFS on loopback), Redis in front, "
        f"L1 for {args.l1} tenants, Zipf s={args.zipf}; {args.rounds} interleaved rounds of {args.duration:g} s, "
        f"{args.connections} connections\n"
    )
    print(f"{'server':<20} {'rps':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, results in runs.items():
        rps, p50, p99 = (statistics.median(result[column] for result in results) for column in range(3))
        print(f"{name:<20} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {sum(r[3] for r in results):>7}")
    print(f"\ntenantedge / baseline (median of paired rounds): {ratio:.1%}; peak RSS {rss:.0f} MB")
    print("store reads during the measured runs: " + ", ".join(
        f"{where} {delta[where] / lookups:.1%}" for where in ("l1", "l2", "origin")
    ) + f" (of {lookups:.0f} tenant and domain reads); S3 GETs/s {delta['origin'] / seconds:.1f}")  # fmt: skip
    p50, p99 = statistics.median(cold), statistics.quantiles(cold, n=100)[98]
    print(f"tenant only in S3, time to first byte over {len(cold)} tenants: p50 {p50:.1f} ms, p99 {p99:.1f} ms\n")
    targets = [
        (f"Zipf over {args.tenants} tenants, L1 at {args.l1}: >= 70% of baseline rps", ratio >= 0.70, f"{ratio:.1%}"),
        ("tenant only in S3: p99 time to first byte <= 30 ms", p99 <= 30, f"{p99:.1f} ms"),
    ]
    for label, ok, shown in targets:
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {shown}")
    return 0 if all(ok for _, ok, _ in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
