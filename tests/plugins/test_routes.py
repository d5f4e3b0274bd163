"""A plugin's form POSTs on tenants' domains and its admin routes: reached only where the tenant enables it, with
the admin API's own auth and tenant scope, body limits and failure answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from tenantedge.admin.responses import JSON, MERGE_PATCH
from tenantedge.http.edge import EdgeApp
from tests.conftest import running
from tests.plugins.conftest import ADMIN, TOKEN, app_for, write_tenants

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("fixture_plugins")]
SUBMIT = "/_edge/plugins/echo/submit"
SCOPED = "only-other-tenant-token"


@pytest.fixture
def app(tmp_path: Path) -> EdgeApp:
    tenants = {
        "echoing": {
            "domains": ["echoing.test"],
            "aliases": ["old-echoing.test"],
            "plugins": {"echo": {"greeting": "hey"}},
        },
        "silent": {"domains": ["silent.test"]},
    }
    tokens = tmp_path / "tokens.json"
    tokens.write_bytes(orjson.dumps({"tokens": [{"name": "silent-editor", "token": SCOPED, "tenants": ["silent"]}]}))
    return app_for(write_tenants(tmp_path / "tenants.json", tenants), admin_tokens_file=tokens, plugin_max_body=2048)


@pytest.fixture
async def client(app: EdgeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client


async def test_a_claimed_post_reaches_the_plugin_of_an_enabling_tenant(client: httpx.AsyncClient) -> None:
    response = await client.post(SUBMIT, content=b"name=Ada", headers={"host": "echoing.test"})
    assert (response.status_code, response.text) == (200, "echoing hey name=Ada")
    assert response.headers["cache-control"] == "no-store"
    redirected = await client.post(SUBMIT, content=b"redirect", headers={"host": "echoing.test"})
    assert (redirected.status_code, redirected.headers["location"]) == (303, "/thanks")


@pytest.mark.parametrize(
    ("host", "path", "status"),
    [
        ("silent.test", SUBMIT, 404),  # the tenant does not enable the plugin
        ("echoing.test", "/_edge/plugins/echo/other", 404),  # a path the plugin does not claim
        ("echoing.test", "/_edge/plugins/nope/submit", 404),
        ("old-echoing.test", SUBMIT, 404),  # an alias only redirects
        ("nobody.test", SUBMIT, 404),
        ("echoing.test", "/_edge/plugins/echo/fail", 503),  # the handler raised: logged, the visitor may retry
        ("echoing.test", "/", 405),  # pages still take no POST
    ],
    ids=["not-enabled", "unclaimed", "no-plugin", "alias", "unknown-host", "handler-raises", "page"],
)
async def test_posts_that_no_plugin_answers(client: httpx.AsyncClient, host: str, path: str, status: int) -> None:
    assert (await client.post(path, content=b"x", headers={"host": host})).status_code == status


async def test_a_plugin_answer_that_cannot_be_sent_is_a_500_and_a_redirect_stays_on_the_site(
    client: httpx.AsyncClient,
) -> None:
    failed = await client.post(SUBMIT, content=b"bad-status", headers={"host": "echoing.test"})
    assert failed.status_code == 500
    away = await client.post(SUBMIT, content=b"away", headers={"host": "echoing.test"})
    assert "location" not in away.headers and away.status_code == 200


async def test_a_failed_post_does_not_take_the_plugin_off_the_tenant(client: httpx.AsyncClient) -> None:
    # A visitor can make a POST fail or time out: that must not rest the plugin's pages (and their caching).
    failed = await client.post("/_edge/plugins/echo/fail", content=b"x", headers={"host": "echoing.test"})
    assert failed.status_code == 503
    answered = await client.post(SUBMIT, content=b"name=Ada", headers={"host": "echoing.test"})
    assert (answered.status_code, answered.text) == (200, "echoing hey name=Ada")


async def test_a_post_with_two_host_headers_is_refused(client: httpx.AsyncClient) -> None:
    headers = [("host", "silent.test"), ("host", "echoing.test")]
    response = await client.post(SUBMIT, content=b"name=Ada", headers=headers)
    assert response.status_code == 400 and "more than one Host header" in response.text


async def test_the_default_tenant_takes_no_post_on_a_host_it_is_not_given(tmp_path: Path) -> None:
    tenants = {"echoing": {"domains": ["echoing.test"], "plugins": {"echo": {"greeting": "hey"}}}}
    app = app_for(write_tenants(tmp_path / "tenants.json", tenants), default_tenant="echoing")
    async with running(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.post(SUBMIT, content=b"x", headers={"host": "anything.test"})).status_code == 404
        assert (await client.get("/", headers={"host": "anything.test"})).status_code == 200  # pages it still serves
        assert (await client.post(SUBMIT, content=b"x", headers={"host": "echoing.test"})).status_code == 200


async def test_a_body_over_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(SUBMIT, content=b"x" * 2049, headers={"host": "echoing.test"})
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(3):
            yield b"x" * 1000

    streamed = await client.post(SUBMIT, content=chunks(), headers={"host": "echoing.test"})
    assert streamed.status_code == 413


def admin(token: str | None = TOKEN) -> dict[str, str]:
    return {"host": ADMIN, **({"authorization": f"Bearer {token}"} if token else {})}


@pytest.mark.parametrize(
    ("token", "tenant", "status"),
    [(None, "echoing", 401), ("wrong-token-of-some-length", "echoing", 401), (SCOPED, "echoing", 404)],
    ids=["no-token", "wrong-token", "token-of-another-tenant"],
)
async def test_plugin_admin_routes_need_the_token_and_its_scope(
    client: httpx.AsyncClient, token: str | None, tenant: str, status: int
) -> None:
    response = await client.get(f"/api/plugins/echo/tenants/{tenant}/inbox", headers=admin(token))
    assert response.status_code == status


async def test_a_plugin_admin_route_answers_for_an_enabling_tenant(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/plugins/echo/tenants/echoing/inbox/2", headers=admin())
    assert response.status_code == 200
    assert response.json() == {"tenant": "echoing", "path": "inbox/2"}
    refused = await client.get("/api/plugins/echo/tenants/silent/inbox", headers=admin())
    assert refused.status_code == 404  # the tenant does not enable it
    posted = await client.post(
        "/api/plugins/echo/tenants/echoing/inbox", content=b'{"read": true}', headers={**admin(), "content-type": JSON}
    )
    assert posted.status_code == 200
    not_json = await client.post("/api/plugins/echo/tenants/echoing/inbox", content=b"read=1", headers=admin())
    assert not_json.status_code == 415


async def test_plugins_and_their_settings_schemas_are_listed(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/plugins", headers=admin(None))).status_code == 401
    listed = {
        plugin["name"]: plugin for plugin in (await client.get("/api/plugins", headers=admin())).json()["plugins"]
    }
    assert listed["echo"]["settings"] == {
        "greeting": {"type": "string", "label": "Greeting", "default": "hello", "maxLength": 40}
    }
    assert listed["echo"]["settings_json_schema"]["properties"]["greeting"]["title"] == "Greeting"
    assert "tenantedge_post" in listed["echo"]["hooks"]
    assert "boom at import" in listed["broken-import"]["broken"]
    assert listed["broken-import"]["settings_json_schema"] is None
    one = (await client.get("/api/plugins/analytics-snippet", headers=admin())).json()
    assert one["settings"]["provider"]["choices"] == ["plausible", "umami", "matomo"]
    assert one["settings_json_schema"]["properties"]["provider"]["enum"] == ["plausible", "umami", "matomo"]
    assert one["settings_json_schema"]["required"] == ["provider", "site_id"]


async def test_the_palette_of_a_tenant_holds_the_sections_of_its_plugins(client: httpx.AsyncClient) -> None:
    def types(body: httpx.Response) -> set[str]:
        return {section["type"] for section in body.json()["sections"]}

    echoing = types(await client.get("/api/sections?tenant=echoing", headers=admin()))
    silent = types(await client.get("/api/sections?tenant=silent", headers=admin()))
    assert "echo/Box" in echoing and "Hero" in echoing
    assert "echo/Box" not in silent and "Hero" in silent
    assert types(await client.get("/api/sections", headers=admin())) == silent  # every tenant's: built-in ones
    assert (await client.get("/api/sections?tenant=echoing", headers=admin(SCOPED))).status_code == 404


async def test_a_section_of_a_plugin_the_tenant_does_not_enable_is_a_422_naming_its_path(
    client: httpx.AsyncClient,
) -> None:
    headers = {**admin(), "content-type": MERGE_PATCH, "if-match": "*"}
    body = orjson.dumps({"pages": {"/": [{"type": "Hero"}, {"type": "echo/Box"}]}})
    response = await client.patch("/api/tenants/silent", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["issues"] == [
        {
            "path": 'pages["/"][1].type',
            "message": "section 'echo/Box' comes from plugin 'echo', which this tenant does not enable "
            "(add it under 'plugins')",
        }
    ]
    assert (await client.get("/", headers={"host": "silent.test"})).status_code == 200


async def test_the_plugin_hears_a_change_of_its_tenant_once(client: httpx.AsyncClient) -> None:
    import tefx_echo  # type: ignore[import-not-found]

    tefx_echo.EVENTS.clear()
    headers = {**admin(), "content-type": MERGE_PATCH, "if-match": "*"}
    patched = await client.patch(
        "/api/tenants/echoing", content=b'{"plugins": {"echo": {"greeting": "yo"}}}', headers=headers
    )
    assert patched.status_code == 200
    other = await client.patch("/api/tenants/silent", content=b'{"name": "Silent"}', headers=headers)
    assert other.status_code == 200
    for _ in range(50):
        if tefx_echo.EVENTS:
            break
        await asyncio.sleep(0.01)
    assert [(event.type, event.tenant_id, dict(event.settings)) for event in tefx_echo.EVENTS] == [
        ("tenant.updated", "echoing", {"greeting": "yo"})
    ]
    page = await client.post(SUBMIT, content=b"", headers={"host": "echoing.test"})
    assert page.text == "echoing yo "
