"""The one exception hierarchy of tenantedge.

TenantEdgeError
 ├── ConfigError      a setting, flag or file the operator gave cannot be used
 ├── DocumentError    a tenants document failed validation; carries every ValidationIssue
 ├── RegistryError    a section schema file under templates/ is malformed
 ├── HostError        a Host header that is not a hostname (answered with 400)
 ├── BackendError     Redis or S3 could not answer: down, slow, refusing, or circuit open
 ├── StoreUnavailable a tenant may exist but no tier that could hold it answered (answered with 503)
 └── VersionConflict  a write named a version that is no longer current, or a name already taken (409)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class TenantEdgeError(Exception):
    """Base class of every error tenantedge raises on purpose."""


class ConfigError(TenantEdgeError):
    """A setting, command-line flag or configured file cannot be used."""


class RegistryError(TenantEdgeError):
    """A section schema under templates/ is malformed."""


class HostError(TenantEdgeError):
    """A Host header that cannot name a site."""


class BackendError(TenantEdgeError):
    """A storage backend (Redis, S3) failed to answer in time; callers treat it as a miss or go stale."""


class StoreUnavailable(TenantEdgeError):
    """The store cannot tell whether a tenant exists: the tiers that would know are down and nothing stale is left."""


class VersionConflict(TenantEdgeError):
    """A write named a version that is no longer current, or a name already taken; carries the current version."""

    def __init__(self, message: str, current: int | None) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem in a document: where (a JSON path) and what was found versus expected."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    @classmethod
    def at(cls, path: tuple[str | int, ...], message: str) -> ValidationIssue:
        """An issue at a JSON path given as keys and indexes."""
        from tenantedge.jsonpath import format_path

        return cls(format_path(path), message)


class DocumentError(TenantEdgeError):
    """A tenants document that cannot be served; lists every issue found, not just the first."""

    def __init__(self, source: str, issues: Sequence[ValidationIssue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        count = len(self.issues)
        lines = [f"{source}: {count} error{'s' if count != 1 else ''}"]
        lines.extend(f"  {issue}" for issue in self.issues)
        super().__init__("\n".join(lines))
