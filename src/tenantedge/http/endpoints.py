"""Endpoints under /_edge/ that need no tenant: the public ones (health, the default templates' assets) and the
operations listener's (health with detail, metrics, readiness and the TLS `ask` for on-demand certificates)."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp

from tenantedge.errors import HostError, StoreUnavailable
from tenantedge.hosts import normalise_domain
from tenantedge.render.assets import AssetCatalog
from tenantedge.store.budget import one_lookup

log = logging.getLogger("tenantedge.edge")

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
NO_STORE = {"cache-control": "no-store"}
# Answered only on the operations listener, and on the admin host to holders of an admin token.
METRICS_PATH = "/_edge/metrics"
READY_PATH = "/_edge/ready"
ASK_PATH = "/_edge/ask"

Metrics = Callable[[], bytes]  # the Prometheus text exposition, every worker's figures added up
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Readiness = Callable[[], Awaitable[Mapping[str, Any]]]
Serves = Callable[[str], Awaitable[bool]]  # whether a public request for this normalised host gets a site


async def public_health(request: Request) -> Response:
    """Liveness for anyone: the process is up and serving, and nothing more."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def worker_health(request: Request) -> Response:
    """Liveness on the operations listener: `worker` tells which process answered (several share a port)."""
    return JSONResponse({"status": "ok", "worker": os.getpid()}, headers=NO_STORE)


def public_router(assets: AssetCatalog, extra: Sequence[BaseRoute] = ()) -> Router:
    """What a tenant's domain answers under /_edge/ besides its theme (and `extra`: plugins' assets); any other
    path is a plain 404."""

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
            Route("/_edge/health", public_health, methods=["GET", "HEAD"]),
            Route("/_edge/assets/{name:path}", asset, methods=["GET", "HEAD"]),
            *extra,
        ]
    )


class OperatorEndpoints:
    """Metrics and readiness, as handlers the operations listener and the admin host both route to."""

    def __init__(self, metrics: Metrics, readiness: Readiness) -> None:
        self._metrics = metrics
        self._readiness = readiness

    async def metrics(self, request: Request) -> Response:
        """The instance's metrics in the Prometheus text format (tenantedge.telemetry.export)."""
        return Response(self._metrics(), headers=NO_STORE, media_type=METRICS_TYPE)

    async def ready(self, request: Request) -> Response:
        """Each tier's state; degraded tiers do not fail readiness, since memory and the other tiers still serve."""
        tiers = await self._readiness()
        degraded = any(tier.get("state") != "up" for tier in tiers.values())
        body = {"status": "degraded" if degraded else "ready", "tiers": tiers}
        return JSONResponse(body, headers=NO_STORE)


def operations_router(endpoints: OperatorEndpoints, serves: Serves, *, default: ASGIApp | None = None) -> Router:
    """The operations listener, for any Host; `default` answers every other request (else a plain 404)."""

    async def ask(request: Request) -> Response:
        """Caddy's on-demand TLS `ask`: 200 exactly when a public request for `domain` would get a site."""
        raw = request.query_params.get("domain", "")
        try:
            host = normalise_domain(raw)
        except HostError as e:
            return PlainTextResponse(f"Bad Request: {e}", 400, headers=NO_STORE)
        try:
            # The same tiers and wait budget as a public request: memory, then Redis, then the origin.
            with one_lookup():
                known = await serves(host)
        except StoreUnavailable as e:
            log.warning("ask %s: %s", host, e)
            return PlainTextResponse("Service Unavailable", 503, headers={**NO_STORE, "retry-after": "5"})
        return Response(status_code=200 if known else 404, headers=NO_STORE)

    routes = [
        Route("/_edge/health", worker_health, methods=["GET", "HEAD"]),
        Route(METRICS_PATH, endpoints.metrics, methods=["GET", "HEAD"]),
        Route(READY_PATH, endpoints.ready, methods=["GET", "HEAD"]),
        Route(ASK_PATH, ask, methods=["GET", "HEAD"]),
    ]
    return Router(routes=routes, default=default)
