"""End to end: the real `tenantedge` command, and a real server spoken to over HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import ROOT, Server, copy_demo, free_port, run


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.stop()


def test_serves_every_demo_site(server: Server) -> None:
    for host, marker in [
        ("codersinflow.com", "AI Coding"),
        ("darkflows.localhost:8000", "Motion that feels inevitable"),
        ("clientsite.com", "Harbor &amp; Pine Law"),
        ("basicsite.com", "Fresh bread"),
    ]:
        response = server.get(host)
        assert response.status_code == 200, host
        assert marker in response.text
    assert "server" not in server.get("codersinflow.com").headers


def test_routing_over_the_wire(server: Server) -> None:
    alias = server.get("codersinflow.net", "/pricing?plan=team")
    assert alias.status_code == 301 and alias.headers["location"] == "http://codersinflow.com/pricing?plan=team"
    assert server.get("codersinflow.com", "/nope").status_code == 404
    assert server.get("nobody.example").status_code == 404
    assert server.get("bad_host!").status_code == 400
    sheet = server.get("darkflows.com", "/_edge/theme.css")
    assert sheet.status_code == 200 and "--te-primary: #f97316;" in sheet.text


def test_raw_bad_host_over_a_socket(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n")
        reply = conn.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400")


def test_several_workers() -> None:
    server = Server("--workers", "2")
    try:
        assert all(server.get("clientsite.com").status_code == 200 for _ in range(20))
    finally:
        server.stop()


def test_two_workers_share_the_public_and_the_operations_listener() -> None:
    import httpx

    server = Server("--workers", "2")
    try:
        # New connections, each accepted by whichever worker is free: both answer on the operations listener.
        pids = {httpx.get(server.ops_url + "/_edge/health", timeout=10).json()["worker"] for _ in range(60)}
        assert len(pids) == 2
        for _ in range(10):
            assert server.get("codersinflow.com").status_code == 200
            assert server.get("codersinflow.com", "/_edge/health").json() == {"status": "ok"}
            assert server.get("codersinflow.com", "/_edge/metrics").status_code == 404
            metrics = httpx.get(server.ops_url + "/_edge/metrics", timeout=10)
            assert metrics.status_code == 200 and "tenantedge_page_cache_entries" in metrics.text
            assert httpx.get(server.ops_url + "/_edge/ask?domain=studio.darkflows.com", timeout=10).status_code == 200
            assert httpx.get(server.ops_url + "/_edge/ask?domain=nobody.example", timeout=10).status_code == 404
    finally:
        server.stop()


def test_one_worker_answers_on_both_listeners(server: Server) -> None:
    import httpx

    assert server.get("codersinflow.com", "/_edge/ready").status_code == 404
    ready = httpx.get(server.ops_url + "/_edge/ready", headers={"host": "codersinflow.com"}, timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert httpx.get(server.ops_url + "/_edge/ask?domain=codersinflow.net", timeout=10).status_code == 200
    assert f"operations on http://127.0.0.1:{server.ops_port}/_edge/" in server.output()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: codersinflow.com\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: codersinflow.com\r\nX-Big: " + b"b" * 17000 + b"\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ],
    ids=["414-url", "431-head", "400-garbage"],
)
def test_the_servers_own_refusals_name_no_platform(server: Server, request_bytes: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(request_bytes)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    assert reply.startswith((b"HTTP/1.1 4", b"HTTP/1.0 4")), reply[:80]
    assert not any(name in reply.lower() for name in (b"tenantedge", b"uvicorn", b"python", b"starlette"))


def test_validate_ok() -> None:
    result = run("validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tenants.json: ok, 4 tenants, 12 domains, 8 pages"


def test_validate_prints_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "tenants.json"
    sections = [{"type": "Feaures"}, {"type": "Hero", "props": {"title": 1}}]
    doc = {
        "tenants": {
            "acme": {"domains": ["acme.com"], "theme": {"colors": {"primary": "red"}}, "pages": {"/": sections}}
        }
    }
    bad.write_text(json.dumps(doc))
    result = run("validate", str(bad), "--templates", str(ROOT / "templates"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"tenantedge: {bad}: 3 errors"
    assert "  tenants.acme.pages[\"/\"][0].type: unknown section 'Feaures' (did you mean 'Features'?)" in lines
    assert any("theme.colors.primary" in line for line in lines)
    assert any('pages["/"][1].props.title' in line for line in lines)


def test_validate_malformed_json(tmp_path: Path) -> None:
    bad = tmp_path / "t.json"
    bad.write_text('{"tenants": {\n  "a": [1,]\n}}')
    result = run("validate", str(bad))
    assert result.returncode == 1 and "malformed JSON at line 2, column 10" in result.stderr


def test_validate_reports_broken_templates(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "tenants" / "acme").mkdir(parents=True)
    (templates / "tenants" / "acme" / "oops.html").write_text("{% if %}")
    result = run("validate", str(ROOT / "tenants.json"), "--templates", str(templates))
    assert result.returncode == 1 and "tenants/acme/oops.html:1: TemplateSyntaxError" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--tenants", "nope.json"], "tenantedge: error: nope.json: tenants file not found"),
        (["validate", "nope.json"], "tenantedge: error: nope.json: tenants file not found"),
        (["serve", "--templates", "/nonexistent"], "templates folder not found"),
        (["serve", "--default-tenant", "ghost"], "no tenant 'ghost' in tenants.json"),
    ],
)
def test_startup_errors_are_one_clear_line(args: list[str], message: str) -> None:
    result = run(*args, "--port", str(free_port())) if args[0] == "serve" else run(*args)
    assert result.returncode == 1
    assert result.stderr.strip() == message or message in result.stderr.strip().splitlines()[0]
    assert "Traceback" not in result.stderr


def test_serve_refuses_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "tenants.json"
    bad.write_text('{"tenants": {"acme": {"domains": ["acme.com"], "pages": {"/": [{"type": "Nope"}]}}}}')
    result = run("serve", "--tenants", str(bad), "--port", str(free_port()))
    assert result.returncode == 1 and "unknown section 'Nope'" in result.stderr and "Traceback" not in result.stderr


def test_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"tenantedge: error: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(another server is using it: stop it or choose --port)"
    )


def test_operations_port_in_use_is_one_clear_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(free_port()), env={"TENANTEDGE_OPS_PORT": str(port)})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"tenantedge: error: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(another server is using it: stop it or choose TENANTEDGE_OPS_PORT)"
    )


def test_the_operations_port_must_not_be_the_public_port() -> None:
    port = free_port()
    result = run("serve", "--port", str(port), env={"TENANTEDGE_OPS_PORT": str(port)})
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"tenantedge: error: TENANTEDGE_OPS_PORT: {port} is the public port too (TENANTEDGE_PORT)"
    )


def test_explain_mode_needs_the_operations_listener() -> None:
    result = run("serve", "--port", str(free_port()), env={"TENANTEDGE_DEBUG": "1"})
    assert result.returncode == 1 and "set TENANTEDGE_OPS_PORT" in result.stderr


def test_version_and_console_script() -> None:
    assert run("--version").stdout.strip() == "tenantedge 0.1.0"
    script = Path(sys.executable).parent / "tenantedge"
    result = subprocess.run([str(script), "validate"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0


def test_file_only_serving_loads_no_s3_or_redis_client() -> None:
    """botocore and redis-py cost each worker tens of MB: they load only when S3 or Redis is configured."""
    code = (
        "import sys; from tenantedge.app import create_app; create_app(); "
        "print('botocore' in sys.modules, 'redis' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.stdout.strip() == "False False", result.stderr


def test_serve_generates_one_admin_token_for_every_worker(tmp_path: Path) -> None:
    import re

    import httpx

    copy_demo(tmp_path)
    server = Server("--workers", "2", "--tenants", str(tmp_path / "tenants.json"))
    try:
        found = re.findall(r"admin on http://admin\.localhost:\d+/ with token (\S+)", server.output())
        assert len(found) == 1, server.output()  # printed once, not once per worker
        headers = {"host": "admin.localhost", "authorization": f"Bearer {found[0]}"}
        for _ in range(20):  # new connections: both workers must accept the same token
            assert httpx.get(server.url + "/api/tenants", headers=headers, timeout=10).status_code == 200
        headers["authorization"] = "Bearer not-the-token-at-all"
        assert httpx.get(server.url + "/api/tenants", headers=headers, timeout=10).status_code == 401
    finally:
        server.stop()
