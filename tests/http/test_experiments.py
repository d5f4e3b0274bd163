from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import Response

from tenantedge.http.edge import EdgeApp
from tests.http.conftest import OPS_PORT, EdgeClient, build_app, connect

pytestmark = pytest.mark.anyio
HOST = "acme.test"
TOKEN = "experiments-admin-token-01"
CONTROL, SHORT = "Welcome to Acme", "Ship faster"
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"
_VISITOR = re.compile(r"te_vid=([0-9a-f]{32}); Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax\Z")


def hero(title: str) -> dict[str, Any]:
    return {"type": "Hero", "props": {"title": title}}


def document(state: str = "running") -> dict[str, Any]:
    experiment = {
        "id": "hero-title",
        "state": state,
        "section": 0,
        "goal": {"click": "signup"},
        "variants": [{"name": "control", "weight": 1}, {"name": "short", "weight": 1, "section": hero(SHORT)}],
    }
    home = {"sections": [hero(CONTROL), {"type": "CTA"}], "experiments": [experiment]}
    return {"tenants": {"acme": {"domains": [HOST], "pages": {"/": home, "/about": [hero("About Acme")]}}}}


@pytest.fixture
def tenants(tmp_path: Path) -> Path:
    path = tmp_path / "tenants.json"
    path.write_text(json.dumps(document()))
    return path


def make(tenants: Path, **settings: Any) -> EdgeApp:
    return build_app(tenants_file=tenants, reload_interval=0, admin_token=TOKEN, **settings)


@pytest.fixture
async def edge(tenants: Path) -> AsyncIterator[EdgeClient]:
    async with connect(make(tenants)) as client:
        yield client


def title(html: str) -> str:
    return CONTROL if CONTROL in html else SHORT if SHORT in html else "neither"


async def visit(edge: EdgeClient, cookie: str | None = None, agent: str = BROWSER, path: str = "/") -> Response:
    headers = {"user-agent": agent} if cookie is None else {"user-agent": agent, "cookie": cookie}
    return await edge.get(HOST, path, headers=headers)


def visitors(count: int) -> list[str]:
    return [f"{index:032x}" for index in range(count)]


async def test_a_first_visit_gets_a_visitor_cookie_and_keeps_its_variant(edge: EdgeClient) -> None:
    first = await visit(edge)
    found = _VISITOR.match(first.headers["set-cookie"])
    assert found is not None, first.headers["set-cookie"]
    again = [await visit(edge, f"te_vid={found.group(1)}") for _ in range(3)]
    assert {title(response.text) for response in again} == {title(first.text)}
    assert all("set-cookie" not in response.headers for response in again)


async def test_both_variants_are_served_and_each_visitor_stays_in_one(edge: EdgeClient) -> None:
    seen = {visitor: title((await visit(edge, f"te_vid={visitor}")).text) for visitor in visitors(40)}
    assert set(seen.values()) == {CONTROL, SHORT}
    for visitor, shown in list(seen.items())[:10]:
        assert title((await visit(edge, f"te_vid={visitor}")).text) == shown


async def test_assignment_is_the_same_in_another_instance(tenants: Path) -> None:
    async with connect(make(tenants)) as one, connect(make(tenants)) as two:
        for visitor in visitors(20):
            cookie = f"te_vid={visitor}"
            assert title((await visit(one, cookie)).text) == title((await visit(two, cookie)).text)


async def test_a_malformed_visitor_cookie_is_replaced(edge: EdgeClient) -> None:
    response = await visit(edge, "te_vid=../../etc; other=1")
    assert _VISITOR.match(response.headers["set-cookie"])


async def test_the_cookie_is_secure_over_https(tenants: Path) -> None:
    app = make(tenants)
    async with connect(app) as edge:
        edge.http.base_url = "https://testserver"
        response = await visit(edge)
    assert response.headers["set-cookie"].endswith("; HttpOnly; SameSite=Lax; Secure")


async def test_the_cookie_name_is_a_setting(tenants: Path) -> None:
    async with connect(make(tenants, visitor_cookie="ab_id")) as edge:
        response = await visit(edge)
    assert response.headers["set-cookie"].startswith("ab_id=")


@pytest.mark.parametrize(
    "agent",
    [
        pytest.param(BOT, id="googlebot"),
        pytest.param("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", id="bingbot"),
        pytest.param("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", id="facebook"),
        pytest.param("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", id="ahrefs"),
    ],
)
async def test_bots_see_the_control_and_get_no_cookie(edge: EdgeClient, agent: str) -> None:
    for visitor in visitors(20):
        response = await visit(edge, f"te_vid={visitor}", agent=agent)
        assert title(response.text) == CONTROL and "set-cookie" not in response.headers
    assert "set-cookie" not in (await visit(edge, agent=agent)).headers


async def test_without_consent_visitors_see_the_control_and_get_no_cookie(tenants: Path) -> None:
    async with connect(make(tenants, experiment_consent=True)) as edge:
        for visitor in visitors(20):
            response = await visit(edge, f"te_vid={visitor}")
            assert title(response.text) == CONTROL and "set-cookie" not in response.headers
        consented = await visit(edge, "te_consent=yes")
        assert _VISITOR.match(consented.headers["set-cookie"])
        shown = {title((await visit(edge, f"te_consent=1; te_vid={visitor}")).text) for visitor in visitors(40)}
    assert shown == {CONTROL, SHORT}


async def test_a_public_variant_parameter_is_ignored(edge: EdgeClient) -> None:
    controls = [v for v in visitors(40) if title((await visit(edge, f"te_vid={v}")).text) == CONTROL]
    for visitor in controls[:5]:
        forced = await edge.get(HOST, "/?variant=hero-title:short", headers={"cookie": f"te_vid={visitor}"})
        assert title(forced.text) == CONTROL


async def test_a_preview_forces_a_variant(tenants: Path) -> None:
    async with connect(make(tenants)) as edge:
        auth = {"authorization": f"Bearer {TOKEN}"}
        control = await edge.get("admin.localhost", "/preview/acme/", headers=auth)
        short = await edge.get("admin.localhost", "/preview/acme/?variant=hero-title:short", headers=auth)
    assert control.status_code == short.status_code == 200
    assert title(control.text) == CONTROL and title(short.text) == SHORT


async def test_a_preview_forces_a_variant_of_a_draft_experiment(tmp_path: Path) -> None:
    path = tmp_path / "tenants.json"
    path.write_text(json.dumps(document("draft")))
    async with connect(make(path)) as edge:
        shown = {title((await visit(edge, f"te_vid={visitor}")).text) for visitor in visitors(20)}
        auth = {"authorization": f"Bearer {TOKEN}"}
        short = await edge.get("admin.localhost", "/preview/acme/?variant=hero-title:short", headers=auth)
    assert shown == {CONTROL} and title(short.text) == SHORT


async def test_experiment_pages_are_private_and_others_stay_public(edge: EdgeClient) -> None:
    page = await visit(edge, "te_vid=" + "0" * 32)
    assert page.headers["cache-control"] == "private, max-age=60"
    about = await visit(edge, path="/about")
    assert about.headers["cache-control"].startswith("public, ") and "set-cookie" not in about.headers


async def test_each_variant_is_its_own_cache_entry(edge: EdgeClient, tenants: Path) -> None:
    by_title: dict[str, str] = {}
    for visitor in visitors(40):
        by_title.setdefault(title((await visit(edge, f"te_vid={visitor}")).text), visitor)
    # Hits now: each visitor gets their own variant's bytes, and the ETags differ.
    responses = {shown: await visit(edge, f"te_vid={visitor}") for shown, visitor in by_title.items()}
    assert {shown: title(response.text) for shown, response in responses.items()} == {CONTROL: CONTROL, SHORT: SHORT}
    assert responses[CONTROL].headers["etag"] != responses[SHORT].headers["etag"]


async def test_a_normal_page_still_hits_the_hot_path(tenants: Path) -> None:
    app = make(tenants)
    async with connect(app) as edge:
        await visit(edge, path="/about")
        await visit(edge, "te_vid=" + "0" * 32)
        hits = app._pages.hits
        await visit(edge, path="/about")
        await visit(edge, "te_vid=" + "0" * 32)
        assert app._pages.hits == hits + 2
        assert app._lookup.cached(HOST.encode(), "/about") is not None
        assert app._lookup.cached(HOST.encode(), "/") is None  # experiment pages are never aliased


async def test_explain_names_the_experiment_and_variant(tenants: Path) -> None:
    async with connect(make(tenants, debug=True), port=OPS_PORT) as edge:
        chosen = {}
        for visitor in visitors(40):
            response = await visit(edge, f"te_vid={visitor}")
            chosen[title(response.text)] = response.headers["x-tenantedge-explain"]
    assert "experiment=hero-title=control" in chosen[CONTROL]
    assert "experiment=hero-title=short" in chosen[SHORT]


async def test_stopping_an_experiment_is_a_publish_every_visitor_sees_at_once(tenants: Path) -> None:
    async with connect(make(tenants)) as edge:
        shown = {title((await visit(edge, f"te_vid={visitor}")).text) for visitor in visitors(40)}
        assert shown == {CONTROL, SHORT}  # and each variant cached, its shortcut taken
        stopped = document("stopped")["tenants"]["acme"]["pages"]["/"]
        headers = {"host": "admin.localhost", "authorization": f"Bearer {TOKEN}", "if-match": '"1"'}
        headers["content-type"] = "application/json"
        published = await edge.http.put("/api/tenants/acme/pages/", headers=headers, content=json.dumps(stopped))
        assert published.status_code == 200, published.text
        after = [await visit(edge, f"te_vid={visitor}") for visitor in visitors(40)]
    assert {title(response.text) for response in after} == {CONTROL}
    assert {response.headers["cache-control"].split(",")[0] for response in after} == {"public"}
