"""Where admin writes land: the tenants' origin (tenants.json or S3), its history and drafts, and the write lock.

Both origins keep the same layout for what only the admin writes: `history/{id}/{version}.json` and
`drafts/{id}/{page}.json`, in the bucket for S3 and in folders beside tenants.json for the embedded default.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from tenantedge.errors import BackendError, ConfigError, DocumentError, ValidationIssue, VersionConflict
from tenantedge.gcpause import collector_paused
from tenantedge.jsonpath import format_path
from tenantedge.sections import SectionRegistry
from tenantedge.store.files import FileStore
from tenantedge.store.layout import DOMAIN, FOLDERS, TENANT, DocKey
from tenantedge.store.operations import claimed_hosts, refuse_taken_domains
from tenantedge.store.publish import tenant_documents
from tenantedge.tenants import Tenant, TenantSet, compact_json, full_form, parse_tenant, parse_tree

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from tenantedge.store.s3 import S3Tier

LOCK_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Summary:
    """What the tenant list shows and searches: id, name, domains and version."""

    id: str
    name: str
    domains: tuple[str, ...]
    version: int

    @classmethod
    def of(cls, tenant: Tenant) -> Summary:
        return cls(tenant.id, tenant.name, (*tenant.domains, *tenant.aliases), tenant.version)

    def matches(self, query: str) -> bool:
        return query in self.id or query in self.name.lower() or any(query in domain for domain in self.domains)


# What a commit changed, per key, for the shared cache to mirror: documents written and keys removed.
Written = tuple[dict[DocKey, bytes], set[DocKey]]


class Blobs(Protocol):
    """History records and drafts: JSON by key, kept in the origin only."""

    async def get(self, key: DocKey) -> bytes | None: ...

    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None: ...

    async def delete(self, key: DocKey) -> None: ...

    async def names(self, kind: str, under: str = "") -> list[str]: ...


class TenantOrigin(Protocol):
    """The tenant documents the admin edits; every call is made under the write lock."""

    name: str

    async def load(self, tenant_id: str) -> dict[str, Any] | None: ...

    async def summaries(self) -> dict[str, Summary]:
        """Every tenant, for the list and its search."""
        ...

    async def commit(self, tenant_id: str, document: dict[str, Any] | None, replaces: int | None) -> Written:
        """Store a validated, versioned document (None: remove the tenant) in place of version `replaces` (None:
        no tenant yet); VersionConflict if the origin holds another by then. What changed, per key."""
        ...


class WriteLock(Protocol):
    def hold(self, tenant_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Exclusive rights to write this tenant, across every worker that shares the lock."""
        ...

    async def close(self) -> None: ...


class FolderBlobs:
    """Blobs as files: `{root}/history/{id}/{version}.json`, `{root}/drafts/{id}/{page}.json`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: DocKey) -> Path:
        return self.root / FOLDERS[key[0]] / f"{key[1]}.json"

    async def get(self, key: DocKey) -> bytes | None:
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise BackendError(f"{self._path(key)}: {e.strerror}") from e

    async def put(self, key: DocKey, data: bytes, *, ttl: float | None = None) -> None:
        await asyncio.to_thread(write_atomically, self._path(key), data)

    async def delete(self, key: DocKey) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    async def names(self, kind: str, under: str = "") -> list[str]:
        folder = self.root / FOLDERS[kind]

        def walk() -> list[str]:
            if not folder.is_dir():
                return []
            return sorted(
                str(path.relative_to(folder))[: -len(".json")]
                for path in folder.rglob("*.json")
                if str(path.relative_to(folder)).startswith(under)
            )

        return await asyncio.to_thread(walk)


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that a reader sees the old content or the new, never a part (temp file, fsync, rename)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
    except OSError as e:
        raise BackendError(f"{path}: cannot write: {e.strerror}") from e


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
            fresh = parse_tree(whole, str(path), self._registry, self._files.tenants, documents=True)
        except DocumentError as e:
            raise DocumentError(f"tenant {tenant_id}", [_within(tenant_id, issue) for issue in e.issues]) from e
        write_atomically(path, data)
        self._files.adopt(fresh if self._files.keeps_documents else _without_documents(fresh))
        removed = {(DOMAIN, host) for host in claimed_hosts(old)}
        if document is None:
            return {}, removed | {(TENANT, tenant_id)}
        written = tenant_documents(fresh.tenants[tenant_id], fresh.documents[tenant_id])
        return written, removed - set(written)


def _within(tenant_id: str, issue: ValidationIssue) -> ValidationIssue:
    """An issue of the whole file, told relative to the tenant document the caller sent, where it is in it."""
    head = format_path(("tenants", tenant_id))
    if issue.path == head:
        return ValidationIssue("", issue.message)
    if issue.path.startswith(head + ".") or issue.path.startswith(head + "["):
        return ValidationIssue(issue.path[len(head) :].lstrip("."), issue.message)
    return ValidationIssue(issue.path, f"{issue.message} (elsewhere in tenants.json)")


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
                    found[tenant_id] = Summary.of(parse_tenant(tenant_id, document, self._registry))

        await asyncio.gather(*(read(name) for name in names))
        return found

    async def commit(self, tenant_id: str, document: dict[str, Any] | None, replaces: int | None) -> Written:
        # Writers on machines that share no lock (S3 without Redis) are kept apart by the bucket itself: the
        # tenant document is replaced only if it is still the copy read here, the version the caller checked.
        old, etag = await self._load_tagged(tenant_id)
        _check_replaces(tenant_id, old["version"] if old is not None else None, replaces)
        gone = {(DOMAIN, host) for host in claimed_hosts(old)}
        if document is None:
            removed = gone | {(TENANT, tenant_id)}
            for key in removed:
                await self._s3.delete(key)
            return {}, removed
        tenant = parse_tenant(tenant_id, document, self._registry, source=f"tenant {tenant_id}")
        written = tenant_documents(tenant, compact_json(document))
        try:
            await refuse_taken_domains(tenant_id, written, self._s3)
        except ConfigError as e:
            raise DocumentError(f"tenant {tenant_id}", [ValidationIssue("domains", str(e))]) from e
        if not await self._s3.put_if((TENANT, tenant_id), written[(TENANT, tenant_id)], etag=etag):
            raise _changed_meanwhile(tenant_id, None)  # another writer's copy landed between the read and here
        for key, data in written.items():
            if key != (TENANT, tenant_id):
                await self._s3.put(key, data)
        removed = gone - set(written)
        for key in removed:
            await self._s3.delete(key)
        return written, removed


def _check_replaces(tenant_id: str, found: int | None, replaces: int | None) -> None:
    """VersionConflict unless the origin still holds the version the caller checked (None: no tenant)."""
    if found != replaces:
        raise _changed_meanwhile(tenant_id, found)


def _changed_meanwhile(tenant_id: str, current: int | None) -> VersionConflict:
    message = f"tenant {tenant_id}: another writer changed it while this write was made"
    return VersionConflict(f"{message}; reload it and apply your change again", current)


class FileWriteLock:
    """One writer at a time across the workers of one machine: `flock` on a file beside tenants.json."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def hold(self, tenant_id: str) -> AsyncIterator[None]:
        async with self._local:
            fd = await asyncio.to_thread(self._acquire)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    async def close(self) -> None:
        return None

    def _acquire(self) -> int:
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise BackendError(f"{self._path}: cannot open the write lock: {e.strerror}") from e
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    os.close(fd)
                    raise BackendError(f"{self._path}: another writer holds the lock; try again") from e
                time.sleep(0.005)


# Releases the lock only if it is still ours: a writer that overran the lease must not free the next one's.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class RedisWriteLock:
    """One writer per tenant across every instance: a Redis key with a lease (SET NX PX), released by owner only."""

    def __init__(self, url: str, *, prefix: str = "te:", lease: float = 10.0, timeout: float = 1.0) -> None:
        from redis.asyncio import Redis

        self._client: Redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix
        self._lease = lease

    @contextlib.asynccontextmanager
    async def hold(self, tenant_id: str) -> AsyncIterator[None]:
        from redis.exceptions import RedisError

        key, token = f"{self._prefix}lock:tenant:{tenant_id}", secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_TIMEOUT
        try:
            while not await self._client.set(key, token, nx=True, px=int(self._lease * 1000)):
                if time.monotonic() > deadline:
                    raise BackendError(f"tenant {tenant_id}: another writer holds the lock; try again")
                await asyncio.sleep(0.005)
        except (RedisError, OSError) as e:
            raise BackendError(f"redis lock: {type(e).__name__}: {e}") from e
        try:
            yield
        finally:
            with contextlib.suppress(RedisError, OSError):
                await self._client.eval(_RELEASE, 1, key, token)

    async def close(self) -> None:
        await self._client.aclose()
