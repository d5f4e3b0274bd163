"""Render time per section type in /_edge/metrics: counted when sections render, not when a cached page answers."""

from __future__ import annotations

from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.http.conftest import OPS_PORT, EdgeClient, build_app, connect

pytestmark = pytest.mark.anyio
FAMILY = "tenantedge_render_section_seconds"


async def rendered(ops: EdgeClient) -> Counter[str]:
    """Sections rendered so far, by type."""
    text = (await ops.get("any.host", "/_edge/metrics")).text
    return Counter(
        {
            sample.labels["section"]: int(sample.value)
            for family in text_string_to_metric_families(text)
            if family.name == FAMILY
            for sample in family.samples
            if sample.name == f"{FAMILY}_count"
        }
    )


async def test_each_section_of_a_render_is_timed_under_its_type_and_a_cached_page_adds_nothing() -> None:
    app = build_app(metrics=True)
    async with connect(app) as client, connect(app, port=OPS_PORT) as ops:
        assert await rendered(ops) == Counter()
        assert (await client.get("codersinflow.com", "/")).status_code == 200
        first = await rendered(ops)
        for _ in range(3):  # the page cache answers
            assert (await client.get("codersinflow.com", "/")).status_code == 200
        assert await rendered(ops) == first
        assert (await client.get("codersinflow.com", "/nope")).status_code == 404
        after = await rendered(ops)
    main = ["Hero", "Features", "CodeEditor", "Blog", "AIAssistant", "CTA"]  # the demo home page, in order
    assert all(first[section] == 1 for section in main), first
    assert after - first == Counter({"NotFound": 1}) + (first - Counter(main)), "the 404 page: its header and footer"
