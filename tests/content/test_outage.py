"""The database stopped and restarted under a real server: cached pages keep serving, blog sections degrade
quietly, a post with no copy is a 503 with Retry-After, and everything recovers without a restart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from tenantedge.clock import SystemClock
from tenantedge.content.db import ContentDatabase
from tenantedge.content.migrate import migrate
from tenantedge.content.seed import seed_demo
from tests.content.conftest import MIGRATIONS
from tests.server import Server, Traffic
from tests.services import PrivatePostgres

SITE = "codersinflow.com"
CACHED = ("/", "/about", "/blog", "/blog/welcome")


@pytest.fixture
def stack() -> Iterator[tuple[Server, PrivatePostgres]]:
    postgres = PrivatePostgres()

    async def prepare() -> None:
        await migrate(postgres.owner_url, MIGRATIONS)
        database = ContentDatabase(postgres.app_url, SystemClock(), timeout=10)
        await seed_demo(database)
        await database.close()

    asyncio.run(prepare())
    env = {"TENANTEDGE_DATABASE_URL": postgres.app_url, "TENANTEDGE_DATABASE_TIMEOUT": "0.5"}
    server = Server(env=env)
    yield server, postgres
    server.stop()
    postgres.remove()


def test_pages_keep_serving_while_the_database_is_down(stack: tuple[Server, PrivatePostgres]) -> None:
    server, postgres = stack
    for path in CACHED:
        assert server.get(SITE, path).status_code == 200
    traffic = Traffic(server.url, [(SITE, path) for path in CACHED])
    postgres.stop()
    # Not cached yet, database down: the post page has no copy (503), a page with a Blog section renders
    # without its posts, and readiness says so.
    missing = server.get(SITE, "/blog/reviews-that-teach")
    assert missing.status_code == 503 and missing.headers["retry-after"]
    pricing = server.get(SITE, "/pricing")
    assert pricing.status_code == 200
    ready = httpx.get(server.ops_url + "/_edge/ready", timeout=10).json()
    assert ready["tiers"]["database"]["state"] == "down"
    postgres.start()
    statuses = traffic.stop()
    assert statuses[200] > 20 and set(statuses) == {200}, statuses
    # Recovery without a restart: the post that had no copy is served once the breaker lets a query through.
    for _ in range(100):
        if server.get(SITE, "/blog/reviews-that-teach").status_code == 200:
            break
        threading.Event().wait(0.1)
    assert server.get(SITE, "/blog/reviews-that-teach").status_code == 200
    assert httpx.get(server.ops_url + "/_edge/ready", timeout=10).json()["tiers"]["database"]["state"] == "up"
