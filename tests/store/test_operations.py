"""`tenantedge sync` and `tenantedge kv` as an operator runs them, against real SeaweedFS and Redis."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
import redis.asyncio

from tenantedge.app import build_publisher, document_limits, event_bus, load_registry, redis_cache, s3_origin
from tenantedge.clock import SystemClock
from tenantedge.errors import ConfigError, DocumentError
from tenantedge.settings import Settings
from tenantedge.store.files import load_tenants_file
from tenantedge.store.operations import delete_domain, put_domain, put_tenant, sync
from tenantedge.store.publisher import Publisher
from tenantedge.tenants import TenantSet
from tests.server import ROOT, copy_demo
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedS3
from tests.store.conftest import SHARED_REDIS


class Operator:
    """Runs tenantedge commands with the environment of one S3 prefix and one Redis prefix."""

    def __init__(self, seaweed: SeaweedS3, tmp_path: Path) -> None:
        self.prefix = f"ops-{uuid.uuid4().hex[:10]}/"
        self.env = {
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "TENANTEDGE_S3_ENDPOINT": seaweed.endpoint, "TENANTEDGE_S3_BUCKET": BUCKET,
            "TENANTEDGE_S3_PREFIX": self.prefix,
            "TENANTEDGE_REDIS_URL": SHARED_REDIS, "TENANTEDGE_REDIS_PREFIX": f"te:{self.prefix}",
            "TENANTEDGE_TEMPLATES": str(ROOT / "templates"),
        }  # fmt: skip
        self.file = copy_demo(tmp_path)
        self.redis = redis.Redis.from_url(SHARED_REDIS)

    def run(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tenantedge", *args], env=self.env, capture_output=True, timeout=120, check=False,
            text=True, input=stdin.decode() if stdin else None,
        )  # fmt: skip

    def edit(self, change: Any) -> None:
        doc = orjson.loads(self.file.read_bytes())
        change(doc["tenants"])
        self.file.write_bytes(orjson.dumps(doc))

    def cached(self, kind: str, name: str) -> Any:
        data = self.redis.get(f"te:{self.prefix}{kind}:{name}")
        return orjson.loads(data) if data else None

    def cleanup(self) -> None:
        keys = list(self.redis.scan_iter(match=f"te:{self.prefix}*"))
        if keys:
            self.redis.delete(*keys)
        self.redis.close()


@pytest.fixture
def operator(seaweed: SeaweedS3, tmp_path: Path) -> Any:
    ops = Operator(seaweed, tmp_path)
    yield ops
    ops.cleanup()


def test_sync_publishes_only_what_changed(operator: Operator) -> None:
    first = operator.run("sync", str(operator.file))
    assert first.returncode == 0, first.stderr
    assert "+ codersinflow: new (version 1)" in first.stdout and "4 changed" in first.stdout
    # Not a terminal: progress is one plain line on stderr at the end, nothing redrawn, stdout as it was.
    assert re.search(r"^sync: 4 tenants in [0-9.]+ s \([0-9.,]+/s\)$", first.stderr, re.MULTILINE), first.stderr
    assert "\r" not in first.stderr
    again = operator.run("sync", str(operator.file))
    assert "= codersinflow: unchanged (version 1)" in again.stdout and "0 changed" in again.stdout

    def rename(tenants: dict[str, Any]) -> None:
        tenants["basicsite"]["name"] = "Bigger Bakery"
        tenants["basicsite"]["domains"].remove("basicsite.localhost")

    operator.edit(rename)
    third = operator.run("sync", str(operator.file))
    assert "~ basicsite: version 1 -> 2" in third.stdout and "1 changed" in third.stdout
    stored = orjson.loads(operator.run("kv", "get", "tenant", "basicsite").stdout)
    assert stored["name"] == "Bigger Bakery" and stored["version"] == 2
    assert operator.cached("tenant", "basicsite")["version"] == 2, "Redis holds the new version too"
    domains = operator.run("kv", "list", "domains").stdout.split()
    assert "basicsite.com" in domains and "basicsite.localhost" not in domains, "a dropped domain is removed"


def test_removed_tenants_are_kept_unless_pruned(operator: Operator) -> None:
    assert operator.run("sync", str(operator.file)).returncode == 0
    operator.edit(lambda tenants: tenants.pop("darkflows"))
    kept = operator.run("sync", str(operator.file))
    assert "! darkflows: stored but not in the document; kept (use --prune to remove it)" in kept.stdout
    assert "darkflows" in operator.run("kv", "list", "tenants").stdout.split()
    pruned = operator.run("sync", "--prune", str(operator.file))
    assert "- darkflows: removed" in pruned.stdout
    assert "darkflows" not in operator.run("kv", "list", "tenants").stdout.split()
    assert "*.darkflows.com" not in operator.run("kv", "list", "domains").stdout.split()


def test_kv_put_validates_first_and_bumps_the_version(operator: Operator, tmp_path: Path) -> None:
    assert operator.run("sync", str(operator.file)).returncode == 0
    bad = {"domains": ["clientsite.com"], "pages": {"/": [{"type": "Hero", "props": {"title": 7}}]}}
    refused = operator.run("kv", "put", "tenant", "clientsite", "-", stdin=orjson.dumps(bad))
    assert refused.returncode == 1
    assert 'pages["/"][0].props.title: expected string, found a number 7' in refused.stderr
    assert orjson.loads(operator.run("kv", "get", "tenant", "clientsite").stdout)["version"] == 1, "nothing stored"
    good = {"name": "New Law", "domains": ["clientsite.com"], "pages": {"/": [{"type": "Hero"}]}}
    document = tmp_path / "clientsite.json"
    document.write_bytes(orjson.dumps(good))
    stored = operator.run("kv", "put", "tenant", "clientsite", str(document))
    assert stored.returncode == 0 and "~ clientsite: version 1 -> 2" in stored.stdout
    assert "clientsite.localhost" not in operator.run("kv", "list", "domains").stdout.split()


def test_a_domain_of_another_tenant_is_not_taken_over(operator: Operator) -> None:
    assert operator.run("sync", str(operator.file)).returncode == 0
    thief = {"domains": ["thief.example", "clientsite.com"], "pages": {"/": [{"type": "Hero"}]}}
    refused = operator.run("kv", "put", "tenant", "thief", "-", stdin=orjson.dumps(thief))
    assert refused.returncode == 1 and "domain 'clientsite.com' belongs to tenant 'clientsite'" in refused.stderr
    assert "thief" not in operator.run("kv", "list", "tenants").stdout.split()


def test_kv_delete_and_errors(operator: Operator) -> None:
    assert operator.run("sync", str(operator.file)).returncode == 0
    assert operator.run("kv", "delete", "tenant", "basicsite").returncode == 0
    missing = operator.run("kv", "get", "tenant", "basicsite")
    assert missing.returncode == 1 and "no tenant 'basicsite'" in missing.stderr
    assert operator.cached("tenant", "basicsite") is None
    assert "basicsite.com" not in operator.run("kv", "list", "domains").stdout.split()


def test_sync_needs_somewhere_to_write(operator: Operator) -> None:
    env = {k: v for k, v in operator.env.items() if not k.startswith(("TENANTEDGE_S3", "TENANTEDGE_REDIS"))}
    result = subprocess.run(
        [sys.executable, "-m", "tenantedge", "sync", str(operator.file)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "sync and kv publish to S3: set TENANTEDGE_S3_BUCKET" in result.stderr


# -- sync against an admin's writes, in process: the same Publisher the serving workers use ------------------


@pytest.fixture
async def publishing(seaweed: SeaweedS3, prefix: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Publishing]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    settings = Settings(
        templates_dir=ROOT / "templates",
        s3_endpoint=seaweed.endpoint,
        s3_bucket=BUCKET,
        s3_prefix=prefix,
        redis_url=SHARED_REDIS,
        redis_prefix=f"te:{prefix}",
    )
    registry = load_registry(settings)
    clock = SystemClock()
    s3, cache, bus = s3_origin(settings, clock), redis_cache(settings, clock), event_bus(settings)
    assert s3 is not None
    limits = document_limits(settings, "admin.localhost")
    publisher = build_publisher(settings, registry, bus, s3=s3, files=None, cache=cache, limits=limits)
    tenants = load_tenants_file(ROOT / "tenants.json", registry, documents=True)
    yield Publishing(publisher, tenants)
    await publisher.close()
    await bus.close()
    for tier in (s3, cache):
        if tier is not None:
            await tier.close()


@dataclass
class Publishing:
    publisher: Publisher
    tenants: TenantSet

    async def admin_renames(self, tenant_id: str, name: str) -> int:
        current = await self.publisher.load(tenant_id)
        assert current is not None
        document = await self.publisher.write(
            tenant_id, lambda found: {**(found or {}), "name": name}, if_match=current["version"], by="alice",
            action="patch",
        )  # fmt: skip
        return int(document["version"])


@pytest.mark.anyio
async def test_a_sync_racing_an_admin_save_gets_a_conflict(
    publishing: Publishing, monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher = publishing.publisher
    assert all(line.startswith("+") for line in await sync(publishing.tenants, publisher, by="cli:ops"))
    renamed = rename_in(publishing.tenants, "basicsite", "Operator's Bakery")
    read = publisher.load

    async def load_then_admin_saves(tenant_id: str) -> Any:
        found = await read(tenant_id)  # the sync has read the version it will replace: now an admin saves
        if tenant_id == "basicsite":
            monkeypatch.setattr(publisher, "load", read)  # the admin reads as usual
            await publishing.admin_renames("basicsite", "Alice's Bakery")
        return found

    monkeypatch.setattr(publisher, "load", load_then_admin_saves)
    lines = await sync(renamed, publisher, by="cli:ops")
    assert [line for line in lines if line.startswith("! basicsite")] == [
        "! basicsite: not written: tenant basicsite: version 1 is not the current one (2); "
        "reload it and apply your change again"
    ]
    stored = await read("basicsite")
    assert stored is not None and (stored["name"], stored["version"]) == ("Alice's Bakery", 2), "the admin's save stays"


@pytest.mark.anyio
async def test_a_sync_does_not_replace_what_an_admin_published_since(publishing: Publishing) -> None:
    publisher = publishing.publisher
    await sync(publishing.tenants, publisher, by="cli:ops")
    assert await publishing.admin_renames("basicsite", "Alice's Bakery") == 2
    renamed = rename_in(publishing.tenants, "basicsite", "Operator's Bakery")
    refused = await sync(renamed, publisher, by="cli:ops")
    conflict = next(line for line in refused if line.startswith("! basicsite"))
    assert "version 2 was published by 'alice' at the admin" in conflict and "sync --force" in conflict
    assert (await publisher.load("basicsite") or {})["name"] == "Alice's Bakery"

    forced = await sync(renamed, publisher, by="cli:ops", force=True)
    assert "~ basicsite: version 2 -> 3" in forced
    assert (await publisher.load("basicsite") or {})["name"] == "Operator's Bakery"
    kept = await publisher.version("basicsite", 2)
    assert (kept["by"], kept["document"]["name"]) == ("alice", "Alice's Bakery"), "the admin's version can be restored"
    newest = await publisher.version("basicsite", 3)
    assert (newest["by"], newest["action"]) == ("cli:ops", "sync")


@pytest.mark.anyio
async def test_a_sync_is_announced_and_mirrored_like_an_admin_write(publishing: Publishing, prefix: str) -> None:
    publisher = publishing.publisher
    await sync(publishing.tenants, publisher, by="cli:ops")
    listener = redis.asyncio.Redis.from_url(SHARED_REDIS)
    async with listener.pubsub() as pubsub:
        await _announced_and_mirrored(publishing, listener, pubsub, prefix)
    await listener.aclose()


async def _announced_and_mirrored(publishing: Publishing, listener: Any, pubsub: Any, prefix: str) -> None:
    publisher = publishing.publisher
    await pubsub.subscribe(f"te:{prefix}events")
    await pubsub.get_message(timeout=1)  # the subscription's confirmation
    renamed = rename_in(publishing.tenants, "basicsite", "Announced Bakery")
    assert "~ basicsite: version 1 -> 2" in await sync(renamed, publisher, by="cli:ops")
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    assert message is not None
    event = orjson.loads(message["data"])
    assert (event["type"], event["tenant"], event["version"]) == ("tenant.updated", "basicsite", 2)
    cached = await listener.get(f"te:{prefix}tenant:basicsite")
    assert cached is not None and orjson.loads(cached)["name"] == "Announced Bakery"


def rename_in(tenants: TenantSet, tenant_id: str, name: str) -> TenantSet:
    documents = dict(tenants.documents)
    documents[tenant_id] = orjson.dumps({**orjson.loads(documents[tenant_id]), "name": name})
    return replace(tenants, documents=documents)


@pytest.mark.anyio
async def test_kv_domain_writes_edit_the_tenant_that_claims_the_host(publishing: Publishing) -> None:
    publisher = publishing.publisher
    await sync(publishing.tenants, publisher, by="cli:ops")
    routed = orjson.dumps({"tenant": "basicsite", "rule": "alias", "canonical": "basicsite.com"})
    assert await put_domain("Bakery.Example", routed, publisher, by="cli:ops") == (
        "~ domain bakery.example -> basicsite (alias)"
    )
    stored = await publisher.load("basicsite") or {}
    assert "bakery.example" in stored["aliases"] and stored["version"] == 2
    assert (await publisher.version("basicsite", 2))["action"] == "kv put domain bakery.example"
    taken = orjson.dumps({"tenant": "clientsite", "rule": "exact", "canonical": "x"})
    with pytest.raises(ConfigError, match="belongs to tenant 'basicsite'; remove it there first"):
        await put_domain("bakery.example", taken, publisher, by="cli:ops")
    await delete_domain("bakery.example", publisher, by="cli:ops")
    assert "bakery.example" not in (await publisher.load("basicsite") or {})["aliases"]
    assert await publisher.origin.owner_of("bakery.example") is None
    with pytest.raises(ConfigError, match="no tenant claims it"):
        await delete_domain("bakery.example", publisher, by="cli:ops")


# -- what no write path may claim ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "message"),
    [
        pytest.param("hijack.darkflows.com", "covered by '*.darkflows.com' of tenant 'darkflows'", id="covered"),
        pytest.param("*.codersinflow.com", "covers 'codersinflow.com' of tenant 'codersinflow'", id="covers"),
        pytest.param("*.com", "public suffix", id="too-broad"),
        pytest.param("127.0.0.1", "IP address", id="ip"),
        pytest.param("admin.localhost", "admin host", id="admin"),
    ],
)
@pytest.mark.anyio
async def test_kv_and_sync_cannot_take_a_host_over(publishing: Publishing, host: str, message: str) -> None:
    publisher = publishing.publisher
    await sync(publishing.tenants, publisher, by="cli:ops")
    rule = "wildcard" if host.startswith("*.") else "exact"
    routed = orjson.dumps({"tenant": "basicsite", "rule": rule, "canonical": "basicsite.com"})
    with pytest.raises((DocumentError, ConfigError), match=re.escape(message)):
        await put_domain(host, routed, publisher, by="cli:ops")
    document = {**orjson.loads(publishing.tenants.documents["basicsite"]), "domains": ["basicsite.com", host]}
    with pytest.raises(DocumentError, match=re.escape(message)):
        await put_tenant("basicsite", orjson.dumps(document), publisher, "basicsite.json", by="cli:ops")
    alone = replace(publishing.tenants, tenants={"basicsite": publishing.tenants.tenants["basicsite"]})
    alone = replace(alone, documents={"basicsite": orjson.dumps(document)})
    with pytest.raises(DocumentError, match=re.escape(message)):
        await sync(alone, publisher, by="cli:ops")
    stored = await publisher.load("basicsite") or {}
    assert stored["version"] == 1 and host not in stored["domains"]
    assert await publisher.origin.owner_of(host) in (None, "darkflows", "codersinflow")
