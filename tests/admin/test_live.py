"""The WebSocket hub's delivery rules: filters, scopes, and dropping a client that cannot keep up."""

from __future__ import annotations

import asyncio

import pytest

from tenantedge.admin.auth import Grant, TokenRing
from tenantedge.admin.limiter import LocalFailures
from tenantedge.admin.live import LiveHub, _Client
from tenantedge.clock import ManualClock
from tenantedge.events import TENANT_UPDATED, Event, LocalBus


def hub_with(bus: LocalBus, queue_size: int = 4) -> LiveHub:
    tokens = TokenRing.build("hub-test-token-0001", None)
    return LiveHub(bus, tokens, LocalFailures(ManualClock()), frozenset(), queue_size=queue_size)


def attach(hub: LiveHub, client: _Client) -> _Client:
    hub._clients.add(client)
    return client


@pytest.mark.anyio
async def test_clients_get_only_the_tenants_they_asked_for_and_may_see() -> None:
    bus = LocalBus()
    hub = hub_with(bus)
    everything = attach(hub, _Client(Grant("admin"), None, asyncio.Queue(4)))
    only_a = attach(hub, _Client(Grant("admin"), frozenset({"a"}), asyncio.Queue(4)))
    scoped_to_b = attach(hub, _Client(Grant("b-editor", frozenset({"b"})), None, asyncio.Queue(4)))
    for tenant in ("a", "b", "c"):
        await bus.publish(Event(TENANT_UPDATED, tenant, 2))

    def tenants(client: _Client) -> list[str]:
        found = []
        while not client.queue.empty():
            event = client.queue.get_nowait()
            assert event is not None
            found.append(event.tenant)
        return found

    assert tenants(everything) == ["a", "b", "c"]
    assert tenants(only_a) == ["a"]
    assert tenants(scoped_to_b) == ["b"]


@pytest.mark.anyio
async def test_a_client_that_cannot_keep_up_is_dropped_not_buffered() -> None:
    bus = LocalBus()
    hub = hub_with(bus, queue_size=2)
    slow = attach(hub, _Client(Grant("admin"), None, asyncio.Queue(2)))
    for version in range(10):
        await bus.publish(Event(TENANT_UPDATED, "a", version))
    assert slow.dropped
    assert slow.queue.qsize() <= 2  # memory stays bounded however many events follow
    items = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
    assert items[-1] is None  # the sender reads this and closes with code 4008
