"""Wiring: the one place that knows every part and puts the application together from Settings."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from tenantedge.admin.wiring import admin_host, build_admin
from tenantedge.clock import Clock, SystemClock
from tenantedge.errors import ConfigError
from tenantedge.events import ASSET_ADDED, ASSET_EVENTS, Event, EventBus, LocalBus, RedisBus
from tenantedge.http.edge import EdgeApp, Hook
from tenantedge.http.endpoints import OperatorEndpoints, operations_router, public_router
from tenantedge.http.lookup import PageLookup
from tenantedge.http.media import MediaServer
from tenantedge.http.policy import CachePolicy
from tenantedge.http.proxies import trust_checker
from tenantedge.http.visitors import VisitorPolicy
from tenantedge.invalidation import Invalidation
from tenantedge.media.cache import MediaCache
from tenantedge.media.library import AssetLibrary, AssetLimits
from tenantedge.media.maker import VariantMaker
from tenantedge.media.sizes import ImageSizes
from tenantedge.media.store import AssetStore, FolderAssets, ObjectAssets
from tenantedge.media.variants import every_variant
from tenantedge.pagecache import PageCache
from tenantedge.plugins.discovery import Discovered, discover
from tenantedge.plugins.events import PluginEvents
from tenantedge.plugins.host import PluginHost
from tenantedge.render.assets import AssetCatalog
from tenantedge.render.folders import TemplateFolders
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tenantedge.store.base import PageKeys, TenantStore
from tenantedge.store.blobs import Blobs, FolderBlobs
from tenantedge.store.files import FileOrigin, FileStore
from tenantedge.store.locks import FileWriteLock, RedisWriteLock, WriteLock
from tenantedge.store.origins import FileTenantOrigin, ObjectTenantOrigin, TenantOrigin
from tenantedge.store.publisher import Publisher
from tenantedge.store.tiered import DocumentTier, TieredStore, TierSettings
from tenantedge.telemetry.accesslog import AccessLog, LogFormat
from tenantedge.telemetry.eventlag import EventLag
from tenantedge.telemetry.export import Exporter
from tenantedge.telemetry.minutes import LocalMinutes, RedisMinutes, TenantMinutes
from tenantedge.telemetry.propagation import LocalPropagation, Propagation, RedisPropagation
from tenantedge.telemetry.requests import Recorder, RequestIds, RequestStats
from tenantedge.telemetry.timings import Timings
from tenantedge.tenants import DocumentLimits, TenantSet

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from tenantedge.content.blog import BlogContent
    from tenantedge.store.redis import RedisTier
    from tenantedge.store.s3 import S3Tier


def installed_plugins(settings: Settings) -> Discovered:
    """The plugins installed in this environment (entry points `tenantedge.plugins`); with TENANTEDGE_PLUGINS=0
    none is imported, and tenants enabling one serve without it."""
    return discover(load=settings.plugins)


def load_registry(settings: Settings, plugins: Discovered | None = None) -> SectionRegistry:
    """The built-in sections, a templates folder's, and those of the installed plugins (found now when not given)."""
    base = SectionRegistry.from_directories(TemplateFolders.find(settings.templates_dir).defaults("sections"))
    return (installed_plugins(settings) if plugins is None else plugins).registry(base)


class Stores(NamedTuple):
    store: TenantStore
    files: FileStore | None  # tenants.json, when it is the origin
    page_keys: PageKeys | None  # a store that tells page keys, when it knows tenants only for a while
    timings: tuple[Timings, ...] = ()  # its tiers' read durations, when it has tiers


def document_limits(settings: Settings, admin: str) -> DocumentLimits:
    """What every write path holds a tenant document to; `admin` is the normalised admin host."""
    return DocumentLimits(
        max_bytes=settings.max_tenant_bytes,
        max_hosts=settings.max_domains,
        max_sections=settings.max_sections,
        max_custom_css=settings.max_custom_css_bytes,
        reserved=frozenset({admin}),
    )


def build_store(
    settings: Settings,
    registry: SectionRegistry,
    clock: Clock,
    s3: S3Tier | None,
    cache: RedisTier | None,
    limits: DocumentLimits,
) -> Stores:
    """File only; file + Redis; S3 + Redis; or S3 alone."""
    files = None
    if s3 is None:
        files = FileStore.open(settings.tenants_file, registry, documents=cache is not None, limits=limits)
    if files is not None and cache is None:
        return Stores(files, files, None)
    origin: DocumentTier | None = s3
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
    tiered = TieredStore(registry, origin, clock, cache=cache, notifications=cache, settings=tiers)
    return Stores(tiered, files, tiered, (tiered.reads,))


def build_publisher(
    settings: Settings,
    registry: SectionRegistry,
    bus: EventBus,
    *,
    s3: S3Tier | None,
    files: FileStore | None,
    cache: RedisTier | None,
    limits: DocumentLimits,
) -> Publisher:
    """The one way to publish: to S3 when there is a bucket, else to tenants.json; locked across machines by
    Redis when there is one, else across this machine's workers by a lock file."""
    origin: TenantOrigin
    blobs: Blobs
    if s3 is not None:
        origin, blobs = ObjectTenantOrigin(s3, registry), s3
        lock_file = Path(tempfile.gettempdir()) / f"tenantedge-{settings.s3_bucket}.lock"
    elif files is not None:
        origin, blobs = FileTenantOrigin(files, registry), FolderBlobs(files.path.parent)
        lock_file = files.path.with_name(files.path.name + ".lock")
    else:
        raise ConfigError("nothing to publish to: set TENANTEDGE_S3_BUCKET, or serve a tenants.json")
    lock: WriteLock
    if settings.redis_url:
        lock = RedisWriteLock(settings.redis_url, prefix=settings.redis_prefix, timeout=settings.redis_timeout)
    else:
        lock = FileWriteLock(lock_file)
    return Publisher(origin, blobs, registry, bus, lock, cache=cache, limits=limits)


def build_assets(
    settings: Settings, publisher: Publisher, *, s3: S3Tier | None, files: FileStore | None
) -> AssetLibrary:
    """Tenants' assets in the origin the tenants live in: S3, or an `assets/` folder beside tenants.json. The
    publisher checks every document's asset references against it."""
    store: AssetStore
    if s3 is not None:
        store = ObjectAssets(s3)
    elif files is not None:
        store = FolderAssets(files.path.parent)
    else:
        raise ConfigError("no origin for assets: set TENANTEDGE_S3_BUCKET, or serve a tenants.json")
    limits = AssetLimits(
        max_bytes=settings.max_asset_bytes,
        quota_bytes=settings.asset_quota_bytes,
        max_pixels=settings.max_image_pixels,
    )
    library = AssetLibrary(store, publisher.lock, publisher.load, limits, drafts=publisher.drafts)
    publisher.assets = library
    return library


def forget_asset(media: MediaCache, event: Event) -> None:
    asset = event.path or ""
    for name in (asset, *every_variant(asset)):
        media.forget(event.tenant, name)


def variants_lock(settings: Settings, files: FileStore | None) -> WriteLock:
    """The lock images' variants are made under: across machines by Redis when there is one, else across this
    machine's workers by a lock file of their own (making them never holds up a publish)."""
    if settings.redis_url:
        prefix = f"{settings.redis_prefix}variants:"
        return RedisWriteLock(settings.redis_url, prefix=prefix, lease=60.0, timeout=settings.redis_timeout)
    if files is not None:
        return FileWriteLock(files.path.with_name(files.path.name + ".variants.lock"))
    return FileWriteLock(Path(tempfile.gettempdir()) / f"tenantedge-{settings.s3_bucket}.variants.lock")


def cache_policy(settings: Settings) -> CachePolicy:
    """The edge's Cache-Control lifetimes, as plain numbers from the settings."""
    return CachePolicy.from_lifetimes(
        max_age=settings.max_age,
        s_maxage=settings.s_maxage,
        stale_while_revalidate=settings.stale_while_revalidate,
        stale_if_error=settings.stale_if_error,
        not_found_max_age=settings.not_found_max_age,
        redirect_max_age=settings.redirect_max_age,
    )


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
    discovered = installed_plugins(settings)
    registry = load_registry(settings, discovered)
    s3, cache = s3_origin(settings, clock), redis_cache(settings, clock)
    host = admin_host(settings)
    limits = document_limits(settings, host)
    store, files, page_keys, store_timings = build_store(settings, registry, clock, s3, cache, limits)
    if settings.default_tenant and files is not None and settings.default_tenant not in files.tenants.tenants:
        raise ConfigError(
            f"TENANTEDGE_DEFAULT_TENANT: no tenant {settings.default_tenant!r} in {settings.tenants_file}"
        )
    _check_listeners(settings)
    folders = TemplateFolders.find(settings.templates_dir)
    assets = AssetCatalog.from_directories(folders.defaults("assets"))
    pages = PageCache(settings.page_cache_entries, settings.page_cache_mb << 20, clock)
    blog = blog_content(settings, clock)
    plugins = PluginHost(
        discovered,
        clock,
        timeout=settings.plugin_timeout,
        cooldown=settings.plugin_cooldown,
        max_body=settings.plugin_max_body,
        database=blog.database if blog is not None else None,
        trusted_proxies=settings.trusted_proxies,
    )
    # Changes are published through this one: the plugins of the tenant changed hear of it once.
    bus = event_bus(settings, clock)
    if plugins:
        bus = PluginEvents(bus, plugins, store.get_tenant)
    event_lag = EventLag(bus, clock)
    publisher = build_publisher(settings, registry, bus, s3=s3, files=files, cache=cache, limits=limits)
    library = build_assets(settings, publisher, s3=s3, files=files)
    renderer = PageRenderer(
        folders,
        assets,
        reload=settings.template_reload,
        fragment_bytes=settings.fragment_bytes,
        images=ImageSizes(library.store),
        plugins=plugins.template_folders(),
    )
    media = MediaCache(library.store, clock, budget=settings.asset_memory_bytes, negative_ttl=settings.negative_ttl)
    # A deleted asset (and its variants) leaves every worker's memory; a new one drops a remembered miss.
    bus.subscribe(lambda event: forget_asset(media, event) if event.type in ASSET_EVENTS else None)
    variants = VariantMaker(library.store, variants_lock(settings, files), clock, negative_ttl=settings.negative_ttl)
    # A new image's width variants are made in the background (the lock lets one worker of all make them).
    bus.subscribe(lambda event: variants.start(event.tenant, event.path or "") if event.type == ASSET_ADDED else None)

    async def readiness() -> dict[str, Any]:
        tiers = dict(await store.probe())
        if blog is not None:
            tiers["database"] = await blog.database.probe()
        return tiers

    metrics = store.metrics if files is None or files is store else lambda: {**files.metrics(), **store.metrics()}
    stats = RequestStats()
    minutes = tenant_minutes(settings) if settings.metrics else None
    propagation = publish_propagation(settings, clock) if settings.metrics else None
    exporter = Exporter(
        stats,
        lambda: {
            **app.metrics(),
            **metrics(),
            **media.metrics(),
            **variants.metrics(),
            **database_metrics(),
            **live_metrics(),
            **event_lag.metrics(),
        },
        top=settings.metrics_top_tenants,
        tenant_interval=settings.metrics_tenant_seconds,
        tenant_batches=minutes.add if minutes is not None else None,
        timings=[
            *store_timings,
            renderer.sections,
            event_lag.lag,
            *([blog.database.queries] if blog is not None else []),
        ],
    )

    def database_metrics() -> dict[str, tuple[str, str, float]]:
        return blog.database.metrics() if blog is not None else {}

    def live_metrics() -> dict[str, tuple[str, str, float]]:
        return {"tenantedge_websocket_clients": ("gauge", "Admin WebSocket clients connected.", admin.hub.clients)}

    access_log = AccessLog(sys.stdout.buffer, LogFormat(settings.access_log)) if settings.access_log != "off" else None
    recorder = None
    if settings.metrics or access_log is not None:
        ids = RequestIds(trust_checker(settings.trusted_proxies) if settings.trusted_proxies else None)
        recorder = Recorder(stats if settings.metrics else None, ids, access_log)
    operator = OperatorEndpoints(exporter.exposition, readiness)
    database = blog.database if blog else None
    admin = build_admin(
        settings,
        registry,
        publisher,
        renderer,
        bus,
        host,
        database,
        clock=clock,
        operator=operator,
        assets=library,
        variants=variants,
        stats=minutes,
        propagation=propagation,
        plugins=plugins,
    )

    async def file_saved(changed: set[str], before: TenantSet) -> None:
        assert files is not None
        await publisher.file_saved(before, files.tenants, changed)

    watcher = _Watcher(files, settings.reload_interval, file_saved)
    background = _Background()
    background.add(bus.run)
    background.add(exporter.run)
    if minutes is not None:
        background.add(minutes.run)
    if propagation is not None:
        background.add(propagation.run)
    if access_log is not None:
        background.add(access_log.run)
    lookup = PageLookup(
        store, pages, clock, page_keys=page_keys, max_keys=settings.l1_domains, default_tenant=settings.default_tenant
    )
    public_routes = public_router(assets, plugins.asset_routes())
    media_server = MediaServer(media, library.store, variants)

    def edge(
        *,
        debug: bool = False,
        operations: ASGIApp | None = None,
        recorder: Recorder | None = None,
        on_startup: Sequence[Hook] = (),
        on_shutdown: Sequence[Hook] = (),
    ) -> EdgeApp:
        return EdgeApp(
            lookup,
            renderer,
            pages,
            public_routes,
            policy=cache_policy(settings),
            gzip_min_bytes=settings.gzip_min_bytes,
            trusted_proxies=settings.trusted_proxies,
            debug=debug,
            admin=admin.app,
            admin_host=admin.host,
            blog=blog,
            operations=operations,
            operations_port=settings.ops_port,
            media=media_server,
            recorder=recorder,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            plugins=plugins,
            visitors=VisitorPolicy(
                settings.visitor_cookie, settings.consent_cookie if settings.experiment_consent else None
            ),
        )

    async def serves(name: str) -> bool:
        return name != host and await lookup.serves(name)

    # Explain mode tells which tenant, rule and templates served a response: on the operations listener only,
    # where a request that is no operator endpoint is served as the public listener would, and explained.
    explaining = edge(debug=True) if settings.debug else None
    app = edge(
        operations=operations_router(operator, serves, default=explaining),
        recorder=recorder,
        on_startup=[watcher.start, background.start],
        on_shutdown=[
            watcher.stop,
            exporter.hand_over,  # the last per-tenant figures, while the stats' sender still runs
            background.stop,
            variants.close,
            exporter.close,
            *([propagation.close] if propagation else []),
            bus.close,
            admin.service.close,
            admin.limiter.close,
            *([blog.database.close] if blog else []),
            store.close,
            plugins.close,
        ],
    )
    # Every change reaches every cache through one owner: stores first, so a page rendered after the drop
    # reads the new document.
    invalidation = Invalidation()
    invalidation.register(store, lookup, *([blog] if blog else []), admin.service)
    publisher.applied = invalidation.event
    bus.subscribe(invalidation.event, invalidation.everything)
    bus.subscribe(event_lag)  # after the caches: an event counts as applied once they dropped what it changed
    if propagation is not None:
        bus.subscribe(propagation.applied)
    background.add(lambda: store.follow(invalidation.apply))
    return app


def _check_listeners(settings: Settings) -> None:
    # The application tells the operations listener apart by the port a request arrived on.
    if settings.ops_port and settings.ops_port == settings.port:
        raise ConfigError(f"TENANTEDGE_OPS_PORT: {settings.ops_port} is the public port too (TENANTEDGE_PORT)")
    if settings.debug and not settings.ops_port:
        raise ConfigError("TENANTEDGE_DEBUG: explain mode answers on the operations listener: set TENANTEDGE_OPS_PORT")


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


def tenant_minutes(settings: Settings) -> TenantMinutes:
    """Per-tenant figures per minute: every worker's in Redis when there is one, else each worker's own."""
    if not settings.redis_url:
        return LocalMinutes()
    return RedisMinutes(settings.redis_url, prefix=settings.redis_prefix, timeout=settings.redis_timeout)


def publish_propagation(settings: Settings, clock: Clock) -> Propagation:
    """Publish acknowledgements: every worker's in Redis when there is one, else this worker's own."""
    if not settings.redis_url:
        return LocalPropagation(clock)
    return RedisPropagation(settings.redis_url, clock, prefix=settings.redis_prefix, timeout=settings.redis_timeout)


def event_bus(settings: Settings, clock: Clock | None = None) -> EventBus:
    if not settings.redis_url:
        return LocalBus(clock)
    return RedisBus(settings.redis_url, prefix=settings.redis_prefix, timeout=settings.redis_timeout, clock=clock)


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
    """Runs the tenants.json watch of one worker for as long as the worker lives; each save is published."""

    def __init__(
        self, store: FileStore | None, interval: float, on_change: Callable[[set[str], TenantSet], Awaitable[None]]
    ) -> None:
        self._store = store
        self._interval = interval
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._store is not None and self._interval > 0:
            self._task = asyncio.create_task(self._store.watch(self._interval, self._on_change))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
