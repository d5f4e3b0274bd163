"""What the benches share: servers pinned to one core, wrk pinned to the other, and /_edge/metrics readings."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER_CORE, WRK_CORE = "0", "1"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


# Every server started here holds this admin token, so its metrics can be read on the admin host (a server on
# stock uvicorn has no operations listener).
ADMIN_TOKEN = "bench-" + "x" * 26


class Server:
    """A server process pinned to one core, with its peak RSS read from /proc."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], health: str, host: str = "localhost"
    ) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [arg.replace("{port}", str(self.port)) for arg in command]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *command],
            env={**os.environ, "TENANTEDGE_ADMIN_TOKEN": ADMIN_TOKEN, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"{name} exited at start:\n{self.log.read().decode(errors='replace')}")
            try:
                httpx.get(self.url + health, headers={"host": host}, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit(f"{name} did not answer within 120 s")

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wrk(url: str, script: Path, seconds: float, connections: int) -> tuple[float, float, float, int]:
    command = [
        "taskset",
        "-c",
        WRK_CORE,
        "wrk",
        "-t1",
        "--timeout",
        "10s",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
        url + "/",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", output).groups()  # type: ignore[union-attr]
        return float(value) * _UNITS[unit]

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rps, percentile("50"), percentile("99"), errors + (int(non_2xx.group(1)) if non_2xx else 0)


def require_tools() -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"installing {', '.join(missing)} from Debian's packages ...", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk", "util-linux"], check=False, capture_output=True)
        missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"bench needs {', '.join(missing)}: install Debian's 'wrk' and 'util-linux' packages")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("bench needs two cores: one for the server, one for wrk")


def metric(url: str, name: str) -> float:
    """A metric of the instance (every worker's, added up), read on the admin host."""
    headers = {"host": "admin.localhost", "authorization": f"Bearer {ADMIN_TOKEN}"}
    response = httpx.get(url + "/_edge/metrics", headers=headers, timeout=10)
    response.raise_for_status()
    text = response.text
    found = re.search(rf"^{name} ([\d.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0
