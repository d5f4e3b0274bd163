"""An operator saves tenants.json while a real server with two workers is serving it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from tests.server import ROOT, Server

REQUESTS = 40  # on fresh connections, so both workers answer some of them


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    tenants = tmp_path / "tenants.json"
    shutil.copy(ROOT / "tenants.json", tenants)
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
    other = server.get("darkflows.com")

    def break_it(doc: dict[str, object]) -> None:
        doc["tenants"]["basicsite"]["pages"]["/"][0]["variant"] = "tiny"  # type: ignore[index]
        doc["tenants"]["basicsite"]["name"] = "Broken Bakery"  # type: ignore[index]

    save(tenants, break_it)
    time.sleep(1.0)  # ten reload intervals
    for _ in range(REQUESTS):
        response = server.get("basicsite.com")
        assert response.content == served.content, "the previous version keeps serving, byte for byte"
        assert response.headers["etag"] == served.headers["etag"]
    assert server.get("darkflows.com").content == other.content

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
