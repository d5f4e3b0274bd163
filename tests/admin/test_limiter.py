"""The brake on guessing admin tokens: wrong tokens are slowed, per address and per token, and the right one always
passes, on the API, the sign-in form and the WebSocket; counted in Redis for every worker, or locally without it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from tenantedge.admin.limiter import LocalFailures, RedisFailures, subjects
from tenantedge.admin.live import TOO_MANY_FAILURES, UNAUTHORIZED
from tenantedge.clock import ManualClock
from tenantedge.http.edge import EdgeApp
from tests.admin.conftest import ADMIN_HOST, FULL_TOKEN, OTHER_PEER, PEER, connect, problem
from tests.conftest import running
from tests.services import PrivateRedis, free_port

pytestmark = pytest.mark.anyio

REDIS = "redis://127.0.0.1:6379/0"
BUDGET = 10  # TENANTEDGE_ADMIN_FAILURES by default


def wrong(n: int) -> str:
    return f"wrong-token-{n:012d}"


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own in the shared Redis, emptied afterwards."""
    prefix = f"te:limits-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = aioredis.Redis.from_url(REDIS)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def counted(url: str, key: str) -> list[str]:
    """The subjects a hash of counts in Redis holds."""
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        return sorted(str(field) for field in await client.hkeys(key))
    finally:
        await client.aclose()


# -- the limiter alone ------------------------------------------------------------------------------------


async def test_wrong_tokens_past_the_budget_wait_for_the_window_to_end() -> None:
    clock = ManualClock()
    limiter = LocalFailures(clock, limit=3, window=60)
    assert [await limiter.failed(PEER, wrong(n)) for n in range(3)] == [0, 0, 0]
    clock.advance(20)
    assert await limiter.failed(PEER, wrong(3)) == 40  # the window started with the first failure
    clock.advance(40)
    assert await limiter.failed(PEER, wrong(4)) == 0  # a new window, counted from zero


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        pytest.param("203.0.113.9", "203.0.113.10", False, id="ipv4-neighbours"),
        pytest.param("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True, id="ipv6-same-64"),
        pytest.param("2001:db8:1:2::1", "2001:db8:1:3::1", False, id="ipv6-other-64"),
        pytest.param("testclient", "testclient", True, id="not-an-address"),
    ],
)
async def test_an_ipv6_client_is_counted_by_its_64(first: str, second: str, shared: bool) -> None:
    limiter = LocalFailures(ManualClock(), limit=1)
    await limiter.failed(first, None)
    assert (await limiter.failed(second, None) > 0) == shared


async def test_one_token_is_counted_whatever_address_sends_it() -> None:
    limiter = LocalFailures(ManualClock(), limit=2)
    assert await limiter.failed("192.0.2.1", "stolen-but-revoked-01") == 0
    assert await limiter.failed("192.0.2.2", "stolen-but-revoked-01") == 0
    assert await limiter.failed("192.0.2.3", "stolen-but-revoked-01") > 0
    assert await limiter.failed("192.0.2.4", "another-guess-000001") == 0


def test_the_token_is_counted_by_a_hash_never_as_sent() -> None:
    counted = subjects(PEER, FULL_TOKEN)
    assert counted[0] == f"addr:{PEER}"
    assert FULL_TOKEN not in "".join(counted) and len(counted[1]) == len("token:") + 32


async def test_a_spray_of_addresses_cannot_grow_memory() -> None:
    limiter = LocalFailures(ManualClock(), limit=3, subjects=50)
    known = await limiter.failed("192.0.2.1", None)
    refused = [await limiter.failed(f"10.0.{n // 256}.{n % 256}", None) > 0 for n in range(1000)]
    assert len(limiter._counts) <= 51  # the cap, and the one counter new subjects share past it
    assert not any(refused[:49]) and all(refused[60:])  # past the cap the spray is refused as a group
    assert known == 0 and await limiter.failed("192.0.2.1", None) == 0  # a subject already counted keeps its own


async def test_redis_counts_are_bounded_hashed_and_expire(redis_prefix: str) -> None:
    limiter = RedisFailures(REDIS, ManualClock(), prefix=redis_prefix, limit=3, window=30, subjects=50)
    client = aioredis.Redis.from_url(REDIS)
    try:
        for n in range(200):
            await limiter.failed(f"10.1.0.{n}", wrong(n))
        key = f"{redis_prefix}authfail:counts"
        fields = await counted(REDIS, key)
        assert len(fields) <= 51 and "overflow" in fields
        assert not any("wrong-token" in field for field in fields)
        assert 0 < await client.pttl(key) <= 30_000
    finally:
        await client.aclose()
        await limiter.close()


async def test_without_redis_failures_are_counted_locally_until_it_is_back() -> None:
    server = PrivateRedis()
    clock = ManualClock()
    limiter = RedisFailures(server.url, clock, prefix="te:limits:", limit=2, window=60, timeout=0.5)
    try:
        server.stop()
        assert [await limiter.failed(PEER, None) for _ in range(2)] == [0, 0]  # no error, and not refused yet
        assert await limiter.failed(PEER, None) == 60  # counted here, with this worker's clock
        server.start()
        clock.advance(5)  # Redis is asked again once the breaker's cool-down has passed
        assert await limiter.failed(OTHER_PEER, None) == 0
        assert await counted(server.url, "te:limits:authfail:counts") == [f"addr:{OTHER_PEER}"]
    finally:
        await limiter.close()
        server.stop()


# -- the admin's three doors: API, sign-in form, WebSocket ----------------------------------------------------


async def test_the_right_token_passes_the_api_after_others_failed_from_its_address(app: EdgeApp) -> None:
    async with connect(app, PEER) as guesser, connect(app, OTHER_PEER) as other:
        for n in range(BUDGET):
            problem(await guesser.get("/api/tenants", token=wrong(n)), 401)
        for n in range(BUDGET, BUDGET + 3):
            response = await guesser.get("/api/tenants", token=wrong(n))
            assert "too many" in problem(response, 429)["detail"]
            assert 1 <= int(response.headers["retry-after"]) <= 60
        # The admin behind the same address (a shared proxy) is let in, by header or by cookie...
        assert (await guesser.get("/api/tenants")).status_code == 200
        cookie = {"cookie": f"tenantedge_admin={FULL_TOKEN}"}
        assert (await guesser.api("GET", "/api/tenants", token=None, headers=cookie)).status_code == 200
        # ...while wrong tokens from it are still refused, and another address is judged on its own.
        problem(await guesser.get("/api/tenants", token=wrong(99)), 429)
        problem(await guesser.get("/api/tenants", token=None), 429)
        elsewhere = await other.get("/api/tenants", token=wrong(99))
        problem(elsewhere, 401)
        assert "retry-after" not in elsewhere.headers
        # The public OpenAPI document needs no token, so no brake applies to it.
        assert (await guesser.get("/api/openapi.json", token=None)).status_code == 200


async def test_the_same_wrong_token_from_many_addresses_is_refused(app: EdgeApp) -> None:
    for n in range(BUDGET + 1):
        async with connect(app, f"192.0.2.{n + 1}") as sprayer:
            response = await sprayer.get("/api/tenants", token="one-guess-everywhere-01")
            problem(response, 401 if n < BUDGET else 429)
    async with connect(app, "192.0.2.200") as fresh:
        problem(await fresh.get("/api/tenants", token="another-guess-0000001"), 401)
        assert (await fresh.get("/api/tenants")).status_code == 200


async def test_signing_in_with_the_right_token_succeeds_after_wrong_ones(app: EdgeApp) -> None:
    async with connect(app, PEER) as browser:
        for n in range(BUDGET):
            problem(await browser.api("POST", "/api/session", {"token": wrong(n)}, token=None), 401)
        refused = await browser.api("POST", "/api/session", {"token": wrong(BUDGET)}, token=None)
        problem(refused, 429)
        assert refused.headers["retry-after"].isdigit()
        signed_in = await browser.api("POST", "/api/session", {"token": FULL_TOKEN}, token=None)
        assert signed_in.status_code == 200 and signed_in.json()["name"] == "admin"
        assert "tenantedge_admin" in signed_in.cookies
        problem(await browser.api("POST", "/api/session", {"token": wrong(0)}, token=None), 429)


async def open_socket(app: EdgeApp, token: str, peer: str = PEER) -> list[dict[str, Any]]:
    """Open /ws on the admin host with a bearer token; what the app sent until it said hello or closed."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []
    answered = asyncio.Event()

    async def send(message: Any) -> None:
        sent.append(dict(message))
        if message["type"] in ("websocket.send", "websocket.close"):
            answered.set()

    headers = [(b"host", ADMIN_HOST.encode()), (b"authorization", f"Bearer {token}".encode())]
    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": "/ws", "raw_path": b"/ws",
        "query_string": b"", "root_path": "", "headers": headers, "client": (peer, 40000), "subprotocols": [],
    }  # fmt: skip
    await inbox.put({"type": "websocket.connect"})
    task = asyncio.create_task(app(scope, inbox.get, send))
    await asyncio.wait_for(answered.wait(), 10)
    await inbox.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 10)
    return sent


def close_code(sent: list[dict[str, Any]]) -> int | None:
    closes = [message["code"] for message in sent if message["type"] == "websocket.close"]
    return closes[0] if closes else None


async def test_the_websocket_accepts_the_right_token_after_wrong_ones(app: EdgeApp) -> None:
    for n in range(BUDGET):
        assert close_code(await open_socket(app, wrong(n))) == UNAUTHORIZED
    refused = await open_socket(app, wrong(BUDGET))
    assert close_code(refused) == TOO_MANY_FAILURES
    assert "retry after" in refused[-1]["reason"]
    accepted = await open_socket(app, FULL_TOKEN)
    assert [message["type"] for message in accepted] == ["websocket.accept", "websocket.send"]
    assert '"type":"hello"' in accepted[1]["text"]
    assert close_code(await open_socket(app, wrong(0))) == TOO_MANY_FAILURES


# -- across workers, and without Redis ---------------------------------------------------------------------


async def test_two_workers_on_one_redis_share_the_counts(make_app: Callable[..., EdgeApp], redis_prefix: str) -> None:
    first, second = (make_app(redis_url=REDIS, redis_prefix=redis_prefix) for _ in range(2))
    async with running(first), running(second), connect(first, PEER) as one, connect(second, PEER) as two:
        for n in range(BUDGET // 2):
            problem(await one.get("/api/tenants", token=wrong(n)), 401)
            problem(await two.get("/api/tenants", token=wrong(n + 100)), 401)
        # Each worker saw only half the budget, yet the next wrong token is refused by either of them.
        problem(await one.get("/api/tenants", token=wrong(200)), 429)
        problem(await two.get("/api/tenants", token=wrong(201)), 429)
        assert (await two.get("/api/tenants")).status_code == 200
        # The same wrong token tried on the two workers from two addresses counts once per attempt, together.
        async with connect(first, "192.0.2.50") as three, connect(second, "192.0.2.51") as four:
            for _ in range(BUDGET // 2):
                problem(await three.get("/api/tenants", token="shared-guess-00000001"), 401)
                problem(await four.get("/api/tenants", token="shared-guess-00000001"), 401)
            problem(await three.get("/api/tenants", token="shared-guess-00000001"), 429)
    fields = await counted(REDIS, f"{redis_prefix}authfail:counts")
    assert f"addr:{PEER}" in fields and not any("shared-guess" in field for field in fields)


async def test_with_redis_down_the_admin_counts_locally_and_never_errs(make_app: Callable[..., EdgeApp]) -> None:
    app = make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout=0.2)
    async with running(app), connect(app, PEER) as guesser:
        for n in range(BUDGET):
            problem(await guesser.get("/api/tenants", token=wrong(n)), 401)
        problem(await guesser.get("/api/tenants", token=wrong(BUDGET)), 429)
        assert (await guesser.get("/api/tenants")).status_code == 200
        signed_in = await guesser.api("POST", "/api/session", {"token": FULL_TOKEN}, token=None)
        assert signed_in.status_code == 200
        assert close_code(await open_socket(app, wrong(0))) == TOO_MANY_FAILURES
        assert close_code(await open_socket(app, FULL_TOKEN)) is None
