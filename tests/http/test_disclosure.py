"""A tenant's visitors never learn what serves the site: no product name, file path or tier name in any public
response, pages, redirects, errors and assets alike, headers included."""

from __future__ import annotations

import re

import httpx
import pytest

from tenantedge.http.edge import EdgeApp
from tenantedge.render.pages import PageRenderer
from tests.http.conftest import ROOT, EdgeClient, build_app, connect
from tests.services import free_port

pytestmark = pytest.mark.anyio

# Tier names as words of text: not a section's anchor (`id="s3"`, `#s3-title`), which is the page's own.
PLATFORM = re.compile(
    r"tenantedge|tenants\.json|(?<![\w\"#-])(?:l1|l2|l3|redis|s3|seaweedfs|uvicorn|starlette)(?![\w\"-])", re.IGNORECASE
)
RASTER = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/x-icon")
PAGES = [
    ("codersinflow.com", "/"),
    ("codersinflow.com", "/about"),
    ("codersinflow.com", "/pricing"),
    ("www.codersinflow.com", "/"),
    ("studio.darkflows.com", "/"),
    ("darkflows.com", "/work"),
    ("clientsite.com", "/about"),
    ("basicsite.com", "/"),
]
OTHERS = [
    ("codersinflow.net", "/about"),  # alias: redirect
    ("codersinflow.com", "/about/"),  # trailing slash: redirect
    ("codersinflow.com", "/nope"),  # the tenant's 404
    ("basicsite.com", "/blog"),  # a feature the tenant has off
    ("nobody.example", "/"),  # no site here
    ("bad host", "/"),
    ("codersinflow.com", "/_edge/theme.css"),
    ("codersinflow.com", "/_edge/theme.css?v=old"),
    ("codersinflow.com", "/_edge/assets/nope.css"),
    ("codersinflow.com", "/_edge/health"),
    ("codersinflow.com", "/_edge/metrics"),
    ("codersinflow.com", "/_edge/ready"),
    ("codersinflow.com", "/_edge/ask?domain=codersinflow.com"),
    ("codersinflow.com", "/_edge/nope"),
    ("codersinflow.com", "/%2e%2e/tenants.json"),
]


def leaks(response: httpx.Response) -> list[str]:
    """Whatever in a response names the platform: its product, a path on the server, a tier."""
    places = [f"{name}: {value}" for name, value in response.headers.items()]
    if not response.headers.get("content-type", "").startswith(RASTER):  # a PNG's bytes are no words
        places.append(response.text)
    return [match.group(0) for place in places for match in PLATFORM.finditer(place)] + [
        place[:80] for place in places if str(ROOT) in place
    ]


def linked_assets(html: str) -> set[str]:
    return set(re.findall(r'(?:href|src)="(/_edge/[^"]+)"', html.replace("&amp;", "&")))


@pytest.fixture(scope="module")
def app() -> EdgeApp:
    # Explain mode on: it must still say nothing on the public listener.
    return build_app(debug=True)


async def test_no_public_response_names_the_platform(client: EdgeClient) -> None:
    seen: dict[str, list[str]] = {}
    for host, path in PAGES:
        page = await client.get(host, path)
        assert page.status_code == 200, (host, path)
        seen[f"{host}{path}"] = leaks(page)
        for asset in linked_assets(page.text):
            seen[f"{host}{asset}"] = leaks(await client.get(host, asset))
    for host, path in OTHERS:
        seen[f"{host}{path}"] = leaks(await client.get(host, path))
    for method in ("HEAD", "POST", "DELETE", "OPTIONS"):
        seen[f"{method} /"] = leaks(await client.get("codersinflow.com", method=method))
    seen["no host"] = leaks(await client.get(None))
    assert {where: found for where, found in seen.items() if found} == {}


async def test_a_failed_render_names_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError(f"{ROOT}/templates/default/sections/Hero.html: tenantedge broke reading redis")

    monkeypatch.setattr(PageRenderer, "render_page", broken)
    async with connect(build_app()) as client:
        response = await client.get("codersinflow.com", "/about")
    assert response.status_code == 500 and leaks(response) == []


async def test_an_unavailable_origin_names_nothing() -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    app = build_app(s3_endpoint=unreachable, s3_bucket="sites", s3_timeout=0.2, tenants_file=ROOT / "missing.json")
    async with connect(app) as client:
        response = await client.get("codersinflow.com")
    assert response.status_code == 503 and leaks(response) == []
