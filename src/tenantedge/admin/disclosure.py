"""What an error may tell a token: one scoped to some tenants learns nothing of the others, nor of the platform.

An issue that names another tenant (who holds a domain) or lies in one (a problem elsewhere in tenants.json)
carries the version a scoped reader is shown instead (`ValidationIssue.redacted`); a token for every tenant
sees each issue as it is. A backend failure names files, buckets and tiers: only such a token is told which.
"""

from __future__ import annotations

from tenantedge.admin.auth import Grant
from tenantedge.errors import BackendError, DocumentError, ValidationIssue


def shown_issues(error: DocumentError, grant: Grant | None) -> list[dict[str, str]]:
    """The error's issues as the API answers them to this grant (None: not known, told as little as possible)."""
    if grant is not None and grant.tenants is None:
        issues: list[ValidationIssue] = list(error.issues)
    else:
        # Several problems elsewhere are told once, as the one line that stands for them all.
        issues = list(dict.fromkeys(issue.redacted or issue for issue in error.issues))
    return [{"path": issue.path, "message": issue.message} for issue in issues]


def shown_failure(error: BackendError, grant: Grant | None) -> str:
    """What a 503 says: the backend's own words to a token for every tenant, nothing of the platform to others."""
    if grant is not None and grant.tenants is None:
        return f"storage unavailable: {error}"
    return "storage unavailable; try again shortly"
