"""The admin over S3 and Redis: where each write lands, in the real SeaweedFS and Redis, and what stays untouched."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from tenantedge.app import create_app
from tenantedge.clock import ManualClock
from tenantedge.errors import VersionConflict
from tenantedge.http.edge import EdgeApp
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tenantedge.store.layout import DOMAIN, DRAFT, HISTORY, TENANT, DocKey
from tenantedge.store.origins import ObjectTenantOrigin
from tenantedge.store.s3 import S3Tier
from tests.admin.conftest import ROOT
from tests.conftest import running
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedS3, publish_demo

REDIS = "redis://127.0.0.1:6379/0"
TOKEN = "s3-origin-test-token-01"
ADMIN = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)


class Stack:
    def __init__(self, app: EdgeApp, s3: S3Tier, redis: aioredis.Redis, redis_prefix: str, prefix: str) -> None:
        self.app, self.s3, self.redis, self.redis_prefix, self.prefix = app, s3, redis, redis_prefix, prefix
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
        self.http = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async def api(self, method: str, path: str, body: object = None, **headers: str) -> httpx.Response:
        extra = {"content-type": "application/json"} if body is not None else {}
        content = orjson.dumps(body) if body is not None else None
        return await self.http.request(method, path, content=content, headers={**ADMIN, **extra, **headers})

    async def site(self, host: str, path: str = "/") -> httpx.Response:
        return await self.http.get(path, headers={"host": host, "accept-encoding": "identity"})

    async def stored(self, kind: str, name: str) -> object:
        data = await self.s3.get((kind, name))
        return None if data is None else orjson.loads(data)

    async def cached(self, kind: str, name: str) -> object:
        data = await self.redis.get(f"{self.redis_prefix}{kind}:{name}")
        return None if data is None else orjson.loads(data)


@pytest.fixture
async def stack(seaweed: SeaweedS3, registry: SectionRegistry) -> AsyncIterator[Stack]:
    prefix = f"admin-{uuid.uuid4().hex[:10]}/"
    redis_prefix = f"te:{prefix}"
    await publish_demo(seaweed.endpoint, prefix, registry)
    settings = Settings(
        templates_dir=ROOT / "templates",
        s3_endpoint=seaweed.endpoint,
        s3_bucket=BUCKET,
        s3_prefix=prefix,
        redis_url=REDIS,
        redis_prefix=redis_prefix,
        admin_token=TOKEN,
    )
    app = create_app(settings)
    s3 = S3Tier(seaweed.endpoint, BUCKET, ManualClock(), prefix=prefix)
    redis = aioredis.Redis.from_url(REDIS)
    stack = Stack(app, s3, redis, redis_prefix, prefix)
    async with running(app):
        yield stack
    await stack.http.aclose()
    await s3.close()
    keys = [key async for key in redis.scan_iter(match=f"{redis_prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@pytest.mark.anyio
async def test_a_patch_lands_in_history_then_s3_then_redis_and_serves(stack: Stack) -> None:
    assert "Basic Bakery" in (await stack.site("basicsite.com")).text
    etag = (await stack.api("GET", "/api/tenants/basicsite")).headers["etag"]
    assert etag == '"1"'
    response = await stack.api("PATCH", "/api/tenants/basicsite", {"name": "Bakery on S3"}, **{"if-match": etag})
    assert response.status_code == 200 and response.headers["etag"] == '"2"'
    stored = await stack.stored(TENANT, "basicsite")
    assert isinstance(stored, dict) and stored["name"] == "Bakery on S3" and stored["version"] == 2
    cached = await stack.cached(TENANT, "basicsite")
    assert isinstance(cached, dict) and cached["version"] == 2
    assert await stack.s3.names(HISTORY, "basicsite/") == ["basicsite/1", "basicsite/2"]
    imported = await stack.stored(HISTORY, "basicsite/1")
    assert isinstance(imported, dict) and imported["action"] == "imported"
    assert imported["document"]["name"] == "Basic Bakery"
    assert "Bakery on S3" in (await stack.site("basicsite.com")).text


@pytest.mark.anyio
async def test_list_and_search_read_every_tenant_from_s3(stack: Stack) -> None:
    listing = (await stack.api("GET", "/api/tenants")).json()
    assert listing["total"] == 4
    found = (await stack.api("GET", "/api/tenants?q=harbor")).json()
    assert [item["id"] for item in found["items"]] == ["clientsite"]


@pytest.mark.anyio
async def test_a_domain_another_tenant_holds_is_refused_and_nothing_is_stored(stack: Stack) -> None:
    document = {"id": "intruder", "name": "Intruder", "domains": ["intruder.example", "basicsite.com"]}
    response = await stack.api("POST", "/api/tenants", document)
    assert response.status_code == 422
    assert response.json()["issues"][0]["path"] == "domains[1]"
    assert "belongs to tenant 'basicsite'" in response.json()["issues"][0]["message"]
    assert await stack.stored(TENANT, "intruder") is None
    assert await stack.stored(DOMAIN, "intruder.example") is None
    assert await stack.s3.names(HISTORY, "intruder/") == []
    assert "Basic Bakery" in (await stack.site("basicsite.com")).text


@pytest.mark.anyio
async def test_a_new_tenant_is_created_everywhere_and_served(stack: Stack) -> None:
    assert (await stack.site("newcomer.example")).status_code == 404
    document = {"id": "newcomer", "name": "Newcomer", "domains": ["newcomer.example"], "aliases": ["newcomer.net"]}
    assert (await stack.api("POST", "/api/tenants", document)).status_code == 201
    domain = await stack.stored(DOMAIN, "newcomer.example")
    assert isinstance(domain, dict) and domain["tenant"] == "newcomer" and domain["rule"] == "exact"
    assert isinstance(await stack.cached(DOMAIN, "newcomer.net"), dict)
    page = await stack.site("newcomer.example")
    assert page.status_code == 200 and "Newcomer" in page.text
    assert (await stack.site("newcomer.net")).status_code == 301


@pytest.mark.anyio
async def test_drafts_live_in_s3_until_published(stack: Stack) -> None:
    draft = [{"type": "Hero", "props": {"title": "Drafted on S3"}}]
    assert (await stack.api("PUT", "/api/tenants/darkflows/drafts/", draft)).status_code == 200
    record = await stack.stored(DRAFT, "darkflows/@")
    assert isinstance(record, dict) and record["page"] == draft
    assert "Drafted on S3" not in (await stack.site("darkflows.com")).text
    response = await stack.api("POST", "/api/tenants/darkflows/publish/", **{"if-match": '"1"'})
    assert response.status_code == 200
    assert await stack.stored(DRAFT, "darkflows/@") is None
    assert "Drafted on S3" in (await stack.site("darkflows.com")).text


@pytest.mark.anyio
async def test_delete_removes_the_tenant_and_its_domains_and_keeps_history(stack: Stack) -> None:
    response = await stack.api("DELETE", "/api/tenants/darkflows", **{"if-match": '"1"'})
    assert response.status_code == 204
    assert await stack.stored(TENANT, "darkflows") is None
    assert await stack.stored(DOMAIN, "darkflows.com") is None
    assert await stack.stored(DOMAIN, "*.darkflows.com") is None
    assert await stack.cached(TENANT, "darkflows") is None
    assert await stack.s3.names(HISTORY, "darkflows/") == ["darkflows/1"]
    assert (await stack.site("darkflows.com")).status_code == 404
    restored = await stack.api(
        "POST", "/api/tenants", {"id": "darkflows", "name": "Back", "domains": ["darkflows.com"]}
    )
    assert restored.status_code == 201 and restored.headers["etag"] == '"2"'  # versions go on from the history


# Machines that share S3 but no Redis share no write lock: the bucket's conditional writes keep them apart.


@pytest.fixture
async def other(seaweed: SeaweedS3, stack: Stack, registry: SectionRegistry) -> AsyncIterator[ObjectTenantOrigin]:
    """The same bucket, written from another machine."""
    s3 = S3Tier(seaweed.endpoint, BUCKET, ManualClock(), prefix=stack.prefix)
    yield ObjectTenantOrigin(s3, registry)
    await s3.close()


@pytest.mark.anyio
async def test_a_write_made_elsewhere_after_the_version_check_is_not_overwritten(
    stack: Stack, other: ObjectTenantOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = {**orjson.loads(await stack.s3.get((TENANT, "basicsite")) or b"{}"), "name": "Theirs", "version": 2}
    other_s3 = other._s3
    reads = 0
    original = S3Tier.get_tagged

    async def another_write_lands_after_the_first_read(self: S3Tier, key: DocKey) -> tuple[bytes, str] | None:
        nonlocal reads
        found = await original(self, key)
        if key == (TENANT, "basicsite") and self is not other_s3:
            reads += 1
            if reads == 1:  # the admin has read version 1 and checked If-Match against it
                await other.commit("basicsite", theirs, 1)
        return found

    monkeypatch.setattr(S3Tier, "get_tagged", another_write_lands_after_the_first_read)
    response = await stack.api("PATCH", "/api/tenants/basicsite", {"name": "Mine"}, **{"if-match": '"1"'})
    assert response.status_code == 409, response.text
    assert "another writer changed it" in response.json()["detail"]
    assert response.headers["etag"] == '"2"'  # the version to reload
    stored = await stack.stored(TENANT, "basicsite")
    assert isinstance(stored, dict) and stored["name"] == "Theirs" and stored["version"] == 2
    # The refused write leaves no history record (nor the record of version 1 it would have imported).
    assert await stack.s3.names(HISTORY, "basicsite/") == []


@pytest.mark.parametrize("exists", [True, False])
@pytest.mark.anyio
async def test_a_copy_landing_between_the_read_and_the_write_wins_and_this_one_is_refused(
    stack: Stack,
    other: ObjectTenantOrigin,
    registry: SectionRegistry,
    monkeypatch: pytest.MonkeyPatch,
    exists: bool,
) -> None:
    tenant_id = "basicsite" if exists else "racer"
    base = {"name": "Base", "domains": [f"{tenant_id}.example"]} if not exists else {}
    current = orjson.loads(await stack.s3.get((TENANT, tenant_id)) or b"null") or base
    version = 1 if exists else None
    mine = ObjectTenantOrigin(stack.s3, registry)
    original = S3Tier.get_tagged

    async def read_then_race(self: S3Tier, key: DocKey) -> tuple[bytes, str] | None:
        found = await original(self, key)
        if self is stack.s3 and key == (TENANT, tenant_id):
            monkeypatch.setattr(S3Tier, "get_tagged", original)
            await other.commit(tenant_id, {**current, "name": "Theirs", "version": (version or 0) + 1}, version)
        return found

    monkeypatch.setattr(S3Tier, "get_tagged", read_then_race)
    with pytest.raises(VersionConflict, match="another writer changed it"):
        await mine.commit(tenant_id, {**current, "name": "Mine", "version": (version or 0) + 1}, version)
    stored = await stack.stored(TENANT, tenant_id)
    assert isinstance(stored, dict) and stored["name"] == "Theirs"


@pytest.mark.anyio
async def test_a_commit_naming_a_version_the_bucket_no_longer_holds_is_refused(
    stack: Stack, registry: SectionRegistry
) -> None:
    origin = ObjectTenantOrigin(stack.s3, registry)
    current = orjson.loads(await stack.s3.get((TENANT, "basicsite")) or b"{}")
    with pytest.raises(VersionConflict) as refused:
        await origin.commit("basicsite", {**current, "name": "Late", "version": 8}, 7)
    assert refused.value.current == 1
    with pytest.raises(VersionConflict):
        await origin.commit("basicsite", None, 7)  # nor is a delete
    stored = await stack.stored(TENANT, "basicsite")
    assert isinstance(stored, dict) and stored["name"] == "Basic Bakery"


# -- hosts another tenant holds, and tenants with many of them ---------------------------------------------


@pytest.mark.parametrize(
    ("host", "owner"),
    [
        pytest.param("hijack.darkflows.com", "darkflows", id="under-a-wildcard"),
        pytest.param("*.x.darkflows.com", "darkflows", id="wildcard-under-a-wildcard"),
        pytest.param("*.codersinflow.com", "codersinflow", id="wildcard-over-domains"),
        pytest.param("*.clientsite.com", "clientsite", id="wildcard-over-an-alias"),
    ],
)
@pytest.mark.anyio
async def test_a_host_another_tenant_covers_is_refused_on_s3(stack: Stack, host: str, owner: str) -> None:
    change = {"domains": ["basicsite.com", host]}
    response = await stack.api("PATCH", "/api/tenants/basicsite", change, **{"if-match": '"1"'})
    assert response.status_code == 422, response.text
    (issue,) = response.json()["issues"]
    assert issue["path"] == "domains[1]" and f"tenant {owner!r}" in issue["message"], issue
    assert await stack.stored(DOMAIN, host) is None
    stored = await stack.stored(TENANT, "basicsite")
    assert isinstance(stored, dict) and stored["domains"] == ["basicsite.com", "basicsite.localhost"]


@pytest.mark.anyio
async def test_a_tenant_with_a_thousand_domains_is_published_to_s3_and_redis(stack: Stack) -> None:
    hosts = [f"h{number}.basicsite.com" for number in range(999)]
    started = time.perf_counter()
    response = await stack.api(
        "PATCH", "/api/tenants/basicsite", {"domains": ["basicsite.com", *hosts]}, **{"if-match": '"1"'}
    )
    took = time.perf_counter() - started
    assert response.status_code == 200, response.text[:300]
    print(f"\npublished 1,000 domains to S3 and Redis in {took:.2f} s")
    stored = set(await stack.s3.names(DOMAIN))
    assert {"basicsite.com", *hosts} <= stored and "basicsite.localhost" not in stored
    for host in ("basicsite.com", hosts[0], hosts[500], hosts[-1]):
        expected = {"tenant": "basicsite", "rule": "exact", "canonical": "basicsite.com", "version": 2}
        assert await stack.stored(DOMAIN, host) == expected
    cached = [
        key async for key in stack.redis.scan_iter(match=f"{stack.redis_prefix}domain:h*.basicsite.com", count=1000)
    ]
    assert len(cached) == 999
    assert await stack.cached(DOMAIN, hosts[-1]) == {
        "tenant": "basicsite",
        "rule": "exact",
        "canonical": "basicsite.com",
        "version": 2,
    }
    assert "Basic Bakery" in (await stack.site(hosts[-1])).text

    shrunk = await stack.api(
        "PATCH", "/api/tenants/basicsite", {"domains": ["basicsite.com", hosts[0]]}, **{"if-match": '"2"'}
    )
    assert shrunk.status_code == 200
    left = set(await stack.s3.names(DOMAIN))
    assert hosts[0] in left and not (set(hosts[1:]) & left)
    assert [key async for key in stack.redis.scan_iter(match=f"{stack.redis_prefix}domain:h*.basicsite.com")] == [
        f"{stack.redis_prefix}domain:{hosts[0]}".encode()
    ]
    assert (await stack.site(hosts[-1])).status_code == 404
