"""The tenant store boundary: which tenant answers a host, and the tenant document itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from tenantedge.hosts import HostMatch
from tenantedge.invalidation import Change
from tenantedge.telemetry.figures import Figures
from tenantedge.tenants import Tenant

Found = tuple[HostMatch, Tenant]


class KnownPage(NamedTuple):
    """What a store's memory knows of a host: enough to find a cached page, and until when it holds."""

    match: HostMatch
    digest: str
    until: float  # a reading of the store's clock


class PageKeys(Protocol):
    """A store that tells a host's page key without the tenant's document (it holds more domains than tenants)."""

    def peek_page(self, host: str) -> KnownPage | None:
        """From memory alone; None means: ask `page_key`."""
        ...

    async def page_key(self, host: str) -> KnownPage | None:
        """From every tier; None when no tenant claims the host. StoreUnavailable when no tier can tell."""
        ...


class TenantStore(Protocol):
    """Finds tenants by normalised host or id; implementations range from one file to Redis and S3."""

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

    def metrics(self) -> Figures:
        """Counters and gauges for /_edge/metrics: name -> (type, help, value or values by label)."""
        ...

    async def close(self) -> None: ...
