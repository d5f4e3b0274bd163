"""Tell plugins of changes: an EventBus that passes every event on, and tells the plugins of the tenant each one
published through it names.

Plugins hear an event once, in the worker that made the change, not once per worker that hears the bus: a hook
that sends a webhook on publish sends one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from tenantedge.errors import BackendError, StoreUnavailable
from tenantedge.events import TENANT_DELETED, Event, EventBus, Listener
from tenantedge.plugins.host import PluginHost
from tenantedge.tenants import Tenant

log = logging.getLogger("tenantedge.plugins")


class PluginEvents:
    """`bus`, and the plugins told of what is published through it."""

    def __init__(self, bus: EventBus, host: PluginHost, tenant: Callable[[str], Awaitable[Tenant | None]]) -> None:
        self._bus = bus
        self._host = host
        self._tenant = tenant
        self.shared = bus.shared

    async def publish(self, event: Event) -> Event:
        published = await self._bus.publish(event)
        tenant = None
        if event.type != TENANT_DELETED:
            try:
                tenant = await self._tenant(event.tenant)
            except (BackendError, StoreUnavailable) as e:
                log.warning("tenant %s: plugins not told of %s: %s", event.tenant, event.type, e)
                return published
        self._host.tell(published, tenant)
        return published

    @property
    def reconnects(self) -> int:
        return self._bus.reconnects

    def subscribe(self, listener: Listener, on_reconnect: Callable[[], None] | None = None) -> Callable[[], None]:
        return self._bus.subscribe(listener, on_reconnect)

    async def since(self, seq: int) -> list[Event] | None:
        return await self._bus.since(seq)

    async def last_seq(self) -> int:
        return await self._bus.last_seq()

    async def run(self) -> None:
        await self._bus.run()

    async def close(self) -> None:
        await self._bus.close()
