"""The one exception hierarchy of tenantedge.

TenantEdgeError
 ├── ConfigError      a setting, flag or file the operator gave cannot be used
 ├── DocumentError    a tenants document failed validation; carries every ValidationIssue
 │    └── DocumentTooLarge  a tenant document over the size limit, refused before anything else (413)
 ├── RegistryError    a section schema file under templates/ is malformed, or a plugin's manifest or files
 ├── HostError        a Host header that is not a hostname (answered with 400)
 ├── RequestRefused   a request head the server answered itself (414, 431, 400) and stops parsing
 ├── BackendError     Redis or S3 could not answer: down, slow, refusing, or circuit open
 │    ├── TierRefused      not even asked: its circuit is open, or the lookup has waited for it long enough
 │    └── UnsafeRole       the database role would not be held by row-level security
 ├── StoreUnavailable a tenant may exist but no tier that could hold it answered (answered with 503)
 ├── VersionConflict  a write named a version that is no longer current, or a name already taken (409)
 │    ├── Conflict         an admin or operator write lost to another writer, or the tenant exists
 │    └── PostConflict     a post's slug is taken, or the post changed since it was read
 ├── NotFound         no such tenant, page, draft, version, post or asset (404)
 ├── AssetRefused     an upload refused with its own status: too large, not allowed, a bomb, over quota
 ├── PreconditionRequired  a write that needs If-Match came without one (428)
 ├── PluginFailed     a plugin's hook raised, overran its budget, or the plugin rests for the tenant (left out)
 ├── ScopeRefused     a plugin's query would change whom its database transaction is for
 └── ApiError         an admin API answer with its own status (RFC 9457 problem details)
ConfigError
 └── MigrationError   a migration file failed; the database is as the previous file left it
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class TenantEdgeError(Exception):
    """Base class of every error tenantedge raises on purpose."""


class ConfigError(TenantEdgeError):
    """A setting, command-line flag or configured file cannot be used."""


class MigrationError(ConfigError):
    """A migration file that failed; the database is as the previous file left it."""


class RegistryError(TenantEdgeError):
    """A section schema under templates/ is malformed."""


class HostError(TenantEdgeError):
    """A Host header that cannot name a site."""


class BackendError(TenantEdgeError):
    """A storage backend (Redis, S3) failed to answer in time; callers treat it as a miss or go stale."""


class TierRefused(BackendError):
    """A call never made: the backend's circuit breaker is open, or the lookup has used up its wait for it."""


class UnsafeRole(BackendError):
    """The application's database role would not be held by row-level security."""


class StoreUnavailable(TenantEdgeError):
    """The store cannot tell whether a tenant exists: the tiers that would know are down and nothing stale is left."""


class VersionConflict(TenantEdgeError):
    """A write named a version that is no longer current, or a name already taken; carries the current version."""

    def __init__(self, message: str, current: int | None) -> None:
        super().__init__(message)
        self.current = current


class Conflict(VersionConflict):
    """The caller's version is not the current one, or the tenant already exists."""


class PostConflict(VersionConflict):
    """The slug is taken, or the post changed since the version the caller read."""


class PluginFailed(TenantEdgeError):
    """A plugin's hook raised or overran its time budget (logged with the plugin's name), or the plugin rests for
    the tenant after such a failure: what it would have added is left out."""


class ScopeRefused(TenantEdgeError):
    """A plugin's query tried to change the tenant or role of its transaction; refused before it was sent."""


class NotFound(TenantEdgeError):
    """No such tenant, page, draft or version (or one the caller may not see)."""


class PreconditionRequired(TenantEdgeError):
    """A write that needs `If-Match` came without one."""


class AssetRefused(TenantEdgeError):
    """An asset upload refused before anything was stored: 413 (too large, over quota), 415 (a type outside the
    allowlist), 422 (malformed, absurd dimensions, an SVG that could run script)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RequestRefused(TenantEdgeError):
    """Raised in an HTTP parser callback once the server has answered the request itself, to stop parsing."""


class ApiError(TenantEdgeError):
    """An error the admin API answers as `application/problem+json` (RFC 9457) with this status."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        issues: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.issues = issues
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem in a document: where (a JSON path) and what was found versus expected."""

    path: str
    message: str
    # What a reader who may see only this tenant is shown instead, when the issue names another tenant or lies
    # in one (None: shown as it is).
    redacted: ValidationIssue | None = field(default=None, compare=False)

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


class DocumentTooLarge(DocumentError):
    """A tenant document over the size limit: refused whole, before any other check."""
