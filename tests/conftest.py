"""Shared fixtures: the repository's real templates, section registry and demo tenants."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantedge.render.assets import AssetCatalog
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.store.files import load_tenants_file
from tenantedge.tenants import TenantSet

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def registry() -> SectionRegistry:
    return SectionRegistry.from_directory(TEMPLATES / "default" / "sections")


@pytest.fixture(scope="session")
def assets() -> AssetCatalog:
    return AssetCatalog.from_directory(TEMPLATES / "default" / "assets")


@pytest.fixture(scope="session")
def demo(registry: SectionRegistry) -> TenantSet:
    return load_tenants_file(ROOT / "tenants.json", registry)


@pytest.fixture
def renderer(assets: AssetCatalog) -> PageRenderer:
    return PageRenderer(TEMPLATES, assets)
