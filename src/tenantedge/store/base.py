"""The tenant store boundary: where the edge finds which tenant answers a host, and the tenant itself."""

from __future__ import annotations

from typing import Protocol

from tenantedge.hosts import HostMatch
from tenantedge.tenants import Tenant


class TenantStore(Protocol):
    """Looks up tenants by normalised host and by id; implementations range from a file to Redis and S3."""

    async def lookup_host(self, host: str) -> HostMatch | None:
        """The tenant and rule for a normalised host, or None when no tenant claims it."""
        ...

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        """The tenant with this id, or None."""
        ...
