"""Assets bench: a hot 20 KB image on a tenant's domain against the raw-ASGI baseline in the same run, and the time
(and memory) to make the width variants of a 12-megapixel JPEG.

    .venv/bin/python bench/assets.py [--duration 3] [--rounds 5] [--connections 64] [--makes 3]

The demo tenants are served from a copy of tenants.json by `tenantedge serve`; a 20 KB PNG (random pixels, so
it stays 20 KB) is uploaded to one of them through the admin API and asked for once, so it is held in memory.
The baseline is bench/baseline.py on the same uvicorn settings, sending a body of the same size with the same
headers. Each server is pinned to core 0 and wrk to core 1; the runs alternate, and the medians are reported,
with the median of each round's ratio to the baseline run just before it (target: at least 80%), and the
server's CPU time per request (from /proc), whose ratio holds up when other jobs share the machine.

The variants are made by tenantedge.media.variants.make_variants, as the server makes them, in a fresh process
each time, which reports the wall time and how far its peak RSS grew over what it held before (VmHWM).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from harness import ADMIN_TOKEN, BIN, ROOT, SERVER_CORE, WRK_CORE, Server, metric, require_tools, wrk

BASE, MEDIA = "raw ASGI baseline, same bytes", "tenantedge, hot 20 KB image"
PREPARED = "tenantedge.http.server:PreparedHttpToolsProtocol"
SITE = "basicsite.com"
TARGET = 0.80
PHOTO = (4000, 3000)  # 12 megapixels


def image_of(size: int) -> bytes:
    """A PNG of random grey pixels, about `size` bytes (noise does not compress)."""
    side = int(size**0.5)
    out = io.BytesIO()
    Image.frombytes("L", (side, side), os.urandom(side * side)).save(out, format="PNG")
    return out.getvalue()


def photo() -> bytes:
    """A 12-megapixel JPEG with a photo's detail: a gradient under noise, at quality 90."""
    gradient = Image.linear_gradient("L").resize(PHOTO)
    noise = Image.effect_noise(PHOTO, 40)
    picture = Image.merge("RGB", (gradient, noise, Image.blend(gradient, noise, 0.5)))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=90)
    return out.getvalue()


def make_once(path: str) -> None:
    """In a fresh process: make the variants of the JPEG at `path`; print the seconds taken and the RSS grown."""
    from tenantedge.media.kinds import inspect
    from tenantedge.media.variants import make_variants, variant_widths

    data = Path(path).read_bytes()
    inspected = inspect(data, max_pixels=40_000_000)
    widths = variant_widths("photo.jpg", inspected.width)
    before = peak_rss_kb()
    started = time.perf_counter()
    made = make_variants(data, widths)
    seconds = time.perf_counter() - started
    grown = (peak_rss_kb() - before) / 1024
    sizes = [f"{variant.width}x{variant.height} {len(variant.data) // 1024} KB" for variant in made]
    print(json.dumps({"seconds": seconds, "grown_mb": grown, "variants": sizes}))


def peak_rss_kb() -> int:
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak (this parent's holds the 36 MB photo).
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))  # type: ignore[union-attr]


def cpu_seconds(pid: int) -> float:
    """User and system time of a process and its children so far (a server's workers included)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def upload(url: str, data: bytes) -> str:
    response = httpx.post(
        url + "/api/tenants/basicsite/assets?filename=hot.png",
        content=data,
        headers={"host": "admin.localhost", "authorization": f"Bearer {ADMIN_TOKEN}", "content-type": "image/png"},
        timeout=30,
    )
    response.raise_for_status()
    path: str = response.json()["path"]
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--makes", type=int, default=3, help="times the variants of the 12 MP JPEG are made")
    parser.add_argument("--make-once", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_once:
        make_once(args.make_once)
        return 0
    require_tools()
    folder = Path(tempfile.mkdtemp(prefix="tenantedge-bench-assets-"))
    shutil.copyfile(ROOT / "tenants.json", folder / "tenants.json")
    common = {
        "TENANTEDGE_ACCESS_LOG": "0",
        "TENANTEDGE_LOG_LEVEL": "warning",
        "TENANTEDGE_TENANTS": str(folder / "tenants.json"),
        "TENANTEDGE_TEMPLATES": str(ROOT / "templates"),
    }
    uvicorn = [str(BIN / "python"), "-m", "uvicorn", "--port", "{port}", "--loop", "uvloop", "--no-access-log"]
    uvicorn += ["--log-level", "warning", "--no-server-header", "--no-proxy-headers"]
    baseline = [*uvicorn, "baseline:app", "--app-dir", str(ROOT / "bench"), "--http", PREPARED]
    servers: dict[str, Server] = {}
    runs: dict[str, list[tuple[float, float, float, int]]] = {}
    cpu: dict[str, list[float]] = {}  # the server's CPU time per request: what contention from other jobs spares
    try:
        servers[MEDIA] = Server(MEDIA, [str(BIN / "tenantedge"), "serve", "--port", "{port}"], common, "/_edge/health")
        path = upload(servers[MEDIA].url, image_of(20 * 1024))
        served = httpx.get(servers[MEDIA].url + path, headers={"host": SITE})
        served.raise_for_status()
        same = [[k, v] for k, v in served.headers.items() if k not in ("date", "content-length", "content-type")]
        env = {"BASELINE_BYTES": str(len(served.content)), "BASELINE_HEADERS": json.dumps(same)}
        servers[BASE] = Server(BASE, baseline, env, "/")
        script = folder / "media.lua"
        script.write_text(f'wrk.path = "{path}"\nwrk.headers["Host"] = "{SITE}"\n')
        for server in servers.values():
            wrk(server.url, script, 2, args.connections)
        hits_before = metric(servers[MEDIA].url, "tenantedge_media_cache_hits_total")
        for round_number in range(args.rounds):
            for name in (BASE, MEDIA):
                before = cpu_seconds(servers[name].process.pid)
                result = wrk(servers[name].url, script, args.duration, args.connections)
                spent = cpu_seconds(servers[name].process.pid) - before
                runs.setdefault(name, []).append(result)
                cpu.setdefault(name, []).append(spent / (result[0] * round(args.duration)) * 1e6)
                shown = f"{result[0]:>9.0f} rps {cpu[name][-1]:>6.1f} CPU µs/request"
                print(f"  round {round_number + 1}: {name:<32} {shown}", file=sys.stderr)
        hits = metric(servers[MEDIA].url, "tenantedge_media_cache_hits_total") - hits_before
        rss = {name: server.peak_rss_mb() for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()

    jpeg = folder / "photo.jpg"
    jpeg.write_bytes(photo())
    makes = []
    for _ in range(args.makes):
        command = ["taskset", "-c", SERVER_CORE, str(BIN / "python"), __file__, "--make-once", str(jpeg)]
        output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT / "bench").stdout
        makes.append(json.loads(output))
        print(f"  variants made in {makes[-1]['seconds']:.2f} s", file=sys.stderr)
    photo_bytes = jpeg.stat().st_size
    shutil.rmtree(folder, ignore_errors=True)

    print(
        f"\ntenantedge assets: a {len(served.content):,}-byte image, {args.rounds} interleaved rounds of "
        f"{args.duration:g} s, {args.connections} connections, server pinned to core {SERVER_CORE}, wrk to {WRK_CORE}"
    )
    print(f"answered from memory during the measured runs: {hits:,.0f} requests\n")
    heading = f"{'server':<32} {'rps':>9} {'p50 ms':>8} {'p99 ms':>8} {'peak RSS':>9} {'errors':>7} {'vs base':>8}"
    print(f"{heading} {'CPU µs/req':>11} {'capacity vs base':>17}")
    ratio = statistics.median(mine[0] / theirs[0] for mine, theirs in zip(runs[MEDIA], runs[BASE], strict=True))
    # Requests per CPU second against the baseline's: the throughput each would reach with the core to itself.
    capacity = statistics.median(theirs / mine for mine, theirs in zip(cpu[MEDIA], cpu[BASE], strict=True))
    errors = 0
    for name, results in runs.items():
        rps, p50, p99 = (statistics.median(result[column] for result in results) for column in range(3))
        failed = sum(result[3] for result in results)
        errors += failed
        versus = ("", "") if name == BASE else (f"{ratio:.1%}", f"{capacity:.1%}")
        print(
            f"{name:<32} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {rss[name]:>7.0f}MB {failed:>7} {versus[0]:>8} "
            f"{statistics.median(cpu[name]):>11.1f} {versus[1]:>17}"
        )
    seconds = [make["seconds"] for make in makes]
    grown = max(make["grown_mb"] for make in makes)
    print(
        f"\nvariants of a {PHOTO[0]}x{PHOTO[1]} JPEG ({photo_bytes // 1024:,} KB) with Pillow: "
        f"{', '.join(makes[0]['variants'])}\n  {min(seconds):.2f}-{max(seconds):.2f} s over {len(seconds)} "
        f"fresh processes; peak RSS grew by at most {grown:.0f} MB"
    )
    targets = [
        (f"hot image >= {TARGET:.0%} of baseline rps", ratio >= TARGET, f"{ratio:.1%}"),
        (f"hot image >= {TARGET:.0%} of baseline requests per CPU second", capacity >= TARGET, f"{capacity:.1%}"),
        ("no socket errors or non-2xx responses", errors == 0, str(errors)),
    ]
    print()
    for label, ok, shown in targets:
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {shown}")
    return 0 if all(ok for _, ok, _ in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
