"""Every admin response says `X-Content-Type-Options: nosniff`: the preview's theme CSS above all, since it is
tenant content served from the admin's origin."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from tenantedge.admin.nosniff import NoSniff
from tests.admin.conftest import AdminClient

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("path", "token", "status"),
    [
        pytest.param("/preview/basicsite/_edge/theme.css?page=/", "full", 200, id="preview-theme-css"),
        pytest.param("/preview/basicsite/", "full", 200, id="preview-page"),
        pytest.param("/api/tenants", "full", 200, id="json"),
        pytest.param("/api/tenants", None, 401, id="problem"),
        pytest.param("/api/no-such-thing", "full", 404, id="unrouted"),
        pytest.param("/", None, 200, id="console"),
        pytest.param("/api/openapi.json", None, 200, id="public-json"),
    ],
)
async def test_every_admin_response_is_nosniff(client: AdminClient, path: str, token: str | None, status: int) -> None:
    response = await client.get(path) if token else await client.get(path, token=None)
    assert response.status_code == status
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_the_preview_theme_is_css_and_nosniff(client: AdminClient) -> None:
    sheet = await client.get("/preview/basicsite/_edge/theme.css?page=/")
    assert sheet.headers["content-type"].startswith("text/css")
    assert sheet.headers["x-content-type-options"] == "nosniff"


async def test_a_header_already_set_is_left_alone() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/css"), (b"X-Content-Type-Options", b"nosniff")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    await NoSniff(app)({"type": "http", "method": "GET", "path": "/", "headers": []}, receive, send)
    assert [name.lower() for name, _ in sent[0]["headers"]].count(b"x-content-type-options") == 1
