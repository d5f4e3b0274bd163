"""The embedded origin: a tenants.json file, validated whole and held in memory."""

from __future__ import annotations

from pathlib import Path

from tenantedge.errors import ConfigError
from tenantedge.hosts import HostMatch
from tenantedge.sections import SectionRegistry
from tenantedge.tenants import Tenant, TenantSet, parse_document


def load_tenants_file(path: Path, registry: SectionRegistry) -> TenantSet:
    """Read and validate a tenants file; ConfigError when it cannot be read, DocumentError when invalid."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: tenants file not found") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read tenants file: {e.strerror}") from e
    return parse_document(data, str(path), registry)


class FileStore:
    """Tenants from one validated tenants.json, answered from memory."""

    def __init__(self, tenants: TenantSet) -> None:
        self._set = tenants

    @classmethod
    def open(cls, path: Path, registry: SectionRegistry) -> FileStore:
        return cls(load_tenants_file(path, registry))

    @property
    def tenants(self) -> TenantSet:
        return self._set

    async def lookup_host(self, host: str) -> HostMatch | None:
        return self._set.hosts.lookup(host)

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self._set.tenants.get(tenant_id)
