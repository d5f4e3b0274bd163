"""Host-independent endpoints under /_edge/: health, metrics and the default templates' static assets."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, Router

from tenantedge.render.assets import AssetCatalog

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"


async def health(request: Request) -> Response:
    """Liveness: the process is up and serving; `worker` tells which process answered (several share a port)."""
    return JSONResponse({"status": "ok", "worker": os.getpid()}, headers={"cache-control": "no-store"})


Metrics = Callable[[], Mapping[str, tuple[str, str, float]]]  # name -> (type, help, value)


Readiness = Callable[[], Awaitable[Mapping[str, Any]]]


def edge_router(assets: AssetCatalog, metrics: Metrics, readiness: Readiness) -> Router:
    async def ready(request: Request) -> Response:
        """Each tier's state; degraded tiers do not fail readiness, since memory and the other tiers still serve."""
        tiers = await readiness()
        degraded = any(tier.get("state") != "up" for tier in tiers.values())
        body = {"status": "degraded" if degraded else "ready", "tiers": tiers}
        return JSONResponse(body, headers={"cache-control": "no-store"})

    async def metrics_text(request: Request) -> Response:
        """This worker's counters in the Prometheus text format."""
        lines = []
        for name, (kind, text, value) in metrics().items():
            shown = str(int(value)) if float(value).is_integer() else repr(value)
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {shown}"]
        return PlainTextResponse("\n".join(lines) + "\n", headers={"cache-control": "no-store"})

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            return Response("Not Found", 404, {"x-content-type-options": "nosniff"}, media_type="text/plain")
        etag = f'"{found.digest}"'
        headers = {
            "etag": etag,
            "cache-control": IMMUTABLE if request.query_params.get("v") == found.digest else SHORT,
            "x-content-type-options": "nosniff",
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(found.body, headers=headers, media_type=found.content_type)

    return Router(
        routes=[
            Route("/_edge/health", health, methods=["GET", "HEAD"]),
            Route("/_edge/metrics", metrics_text, methods=["GET", "HEAD"]),
            Route("/_edge/ready", ready, methods=["GET", "HEAD"]),
            Route("/_edge/assets/{name:path}", asset, methods=["GET", "HEAD"]),
        ]
    )
