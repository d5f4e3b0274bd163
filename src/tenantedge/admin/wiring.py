"""The admin put together from Settings: its origin, history, lock, tokens, API routes and WebSocket hub."""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette

from tenantedge.admin.api import AdminApi
from tenantedge.admin.auth import FailureLimiter, TokenRing
from tenantedge.admin.live import LiveHub
from tenantedge.admin.openapi import openapi_document
from tenantedge.admin.origins import (
    Blobs,
    FileTenantOrigin,
    FileWriteLock,
    FolderBlobs,
    ObjectTenantOrigin,
    RedisWriteLock,
    TenantOrigin,
    WriteLock,
)
from tenantedge.admin.service import AdminService
from tenantedge.clock import SystemClock
from tenantedge.errors import ConfigError, HostError
from tenantedge.events import Event, EventBus
from tenantedge.hosts import normalise_host
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tenantedge.store.base import TenantStore
from tenantedge.store.files import FileStore
from tenantedge.store.tiered import TieredStore

if TYPE_CHECKING:
    from tenantedge.content.db import ContentDatabase

log = logging.getLogger("tenantedge.admin")


@dataclass(slots=True)
class Admin:
    host: str
    app: Starlette
    service: AdminService
    hub: LiveHub

    @property
    def written(self) -> Callable[[Event], None] | None:
        return self.service.written

    @written.setter
    def written(self, callback: Callable[[Event], None]) -> None:
        self.service.written = callback


def build_admin(
    settings: Settings,
    registry: SectionRegistry,
    store: TenantStore,
    files: FileStore | None,
    renderer: PageRenderer,
    bus: EventBus,
    database: ContentDatabase | None = None,
) -> Admin:
    try:
        host = normalise_host(settings.admin_host)
    except HostError as e:
        raise ConfigError(f"TENANTEDGE_ADMIN_HOST: {e}") from e
    if files is not None and (claimed := files.tenants.hosts.lookup(host)) is not None:
        raise ConfigError(
            f"TENANTEDGE_ADMIN_HOST {host!r} is claimed by tenant {claimed.tenant_id!r} in {files.path}: "
            "the admin host must be a host no tenant serves"
        )
    origin, blobs, lock = _origin(settings, registry, store, files)
    cache = store.cache if isinstance(store, TieredStore) else None
    service = AdminService(origin, blobs, registry, bus, lock, cache=cache, reserved_hosts=frozenset({host}))
    token = settings.admin_token
    if token is None and settings.admin_tokens_file is None:
        token = secrets.token_urlsafe(24)
        log.warning("TENANTEDGE_ADMIN_TOKEN is not set; this worker's admin token: %s", token)
    tokens = TokenRing.build(token, settings.admin_tokens_file)
    limiter = FailureLimiter(SystemClock())
    origins = settings.admin_origins or tuple(
        f"{scheme}://{host}{port}" for scheme in ("http", "https") for port in ("", f":{settings.port}")
    )
    hub = LiveHub(bus, tokens, limiter, frozenset(origin.strip().lower().rstrip("/") for origin in origins))
    api = AdminApi(
        service,
        registry,
        renderer,
        tokens,
        limiter,
        max_body=settings.admin_max_body,
        openapi=openapi_document(_version()),
        database=database,
    )
    return Admin(host, api.app(hub.endpoint), service, hub)


def _origin(
    settings: Settings, registry: SectionRegistry, store: TenantStore, files: FileStore | None
) -> tuple[TenantOrigin, Blobs, WriteLock]:
    lock: WriteLock
    if settings.s3_bucket:
        from tenantedge.store.s3 import S3Tier

        assert isinstance(store, TieredStore) and isinstance(store.origin, S3Tier)
        origin: TenantOrigin = ObjectTenantOrigin(store.origin, registry)
        blobs: Blobs = store.origin
        lock_file = Path(tempfile.gettempdir()) / f"tenantedge-{settings.s3_bucket}.lock"
    else:
        assert files is not None
        origin, blobs = FileTenantOrigin(files, registry), FolderBlobs(files.path.parent)
        lock_file = files.path.with_name(files.path.name + ".lock")
    if settings.redis_url:
        lock = RedisWriteLock(settings.redis_url, prefix=settings.redis_prefix, timeout=settings.redis_timeout)
    else:
        lock = FileWriteLock(lock_file)
    return origin, blobs, lock


def _version() -> str:
    try:
        return version("tenantedge")
    except PackageNotFoundError:
        return "0"
