"""Host-independent endpoints under /_edge/: health and the default templates' static assets."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from tenantedge.render.assets import AssetCatalog

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"


async def health(request: Request) -> Response:
    """Liveness: the process is up and serving."""
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


def edge_router(assets: AssetCatalog) -> Router:
    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            return Response("Not Found", 404, media_type="text/plain")
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
            Route("/_edge/assets/{name:path}", asset, methods=["GET", "HEAD"]),
        ]
    )
