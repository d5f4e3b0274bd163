"""The admin put together from Settings: its origin, history, lock, tokens, API routes and WebSocket hub."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from starlette.applications import Starlette

from tenantedge.admin.api import AdminApi
from tenantedge.admin.auth import TokenRing
from tenantedge.admin.limiter import FailureLimiter, LocalFailures, RedisFailures
from tenantedge.admin.live import LiveHub
from tenantedge.admin.openapi import openapi_document
from tenantedge.admin.service import AdminService
from tenantedge.clock import Clock, SystemClock
from tenantedge.errors import ConfigError, HostError
from tenantedge.events import EventBus
from tenantedge.hosts import normalise_host
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tenantedge.store.publisher import Publisher

if TYPE_CHECKING:
    from tenantedge.content.db import ContentDatabase
    from tenantedge.http.endpoints import OperatorEndpoints
    from tenantedge.media.library import AssetLibrary
    from tenantedge.media.maker import VariantMaker
    from tenantedge.plugins.host import PluginHost
    from tenantedge.telemetry.minutes import TenantMinutes
    from tenantedge.telemetry.propagation import Propagation

log = logging.getLogger("tenantedge.admin")


@dataclass(slots=True)
class Admin:
    host: str
    app: Starlette
    service: AdminService
    hub: LiveHub
    limiter: FailureLimiter


def admin_host(settings: Settings) -> str:
    """The admin's host, normalised; ConfigError when it is not a host. (No tenant may claim it, nor any host
    under it: every write path refuses them, tenants.json included, with the DocumentLimits it is given.)"""
    try:
        return normalise_host(settings.admin_host)
    except HostError as e:
        raise ConfigError(f"TENANTEDGE_ADMIN_HOST: {e}") from e


def build_admin(
    settings: Settings,
    registry: SectionRegistry,
    publisher: Publisher,
    renderer: PageRenderer,
    bus: EventBus,
    host: str,
    database: ContentDatabase | None = None,
    clock: Clock | None = None,
    operator: OperatorEndpoints | None = None,
    assets: AssetLibrary | None = None,
    variants: VariantMaker | None = None,
    stats: TenantMinutes | None = None,
    propagation: Propagation | None = None,
    plugins: PluginHost | None = None,
) -> Admin:
    service = AdminService(publisher, registry)
    token = settings.admin_token
    if token is None and settings.admin_tokens_file is None:
        token = secrets.token_urlsafe(24)
        log.warning("TENANTEDGE_ADMIN_TOKEN is not set; this worker's admin token: %s", token)
    tokens = TokenRing.build(token, settings.admin_tokens_file)
    limiter = failure_limiter(settings, clock or SystemClock())
    origins = settings.admin_origins or tuple(
        f"{scheme}://{host}{port}" for scheme in ("http", "https") for port in ("", f":{settings.port}")
    )
    allowed = frozenset(origin.strip().lower().rstrip("/") for origin in origins)
    hub = LiveHub(bus, tokens, limiter, allowed, queue_size=settings.ws_queue, auth_timeout=settings.ws_auth_timeout)
    api = AdminApi(
        service,
        registry,
        renderer,
        tokens,
        limiter,
        max_body=settings.admin_max_body,
        openapi=openapi_document(_version(), publisher.limits),
        database=database,
        operator=operator,
        assets=assets,
        variants=variants,
        stats=stats,
        propagation=propagation,
        plugins=plugins,
    )
    return Admin(host, api.app(hub.endpoint), service, hub, limiter)


def failure_limiter(settings: Settings, clock: Clock) -> FailureLimiter:
    """Wrong tokens counted in Redis, for every worker to see, when there is one; else in each worker."""
    if not settings.redis_url:
        return LocalFailures(clock, limit=settings.admin_failures, window=settings.admin_failure_window)
    return RedisFailures(
        settings.redis_url,
        clock,
        prefix=settings.redis_prefix,
        limit=settings.admin_failures,
        window=settings.admin_failure_window,
        timeout=settings.redis_timeout,
    )


def _version() -> str:
    try:
        return version("tenantedge")
    except PackageNotFoundError:
        return "0"
