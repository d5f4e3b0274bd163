"""Wiring: the one place that knows every part and puts the application together from Settings."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from tenantedge.admin.wiring import build_admin
from tenantedge.clock import Clock, SystemClock
from tenantedge.errors import ConfigError
from tenantedge.events import (
    DRAFT_SAVED,
    POST_EVENTS,
    TENANT_DELETED,
    TENANT_UPDATED,
    Event,
    EventBus,
    LocalBus,
    RedisBus,
)
from tenantedge.http.edge import EdgeApp
from tenantedge.http.endpoints import edge_router
from tenantedge.http.policy import CachePolicy
from tenantedge.pagecache import PageCache
from tenantedge.render.assets import AssetCatalog
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tenantedge.store.base import TenantStore
from tenantedge.store.files import FileOrigin, FileStore
from tenantedge.store.tiered import DocumentTier, TieredStore, TierSettings

if TYPE_CHECKING:
    from tenantedge.content.blog import BlogContent
    from tenantedge.store.redis import RedisTier
    from tenantedge.store.s3 import S3Tier


def load_registry(settings: Settings) -> SectionRegistry:
    if not settings.templates_dir.is_dir():
        raise ConfigError(
            f"{settings.templates_dir}: templates folder not found (set --templates or TENANTEDGE_TEMPLATES)"
        )
    return SectionRegistry.from_directory(settings.templates_dir / "default" / "sections")


def build_store(settings: Settings, registry: SectionRegistry, clock: Clock) -> tuple[TenantStore, FileStore | None]:
    """File only; file + Redis; S3 + Redis; or S3 alone. Returns the store and the tenants.json store, if any."""
    files = (
        None
        if settings.s3_bucket
        else FileStore.open(settings.tenants_file, registry, documents=bool(settings.redis_url))
    )
    if files is not None and settings.redis_url is None:
        return files, files
    origin: DocumentTier | None = s3_origin(settings, clock)
    if origin is None:
        assert files is not None
        origin = FileOrigin(files)
    tiers = TierSettings(
        l1_tenants=settings.l1_tenants,
        l1_domains=settings.l1_domains,
        ttl=settings.l1_ttl,
        negative_ttl=settings.negative_ttl,
        stale_if_error=settings.stale_if_error,
    )
    return TieredStore(registry, origin, clock, cache=redis_cache(settings, clock), settings=tiers), files


def s3_origin(settings: Settings, clock: Clock) -> S3Tier | None:
    """The S3 origin the settings name (credentials and region from the usual AWS variables), if any."""
    if not settings.s3_bucket:
        return None
    # Imported here: botocore alone adds about 25 MB to every worker that does not use S3.
    from tenantedge.store.s3 import S3Tier

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return S3Tier(
        settings.s3_endpoint,
        settings.s3_bucket,
        clock,
        prefix=settings.s3_prefix,
        timeout=settings.s3_timeout,
        region=region,
    )


def redis_cache(settings: Settings, clock: Clock) -> RedisTier | None:
    if not settings.redis_url:
        return None
    from tenantedge.store.redis import RedisTier

    return RedisTier(
        settings.redis_url, clock, prefix=settings.redis_prefix, ttl=settings.redis_ttl, timeout=settings.redis_timeout
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> EdgeApp:
    """Build the ASGI application; raises ConfigError or DocumentError when it cannot serve."""
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    registry = load_registry(settings)
    store, files = build_store(settings, registry, clock)
    if settings.default_tenant and files is not None and settings.default_tenant not in files.tenants.tenants:
        raise ConfigError(
            f"TENANTEDGE_DEFAULT_TENANT: no tenant {settings.default_tenant!r} in {settings.tenants_file}"
        )
    assets = AssetCatalog.from_directory(settings.templates_dir / "default" / "assets")
    renderer = PageRenderer(
        settings.templates_dir, assets, reload=settings.template_reload, fragment_bytes=settings.fragment_bytes
    )
    pages = PageCache(settings.page_cache_entries, settings.page_cache_mb << 20, clock)
    watcher = _Watcher(files, settings.reload_interval)
    background = _Background()
    bus = event_bus(settings)
    background.add(bus.run)
    blog = blog_content(settings, clock)
    admin = build_admin(settings, registry, store, files, renderer, bus, blog.database if blog else None)

    async def readiness() -> dict[str, Any]:
        tiers = dict(await store.probe())
        if blog is not None:
            tiers["database"] = await blog.database.probe()
        return tiers

    app = EdgeApp(
        store,
        renderer,
        pages,
        edge_router(assets, lambda: {**app.metrics(), **_store_metrics(store, files)}, readiness),
        policy=CachePolicy.from_lifetimes(
            max_age=settings.max_age,
            s_maxage=settings.s_maxage,
            stale_while_revalidate=settings.stale_while_revalidate,
            stale_if_error=settings.stale_if_error,
            not_found_max_age=settings.not_found_max_age,
            redirect_max_age=settings.redirect_max_age,
        ),
        gzip_min_bytes=settings.gzip_min_bytes,
        default_tenant=settings.default_tenant,
        trusted_proxies=settings.trusted_proxies,
        debug=settings.debug,
        on_startup=[watcher.start, background.start],
        on_shutdown=[
            watcher.stop,
            background.stop,
            bus.close,
            admin.service.close,
            *([blog.database.close] if blog else []),
            *([store.close] if isinstance(store, TieredStore) else []),
        ],
        admin=admin.app,
        admin_host=admin.host,
        blog=blog,
    )

    def changed(tenant_ids: set[str], version: int | None = None) -> None:
        if isinstance(store, TieredStore):
            for tenant_id in tenant_ids:
                store.invalidate(tenant_id, version)
        app.invalidate(tenant_ids)
        for tenant_id in tenant_ids:
            admin.service.forget(tenant_id)

    def reloaded(tenant_ids: set[str]) -> None:
        changed(tenant_ids)
        if isinstance(bus, LocalBus):  # dashboards on this worker hear of the file's changes too
            for tenant_id in tenant_ids:
                tenant = files.tenants.tenants.get(tenant_id) if files is not None else None
                kind, version = (TENANT_UPDATED, tenant.version) if tenant else (TENANT_DELETED, 0)
                bus.publish_now(Event(kind, tenant_id, version))

    def on_event(event: Event) -> None:
        if event.type in POST_EVENTS:
            app.invalidate_posts(event.tenant)
            return
        if event.type == DRAFT_SAVED:
            return
        if isinstance(store, TieredStore):
            store.forget_absent()  # a new tenant's domains were unknown a moment ago
        changed({event.tenant}, event.version)

    def on_reconnect() -> None:
        if isinstance(store, TieredStore):
            store.clear()
        app.invalidate(())

    admin.written = on_event
    bus.subscribe(on_event, on_reconnect)
    watcher.on_change = reloaded
    if isinstance(store, TieredStore) and settings.redis_url:
        from tenantedge.store.redis import RedisTier

        tiered, cache = store, store.cache
        assert isinstance(cache, RedisTier)

        def changed_in_redis(key: tuple[str, str]) -> None:
            tiered.changed(key)
            if key[0] == "tenant":
                app.invalidate({key[1]})

        def connected() -> None:
            tiered.clear()
            app.invalidate(())

        background.add(lambda: cache.watch(changed_in_redis, connected))
    return app


def blog_content(settings: Settings, clock: Clock) -> BlogContent | None:
    """Posts from PostgreSQL, when TENANTEDGE_DATABASE_URL is set."""
    if not settings.database_url:
        return None
    # Imported here: a worker with no database does not load asyncpg.
    from tenantedge.content.blog import BlogContent
    from tenantedge.content.db import ContentDatabase

    database = ContentDatabase(
        settings.database_url, clock, timeout=settings.database_timeout, max_size=settings.database_pool
    )
    return BlogContent(database, clock, per_page=settings.blog_per_page)


def event_bus(settings: Settings) -> EventBus:
    if not settings.redis_url:
        return LocalBus()
    return RedisBus(settings.redis_url, prefix=settings.redis_prefix, timeout=settings.redis_timeout)


class _Background:
    """Long-running tasks of one worker (Redis notifications), started and stopped with it."""

    def __init__(self) -> None:
        self._factories: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._factories.append(factory)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(factory()) for factory in self._factories]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _Watcher:
    """Runs the tenants.json watch of one worker for as long as the worker lives."""

    def __init__(self, store: FileStore | None, interval: float) -> None:
        self._store = store
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self.on_change: Callable[[set[str]], None] = _ignore

    async def start(self) -> None:
        if self._store is not None and self._interval > 0:
            self._task = asyncio.create_task(self._store.watch(self._interval, lambda ids: self.on_change(ids)))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _ignore(changed: set[str]) -> None:
    """Until the app is wired, a reload has nothing to invalidate."""


def _store_metrics(store: TenantStore, files: FileStore | None) -> dict[str, tuple[str, str, float]]:
    found = store.metrics() if isinstance(store, TieredStore) else {}
    if files is not None:
        found["tenantedge_tenants"] = ("gauge", "Tenants in tenants.json.", len(files.tenants.tenants))
    return found
