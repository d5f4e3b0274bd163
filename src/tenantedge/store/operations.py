"""Operator writes: `tenantedge sync` (a tenants document) and `kv` (one document), published like an admin's.

Each goes through the Publisher: validated, under the tenant's lock, replacing only the version it was checked
against, recorded in the history (by `cli:{user}`), mirrored to Redis and announced to every worker. A sync
does not silently replace what an admin published since: that tenant is a conflict unless `--force`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tenantedge.errors import ConfigError, Conflict, DocumentError, HostError, NotFound, ValidationIssue
from tenantedge.events import TENANT_DELETED
from tenantedge.hosts import MATCH_ALIAS, MATCH_WILDCARD, normalise_pattern
from tenantedge.store.layout import decode_domain
from tenantedge.store.publisher import ANY_VERSION, FILE_WRITER, IMPORTER, Publisher, same_content, without_version
from tenantedge.tenants import TenantSet

# Who an operator's command is recorded as starts so; a writer that is none of these is a person at the admin.
OPERATOR = "cli:"


async def sync(
    tenants: TenantSet,
    publisher: Publisher,
    *,
    by: str,
    prune: bool = False,
    force: bool = False,
    tick: Callable[[], None] = lambda: None,
) -> list[str]:
    """Publish every tenant of a validated document; only changed ones are written. One line per tenant:
    `+` new, `~` changed, `=` unchanged, `-` removed, `!` kept or refused (a conflict). `tick` after each."""
    stored = set(await publisher.origin.tenant_ids())
    lines: list[str] = []
    for tenant_id in sorted(tenants.tenants):
        raw = orjson.loads(tenants.documents[tenant_id])
        try:
            lines.append(await _sync_one(tenant_id, raw, publisher, by, force))
        except Conflict as e:
            lines.append(f"! {tenant_id}: not written: {e}")
        tick()
    for tenant_id in sorted(stored - set(tenants.tenants)):
        if prune:
            await delete_tenant(tenant_id, publisher, by=by)
            lines.append(f"- {tenant_id}: removed")
        else:
            lines.append(f"! {tenant_id}: stored but not in the document; kept (use --prune to remove it)")
    return lines


async def _sync_one(tenant_id: str, raw: dict[str, Any], publisher: Publisher, by: str, force: bool) -> str:
    current = await publisher.load(tenant_id)
    if current is not None and same_content(current, raw):
        return f"= {tenant_id}: unchanged (version {current['version']})"
    base = int(current["version"]) if current is not None else None
    if current is not None and not force:
        await _refuse_overwriting_an_admin(tenant_id, base, publisher)

    def build(found: dict[str, Any] | None) -> dict[str, Any]:
        if found is not None and base is None:
            raise Conflict(f"tenant {tenant_id} was created by another writer meanwhile; sync again", found["version"])
        return without_version(raw)

    document = await publisher.write(
        tenant_id, build, if_match=base, by=by, action="sync", require=base is not None, skip_unchanged=True
    )
    if base is None:
        return f"+ {tenant_id}: new (version {document['version']})"
    return f"~ {tenant_id}: version {base} -> {document['version']}"


async def _refuse_overwriting_an_admin(tenant_id: str, version: int | None, publisher: Publisher) -> None:
    """A version published at the admin since the last sync is not replaced by a file that never saw it."""
    if version is None:
        return
    try:
        record = await publisher.version(tenant_id, version)
    except NotFound:
        return  # published before anything was recorded: nobody's edit to lose
    writer = str(record.get("by", ""))
    if writer.startswith(OPERATOR) or writer in (FILE_WRITER, IMPORTER):
        return
    raise Conflict(
        f"version {version} was published by {writer!r} at the admin ({record.get('saved_at', '?')}) and is not "
        f"in this file; take it into the file (tenantedge kv get tenant {tenant_id}) or sync --force to replace "
        "it (the history keeps it for a rollback)",
        version,
    )


async def put_tenant(tenant_id: str, data: bytes, publisher: Publisher, source: str, *, by: str) -> str:
    """Validate one tenant document and publish it; a `version` in it is the one it replaces (If-Match)."""
    raw = _object(_json(data, source), source)
    stated = raw.pop("version", None)
    if_match = stated if isinstance(stated, int) and not isinstance(stated, bool) else ANY_VERSION
    current = await publisher.load(tenant_id)
    document = await publisher.write(tenant_id, lambda _: raw, if_match=if_match, by=by, action="kv put", require=False)
    if current is None:
        return f"+ {tenant_id}: new (version {document['version']})"
    return f"~ {tenant_id}: version {current['version']} -> {document['version']}"


async def delete_tenant(tenant_id: str, publisher: Publisher, *, by: str) -> None:
    await publisher.write(tenant_id, lambda _: None, if_match=ANY_VERSION, by=by, action="delete", kind=TENANT_DELETED)


async def put_domain(pattern: str, data: bytes, publisher: Publisher, *, by: str) -> str:
    """Route a host to a tenant: the host joins that tenant's domains (or aliases), published as its change."""
    host = _pattern(pattern)
    match = decode_domain(host, data, f"domain {host}")
    owner = await publisher.origin.owner_of(host)
    if owner is not None and owner != match.tenant_id:
        raise ConfigError(f"domain {host}: belongs to tenant {owner!r}; remove it there first")
    field = "aliases" if match.rule == MATCH_ALIAS else "domains"
    if match.rule == MATCH_WILDCARD and not host.startswith("*."):
        raise ConfigError(f"domain {host}: a wildcard rule needs a pattern like *.example.com")

    def build(current: dict[str, Any] | None) -> dict[str, Any]:
        assert current is not None
        hosts = [entry for entry in current.get(field) or [] if not _same_host(entry, host)]
        return {**current, field: [*hosts, host]}

    try:
        await publisher.write(match.tenant_id, build, if_match=ANY_VERSION, by=by, action=f"kv put domain {host}")
    except NotFound as e:
        raise ConfigError(f"domain {host}: tenant {match.tenant_id!r} does not exist") from e
    return f"~ domain {host} -> {match.tenant_id} ({match.rule})"


async def delete_domain(pattern: str, publisher: Publisher, *, by: str) -> None:
    """Stop routing a host: it leaves the domains or aliases of the tenant that claims it."""
    host = _pattern(pattern)
    owner = await publisher.origin.owner_of(host)
    if owner is None:
        raise ConfigError(f"domain {host}: no tenant claims it")

    def build(current: dict[str, Any] | None) -> dict[str, Any]:
        assert current is not None
        changed: dict[str, Any] = {
            field: [entry for entry in current.get(field) or [] if not _same_host(entry, host)]
            for field in ("domains", "aliases")
            if field in current
        }
        return {**current, **changed}

    await publisher.write(owner, build, if_match=ANY_VERSION, by=by, action=f"kv delete domain {host}")


def _same_host(entry: object, host: str) -> bool:
    try:
        return isinstance(entry, str) and normalise_pattern(entry) == host
    except HostError:
        return False


def _pattern(pattern: str) -> str:
    try:
        return normalise_pattern(pattern)
    except HostError as e:
        raise ConfigError(str(e)) from e


def _json(data: bytes, source: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        issue = ValidationIssue("", f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}")
        raise DocumentError(source, [issue]) from e


def _object(raw: Any, source: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DocumentError(source, [ValidationIssue("", "expected a JSON object (a tenant document)")])
    return raw
