"""A real `tenantedge serve` process on a free port, for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def copy_demo(folder: Path) -> Path:
    """The demo tenants.json and the assets/ folder beside it (their logos, favicons, images) copied into `folder`,
    as an operator ships them; returns the copy of tenants.json."""
    shutil.copytree(ROOT / "assets", folder / "assets", dirs_exist_ok=True)
    return Path(shutil.copyfile(ROOT / "tenants.json", folder / "tenants.json"))


def run(
    *args: str, cwd: Path = ROOT, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenantedge", *args],
        cwd=cwd,
        env={**os.environ, **env} if env else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port, self.ops_port = free_port(), free_port()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self._output = ""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tenantedge", "serve", "--port", str(self.port), *args],
            cwd=ROOT,
            # A file, not a pipe: a pipe nobody reads fills up and blocks a chatty server.
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "TENANTEDGE_ACCESS_LOG": "0", "TENANTEDGE_OPS_PORT": str(self.ops_port), **(env or {})},
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.ops_url = f"http://127.0.0.1:{self.ops_port}"  # the operations listener: metrics, readiness, ask
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.output()}")
            try:
                if httpx.get(self.url + "/_edge/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("server did not become healthy in 30 s")

    def get(self, host: str, path: str = "/", headers: dict[str, str] | None = None) -> httpx.Response:
        # A new connection per request, so requests spread over every worker.
        headers = {"host": host, "accept-encoding": "identity", **(headers or {})}
        return httpx.get(self.url + path, headers=headers, follow_redirects=False, timeout=10)

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> str:
        """Stop the server; returns everything it printed (again, if already stopped)."""
        if self._log.closed:
            return self._output
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._output = self.output()
        self._log.close()
        return self._output


class Traffic:
    """Requests in a loop on a thread, each on the next (host, path) in turn, counting statuses until stopped."""

    def __init__(self, url: str, targets: list[tuple[str, str]]) -> None:
        self.url = url
        self.targets = targets
        self.statuses: Counter[int] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            number = 0
            while not self._stop.is_set():
                host, path = self.targets[number % len(self.targets)]
                self.statuses[client.get(self.url + path, headers={"host": host}).status_code] += 1
                number += 1

    def stop(self) -> Counter[int]:
        self._stop.set()
        self._thread.join(timeout=30)
        return self.statuses
