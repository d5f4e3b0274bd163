"""Real servers with several workers sharing Redis: admin writes reach every worker, the bus survives a killed
connection, racing writers get one winner, and WebSocket clients and `tenantedge watch` hear the events."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.server import ROOT, Server, copy_demo
from tests.services import PrivateRedis

TOKEN = "propagation-test-token-0001"
ADMIN = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path: Path, private_redis: PrivateRedis) -> Iterator[Server]:
    copy_demo(tmp_path)
    prefix = f"te:{tmp_path.name}:"
    env = {
        "TENANTEDGE_ADMIN_TOKEN": TOKEN,
        "TENANTEDGE_REDIS_URL": private_redis.url,
        "TENANTEDGE_REDIS_PREFIX": prefix,
        "TENANTEDGE_RELOAD_INTERVAL": "0",  # only events may tell workers: the file watch is off
    }
    server = Server("--workers", "3", "--tenants", str(tmp_path / "tenants.json"), env=env)
    yield server
    server.stop()


def admin(server: Server, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
    content = orjson.dumps(body) if body is not None else None
    extra = {"content-type": "application/json"} if content is not None else {}
    return httpx.request(method, server.url + path, content=content, headers={**ADMIN, **extra, **headers}, timeout=10)


def rename(server: Server, tenant: str, name: str) -> httpx.Response:
    version = admin(server, "GET", f"/api/tenants/{tenant}").headers["etag"]
    return admin(server, "PATCH", f"/api/tenants/{tenant}", {"name": name}, **{"if-match": version})


def every_worker_serves(server: Server, host: str, text: str, *, runs: int = 30, within: float = 10.0) -> bool:
    """True once `runs` requests in a row, each on a new connection (so spread over the workers), show `text`."""
    deadline = time.monotonic() + within
    streak = 0
    while time.monotonic() < deadline and streak < runs:
        streak = streak + 1 if text in server.get(host).text else 0
    return streak >= runs


def test_a_write_reaches_every_worker(site: Server) -> None:
    assert every_worker_serves(site, "basicsite.localhost", "Basic Bakery")
    assert rename(site, "basicsite", "Bakery Renamed").status_code == 200
    assert every_worker_serves(site, "basicsite.localhost", "Bakery Renamed")


def test_a_new_tenant_is_served_by_every_worker(site: Server) -> None:
    assert site.get("fresh.localhost").status_code == 404  # remembered as unknown by the worker that answered
    document = {"id": "fresh", "name": "Fresh Site", "domains": ["fresh.localhost"]}
    assert admin(site, "POST", "/api/tenants", document).status_code == 201
    assert every_worker_serves(site, "fresh.localhost", "Fresh Site")


def test_a_worker_whose_bus_connection_is_killed_recovers(
    site: Server, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    assert every_worker_serves(site, "darkflows.localhost", "DarkFlows")
    client = redis.Redis.from_url(private_redis.url)
    # A change made in Redis alone, with no event: the workers keep serving what they hold in memory...
    key = f"te:{tmp_path.name}:tenant:darkflows"
    document = orjson.loads(client.get(key) or b"{}")
    client.set(key, orjson.dumps({**document, "name": "Changed Quietly", "version": document.get("version", 1) + 1}))
    assert every_worker_serves(site, "darkflows.localhost", "DarkFlows", runs=10)
    # ...until their bus connections are killed: each reconnects, forgets its memory and reads the new copy.
    killed = client.client_kill_filter(_type="pubsub")
    assert killed >= 3
    assert every_worker_serves(site, "darkflows.localhost", "Changed Quietly")
    # And events flow again after the reconnect.
    assert rename(site, "darkflows", "After Reconnect").status_code == 200
    assert every_worker_serves(site, "darkflows.localhost", "After Reconnect")
    assert "event bus connection lost" in site.output()


def test_the_stats_tell_when_a_publish_reached_every_worker(tmp_path: Path, private_redis: PrivateRedis) -> None:
    copy_demo(tmp_path)
    prefix = f"te:{tmp_path.name}:"
    env = {
        "TENANTEDGE_ADMIN_TOKEN": TOKEN, "TENANTEDGE_REDIS_URL": private_redis.url, "TENANTEDGE_REDIS_PREFIX": prefix,
        "TENANTEDGE_RELOAD_INTERVAL": "0", "TENANTEDGE_METRICS": "1",
    }  # fmt: skip
    server = Server("--workers", "2", "--tenants", str(tmp_path / "tenants.json"), env=env)
    try:
        client = redis.Redis.from_url(private_redis.url)
        deadline = time.monotonic() + 10
        while client.zcard(f"{prefix}propagation:workers") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # both workers heartbeat once started: a publish from now on expects both
        assert admin(server, "GET", "/api/tenants/basicsite/stats").json()["last_publish"] is None
        assert rename(server, "basicsite", "Propagated").status_code == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            last = admin(server, "GET", "/api/tenants/basicsite/stats").json()["last_publish"]
            if last is not None and last["propagation_seconds"] is not None:
                break
            time.sleep(0.05)
        assert last is not None and (last["version"], last["workers"], last["expected_workers"]) == (2, 2, 2)
        assert 0 < last["propagation_seconds"] < 2 and abs(last["published_at"] - time.time()) < 60
        # Each worker heard the event on the bus and timed it from the publisher's clock.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = httpx.get(server.ops_url + "/_edge/metrics", timeout=10).text
            samples = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if not s.labels}
            if samples.get("tenantedge_events_lag_seconds_count", 0) >= 2:
                break
            time.sleep(0.2)
        assert samples["tenantedge_events_lag_seconds_count"] == samples["tenantedge_events_applied_total"] == 2
        assert 0 < samples["tenantedge_events_lag_seconds_sum"] < 4
        assert samples["tenantedge_events_reconnects_total"] == 0
    finally:
        server.stop()


def test_two_writers_racing_one_wins_and_the_other_gets_409(site: Server) -> None:
    etag = admin(site, "GET", "/api/tenants/clientsite").headers["etag"]
    results: dict[str, int] = {}
    start = threading.Barrier(2)

    def write(name: str) -> None:
        start.wait()
        results[name] = admin(
            site, "PATCH", "/api/tenants/clientsite", {"name": name}, **{"if-match": etag}
        ).status_code

    threads = [threading.Thread(target=write, args=(name,)) for name in ("Writer One", "Writer Two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [200, 409]
    winner = next(name for name, status in results.items() if status == 200)
    versions = admin(site, "GET", "/api/tenants/clientsite/history").json()["versions"]
    assert versions == [2, 1]  # the imported original and exactly one write
    assert admin(site, "GET", "/api/tenants/clientsite/history/2").json()["document"]["name"] == winner


async def receive_events(websocket: Any, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while len(events) < count:
        message = orjson.loads(await asyncio.wait_for(websocket.recv(), 10))
        if message["type"] != "hello":
            events.append(message)
    return events


@pytest.mark.anyio
async def test_websocket_clients_hear_events_for_their_tenants(site: Server) -> None:
    uri = f"ws://admin.localhost:{site.port}/ws?tenant=basicsite"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with connect(uri, host="127.0.0.1", port=site.port, additional_headers=auth) as websocket:
        hello = orjson.loads(await asyncio.wait_for(websocket.recv(), 10))
        assert hello["type"] == "hello"
        await asyncio.to_thread(rename, site, "darkflows", "Not For This Client")
        await asyncio.to_thread(rename, site, "basicsite", "For This Client")
        (event,) = await receive_events(websocket, 1)
    assert event["type"] == "tenant.updated" and event["tenant"] == "basicsite" and event["version"] == 2
    # A client that reconnects asks for what it missed since the last sequence number it saw.
    async with connect(
        f"ws://admin.localhost:{site.port}/ws?since={hello['seq']}", host="127.0.0.1", port=site.port,
        additional_headers=auth,
    ) as websocket:  # fmt: skip
        missed = await receive_events(websocket, 2)
    assert [(e["tenant"], e["seq"]) for e in missed] == [("darkflows", hello["seq"] + 1), ("basicsite", event["seq"])]


@pytest.mark.anyio
async def test_websocket_token_in_first_message_and_refusals(site: Server) -> None:
    uri = f"ws://admin.localhost:{site.port}/ws"
    origin = f"http://admin.localhost:{site.port}"
    async with connect(uri, host="127.0.0.1", port=site.port, origin=origin) as websocket:  # type: ignore[arg-type]
        await websocket.send(orjson.dumps({"token": TOKEN, "tenants": ["clientsite"]}).decode())
        assert orjson.loads(await asyncio.wait_for(websocket.recv(), 10))["type"] == "hello"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(uri, host="127.0.0.1", port=site.port, origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    async with connect(uri, host="127.0.0.1", port=site.port) as websocket:
        await websocket.send('{"token": "wrong-token-wrong-token"}')
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_tenantedge_watch_prints_events(site: Server) -> None:
    env = {**os.environ, "TENANTEDGE_ADMIN_TOKEN": TOKEN}
    with subprocess.Popen(
        [sys.executable, "-m", "tenantedge", "watch", "--tenant", "codersinflow", "--since", "0",
         "--address", f"127.0.0.1:{site.port}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as watcher:  # fmt: skip
        try:
            # --since 0: an event sent before the watcher connects is replayed, so there is nothing to wait for.
            assert rename(site, "codersinflow", "Watched").status_code == 200
            assert watcher.stdout is not None
            line = watcher.stdout.readline()
        finally:
            watcher.terminate()
    event = orjson.loads(line)
    assert event["type"] == "tenant.updated" and event["tenant"] == "codersinflow"


def test_without_redis_every_worker_sees_the_write_through_the_shared_file(tmp_path: Path) -> None:
    copy_demo(tmp_path)
    env = {"TENANTEDGE_ADMIN_TOKEN": TOKEN, "TENANTEDGE_RELOAD_INTERVAL": "0.1"}
    server = Server("--workers", "3", "--tenants", str(tmp_path / "tenants.json"), env=env)
    try:
        assert every_worker_serves(server, "clientsite.localhost", "Harbor")
        assert rename(server, "clientsite", "Shared File Edit").status_code == 200
        assert every_worker_serves(server, "clientsite.localhost", "Shared File Edit")
        assert (tmp_path / "history" / "clientsite" / "2.json").is_file()
    finally:
        server.stop()
