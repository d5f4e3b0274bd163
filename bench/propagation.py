"""Propagation bench: how soon every worker of two instances serves what the admin API just wrote.

    .venv/bin/python bench/propagation.py [--workers 4] [--writes 200] [--creates 20] [--syncs 20]

Starts SeaweedFS (S3) and a private Redis, publishes tenants to S3, and runs two tenantedge instances sharing
them (`--workers` each). Holds one keep-alive connection to every worker on its operations listener (found
through /_edge/health there, which names the process; in explain mode that listener serves pages as the public
one does, minus the host-header shortcuts, which every change drops anyway), then, `--writes` times: changes a
tenant's name through the admin API of the first instance and polls every worker, each from its own thread,
until each serves the new name. Prints p50/p99/max of the time from the write's response to the last worker
serving it, and the time from the POST of a brand-new tenant to its first 200 on its domain. First, `--syncs`
times, an operator's `tenantedge sync` of a file that renames one tenant goes through the same publisher: the
time from the command's exit to the last worker serving it. Checks the targets (exit 1 if one fails).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

from generate import generate_tenants, host_of
from harness import ROOT, free_port
from tiered import publish

sys.path.insert(0, str(ROOT))
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, PrivateRedis, SeaweedS3

from tenantedge.render.folders import TemplateFolders
from tenantedge.sections import SectionRegistry

TOKEN = "propagation-bench-token-0001"  # noqa: S105 - a bench-only token for its own servers
TARGET_P99_MS, TARGET_CREATE_MS = 50.0, 100.0
POLL = 0.002  # seconds between polls of one worker: the resolution of the measurement


class Instance:
    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port, self.ops_port = free_port(), free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the instance
        command = [sys.executable, "-m", "tenantedge", "serve", "--port", str(self.port), "--workers", str(workers)]
        ops = {"TENANTEDGE_OPS_PORT": str(self.ops_port), "TENANTEDGE_DEBUG": "1"}
        self.process = subprocess.Popen(
            command, env={**os.environ, **env, **ops}, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(self.connect(), "GET", "/_edge/health", "x.example")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"instance on {self.port} did not start")

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def workers(self, count: int) -> list[http.client.HTTPConnection]:
        """One keep-alive connection to each worker process, on the operations listener (only it names them)."""
        found: dict[int, http.client.HTTPConnection] = {}
        deadline = time.monotonic() + 30  # workers start one after another
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", self.ops_port, timeout=10)
            pid = orjson.loads(request(connection, "GET", "/_edge/health", "x.example")[1])["worker"]
            if pid in found:
                connection.close()
                time.sleep(0.01)
            else:
                found[pid] = connection
            if len(found) == count:
                return list(found.values())
        raise SystemExit(f"found {len(found)} of {count} workers on port {self.port}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def request(
    connection: http.client.HTTPConnection, method: str, path: str, host: str, body: object = None, **headers: str
) -> tuple[int, bytes, dict[str, str]]:
    data = orjson.dumps(body) if body is not None else None
    extra = {"content-type": "application/json"} if data is not None else {}
    connection.request(method, path, body=data, headers={"host": host, **extra, **headers})
    response = connection.getresponse()
    return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}


def admin(connection: http.client.HTTPConnection, method: str, path: str, body: object = None, **headers: str):  # type: ignore[no-untyped-def]
    return request(connection, method, path, "admin.localhost", body, authorization=f"Bearer {TOKEN}", **headers)


def wait_all(workers: list[http.client.HTTPConnection], host: str, marker: bytes, status: int = 200) -> list[float]:
    """Each worker polled from its own thread until it serves `marker`; the moment each first did."""
    seen = [0.0] * len(workers)

    def poll(index: int) -> None:
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            code, body, _ = request(workers[index], "GET", "/", host)
            if code == status and marker in body:
                seen[index] = time.perf_counter()
                return
            time.sleep(POLL)  # eight pollers in a tight loop would take the cores the workers need
        seen[index] = float("inf")

    threads = [threading.Thread(target=poll, args=(index,)) for index in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


def sync_one(
    number: int,
    tenants: int,
    writer: http.client.HTTPConnection,
    workers: list[http.client.HTTPConnection],
    env: dict[str, str],
    folder: Path,
) -> float:
    """`tenantedge sync` of a file renaming one tenant; ms from the command's exit to every worker serving it."""
    tenant, host = f"site{number % tenants}", host_of(number % tenants)
    wait_all(workers, host, b"")  # every worker holds the current page
    document = orjson.loads(admin(writer, "GET", f"/api/tenants/{tenant}")[1])
    marker = f"Synced {number} ok"
    path = folder / "sync.json"

    def sync(name: str) -> float:
        path.write_bytes(orjson.dumps({"tenants": {tenant: {**document, "name": name}}}))
        done = subprocess.run(
            [sys.executable, "-m", "tenantedge", "sync", str(path)], env={**os.environ, **env}, capture_output=True
        )
        exited = time.perf_counter()
        if done.returncode != 0 or b"~ " + tenant.encode() not in done.stdout:
            raise SystemExit(f"sync {number} failed: {done.stdout[-300:]!r} {done.stderr[-300:]!r}")
        return (max(wait_all(workers, host, name.encode())) - exited) * 1000

    span = sync(marker)
    sync(document["name"])  # back to the generated name, which the admin writes below wait for
    return span


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--creates", type=int, default=20)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--syncs", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tenantedge-propagation-"))
    os.environ |= {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    registry = SectionRegistry.from_directories(TemplateFolders.find(ROOT / "templates").defaults("sections"))
    s3, redis = SeaweedS3(folder / "s3"), PrivateRedis()
    instances: list[Instance] = []
    try:
        asyncio.run(publish(s3.endpoint, "bench/", generate_tenants(args.tenants)["tenants"], registry))
        env = {
            "TENANTEDGE_ACCESS_LOG": "0", "TENANTEDGE_LOG_LEVEL": "warning",
            "TENANTEDGE_TEMPLATES": str(ROOT / "templates"), "TENANTEDGE_ADMIN_TOKEN": TOKEN,
            "TENANTEDGE_S3_ENDPOINT": s3.endpoint, "TENANTEDGE_S3_BUCKET": BUCKET, "TENANTEDGE_S3_PREFIX": "bench/",
            "TENANTEDGE_REDIS_URL": redis.url,
        }  # fmt: skip
        instances = [Instance(env, args.workers), Instance(env, args.workers)]
        workers = [connection for instance in instances for connection in instance.workers(args.workers)]
        writer = instances[0].connect()
        print(f"{len(workers)} workers in 2 instances; {args.syncs} syncs, {args.writes} writes", file=sys.stderr)
        syncs = [sync_one(number, args.tenants, writer, workers, env, folder) for number in range(args.syncs)]
        spans, writes = [], []
        for number in range(args.writes):
            tenant = f"site{number % args.tenants}"
            wait_all(workers, host_of(number % args.tenants), b"Site ")  # every worker holds the current page
            etag = admin(writer, "GET", f"/api/tenants/{tenant}")[2]["etag"]
            marker = f"Renamed {number} ok"
            started = time.perf_counter()
            status, body, _ = admin(writer, "PATCH", f"/api/tenants/{tenant}", {"name": marker}, **{"if-match": etag})
            written = time.perf_counter()
            if status != 200:
                raise SystemExit(f"write {number} failed: {status} {body[:300]!r}")
            seen = wait_all(workers, host_of(number % args.tenants), marker.encode())
            spans.append((max(seen) - written) * 1000)
            if os.environ.get("PROPAGATION_DETAIL"):
                print(" ".join(f"{(t - written) * 1000:5.1f}" for t in seen), file=sys.stderr)
            writes.append((written - started) * 1000)
            # Back to the generated name, so the next round's warm-up finds "Site " again.
            etag = admin(writer, "GET", f"/api/tenants/{tenant}")[2]["etag"]
            admin(
                writer,
                "PATCH",
                f"/api/tenants/{tenant}",
                {"name": f"Site {number % args.tenants}"},
                **{"if-match": etag},
            )
        creates = []
        for number in range(args.creates):
            tenant, host = f"brand-new-{number}", f"brand-new-{number}.example"
            wait_all(workers, host, b"", status=404)  # every worker has just been told: no such site
            started = time.perf_counter()
            status, body, _ = admin(
                writer, "POST", "/api/tenants", {"id": tenant, "name": f"New {number}", "domains": [host]}
            )
            if status != 201:
                raise SystemExit(f"create {number} failed: {status} {body[:300]!r}")
            seen = wait_all(workers, host, f"New {number}".encode())
            creates.append((min(seen) - started) * 1000)
            creates_all = (max(seen) - started) * 1000
        print()
        print(f"{'measure':<44}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
        for label, values in (
            (f"sync exits -> all {len(workers)} workers serve it", syncs),
            (f"write -> all {len(workers)} workers serve it", spans),
            ("write itself (API, S3, Redis, event)", writes),
            ("POST new tenant -> first 200 on its domain", creates),
        ):
            print(f"{label:<44}{statistics.median(values):>10.1f}{percentile(values, 0.99):>10.1f}{max(values):>10.1f}")
        print(f"(last new tenant served by every worker {creates_all:.1f} ms after its POST)")
        checks = [
            (f"propagation p99 <= {TARGET_P99_MS:.0f} ms", percentile(spans, 0.99) <= TARGET_P99_MS),
            (f"sync propagation p99 <= {TARGET_P99_MS:.0f} ms", percentile(syncs, 0.99) <= TARGET_P99_MS),
            (f"new tenant first 200 p99 <= {TARGET_CREATE_MS:.0f} ms", percentile(creates, 0.99) <= TARGET_CREATE_MS),
        ]
        print()
        for label, passed in checks:
            print(f"{'PASS' if passed else 'FAIL'}  {label}")
        return 0 if all(passed for _, passed in checks) else 1
    finally:
        for instance in instances:
            instance.stop()
        s3.stop()
        redis.stop()


if __name__ == "__main__":
    sys.exit(main())
