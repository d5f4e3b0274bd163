from __future__ import annotations

import ipaddress

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tenantedge.http.edge import EdgeApp
from tests.http.conftest import OPS_PORT, EdgeClient, build_app, call_raw, connect

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("host", "marker"),
    [
        ("codersinflow.com", "te-hero--terminal"),
        ("www.codersinflow.com", "te-hero--terminal"),
        ("CodersInFlow.com.:8000", "te-hero--terminal"),
        ("codersinflow.localhost:8000", "te-hero--terminal"),
        ("darkflows.com", "te-hero--split"),
        ("studio.darkflows.com", "te-hero--split"),
        ("clientsite.com", "te-notice"),
        ("basicsite.localhost", "Fresh bread"),
    ],
)
async def test_each_host_gets_its_site(client: EdgeClient, host: str, marker: str) -> None:
    response = await client.get(host)
    assert response.status_code == 200
    assert marker in response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'self\';' in response.text
    assert '<meta name="referrer" content="strict-origin-when-cross-origin">' in response.text
    assert int(response.headers["content-length"]) == response.num_bytes_downloaded


async def test_head_equals_get_without_body(client: EdgeClient) -> None:
    got = await client.get("clientsite.com", "/about")
    head = await client.get("clientsite.com", "/about", method="HEAD")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["x-request-id"] != got.headers["x-request-id"]  # each request its own
    del head.headers["x-request-id"], got.headers["x-request-id"]
    assert head.headers == got.headers


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        (None, "missing Host header"),
        ("", "missing Host header"),
        ("bad host", "malformed host"),
        ("example.com:99999", "port must be"),
        ("[::1", "expected [ipv6]"),
        ("a..b", "malformed host"),
    ],
)
async def test_bad_host_is_400(client: EdgeClient, host: str | None, reason: str) -> None:
    response = await client.get(host)
    assert response.status_code == 400
    assert reason in response.text
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param([(b"host", b"codersinflow.com"), (b"host", b"darkflows.com")], 400, id="two-hosts"),
        pytest.param([(b"host", b"caf\xe9.com")], 400, id="latin-1-not-utf8"),
        pytest.param([(b"host", "café.com".encode())], 404, id="utf8-idna-no-site"),
        pytest.param([(b"host", "bücher.de".encode())], 404, id="utf8-idna"),
    ],
)
async def test_raw_host_bytes(app: EdgeApp, headers: list[tuple[bytes, bytes]], status: int) -> None:
    assert (await call_raw(app, headers))[0]["status"] == status


async def test_unicode_host_is_routed_by_punycode(app: EdgeApp) -> None:
    sent = await call_raw(build_app(debug=True), [(b"host", "BÜCHER.example:8000".encode())], port=OPS_PORT)
    assert sent[0]["status"] == 404
    explain = dict(sent[0]["headers"])[b"x-tenantedge-explain"]
    assert b"host=xn--bcher-kva.example" in explain and b"rule=unknown-host" in explain


async def test_post_is_405(client: EdgeClient) -> None:
    response = await client.get("codersinflow.com", method="POST")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("host", "path", "location"),
    [
        ("codersinflow.net", "/about?x=1&y=%20", "http://codersinflow.com/about?x=1&y=%20"),
        ("codersinflow.net:8000", "/", "http://codersinflow.com:8000/"),
        ("codersinflow.net:80", "/a%2Fb", "http://codersinflow.com/a%2Fb"),
        ("www.clientsite.com", "/", "http://clientsite.com/"),
    ],
)
async def test_alias_redirects_to_canonical(client: EdgeClient, host: str, path: str, location: str) -> None:
    response = await client.get(host, path)
    assert response.status_code == 301
    assert response.headers["location"] == location


async def test_trailing_slash_redirects_to_the_page(client: EdgeClient) -> None:
    response = await client.get("codersinflow.com", "/about/?q=1")
    assert response.status_code == 301 and response.headers["location"] == "/about?q=1"


async def test_unknown_path_gets_the_tenants_themed_404(client: EdgeClient) -> None:
    response = await client.get("clientsite.com", "/missing")
    assert response.status_code == 404
    assert "This page does not exist" in response.text and "Harbor &amp; Pine Law" in response.text
    for other in ("Coders in Flow", "DarkFlows", "Basic Bakery"):
        assert other not in response.text


async def test_unknown_host_gets_no_site_page(client: EdgeClient) -> None:
    response = await client.get("nosuch.example", "/about")
    assert response.status_code == 404
    assert "No site here" in response.text
    for name in ("Coders in Flow", "DarkFlows", "Harbor", "Basic Bakery"):
        assert name not in response.text


async def test_default_tenant_serves_unknown_hosts() -> None:
    async with connect(build_app(default_tenant="basicsite")) as client:
        response = await client.get("nosuch.example")
    assert response.status_code == 200 and "Fresh bread" in response.text


async def test_forwarded_host_ignored_from_untrusted_peer(app: EdgeApp) -> None:
    async with connect(app, peer="203.0.113.9") as client:
        response = await client.get("clientsite.com", headers={"x-forwarded-host": "codersinflow.com"})
    assert "Harbor" in response.text


async def test_forwarded_host_believed_from_trusted_proxy() -> None:
    app = build_app(trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    async with connect(app, peer="10.1.2.3") as client:
        response = await client.get("proxy.internal", headers={"x-forwarded-host": "evil.example, codersinflow.com"})
        assert "Coders in Flow" in response.text
        redirect = await client.get(
            "x", "/p", headers={"x-forwarded-host": "codersinflow.net", "x-forwarded-proto": "https"}
        )
        assert redirect.headers["location"] == "https://codersinflow.com/p"
    async with connect(app, peer="192.0.2.1") as client:
        response = await client.get("clientsite.com", headers={"x-forwarded-host": "codersinflow.com"})
        assert "Harbor" in response.text


async def test_health_answers_on_any_host(client: EdgeClient) -> None:
    for host in ("codersinflow.com", "10.0.0.1", "bad host"):
        response = await client.get(host, "/_edge/health")
        assert response.status_code == 200 and response.json()["status"] == "ok"


async def test_reserved_edge_paths_are_never_tenant_pages(client: EdgeClient) -> None:
    response = await client.get("codersinflow.com", "/_edge/nope")
    assert response.status_code == 404 and "Coders" not in response.text


async def test_assets_are_cacheable_by_digest(client: EdgeClient) -> None:
    page = await client.get("basicsite.com")
    href = page.text.split('href="/_edge/assets/base.css', 1)[1].split('"', 1)[0]
    versioned = await client.get("basicsite.com", "/_edge/assets/base.css" + href)
    assert versioned.status_code == 200 and versioned.headers["content-type"].startswith("text/css")
    assert "immutable" in versioned.headers["cache-control"]
    stale = await client.get("basicsite.com", "/_edge/assets/base.css?v=old")
    assert "immutable" not in stale.headers["cache-control"]
    etag = versioned.headers["etag"]
    assert (await client.get("x.y", "/_edge/assets/base.css", headers={"if-none-match": etag})).status_code == 304
    assert (await client.get("x.y", "/_edge/assets/nope.css")).status_code == 404
    assert (await client.get("x.y", "/_edge/assets/../../tenants.json")).status_code == 404


async def test_theme_stylesheet_is_per_tenant(client: EdgeClient) -> None:
    page = await client.get("codersinflow.com")
    href = page.text.split('href="/_edge/theme.css', 1)[1].split('"', 1)[0]
    sheet = await client.get("codersinflow.com", "/_edge/theme.css" + href)
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "text/css; charset=utf-8"
    assert "--te-primary: #7c3aed;" in sheet.text and "te-hero--terminal" in sheet.text
    assert "immutable" in sheet.headers["cache-control"]
    other = await client.get("darkflows.com", "/_edge/theme.css" + href)
    assert "#7c3aed" not in other.text and "immutable" not in other.headers["cache-control"]


async def test_websocket_is_refused(app: EdgeApp) -> None:
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["type"] == "websocket.close"


async def test_metrics(app: EdgeApp) -> None:
    async with connect(app) as client, connect(app, port=OPS_PORT) as ops:
        await client.get("darkflows.com", "/work")
        await client.get("darkflows.com", "/work")
        text = (await ops.get("any.host", "/_edge/metrics")).text
    values = {sample.name: sample.value for family in text_string_to_metric_families(text) for sample in family.samples}
    assert values["tenantedge_tenants"] == 4
    assert values["tenantedge_page_cache_entries"] >= 1
    assert values["tenantedge_page_cache_hits_total"] >= 1
    assert "# TYPE tenantedge_page_cache_hits_total counter" in text


@pytest.mark.parametrize(
    "path",
    ["/_edge/theme.css", "/_edge/assets/base.css", "/_edge/assets/nope.css"],
    ids=["theme-css", "asset-css", "missing-asset"],
)
async def test_public_stylesheets_and_assets_are_nosniff(client: EdgeClient, path: str) -> None:
    response = await client.get("basicsite.com", path)
    assert response.headers.get("x-content-type-options") == "nosniff"
