"""The analytics-snippet plugin end to end: its head markup and CSP origins on enabling tenants' pages only, and a
settings change published through the admin API shown by the next request (the page cache keys on it)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from tenantedge.admin.responses import MERGE_PATCH
from tenantedge.http.edge import EdgeApp
from tenantedge.plugins.csp import DEFAULT_POLICY
from tests.conftest import running
from tests.plugins.conftest import ADMIN, TOKEN, app_for, write_tenants

pytestmark = pytest.mark.anyio
UMAMI_ID = "4f7a9c2e-0b1d-4e5f-8a6b-1c2d3e4f5a6b"
_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


@pytest.fixture
def app(tmp_path: Path) -> EdgeApp:
    tenants = {
        "counted": {
            "domains": ["counted.test"],
            "plugins": {"analytics-snippet": {"provider": "plausible", "site_id": "counted.test"}},
            "pages": {"/": [{"type": "Hero"}, {"type": "analytics-snippet/Notice"}], "/about": [{"type": "Hero"}]},
        },
        "selfhosted": {
            "domains": ["selfhosted.test"],
            "plugins": {"analytics-snippet": {"provider": "matomo", "site_id": "7", "host": "stats.selfhosted.test"}},
        },
        "quiet": {"domains": ["quiet.test"]},
    }
    return app_for(write_tenants(tmp_path / "tenants.json", tenants))


@pytest.fixture
async def client(app: EdgeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client


def csp(html: str) -> str:
    found = _CSP.search(html)
    assert found is not None
    return found.group(1).replace("&#39;", "'")


async def test_the_head_carries_the_snippet_and_the_csp_allows_its_host(client: httpx.AsyncClient) -> None:
    page = (await client.get("/", headers={"host": "counted.test"})).text
    head = page.split("</head>")[0]
    assert '<script defer data-domain="counted.test" src="https://plausible.io/js/script.js"></script>' in head
    assert "script-src 'self' https://plausible.io;" in csp(page)
    assert "connect-src 'self' https://plausible.io" in csp(page)
    assert "counts visits without cookies and without collecting personal data. (Plausible)" in page


async def test_matomo_loads_its_configuration_from_the_plugins_own_asset(client: httpx.AsyncClient) -> None:
    page = (await client.get("/", headers={"host": "selfhosted.test"})).text
    loader = "/_edge/plugins/analytics-snippet/assets/matomo.js"
    assert f'<script defer src="{loader}" data-matomo="https://stats.selfhosted.test/" data-site-id="7">' in page
    assert "https://stats.selfhosted.test" in csp(page) and "plausible" not in csp(page)
    asset = await client.get(loader, headers={"host": "selfhosted.test"})
    assert asset.status_code == 200 and "setTrackerUrl" in asset.text


async def test_a_tenant_without_the_plugin_gets_neither_snippet_nor_origin(client: httpx.AsyncClient) -> None:
    page = (await client.get("/", headers={"host": "quiet.test"})).text
    assert "plausible" not in page and "<script" not in page
    assert csp(page) == DEFAULT_POLICY


async def test_a_settings_change_shows_after_publish(client: httpx.AsyncClient) -> None:
    for path in ("/", "/about", "/"):  # cached now
        assert 'data-domain="counted.test"' in (await client.get(path, headers={"host": "counted.test"})).text
    patched = await client.patch(
        "/api/tenants/counted",
        content=orjson.dumps({"plugins": {"analytics-snippet": {"provider": "umami", "site_id": UMAMI_ID}}}),
        headers={"host": ADMIN, "authorization": f"Bearer {TOKEN}", "content-type": MERGE_PATCH, "if-match": "*"},
    )
    assert patched.status_code == 200, patched.text
    for path in ("/", "/about"):
        page = (await client.get(path, headers={"host": "counted.test"})).text
        assert f'data-website-id="{UMAMI_ID}"' in page
        assert 'src="https://cloud.umami.is/script.js"' in page and "plausible" not in page
        assert "https://cloud.umami.is" in csp(page)


async def test_with_plugins_off_an_enabling_tenant_serves_without_the_plugin(tmp_path: Path) -> None:
    tenants = {
        "counted": {
            "domains": ["counted.test"],
            "plugins": {"analytics-snippet": {"provider": "plausible", "site_id": "counted.test"}},
            "pages": {"/": [{"type": "Hero"}, {"type": "analytics-snippet/Notice"}]},
        }
    }
    app = app_for(write_tenants(tmp_path / "tenants.json", tenants), plugins=False)
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/", headers={"host": "counted.test"})
    assert response.status_code == 200
    assert "plausible" not in response.text and "<!-- section 1: plugin unavailable -->" in response.text
    assert csp(response.text) == DEFAULT_POLICY


async def test_the_preview_shows_the_notice_without_counting_a_visit(client: httpx.AsyncClient) -> None:
    # The builder's preview is the operator's, not a visitor's: no analytics script, which the admin's CSP refuses.
    headers = {"host": ADMIN, "authorization": f"Bearer {TOKEN}"}
    page = (await client.get("/preview/counted/", headers=headers)).text
    assert "counts visits without cookies and without collecting personal data. (Plausible)" in page
    assert "plausible.io" not in page and "<script" not in page
