"""The lifespan: every shutdown hook runs whatever an earlier one raised, and the server hears how it ended."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import pytest
from starlette.routing import Router

from tenantedge.app import cache_policy
from tenantedge.clock import SystemClock
from tenantedge.http.edge import EdgeApp, Hook
from tenantedge.http.lookup import PageLookup
from tenantedge.pagecache import PageCache
from tenantedge.render.pages import PageRenderer
from tenantedge.sections import SectionRegistry
from tenantedge.settings import Settings
from tenantedge.store.files import FileStore
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio


class Resource:
    """Something a worker closes at shutdown, which may refuse."""

    def __init__(self, name: str, fails: bool, closed: list[str]) -> None:
        self.name = name
        self._fails = fails
        self._closed = closed

    async def close(self) -> None:
        self._closed.append(self.name)
        if self._fails:
            raise RuntimeError(f"{self.name} would not close")


async def run_lifespan(app: EdgeApp) -> list[dict[str, Any]]:
    """Start the app and stop it, as a server does; returns what the app sent back."""
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    return sent


@pytest.mark.parametrize(
    "failing",
    [(), ("bus",), ("bus", "store"), ("bus", "database", "store")],
    ids=["none-fails", "first-fails", "first-and-last-fail", "all-fail"],
)
async def test_every_shutdown_hook_runs_and_the_lifespan_ends(
    failing: tuple[str, ...],
    registry: SectionRegistry,
    renderer: PageRenderer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[str] = []
    names = ("bus", "database", "store")
    hooks: list[Hook] = [Resource(name, name in failing, closed).close for name in names]
    store = FileStore.open(ROOT / "tenants.json", registry)
    policy = cache_policy(Settings())
    pages = PageCache(16, 1 << 20)
    app = EdgeApp(PageLookup(store, pages, SystemClock()), renderer, pages, Router(), policy=policy, on_shutdown=hooks)
    with caplog.at_level(logging.ERROR, logger="tenantedge.edge"):
        sent = await run_lifespan(app)
    assert closed == list(names)
    assert sent[0] == {"type": "lifespan.startup.complete"}
    if not failing:
        assert sent[1:] == [{"type": "lifespan.shutdown.complete"}]
        return
    assert [message["type"] for message in sent[1:]] == ["lifespan.shutdown.failed"]
    for name in failing:
        assert f"Resource.close raised RuntimeError('{name} would not close')" in sent[1]["message"]
    # Each failure is logged with its traceback, not just named.
    raised = [record.exc_info[1] for record in caplog.records if record.exc_info]
    assert [str(error) for error in raised] == [f"{name} would not close" for name in failing]
