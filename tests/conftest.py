"""Shared fixtures: the repository's real templates, section registry and demo tenants."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp

from tenantedge.plugins.discovery import Discovered, discover
from tenantedge.render.assets import AssetCatalog
from tenantedge.render.folders import TemplateFolders
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.store.files import load_tenants_file
from tenantedge.tenants import TenantSet
from tests.services import SeaweedS3

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
FOLDERS = TemplateFolders.find(TEMPLATES)  # the demo tenants' own templates over the packaged defaults


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A real S3 (SeaweedFS) for the whole session, started by the first test that asks for it."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweed"))
    yield server
    server.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def builtin_registry() -> SectionRegistry:
    """The sections tenantedge ships, without any plugin's."""
    return SectionRegistry.from_directories(FOLDERS.defaults("sections"))


@pytest.fixture(scope="session")
def registry(builtin_registry: SectionRegistry, repository_plugins: Discovered) -> SectionRegistry:
    """What the app checks documents against: the built-in sections and those of the installed plugins (the
    repository's, in the test environment; the demo's clientsite uses contact-form)."""
    return repository_plugins.registry(builtin_registry)


@pytest.fixture(scope="session")
def assets() -> AssetCatalog:
    return AssetCatalog.from_directories(FOLDERS.defaults("assets"))


@pytest.fixture(scope="session")
def repository_plugins() -> Discovered:
    """The plugins of plugins/, installed in the test environment: the demo tenants use them (clientsite's form)."""
    return discover()


@pytest.fixture(scope="session")
def demo(registry: SectionRegistry) -> TenantSet:
    return load_tenants_file(ROOT / "tenants.json", registry)


@pytest.fixture
def renderer(assets: AssetCatalog, repository_plugins: Discovered) -> PageRenderer:
    folders = {name: plugin.manifest.root for name, plugin in repository_plugins.loaded.items()}
    return PageRenderer(FOLDERS, assets, plugins=folders)


@contextlib.asynccontextmanager
async def running(app: ASGIApp) -> AsyncIterator[None]:
    """Run an app's lifespan around a block, as a server would: startup before, shutdown after."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(message: MutableMapping[str, Any]) -> None:
        await outbox.put(dict(message))

    async def serve() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send)

    task = asyncio.create_task(serve())
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task
