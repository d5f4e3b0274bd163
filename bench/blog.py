"""Blog page cost: how many queries one blog page makes and how long they and the whole render take.

    .venv/bin/python bench/blog.py [--posts 200] [--rounds 500]

Uses a fresh database on the local PostgreSQL (127.0.0.1:5432, trust auth), migrated and filled with
`--posts` published posts for one tenant; the page cache is off, so every request reads the database.
Prints the statements per page (counted at the access layer) and p50/p99 of the database part and of the
whole request, in process (no HTTP server in between).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from harness import ROOT

sys.path.insert(0, str(ROOT))
from tenantedge.app import create_app
from tenantedge.clock import SystemClock
from tenantedge.content import posts
from tenantedge.content.db import ContentDatabase, TenantSession
from tenantedge.content.migrate import migrate
from tenantedge.invalidation import Change, ChangeKind
from tenantedge.settings import Settings

SERVER = "postgresql://postgres@127.0.0.1:5432"
STATEMENTS = {"count": 0}


def count_statements() -> None:
    """Count every statement the access layer sends (set_config included, which `tenant()` sends itself)."""
    for name in ("fetch", "fetchrow", "fetchval", "execute"):
        original = getattr(TenantSession, name)

        async def counted(self: TenantSession, *args: object, _original=original) -> object:  # type: ignore[no-untyped-def]
            STATEMENTS["count"] += 1
            return await _original(self, *args)

        setattr(TenantSession, name, counted)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(count: int, rounds: int) -> None:
    name = f"te_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await migrate(f"{SERVER}/{name}", ROOT / "migrations")
        app_url = f"postgresql://tenantedge_app@127.0.0.1:5432/{name}"
        database = ContentDatabase(app_url, SystemClock(), timeout=5)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        async with database.tenant("codersinflow") as session:
            for number in range(count):
                raw = {
                    "slug": f"post-{number}",
                    "title": f"Post {number}",
                    "status": "published",
                    "body": "Some **markdown** body.\n\n" * 20,
                    "published_at": (start + timedelta(hours=number)).isoformat(),
                }
                await posts.create(session, posts.validate_post(raw))
        count_statements()
        db_times = []
        for _ in range(rounds):
            before = time.perf_counter()
            async with database.tenant("codersinflow") as session:
                await posts.latest(session, 10, 0)
            db_times.append((time.perf_counter() - before) * 1000)
        statements_per_listing = STATEMENTS["count"] / rounds
        await database.close()
        settings = Settings(
            tenants_file=ROOT / "tenants.json",
            templates_dir=ROOT / "templates",
            database_url=app_url,
            page_cache_entries=0,
            reload_interval=0,
            admin_token="x" * 16,
        )
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            timings: dict[str, list[float]] = {"/blog": [], "/blog/post-7": []}
            for path, found in timings.items():
                STATEMENTS["count"] = 0
                for _ in range(rounds):
                    if app._blog is not None:
                        app._blog.forget(Change(ChangeKind.POSTS, "codersinflow"))  # every request reads the database
                    before = time.perf_counter()
                    response = await client.get(path, headers={"host": "codersinflow.com"})
                    found.append((time.perf_counter() - before) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                print(
                    f"{path:<16} statements per request {STATEMENTS['count'] / rounds:.1f}; "
                    f"request p50 {statistics.median(found):.2f} ms, p99 {percentile(found, 0.99):.2f} ms"
                )
        print(
            f"listing of 10 (set_config + page + count) {statements_per_listing:.1f} statements in one transaction;"
            f" p50 {statistics.median(db_times):.2f} ms, p99 {percentile(db_times, 0.99):.2f} ms with {count} posts"
        )
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(run(args.posts, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
