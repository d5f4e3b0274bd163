"""An operator saves tenants.json while a real server with two workers is serving it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import redis

from tests.server import ROOT, Server, copy_demo

REQUESTS = 40  # on fresh connections, so both workers answer some of them
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    tenants = copy_demo(tmp_path)
    env = {"TENANTEDGE_RELOAD_INTERVAL": "0.1", "TENANTEDGE_DEBUG": "1"}
    server = Server("--workers", "2", "--tenants", str(tenants), "--templates", str(ROOT / "templates"), env=env)
    yield server, tenants
    server.stop()


def save(tenants: Path, change: Callable[[dict[str, object]], None], base: Path | None = None) -> None:
    doc = orjson.loads((base or tenants).read_bytes())
    change(doc)
    tenants.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def shown_everywhere_after(server: Server, text: str, since: float, timeout: float = 20) -> float:
    """Seconds from `since` to the first of REQUESTS responses in a row (fresh connections, so every worker
    answers some) that all show `text`: when the change was visible everywhere, not when this loop noticed."""
    streak_began: float | None = None
    streak = 0
    while time.monotonic() - since < timeout:
        asked = time.monotonic()
        if text in server.get("basicsite.com").text:
            streak_began, streak = streak_began or asked, streak + 1
            if streak >= REQUESTS:
                return streak_began - since
        else:
            streak_began, streak = None, 0
    raise AssertionError(f"{text!r} not shown everywhere within {timeout} s")


def rename(name: str) -> Callable[[dict[str, object]], None]:
    def change(doc: dict[str, object]) -> None:
        doc["tenants"]["basicsite"]["name"] = name  # type: ignore[index]

    return change


def test_every_worker_serves_a_valid_save_and_refuses_a_broken_one(site: tuple[Server, Path]) -> None:
    server, tenants = site
    assert "Basic Bakery" in server.get("basicsite.com").text

    save(tenants, rename("Brand New Bakery"))
    wait_until(lambda: all("Brand New Bakery" in server.get("basicsite.com").text for _ in range(REQUESTS)))

    served = server.get("basicsite.com")
    other = server.get("darkflows.com", "/work")

    def break_it(doc: dict[str, object]) -> None:
        doc["tenants"]["basicsite"]["pages"]["/"][0]["variant"] = "tiny"  # type: ignore[index]
        doc["tenants"]["basicsite"]["name"] = "Broken Bakery"  # type: ignore[index]

    save(tenants, break_it)
    time.sleep(1.0)  # ten reload intervals
    for _ in range(REQUESTS):
        response = server.get("basicsite.com")
        assert response.content == served.content, "the previous version keeps serving, byte for byte"
        assert response.headers["etag"] == served.headers["etag"]
    assert server.get("darkflows.com", "/work").content == other.content

    data = tenants.read_bytes()
    tenants.write_bytes(data[: len(data) // 2])  # a half-written save
    time.sleep(1.0)
    assert all(server.get("basicsite.com").content == served.content for _ in range(REQUESTS))

    save(tenants, rename("Fixed Bakery"), base=ROOT / "tenants.json")
    wait_until(lambda: all("Fixed Bakery" in server.get("basicsite.com").text for _ in range(REQUESTS)))

    log = server.stop()
    refusals = [line.strip() for line in log.splitlines() if "unknown variant 'tiny'" in line]
    assert 1 <= len(refusals) <= 2, log  # logged once by each worker that saw it
    assert refusals[0].startswith('tenants.basicsite.pages["/"][0].variant: unknown variant')
    assert "refused a change, still serving the previous version" in log


def test_with_redis_a_save_shows_within_two_seconds_and_is_published_once(tmp_path: Path) -> None:
    """tenants.json as the origin with Redis in front: a save reaches Redis, every worker, the history and the bus."""
    tenants = copy_demo(tmp_path)
    prefix = f"te:live-{uuid.uuid4().hex[:10]}:"
    env = {"TENANTEDGE_REDIS_URL": REDIS, "TENANTEDGE_REDIS_PREFIX": prefix}  # the default reload interval
    server = Server("--workers", "2", "--tenants", str(tenants), "--templates", str(ROOT / "templates"), env=env)
    client = redis.Redis.from_url(REDIS)
    events = client.pubsub()  # type: ignore[no-untyped-call]
    try:
        for _ in range(REQUESTS):  # both workers hold basicsite in memory, and Redis holds its copy
            assert "Basic Bakery" in server.get("basicsite.com").text
        assert client.get(f"{prefix}tenant:basicsite") is not None
        events.subscribe(f"{prefix}events")
        assert events.get_message(timeout=1) is not None  # the subscription's confirmation

        save(tenants, rename("Brand New Bakery"))
        saved = time.monotonic()
        elapsed = shown_everywhere_after(server, "Brand New Bakery", saved)
        assert elapsed < 2.0, "a save shows within two reload intervals, not Redis's TTL"
        assert b"Brand New Bakery" in (client.get(f"{prefix}tenant:basicsite") or b"")

        time.sleep(1.0)  # both workers have reloaded; only the first to record the save announces it
        announced = [orjson.loads(message["data"]) for message in iter(lambda: events.get_message(timeout=0.2), None)]
        assert [(event["type"], event["tenant"]) for event in announced] == [("tenant.updated", "basicsite")]
        records = [orjson.loads(path.read_bytes()) for path in (tmp_path / "history" / "basicsite").glob("*.json")]
        assert [(record["by"], record["document"]["name"]) for record in records] == [("file", "Brand New Bakery")]
    finally:
        events.close()
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()
        server.stop()


def test_without_redis_a_save_shows_within_two_seconds_and_is_recorded_once(tmp_path: Path) -> None:
    """tenants.json alone, several workers, the default reload interval: the file watch is the propagation."""
    tenants = copy_demo(tmp_path)
    server = Server("--workers", "2", "--tenants", str(tenants), "--templates", str(ROOT / "templates"))
    try:
        for _ in range(REQUESTS):
            assert "Basic Bakery" in server.get("basicsite.com").text
        save(tenants, rename("Brand New Bakery"))
        saved = time.monotonic()
        assert shown_everywhere_after(server, "Brand New Bakery", saved) < 2.0, "within two reload intervals"
        time.sleep(1.0)  # both workers have reloaded; only the first to record the save records it
        records = [orjson.loads(path.read_bytes()) for path in (tmp_path / "history" / "basicsite").glob("*.json")]
        assert [(record["by"], record["document"]["name"]) for record in records] == [("file", "Brand New Bakery")]
    finally:
        server.stop()
