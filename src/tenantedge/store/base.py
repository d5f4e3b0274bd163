"""The tenant store boundary: which tenant answers a host, and the tenant document itself."""

from __future__ import annotations

from typing import Protocol

from tenantedge.hosts import HostMatch
from tenantedge.tenants import Tenant

Found = tuple[HostMatch, Tenant]


class TenantStore(Protocol):
    """Finds tenants by normalised host or id; implementations range from one file to Redis and S3."""

    def peek(self, host: str) -> Found | None:
        """Answer from memory alone, with no I/O: the hot path's way in. None means: ask `resolve`."""
        ...

    async def resolve(self, host: str) -> Found | None:
        """The tenant for a host from every tier the store has; None when no tenant claims the host."""
        ...

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant with this id, or None."""
        ...
