"""The tenant store boundary: which tenant answers a host, and the tenant document itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tenantedge.hosts import HostMatch
from tenantedge.invalidation import Change
from tenantedge.tenants import Tenant

Found = tuple[HostMatch, Tenant]


class TenantStore(Protocol):
    """Finds tenants by normalised host or id; implementations range from one file to Redis and S3."""

    # True when every change to the answers is announced (the edge may then cache host -> tenant routes).
    routes_cacheable: bool

    def peek_page(self, host: str) -> tuple[HostMatch, str] | None:
        """The match and the tenant's digest from memory alone: enough to find a cached page, with no tenant
        document at hand. None means: ask `peek`."""
        ...

    def fresh_until(self, host: str) -> float | None:
        """Until when (a reading of the store's clock) what `peek_page` just answered for `host` holds with no
        announcement; None when every change is announced (`routes_cacheable`) or nothing is known."""
        ...

    async def page_key(self, host: str) -> tuple[HostMatch, str] | None:
        """What `peek_page` gives, asking other tiers if need be; None when no tenant claims the host."""
        ...

    def peek(self, host: str) -> Found | None:
        """Answer from memory alone, with no I/O: the hot path's way in. None means: ask `resolve`."""
        ...

    async def resolve(self, host: str) -> Found | None:
        """The tenant for a host from every tier the store has; None when no tenant claims the host.

        Raises StoreUnavailable when the tiers that could know are down and nothing stale is left.
        """
        ...

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant with this id, or None."""
        ...

    async def probe(self) -> dict[str, Any]:
        """Each tier's state, checked now, for /_edge/ready."""
        ...

    def forget(self, change: Change) -> None:
        """Drop what a change makes wrong (the store registers with the one owner of invalidation)."""
        ...

    async def follow(self, apply: Callable[[Change], None]) -> None:
        """Report changes made in a shared tier by others (keyspace notifications), until cancelled; returns at
        once when the store has no such tier."""
        ...

    def metrics(self) -> dict[str, tuple[str, str, float]]:
        """Counters and gauges for /_edge/metrics: name -> (type, help, value)."""
        ...

    async def close(self) -> None: ...
