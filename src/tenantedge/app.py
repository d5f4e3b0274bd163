"""Wiring: the one place that knows every part and puts the application together from Settings."""

from __future__ import annotations

from tenantedge.errors import ConfigError
from tenantedge.http.edge import EdgeApp
from tenantedge.http.endpoints import edge_router
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
    renderer = PageRenderer(settings.templates_dir, assets, reload=settings.template_reload)
    return EdgeApp(
        store,
        renderer,
        edge_router(assets),
        default_tenant=settings.default_tenant,
        trusted_proxies=settings.trusted_proxies,
    )
