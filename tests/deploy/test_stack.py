"""End to end over the real stack of `make stack`: nginx and Caddy in front of two instances sharing Redis, S3
and PostgreSQL, every process real, on free ports. The tests run in file order on one stack: the last one stops
both instances to see nginx serve what it kept."""

from __future__ import annotations

import html
import http.client
import json
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from deploy.stack import ADMIN_HOST, DEPLOY, ROOT, Stack, caddy_binary, main_nginx_conf, nginx_binary, render
from websockets.sync.client import connect

WRITES = 20
DEMO: dict[str, dict[str, object]] = json.loads((ROOT / "tenants.json").read_bytes())["tenants"]
_TITLE = re.compile(rb"<title>(.*?)</title>", re.S)


def title_of(body: bytes) -> str:
    found = _TITLE.search(body)
    return html.unescape(found[1].decode()) if found else ""


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    folder = Path(tempfile.mkdtemp(prefix="tenantedge-stack-"))
    # Pages stay fresh in nginx for a second, so the last test sees it serve them stale, not merely cached.
    # Explain mode serves pages on the ops listeners too, where a connection names its worker (never in public).
    settings = {"TENANTEDGE_CACHE_S_MAXAGE": "1", "TENANTEDGE_DEBUG": "1"}
    running = Stack(folder, workers=2, settings=settings)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(folder, ignore_errors=True)


def via_nginx(stack: Stack, host: str, path: str = "/") -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{stack.ports.nginx}{path}", headers={"host": host}, timeout=10)


def admin(stack: Stack, method: str, path: str, body: object = None, **headers: str) -> httpx.Response:
    """The admin API through nginx, on the admin host."""
    sent = {"host": ADMIN_HOST, "authorization": f"Bearer {stack.token}", **headers}
    content = orjson.dumps(body) if body is not None else None
    if content is not None:
        sent.setdefault("content-type", "application/json")
    url = f"http://127.0.0.1:{stack.ports.nginx}{path}"
    return httpx.request(method, url, headers=sent, content=content, timeout=10)


def via_caddy(stack: Stack, domain: str, path: str = "/") -> tuple[int, bytes]:
    """GET over TLS from Caddy with SNI and Host `domain`, trusting only Caddy's internal root."""
    context = ssl.create_default_context(cafile=str(stack.caddy_root))
    with (
        socket.create_connection(("127.0.0.1", stack.ports.caddy_https), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=domain) as tls,
    ):
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {domain}\r\nConnection: close\r\n\r\n".encode())
        response = http.client.HTTPResponse(tls)
        response.begin()
        return response.status, response.read()


def handshake_refused(stack: Stack, domain: str) -> bool:
    try:
        via_caddy(stack, domain)
    except ssl.SSLError:
        return True
    return False


def worker_connections(port: int, count: int) -> list[http.client.HTTPConnection]:
    """One keep-alive connection to each worker of an instance, on its ops listener: /_edge/health names the pid."""
    found: dict[int, http.client.HTTPConnection] = {}
    deadline = time.monotonic() + 30
    while len(found) < count and time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/_edge/health", headers={"host": "health.invalid"})
        pid = orjson.loads(connection.getresponse().read())["worker"]
        if pid in found:
            connection.close()
        else:
            found[pid] = connection
    assert len(found) == count, f"found {len(found)} of {count} workers on port {port}"
    return list(found.values())


def seconds_until_all_serve(workers: list[http.client.HTTPConnection], host: str, name: str, since: float) -> float:
    """Each worker polled from its own thread until its page carries `name`; seconds from `since` to the last."""
    seen = [float("inf")] * len(workers)

    def poll(index: int) -> None:
        deadline = time.perf_counter() + 15
        while time.perf_counter() < deadline:
            workers[index].request("GET", "/", headers={"host": host})
            if title_of(workers[index].getresponse().read()) == name:
                seen[index] = time.perf_counter()
                return
            time.sleep(0.002)

    threads = [threading.Thread(target=poll, args=(index,)) for index in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(seen) - since


def test_the_nginx_configuration_passes_nginx_t(tmp_path: Path) -> None:
    values = {"UPSTREAM_A": "127.0.0.1:1", "UPSTREAM_B": "127.0.0.1:2", "NGINX_PORT": "1"}
    values |= {"NGINX_CACHE_DIR": str(tmp_path / "cache"), "ADMIN_HOST": ADMIN_HOST}
    (tmp_path / "tenantedge.conf").write_text(render((DEPLOY / "nginx.conf").read_text(), values))
    (tmp_path / "nginx.conf").write_text(main_nginx_conf(tmp_path))
    command = [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", "stderr"]
    checked = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_the_caddyfile_validates() -> None:
    command = [caddy_binary(), "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"]
    checked = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    formatted = subprocess.run([caddy_binary(), "fmt", str(DEPLOY / "Caddyfile")], capture_output=True, text=True)
    assert formatted.stdout == (DEPLOY / "Caddyfile").read_text(), "run caddy fmt --overwrite deploy/Caddyfile"


@pytest.mark.parametrize("tenant_id", sorted(DEMO))
def test_every_demo_tenant_is_served_through_nginx_by_host(stack: Stack, tenant_id: str) -> None:
    tenant = DEMO[tenant_id]
    domains = [domain for domain in tenant["domains"] if isinstance(domain, str) and "*" not in domain]  # type: ignore[attr-defined]
    for domain in domains:
        response = via_nginx(stack, domain)
        assert response.status_code == 200, (domain, response.text[:300])
        assert title_of(response.content) == tenant["name"], domain
    # Its own logo, favicon and hero image, carried to S3 by the stack's `sync`, answer through nginx.
    shown = set(re.findall(r'(?:src|href)="(/_edge/media/[^"]+)"', via_nginx(stack, domains[0]).text))
    assert len(shown) == 3, shown
    for path in [*sorted(shown), "/favicon.ico"]:
        answer = via_nginx(stack, domains[0], path)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/"), (domains[0], path)


def write_and_wait(
    stack: Stack, workers: list[http.client.HTTPConnection], host: str, path: str, version: str
) -> list[float]:
    """Rename the tenant WRITES times through the admin host; for each, seconds until every worker serves it."""
    seconds = []
    for number in range(WRITES):
        name = f"Basic Bakery {number}"
        written = admin(
            stack,
            "PATCH",
            path,
            {"name": name},
            **{"if-match": version, "content-type": "application/merge-patch+json"},
        )
        assert written.status_code == 200, written.text
        version = written.headers["etag"]
        seconds.append(seconds_until_all_serve(workers, host, name, time.perf_counter()))
    return seconds


def test_an_admin_write_through_nginx_reaches_every_worker_of_both_instances(stack: Stack) -> None:
    workers = [*worker_connections(stack.ports.ops[0], 2), *worker_connections(stack.ports.ops[1], 2)]
    host, path = "basicsite.localhost", "/api/tenants/basicsite"
    version = admin(stack, "GET", path).headers["etag"]
    try:
        seconds = write_and_wait(stack, workers, host, path, version)
    finally:
        for connection in workers:
            connection.close()
    for port in stack.ports.instances:  # and the public port says the same
        response = httpx.get(f"http://127.0.0.1:{port}/", headers={"host": host}, timeout=10)
        assert title_of(response.content) == f"Basic Bakery {WRITES - 1}"
    seconds.sort()
    p99 = seconds[min(len(seconds) - 1, round(0.99 * len(seconds)))]
    print(
        f"\nadmin write -> both instances (4 workers) serve it, {WRITES} writes: "
        f"p50 {statistics.median(seconds) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {seconds[-1] * 1000:.1f} ms"
    )
    assert p99 < 2.0, seconds


def test_the_admin_websocket_upgrades_through_nginx(stack: Stack) -> None:
    port = stack.ports.nginx
    auth = {"authorization": f"Bearer {stack.token}"}
    uri = f"ws://{ADMIN_HOST}:{port}/ws?tenant=clientsite"
    with connect(uri, sock=socket.create_connection(("127.0.0.1", port)), additional_headers=auth) as websocket:
        assert orjson.loads(websocket.recv(timeout=10))["type"] == "hello"
        path = "/api/tenants/clientsite"
        version = admin(stack, "GET", path).headers["etag"]
        headers = {"if-match": version, "content-type": "application/merge-patch+json"}
        assert admin(stack, "PATCH", path, {"name": "Harbor & Pine"}, **headers).status_code == 200
        event = orjson.loads(websocket.recv(timeout=10))
    assert event["type"] == "tenant.updated" and event["tenant"] == "clientsite"


def test_caddy_serves_https_to_tenant_domains_only(stack: Stack) -> None:
    status, body = via_caddy(stack, "codersinflow.localhost")
    assert status == 200 and title_of(body) == "Coders in Flow"
    assert handshake_refused(stack, "nosuch.example"), "Caddy made a certificate for a domain no tenant holds"

    document = {"name": "Fresh Shop", "domains": ["freshshop.localhost"], "published": False}
    document["pages"] = {"/": [{"type": "Hero", "variant": "simple", "props": {"title": "Grand opening"}}]}
    created = admin(stack, "POST", "/api/tenants", {"id": "freshshop", **document})
    assert created.status_code == 201, created.text
    assert handshake_refused(stack, "freshshop.localhost"), "an unpublished tenant's domain got a certificate"
    published = admin(stack, "POST", "/api/tenants/freshshop/publish", **{"if-match": created.headers["etag"]})
    assert published.status_code == 200, published.text
    deadline = time.monotonic() + 10
    while handshake_refused(stack, "freshshop.localhost") and time.monotonic() < deadline:
        time.sleep(0.1)
    status, body = via_caddy(stack, "freshshop.localhost")
    assert status == 200 and title_of(body) == "Fresh Shop"


@pytest.mark.parametrize("path", ["/_edge/metrics", "/_edge/ready", "/_edge/ask?domain=codersinflow.localhost"])
def test_operator_endpoints_are_not_reachable_through_either_proxy(stack: Stack, path: str) -> None:
    assert via_nginx(stack, "codersinflow.localhost", path).status_code == 404
    assert via_caddy(stack, "codersinflow.localhost", path)[0] == 404
    assert via_nginx(stack, "codersinflow.localhost", "/_edge/health").status_code == 200


def test_nginx_never_keeps_an_experiment_page(stack: Stack) -> None:
    # Cache-Control: private (and, on a first visit, Set-Cookie): nginx's proxy_cache stores neither, so every
    # visitor's request reaches an instance, which picks their variant.
    for visitor in ("0" * 32, "f" * 32, "0" * 32):
        response = httpx.get(
            f"http://127.0.0.1:{stack.ports.nginx}/?experiment",
            headers={"host": "darkflows.localhost", "cookie": f"te_vid={visitor}"},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.headers["cache-control"].startswith("private")
        assert response.headers["x-cache-status"] == "MISS"


def test_nginx_serves_cached_pages_while_both_instances_are_stopped(stack: Stack) -> None:
    # A URI nginx has not cached yet: what it keeps now is what the instances serve now. darkflows' home page runs an
    # experiment, which nginx never keeps (test_nginx_never_keeps_an_experiment_page): its other page, then.
    paths = {
        "codersinflow.localhost": "/?kept",
        "darkflows.localhost": "/work?kept",
        "clientsite.localhost": "/?kept",
        "basicsite.localhost": "/?kept",
    }
    hosts = list(paths)
    kept = {host: via_nginx(stack, host, paths[host]) for host in hosts}
    assert [response.headers["x-cache-status"] for response in kept.values()] == ["MISS"] * len(hosts)
    time.sleep(1.5)  # past s-maxage: what nginx holds is stale now
    for instance in stack.instances:
        instance.stop()
    for host in hosts:
        response = via_nginx(stack, host, paths[host])
        assert response.status_code == 200, host
        assert response.content == kept[host].content, host
        assert response.headers["x-cache-status"] in ("STALE", "UPDATING"), response.headers["x-cache-status"]
