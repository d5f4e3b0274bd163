"""What metrics and access logs cost a cache hit, counted in instructions rather than timed.

    .venv/bin/python bench/instructions.py [--requests 5000]

wrk's requests/s on a shared or virtual machine swing by 10-30 % from one run to the next, more than the
differences worth measuring here. Instructions do not: each configuration serves the demo home page under
valgrind's cachegrind, once for a few requests and once for `--requests` more, and the difference divided by
the extra requests is what one request costs the whole server in user space (uvicorn, httptools, the edge, the
telemetry). Kernel time (socket reads and writes, the log file's writes) is not in it, so the shares printed
are upper bounds of what each option costs a request. Needs Debian's `valgrind`; takes a few minutes.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from harness import BIN, ROOT, free_port

OFF = {"TENANTEDGE_METRICS": "0", "TENANTEDGE_ACCESS_LOG": "off"}
UVICORN_LOG = "uvicorn's own access log"  # for scale: what tenantedge served with before it wrote its own
CONFIGURATIONS = {
    "metrics and access log off": OFF,
    "metrics on": {"TENANTEDGE_METRICS": "1", "TENANTEDGE_ACCESS_LOG": "off"},
    "JSON access log on": {"TENANTEDGE_METRICS": "0", "TENANTEDGE_ACCESS_LOG": "json"},
    "metrics + JSON access log": {"TENANTEDGE_METRICS": "1", "TENANTEDGE_ACCESS_LOG": "json"},
    UVICORN_LOG: OFF,
}
WARM = 500  # requests of the short run: startup, the first render and the warm-up cancel out


def instructions(settings: dict[str, str], requests: int, *, uvicorn_log: bool = False) -> int:
    """User-space instructions of a whole server's life serving `requests` cache hits."""
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "TENANTEDGE_TENANTS": str(ROOT / "tenants.json"),
            "TENANTEDGE_TEMPLATES": str(ROOT / "templates"),
            "TENANTEDGE_LOG_LEVEL": "warning",
            "TENANTEDGE_ADMIN_TOKEN": "bench-" + "x" * 26,
            "PYTHONHASHSEED": "0",  # the same dictionaries from one run to the next
            **settings,
        }
        command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={folder}/out"]
        command += [str(BIN / "python"), "-m", "uvicorn", "tenantedge.app:create_app", "--factory"]
        command += ["--port", str(port), "--loop", "uvloop"]
        command += ["--log-level", "info"] if uvicorn_log else ["--no-access-log", "--log-level", "warning"]
        command += ["--http", "tenantedge.http.server:PreparedHttpToolsProtocol"]
        log = open(os.path.join(folder, "stdout"), "wb")  # noqa: SIM115 - the access log, closed below
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.PIPE)
        try:
            _wait_for(port, server)
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"host": "codersinflow.com", "accept-encoding": "gzip"}
            for _ in range(requests):
                client.request("GET", "/", headers=headers)
                response = client.getresponse()
                response.read()
                if response.status != 200:
                    raise SystemExit(f"the server answered {response.status}")
            client.close()
        finally:
            server.terminate()
            _, errors = server.communicate(timeout=120)
            log.close()
    found = re.search(r"I\s+refs:\s+([\d,]+)", errors.decode())
    if found is None:
        raise SystemExit(f"no instruction count from valgrind:\n{errors.decode()[-2000:]}")
    return int(found.group(1).replace(",", ""))


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300  # valgrind starts Python about 50 times slower
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not listen within 300 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests counted, past the warm-up")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is missing: apt-get install valgrind")
    costs: dict[str, float] = {}
    for name, settings in CONFIGURATIONS.items():
        short = instructions(settings, WARM, uvicorn_log=name == UVICORN_LOG)
        long = instructions(settings, WARM + args.requests, uvicorn_log=name == UVICORN_LOG)
        costs[name] = (long - short) / args.requests
        print(f"  {name:<28} {costs[name]:>9,.0f} instructions a request", file=sys.stderr)
    base = costs["metrics and access log off"]
    print(f"\na cache hit of the demo home page (gzip), {args.requests} requests on one keep-alive connection")
    print(f"{'configuration':<28} {'instr/request':>14} {'added':>9} {'rps vs off, est.':>17}")
    for name, cost in costs.items():
        print(f"{name:<28} {cost:>14,.0f} {cost - base:>+9,.0f} {base / cost:>16.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
