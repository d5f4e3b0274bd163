"""The admin API driven in-process: a fresh copy of tenants.json per test, the real EdgeApp, httpx's ASGI transport.

Every request names its Host: `admin.localhost` for the API, a tenant's domain for its public site, so a test
sees a write through the API and its effect on the site through the very same application object.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenantedge.app import create_app
from tenantedge.http.edge import EdgeApp
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tests.server import copy_demo
from tests.services import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedS3, publish_demo

ROOT = Path(__file__).resolve().parents[2]
ADMIN_HOST = "admin.localhost"
FULL_TOKEN = "full-access-token-0001"
SCOPED_TOKEN = "scoped-token-000001"
PEER = "203.0.113.9"
OTHER_PEER = "198.51.100.7"
JSON_TYPE = "application/json"
MERGE_PATCH = "application/merge-patch+json"
NO_SITE = "No site here"

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


class _NoBody:
    """The absence of a request body (distinct from a JSON `null`)."""


NO_BODY = _NoBody()


@dataclass(frozen=True, slots=True)
class Workdir:
    """The folder a test's app lives in: tenants.json, the tokens file, and what the admin writes beside them."""

    root: Path

    @property
    def tenants_file(self) -> Path:
        return self.root / "tenants.json"

    @property
    def tokens_file(self) -> Path:
        return self.root / "admin-tokens.json"

    def tenants_bytes(self) -> bytes:
        return self.tenants_file.read_bytes()

    def tenants(self) -> dict[str, Any]:
        whole: dict[str, Any] = json.loads(self.tenants_file.read_bytes())["tenants"]
        return whole

    def stored(self, folder: str, tenant_id: str) -> list[str]:
        """The files the admin stored for a tenant under `history` or `drafts`, relative to that tenant's folder."""
        base = self.root / folder / tenant_id
        if not base.is_dir():
            return []
        return sorted(str(path.relative_to(base)) for path in base.rglob("*.json"))


class AdminClient:
    """An HTTP client for one app: admin API requests carry a token and the admin Host; site requests a tenant's."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def api(
        self,
        method: str,
        path: str,
        body: object = NO_BODY,
        *,
        token: str | None = FULL_TOKEN,
        if_match: str | None = None,
        content_type: str | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        host: str = ADMIN_HOST,
    ) -> httpx.Response:
        sent: dict[str, str] = {"host": host}
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        if if_match is not None:
            sent["if-match"] = if_match
        data = content
        if not isinstance(body, _NoBody):
            data = json.dumps(body).encode()
            sent["content-type"] = JSON_TYPE
        if content_type is not None:
            sent["content-type"] = content_type
        sent.update(headers or {})
        return await self.http.request(method, path, headers=sent, content=data)

    async def get(self, path: str, *, token: str | None = FULL_TOKEN) -> httpx.Response:
        return await self.api("GET", path, token=token)

    async def patch(
        self, path: str, body: object, *, if_match: str | None, token: str | None = FULL_TOKEN
    ) -> httpx.Response:
        return await self.api("PATCH", path, body, if_match=if_match, content_type=MERGE_PATCH, token=token)

    async def site(self, host: str, path: str = "/") -> httpx.Response:
        """A public request to a tenant's site: no token, the tenant's Host."""
        return await self.http.get(path, headers={"host": host})


def title_of(response: httpx.Response) -> str:
    found = _TITLE.search(response.text)
    assert found is not None, f"no <title> in {response.text[:200]!r}"
    return found.group(1)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The RFC 9457 problem body of an error response, after checking its status and media type."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    return body


async def app_on_origin(
    request: pytest.FixtureRequest,
    workdir: Workdir,
    registry: SectionRegistry,
    monkeypatch: pytest.MonkeyPatch,
    label: str,
    **overrides: Any,
) -> EdgeApp:
    """The app with tenants.json (`request.param == "file"`) or S3 on a SeaweedFS (`"s3"`, the demo published
    under a prefix of its own, named after `label`) as the origin of tenants and their assets."""
    if request.param == "file":
        return build_app(workdir, **overrides)
    seaweed: SeaweedS3 = request.getfixturevalue("seaweed")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    prefix = f"{label}-{uuid.uuid4().hex[:10]}/"
    await publish_demo(seaweed.endpoint, prefix, registry)
    settings = Settings(
        templates_dir=ROOT / "templates",
        s3_endpoint=seaweed.endpoint,
        s3_bucket=BUCKET,
        s3_prefix=prefix,
        admin_token=FULL_TOKEN,
        admin_tokens_file=workdir.tokens_file,
        **overrides,
    )
    return create_app(settings)


def build_app(workdir: Workdir, **overrides: Any) -> EdgeApp:
    settings: dict[str, Any] = {
        "tenants_file": workdir.tenants_file,
        "templates_dir": ROOT / "templates",
        "admin_token": FULL_TOKEN,
        "admin_tokens_file": workdir.tokens_file,
        "reload_interval": 0,
    }
    return create_app(Settings(**{**settings, **overrides}))


@asynccontextmanager
async def connect(app: EdgeApp, peer: str = PEER) -> AsyncIterator[AdminClient]:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"accept-encoding": "identity"}
    ) as http:
        yield AdminClient(http)


@pytest.fixture
def workdir(tmp_path: Path) -> Workdir:
    copy_demo(tmp_path)
    tokens = {"tokens": [{"name": "scoped", "token": SCOPED_TOKEN, "tenants": ["basicsite"]}]}
    (tmp_path / "admin-tokens.json").write_text(json.dumps(tokens))
    return Workdir(tmp_path)


@pytest.fixture
def original(workdir: Workdir) -> dict[str, Any]:
    """The tenants as tenants.json held them before the test wrote anything."""
    return workdir.tenants()


@pytest.fixture
def make_app(workdir: Workdir) -> Callable[..., EdgeApp]:
    def make(**overrides: Any) -> EdgeApp:
        return build_app(workdir, **overrides)

    return make


@pytest.fixture
def app(make_app: Callable[..., EdgeApp]) -> EdgeApp:
    return make_app()


@pytest.fixture
async def client(app: EdgeApp) -> AsyncIterator[AdminClient]:
    async with connect(app) as admin:
        yield admin
