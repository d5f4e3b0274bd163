"""Drive the real EdgeApp in-process: httpx's ASGI transport for requests, raw ASGI calls for exact bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenantedge.app import create_app
from tenantedge.http.edge import EdgeApp
from tenantedge.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
AppFactory = Callable[..., EdgeApp]
OPS_PORT = 9100  # the operations listener's port in-process: requests sent to it, by URL, reach it


def build_app(**settings: Any) -> EdgeApp:
    defaults: dict[str, Any] = {
        "tenants_file": ROOT / "tenants.json",
        "templates_dir": ROOT / "templates",
        "ops_port": OPS_PORT,
    }
    return create_app(Settings(**{**defaults, **settings}))


class EdgeClient:
    """An HTTP client for one app, where every request names its Host."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def get(
        self, host: str | None, path: str = "/", *, method: str = "GET", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        request = self.http.build_request(method, path, headers={**(headers or {}), **({"host": host} if host else {})})
        if host is None or host == "":
            request.headers.pop("host", None)
            if host == "":
                request.headers["host"] = ""
        return await self.http.send(request)


@asynccontextmanager
async def connect(app: EdgeApp, peer: str = "203.0.113.9", *, port: int | None = None) -> AsyncIterator[EdgeClient]:
    """A client of the public listener, or of the listener on `port` (the server the ASGI scope names)."""
    # Accept-Encoding is left to each test: httpx would otherwise ask for gzip on every request.
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    base_url = "http://testserver" if port is None else f"http://testserver:{port}"
    async with httpx.AsyncClient(
        transport=transport, base_url=base_url, headers={"accept-encoding": "identity"}
    ) as client:
        yield EdgeClient(client)


async def call_raw(
    app: EdgeApp, headers: list[tuple[bytes, bytes]], path: str = "/", *, port: int = 8000
) -> list[dict[str, Any]]:
    """Drive the app with exact header bytes, as a server listening on `port` would pass them; returns the
    messages sent."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
        "scheme": "http", "headers": headers, "client": ("192.0.2.1", 1), "server": ("127.0.0.1", port),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    return sent


@pytest.fixture(scope="module")
def app() -> EdgeApp:
    return build_app()


@pytest.fixture
async def client(app: EdgeApp) -> AsyncIterator[EdgeClient]:
    async with connect(app) as edge:
        yield edge
