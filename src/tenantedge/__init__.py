"""tenantedge: one ASGI application that serves thousands of websites, picked by Host header."""

from tenantedge.errors import (
    BackendError,
    ConfigError,
    DocumentError,
    HostError,
    RegistryError,
    StoreUnavailable,
    TenantEdgeError,
    ValidationIssue,
)

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "ConfigError",
    "DocumentError",
    "HostError",
    "RegistryError",
    "StoreUnavailable",
    "TenantEdgeError",
    "ValidationIssue",
    "__version__",
]
