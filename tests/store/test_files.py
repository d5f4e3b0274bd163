from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import orjson
import pytest

from tenantedge.errors import ConfigError, DocumentError
from tenantedge.sections import SectionRegistry
from tenantedge.store.files import FileStore, load_tenants_file
from tenantedge.tenants import DocumentLimits, TenantSet
from tests.server import copy_demo

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.anyio


@pytest.fixture
def tenants(tmp_path: Path) -> Path:
    path = copy_demo(tmp_path)
    return path


def renamed(path: Path, tenant: str, name: str) -> bytes:
    doc = orjson.loads(path.read_bytes())
    doc["tenants"][tenant]["name"] = name
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def touch_later(path: Path) -> None:
    """Make sure the next write gets a different mtime even on coarse clocks."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


async def settle(store: FileStore) -> set[str] | None:
    """Two checks: the first sees the save, the second reads it once it held still."""
    await store.check()
    return await store.check()


def test_missing_and_unreadable_files(tmp_path: Path, registry: SectionRegistry) -> None:
    with pytest.raises(ConfigError, match="tenants file not found"):
        load_tenants_file(tmp_path / "nope.json", registry)
    with pytest.raises(ConfigError, match="cannot read tenants file"):
        load_tenants_file(tmp_path, registry)


async def test_lookup(tenants: Path, registry: SectionRegistry) -> None:
    store = FileStore.open(tenants, registry)
    found = store.peek("www.codersinflow.com")
    assert found is not None and found[1].id == "codersinflow"
    assert await store.resolve("www.codersinflow.com") == found
    assert store.peek("nobody.example") is None and await store.resolve("nobody.example") is None
    assert (await store.get_tenant("basicsite")) is store.tenants.tenants["basicsite"]


async def test_a_valid_save_reloads_only_what_changed(tenants: Path, registry: SectionRegistry) -> None:
    store = FileStore.open(tenants, registry)
    before = store.tenants
    assert await store.check() is None, "nothing saved yet"
    tenants.write_bytes(renamed(tenants, "basicsite", "Better Bakery"))
    touch_later(tenants)
    assert await store.check() is None, "a fresh save is not read until it holds still"
    assert store.tenants is before
    assert await store.check() == {"basicsite"}
    assert store.tenants.tenants["basicsite"].name == "Better Bakery"
    assert store.tenants.tenants["darkflows"] is before.tenants["darkflows"]
    assert await store.check() is None


async def test_a_file_still_being_written_is_not_read(tenants: Path, registry: SectionRegistry) -> None:
    store = FileStore.open(tenants, registry)
    full = renamed(tenants, "basicsite", "Half Bakery")
    with tenants.open("wb") as handle:
        handle.write(full[: len(full) // 2])
        handle.flush()
        assert await store.check() is None
        handle.write(full[len(full) // 2 : len(full) // 2 + 10])
        handle.flush()
        touch_later(tenants)
        assert await store.check() is None, "it changed since the last look: still being written"
        handle.write(full[len(full) // 2 + 10 :])
    touch_later(tenants)
    assert await settle(store) == {"basicsite"}
    assert store.tenants.tenants["basicsite"].name == "Half Bakery"


async def test_an_invalid_save_is_refused_and_logged_once(
    tenants: Path, registry: SectionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileStore.open(tenants, registry)
    before = store.tenants
    doc = orjson.loads(tenants.read_bytes())
    doc["tenants"]["clientsite"]["pages"]["/"][1]["type"] = "Servces"
    tenants.write_bytes(orjson.dumps(doc))
    touch_later(tenants)
    with caplog.at_level(logging.ERROR, logger="tenantedge.store"):
        assert await settle(store) is None
        for _ in range(3):
            assert await store.check() is None
        os.utime(tenants)  # saved again with the same broken content
        assert await settle(store) is None
    assert store.tenants is before
    errors = [record.getMessage() for record in caplog.records]
    assert len(errors) == 1
    assert "tenants.clientsite.pages[\"/\"][1].type: unknown section 'Servces' (did you mean 'Services'?)" in errors[0]
    assert "still serving the previous version" in errors[0]


@pytest.mark.parametrize(
    ("hosts", "path", "message"),
    [
        pytest.param(
            ["basicsite.com", "hijack.darkflows.com"],
            "tenants.basicsite.domains[1]",
            "domain 'hijack.darkflows.com' is covered by '*.darkflows.com' of tenant 'darkflows'",
            id="under-another-wildcard",
        ),
        pytest.param(["basicsite.com", "*.com"], "tenants.basicsite.domains[1]", "public suffix", id="too-broad"),
        pytest.param(["basicsite.com", "127.0.0.1"], "tenants.basicsite.domains[1]", "IP address", id="ip"),
        pytest.param(["basicsite.com", "admin.localhost"], "tenants.basicsite.domains[1]", "admin host", id="admin"),
    ],
)
async def test_a_save_taking_a_host_over_is_refused_and_the_old_file_serves(
    tenants: Path,
    registry: SectionRegistry,
    caplog: pytest.LogCaptureFixture,
    hosts: list[str],
    path: str,
    message: str,
) -> None:
    store = FileStore.open(tenants, registry, limits=DocumentLimits(reserved=frozenset({"admin.localhost"})))
    before = store.tenants
    doc = orjson.loads(tenants.read_bytes())
    doc["tenants"]["basicsite"]["domains"] = hosts
    tenants.write_bytes(orjson.dumps(doc))
    touch_later(tenants)
    with caplog.at_level(logging.ERROR, logger="tenantedge.store"):
        assert await settle(store) is None
    assert store.tenants is before
    found = store.peek(hosts[1].replace("*", "www"))
    assert found is None or found[1].id != "basicsite"
    (error,) = [record.getMessage() for record in caplog.records]
    assert f"{tenants}: 1 error" in error and f"{path}: " in error and message in error, error


async def test_half_written_json_is_refused(tenants: Path, registry: SectionRegistry) -> None:
    store = FileStore.open(tenants, registry)
    before = store.tenants
    data = tenants.read_bytes()
    tenants.write_bytes(data[: len(data) // 3])
    touch_later(tenants)
    assert await settle(store) is None
    assert store.tenants is before
    tenants.write_bytes(renamed(ROOT / "tenants.json", "darkflows", "Dark Flows"))
    touch_later(tenants)
    assert await settle(store) == {"darkflows"}


async def test_a_save_by_rename_is_seen(tenants: Path, registry: SectionRegistry) -> None:
    store = FileStore.open(tenants, registry)
    temporary = tenants.with_suffix(".tmp")
    temporary.write_bytes(renamed(tenants, "codersinflow", "Coders in Flux"))
    os.replace(temporary, tenants)
    assert await settle(store) == {"codersinflow"}


async def test_a_removed_tenant_is_reported(tenants: Path, registry: SectionRegistry) -> None:
    store = FileStore.open(tenants, registry)
    doc = orjson.loads(tenants.read_bytes())
    del doc["tenants"]["basicsite"]
    tenants.write_bytes(orjson.dumps(doc))
    touch_later(tenants)
    assert await settle(store) == {"basicsite"}
    assert store.peek("basicsite.com") is None


async def test_watch_calls_back(tenants: Path, registry: SectionRegistry) -> None:
    store = FileStore.open(tenants, registry)
    seen: asyncio.Queue[tuple[set[str], TenantSet]] = asyncio.Queue()
    before = store.tenants

    async def reloaded(changed: set[str], previous: TenantSet) -> None:
        seen.put_nowait((changed, previous))

    task = asyncio.create_task(store.watch(0.01, reloaded))
    try:
        tenants.write_bytes(renamed(tenants, "darkflows", "Darker Flows"))
        touch_later(tenants)
        assert await asyncio.wait_for(seen.get(), timeout=10) == ({"darkflows"}, before)
    finally:
        task.cancel()


def test_document_error_lists_every_issue(tmp_path: Path, registry: SectionRegistry) -> None:
    bad = tmp_path / "t.json"
    bad.write_text('{"tenants": {"a": {"domains": ["a.com"], "pages": {"/": [{"type": "X"}, {"type": "Y"}]}}}}')
    with pytest.raises(DocumentError) as caught:
        load_tenants_file(bad, registry)
    assert len(caught.value.issues) == 2
