"""Where published tenant documents live, as every writer sees them: tenants.json or S3, read and replaced whole.

A commit replaces exactly the version the writer checked (VersionConflict otherwise) and says which per-host
documents it wrote and removed, for the shared cache to mirror.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from tenantedge.errors import BackendError, DocumentError, ValidationIssue, VersionConflict
from tenantedge.gcpause import collector_paused
from tenantedge.jsonpath import format_path
from tenantedge.sections import SectionRegistry
from tenantedge.store.blobs import write_atomically
from tenantedge.store.files import FileStore
from tenantedge.store.layout import DOMAIN, TENANT, DocKey, decode_domain
from tenantedge.store.publish import claimed_hosts, taken_hosts, tenant_documents
from tenantedge.tenants import Tenant, TenantSet, compact_json, full_form, parse_tenant, parse_tree

if TYPE_CHECKING:
    from tenantedge.store.s3 import S3Tier


@dataclass(frozen=True, slots=True)
class Summary:
    """What the tenant list shows and searches: id, name, domains, version and whether it is served yet."""

    id: str
    name: str
    domains: tuple[str, ...]
    version: int
    published: bool = True

    @classmethod
    def of(cls, tenant: Tenant) -> Summary:
        return cls(tenant.id, tenant.name, (*tenant.domains, *tenant.aliases), tenant.version, tenant.published)

    def matches(self, query: str) -> bool:
        return query in self.id or query in self.name.lower() or any(query in domain for domain in self.domains)


# What a commit changed, per key, for the shared cache to mirror: documents written and keys removed.
Written = tuple[dict[DocKey, bytes], set[DocKey]]


class TenantOrigin(Protocol):
    """The tenant documents the admin edits; every call is made under the write lock."""

    name: str

    async def load(self, tenant_id: str) -> dict[str, Any] | None: ...

    async def summaries(self) -> dict[str, Summary]:
        """Every tenant, for the list and its search."""
        ...

    async def documents(self, tenant_ids: set[str]) -> dict[str, dict[str, Any]]:
        """Several tenants' documents, versioned, in as few reads as the origin allows (absent: none)."""
        ...

    async def tenant_ids(self) -> list[str]:
        """Every tenant published, sorted."""
        ...

    async def owner_of(self, pattern: str) -> str | None:
        """The tenant that claims this normalised host or pattern (as a domain, alias or wildcard), if any."""
        ...

    async def commit(self, tenant_id: str, document: dict[str, Any] | None, replaces: int | None) -> Written:
        """Store a validated, versioned document (None: remove the tenant) in place of version `replaces` (None:
        no tenant yet); VersionConflict if the origin holds another by then. What changed, per key."""
        ...


class FileTenantOrigin:
    """tenants.json as the origin: a write rewrites the file (validated whole) and this worker adopts it at once."""

    name = "file"

    def __init__(self, files: FileStore, registry: SectionRegistry) -> None:
        self._files = files
        self._registry = registry

    async def load(self, tenant_id: str) -> dict[str, Any] | None:
        tenants: dict[str, Any] = (await asyncio.to_thread(self._read))["tenants"]
        document = tenants.get(tenant_id)
        if document is None:
            return None
        return {**document, "version": self._version_of(tenant_id, document)}

    def _version_of(self, tenant_id: str, document: object) -> int | None:
        """The file need not carry versions: the one served is the one an If-Match must name."""
        if not isinstance(document, dict):
            return None
        known = self._files.tenants.tenants.get(tenant_id)
        version: int = document.get("version", known.version if known else 1)
        return version

    async def summaries(self) -> dict[str, Summary]:
        return {tenant_id: Summary.of(tenant) for tenant_id, tenant in self._files.tenants.tenants.items()}

    async def tenant_ids(self) -> list[str]:
        return sorted(self._files.tenants.tenants)

    async def owner_of(self, pattern: str) -> str | None:
        entry = self._files.tenants.hosts.entry(pattern)
        return None if entry is None else entry.tenant_id

    async def documents(self, tenant_ids: set[str]) -> dict[str, dict[str, Any]]:
        """These tenants' documents as saved, read in one pass (absent: not in the file)."""
        tenants: dict[str, Any] = (await asyncio.to_thread(self._read))["tenants"]
        return {
            tenant_id: {**tenants[tenant_id], "version": self._version_of(tenant_id, tenants[tenant_id])}
            for tenant_id in tenant_ids
            if isinstance(tenants.get(tenant_id), dict)
        }

    async def commit(self, tenant_id: str, document: dict[str, Any] | None, replaces: int | None) -> Written:
        return await asyncio.to_thread(self._commit, tenant_id, document, replaces)

    def _read(self) -> dict[str, Any]:
        path = self._files.path
        try:
            with collector_paused():
                return full_form(orjson.loads(path.read_bytes()))
        except OSError as e:
            raise BackendError(f"{path}: cannot read: {e.strerror}") from e
        except orjson.JSONDecodeError as e:
            raise BackendError(f"{path}: the file on disk is not valid JSON ({e}); fix it before writing") from e

    def _commit(self, tenant_id: str, document: dict[str, Any] | None, replaces: int | None) -> Written:
        path = self._files.path
        whole = self._read()
        old = whole["tenants"].get(tenant_id)
        _check_replaces(tenant_id, self._version_of(tenant_id, old), replaces)
        if document is None:
            whole["tenants"].pop(tenant_id, None)
        else:
            whole["tenants"][tenant_id] = document
        data = orjson.dumps(whole, option=orjson.OPT_INDENT_2) + b"\n"
        # Validated whole: a domain another tenant of the file claims is refused here, with its JSON path.
        try:
            fresh = parse_tree(
                whole, str(path), self._registry, self._files.tenants, documents=True, limits=self._files.limits
            )
        except DocumentError as e:
            raise DocumentError(f"tenant {tenant_id}", [_within(tenant_id, issue) for issue in e.issues]) from e
        write_atomically(path, data)
        self._files.adopt(fresh if self._files.keeps_documents else _without_documents(fresh))
        removed = {(DOMAIN, host) for host in claimed_hosts(old)}
        if document is None:
            return {}, removed | {(TENANT, tenant_id)}
        written = tenant_documents(fresh.tenants[tenant_id], fresh.documents[tenant_id])
        return written, removed - set(written)


# What a token that may not see the other tenants is told of their problems.
ELSEWHERE = ValidationIssue(
    "", "tenants.json has problems in other tenants; an administrator must fix them before this change can be saved"
)


def _within(tenant_id: str, issue: ValidationIssue) -> ValidationIssue:
    """An issue of the whole file, told relative to the tenant document the caller sent, where it is in it."""
    head = format_path(("tenants", tenant_id))
    if issue.path == head or issue.path.startswith(head + ".") or issue.path.startswith(head + "["):
        path = issue.path[len(head) :].lstrip(".")
        redacted = issue.redacted and ValidationIssue(path, issue.redacted.message)
        return ValidationIssue(path, issue.message, redacted=redacted)
    return ValidationIssue(issue.path, f"{issue.message} (elsewhere in tenants.json)", redacted=ELSEWHERE)


def _without_documents(tenants: TenantSet) -> TenantSet:
    return replace(tenants, documents={})


class ObjectTenantOrigin:
    """S3 as the origin: one document per tenant and per domain, as `tenantedge sync` writes them."""

    name = "s3"

    def __init__(self, s3: S3Tier, registry: SectionRegistry) -> None:
        self._s3 = s3
        self._registry = registry

    async def load(self, tenant_id: str) -> dict[str, Any] | None:
        return (await self._load_tagged(tenant_id))[0]

    async def _load_tagged(self, tenant_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """The tenant's document, versioned as the reader serves it, and the ETag of the copy it came from."""
        tagged = await self._s3.get_tagged((TENANT, tenant_id))
        if tagged is None:
            return None, None
        document: dict[str, Any] = orjson.loads(tagged[0])
        if not isinstance(document, dict):
            raise BackendError(f"s3: tenants/{tenant_id}.json is not a JSON object; fix or replace it")
        return {**document, "version": document.get("version", 1)}, tagged[1]

    async def summaries(self) -> dict[str, Summary]:
        names = await self._s3.names(TENANT)
        found: dict[str, Summary] = {}
        gate = asyncio.Semaphore(32)

        async def read(tenant_id: str) -> None:
            async with gate:
                document = await self.load(tenant_id)
            if document is not None:
                with contextlib.suppress(Exception):  # a broken document is listed by the reader that serves it
                    found[tenant_id] = Summary.of(parse_tenant(tenant_id, document, self._registry, limits=None))

        await asyncio.gather(*(read(name) for name in names))
        return found

    async def tenant_ids(self) -> list[str]:
        return await self._s3.names(TENANT)

    async def owner_of(self, pattern: str) -> str | None:
        data = await self._s3.get((DOMAIN, pattern))
        if data is None:
            return None
        try:
            return decode_domain(pattern, data, f"s3: domains/{pattern}.json").tenant_id
        except BackendError:
            return None  # a broken index entry routes nothing: whoever claims the host now may take it

    async def documents(self, tenant_ids: set[str]) -> dict[str, dict[str, Any]]:
        found = {tenant_id: await self.load(tenant_id) for tenant_id in sorted(tenant_ids)}
        return {tenant_id: document for tenant_id, document in found.items() if document is not None}

    async def commit(self, tenant_id: str, document: dict[str, Any] | None, replaces: int | None) -> Written:
        # Writers on machines that share no lock (S3 without Redis) are kept apart by the bucket itself: the
        # tenant document is replaced only if it is still the copy read here, the version the caller checked.
        old, etag = await self._load_tagged(tenant_id)
        _check_replaces(tenant_id, old["version"] if old is not None else None, replaces)
        held = claimed_hosts(old)
        gone = {(DOMAIN, host) for host in held}
        if document is None:
            removed = gone | {(TENANT, tenant_id)}
            await self._s3.delete_many(removed)
            return {}, removed
        # Validated by the publisher already: parsed here for its hosts (in a thread, as it may be large).
        source = f"tenant {tenant_id}"
        tenant = await asyncio.to_thread(parse_tenant, tenant_id, document, self._registry, source, limits=None)
        issues = await taken_hosts(tenant, held, self._s3)
        if issues:
            raise DocumentError(source, issues)
        written = tenant_documents(tenant, compact_json(document))
        if not await self._s3.put_if((TENANT, tenant_id), written[(TENANT, tenant_id)], etag=etag):
            raise _changed_meanwhile(tenant_id, None)  # another writer's copy landed between the read and here
        await self._s3.put_many({key: data for key, data in written.items() if key != (TENANT, tenant_id)})
        removed = gone - set(written)
        await self._s3.delete_many(removed)
        return written, removed


def _check_replaces(tenant_id: str, found: int | None, replaces: int | None) -> None:
    """VersionConflict unless the origin still holds the version the caller checked (None: no tenant)."""
    if found != replaces:
        raise _changed_meanwhile(tenant_id, found)


def _changed_meanwhile(tenant_id: str, current: int | None) -> VersionConflict:
    message = f"tenant {tenant_id}: another writer changed it while this write was made"
    return VersionConflict(f"{message}; reload it and apply your change again", current)
