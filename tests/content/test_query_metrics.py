"""Database query latency in /_edge/metrics: each query of a tenant transaction counted, through the real app."""

from __future__ import annotations

import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tenantedge.app import create_app
from tenantedge.content.db import ContentDatabase
from tests.conftest import running
from tests.content.conftest import Urls
from tests.content.test_blog_pages import SITE, blog_settings, write
from tests.http.conftest import OPS_PORT, connect

pytestmark = pytest.mark.anyio
FAMILY = "tenantedge_database_query_duration_seconds"


async def test_the_queries_a_blog_page_runs_are_timed_and_a_cached_page_runs_none(
    urls: Urls, database: ContentDatabase
) -> None:
    await write(database, "codersinflow", 3)
    app = create_app(blog_settings(urls, metrics=True, ops_port=OPS_PORT))

    async def queries() -> dict[str, float]:
        text = (await ops.get("any.host", "/_edge/metrics")).text
        return {
            sample.name.removeprefix(FAMILY): sample.value
            for family in text_string_to_metric_families(text)
            if family.name == FAMILY
            for sample in family.samples
            if "le" not in sample.labels
        }

    async with running(app), connect(app) as client, connect(app, port=OPS_PORT) as ops:
        assert await queries() == {"_count": 0, "_sum": 0}
        assert (await client.get(SITE, "/blog")).status_code == 200
        rendered = await queries()
        assert rendered["_count"] >= 1 and rendered["_sum"] > 0
        assert (await client.get(SITE, "/blog")).status_code == 200
        assert await queries() == rendered, "the page cache answered: no query"


async def test_a_failed_query_is_timed_too(database: ContentDatabase) -> None:
    with pytest.raises(asyncpg.PostgresSyntaxError):
        async with database.tenant("codersinflow") as session:
            await session.fetchval("SELEC 1")
    counts = database.queries.counts[""]
    assert sum(counts[:-1]) == 1 and counts[-1] > 0, "one query, with its time"
