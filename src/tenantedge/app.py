"""Wiring: the one place that knows every part and puts the application together from Settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from tenantedge.errors import ConfigError
from tenantedge.http.edge import EdgeApp
from tenantedge.http.endpoints import edge_router
from tenantedge.http.policy import CachePolicy
from tenantedge.pagecache import PageCache
from tenantedge.render.assets import AssetCatalog
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tenantedge.store.files import FileStore


def load_registry(settings: Settings) -> SectionRegistry:
    if not settings.templates_dir.is_dir():
        raise ConfigError(
            f"{settings.templates_dir}: templates folder not found (set --templates or TENANTEDGE_TEMPLATES)"
        )
    return SectionRegistry.from_directory(settings.templates_dir / "default" / "sections")


def create_app(settings: Settings | None = None) -> EdgeApp:
    """Build the ASGI application; raises ConfigError or DocumentError when it cannot serve."""
    settings = settings or Settings.from_env()
    registry = load_registry(settings)
    store = FileStore.open(settings.tenants_file, registry)
    if settings.default_tenant and settings.default_tenant not in store.tenants.tenants:
        raise ConfigError(
            f"TENANTEDGE_DEFAULT_TENANT: no tenant {settings.default_tenant!r} in {settings.tenants_file}"
        )
    assets = AssetCatalog.from_directory(settings.templates_dir / "default" / "assets")
    renderer = PageRenderer(
        settings.templates_dir,
        assets,
        reload=settings.template_reload,
        fragment_bytes=settings.fragment_bytes,
    )
    pages = PageCache(settings.page_cache_entries, settings.page_cache_mb << 20)
    watcher = _Watcher(store, settings.reload_interval)
    app = EdgeApp(
        store,
        renderer,
        pages,
        edge_router(assets, lambda: {**app.metrics(), **_store_metrics(store)}),
        policy=CachePolicy.from_settings(settings),
        gzip_min_bytes=settings.gzip_min_bytes,
        default_tenant=settings.default_tenant,
        trusted_proxies=settings.trusted_proxies,
        debug=settings.debug,
        on_startup=[watcher.start],
        on_shutdown=[watcher.stop],
    )
    watcher.on_change = app.invalidate
    return app


class _Watcher:
    """Runs the tenants.json watch of one worker for as long as the worker lives."""

    def __init__(self, store: FileStore, interval: float) -> None:
        self._store = store
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self.on_change: Callable[[set[str]], None] = _ignore

    async def start(self) -> None:
        if self._interval > 0:
            self._task = asyncio.create_task(self._store.watch(self._interval, lambda ids: self.on_change(ids)))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _ignore(changed: set[str]) -> None:
    """Until the app is wired, a reload has nothing to invalidate."""


def _store_metrics(store: FileStore) -> dict[str, tuple[str, str, float]]:
    return {"tenantedge_tenants": ("gauge", "Tenants loaded by this worker.", len(store.tenants.tenants))}
