"""tenantedge: one ASGI application that serves thousands of websites, picked by Host header."""

from tenantedge.errors import (
    ConfigError,
    DocumentError,
    HostError,
    RegistryError,
    TenantEdgeError,
    ValidationIssue,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DocumentError",
    "HostError",
    "RegistryError",
    "TenantEdgeError",
    "ValidationIssue",
    "__version__",
]
