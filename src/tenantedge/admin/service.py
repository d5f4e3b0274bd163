"""The admin's side of tenants: reading, searching, drafts, history and diffs; every write goes through the Publisher.

Drafts live beside the published document, never in it: nothing an admin saves as a draft is public before it
is published, and publishing it is an ordinary write (validated, locked, checked against `If-Match`, recorded).
A tenant created with `"published": false` is not served at all until a page of it, or the tenant, is published.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from tenantedge.admin.jsondiff import merge_patch
from tenantedge.claims import Claim, HostClaims
from tenantedge.errors import Conflict, DocumentError, NotFound, ValidationIssue
from tenantedge.events import DRAFT_SAVED, PAGE_PUBLISHED, TENANT_DELETED, TENANT_UPDATED, Event
from tenantedge.invalidation import Change, ChangeKind
from tenantedge.sections import SectionRegistry
from tenantedge.store.layout import DRAFT, draft_name, draft_path
from tenantedge.store.origins import Summary
from tenantedge.store.publisher import Build, Publisher, without_version
from tenantedge.tenants import DEFAULT_PAGES, Tenant, parse_tenant

log = logging.getLogger("tenantedge.admin")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a tenant, as the API shows it."""

    path: str
    value: Any


class AdminService:
    def __init__(self, publisher: Publisher, registry: SectionRegistry) -> None:
        self.publisher = publisher
        self.origin = publisher.origin
        self._blobs = publisher.blobs
        self._registry = registry
        self._index: dict[str, Summary] | None = None
        self._stale: set[str] = set()
        self._claimed: HostClaims | None = None

    async def close(self) -> None:
        await self.publisher.close()

    # -- reading ---------------------------------------------------------------------------------------

    async def list_tenants(
        self, query: str, offset: int, limit: int, allowed: frozenset[str] | None
    ) -> tuple[int, list[Summary]]:
        index = await self._summaries()
        needle = query.strip().lower()
        found = [
            summary
            for tenant_id, summary in sorted(index.items())
            if (allowed is None or tenant_id in allowed) and (not needle or summary.matches(needle))
        ]
        return len(found), found[offset : offset + limit]

    def forget(self, change: Change) -> None:
        """A tenant changed (an event, a saved file): refresh its entry in the list before showing it again."""
        if change.kind is ChangeKind.DOCUMENT:
            self._stale.add(change.tenant)
        elif change.kind is ChangeKind.EVERYTHING:
            self._index = None

    async def get(self, tenant_id: str) -> dict[str, Any]:
        document = await self.origin.load(tenant_id)
        if document is None:
            raise NotFound(f"no tenant {tenant_id!r}")
        return document

    async def tenant(self, tenant_id: str) -> Tenant:
        document = await self.get(tenant_id)
        return parse_tenant(tenant_id, document, self._registry, source=f"tenant {tenant_id}", limits=None)

    async def pages(self, tenant_id: str) -> tuple[dict[str, Any], int]:
        document = await self.get(tenant_id)
        return _pages(document), int(document["version"])

    async def page(self, tenant_id: str, path: str) -> tuple[Page, int]:
        document = await self.get(tenant_id)
        pages = _pages(document)
        if path not in pages:
            raise NotFound(f"tenant {tenant_id}: no page {path!r}")
        return Page(path, pages[path]), int(document["version"])

    # -- writing ---------------------------------------------------------------------------------------

    async def create(self, tenant_id: str, document: Any, by: str) -> dict[str, Any]:
        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            if current is not None:
                raise Conflict(f"tenant {tenant_id!r} already exists", int(current["version"]))
            return _object(document)

        return await self._publish(tenant_id, build, None, by, "create", require=False)

    async def replace(
        self, tenant_id: str, document: Any, if_match: int | None, by: str, *, remove_sections: bool = False
    ) -> dict[str, Any]:
        """Replace the document; `remove_sections` as for `patch`."""

        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            replaced = _object(document)
            return self._without_switched_off(replaced) if remove_sections else replaced

        return await self._publish(tenant_id, build, if_match, by, "replace")

    async def patch(
        self, tenant_id: str, patch: Any, if_match: int | None, by: str, *, remove_sections: bool = False
    ) -> dict[str, Any]:
        """Apply a merge patch; `remove_sections` also removes the sections and components of features it
        leaves switched off (`false`), in the same write."""

        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            assert current is not None
            document = _object(merge_patch(without_version(current), patch))
            return self._without_switched_off(document) if remove_sections else document

        return await self._publish(tenant_id, build, if_match, by, "patch")

    async def delete(self, tenant_id: str, if_match: int | None, by: str) -> None:
        await self._publish(tenant_id, lambda _: None, if_match, by, "delete", kind=TENANT_DELETED)

    async def put_page(
        self, tenant_id: str, path: str, value: Any, if_match: int | None, by: str, *, live: bool = False
    ) -> dict[str, Any]:
        """Write a page into the published document; `live` also puts a tenant not yet published on its hosts."""

        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            assert current is not None
            document = {**current, "pages": {**_pages(current), path: value}}
            return _served(document) if live else document

        return await self._publish(tenant_id, build, if_match, by, f"page {path}", kind=PAGE_PUBLISHED, path=path)

    async def delete_page(self, tenant_id: str, path: str, if_match: int | None, by: str) -> dict[str, Any]:
        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            assert current is not None
            if path == "/":
                issue = ValidationIssue('pages["/"]', "the home page cannot be removed; replace it instead")
                raise DocumentError(f"tenant {tenant_id}", [issue])
            pages = _pages(current)
            if pages.pop(path, None) is None:
                raise NotFound(f"tenant {tenant_id}: no page {path!r}")
            return {**current, "pages": pages}

        return await self._publish(tenant_id, build, if_match, by, f"delete page {path}", path=path)

    async def publish_tenant(self, tenant_id: str, if_match: int | None, by: str) -> dict[str, Any]:
        """Serve a tenant created unpublished on its hosts (a tenant already served is left as it is)."""

        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            assert current is not None
            return _served(current)

        return await self.publisher.write(
            tenant_id, build, if_match=if_match, by=by, action="publish", skip_unchanged=True
        )

    async def rollback(self, tenant_id: str, version: int, if_match: int | None, by: str) -> dict[str, Any]:
        record = await self.version(tenant_id, version)
        old = _served(without_version(record["document"]))

        def build(current: dict[str, Any] | None) -> dict[str, Any]:
            # The content goes back; whether the tenant is served stays as it is (v1 of a new tenant was not).
            published = {} if current is None or "published" not in current else {"published": current["published"]}
            return {**old, **published}

        return await self._publish(tenant_id, build, if_match, by, f"rollback to {version}")

    async def check(self, tenant_id: str, document: Any) -> None:
        """Validate as a write would (hosts other tenants hold included), storing nothing."""
        raw = without_version(_object(document))
        tenant = await self._validate(tenant_id, {**raw, "version": 1})
        claims = await self._claims()
        issues = []
        for field, hosts in (("domains", tenant.domains), ("aliases", tenant.aliases)):
            for number, host in enumerate(hosts):
                clash = claims.clash(tenant_id, host)
                if clash is not None:
                    path = f"{field}[{number}]"
                    redacted = ValidationIssue(path, clash.redacted(host))
                    issues.append(ValidationIssue(path, clash.message(host), redacted=redacted))
        if issues:
            raise DocumentError(f"tenant {tenant_id}", issues)

    def _without_switched_off(self, document: dict[str, Any]) -> dict[str, Any]:
        """The document without the sections and components that need a feature it switches off."""
        features = document.get("features")
        off = {name for name, on in features.items() if on is False} if isinstance(features, dict) else set()
        needing = {spec.type for spec in self._registry if spec.feature in off}
        if not needing:
            return document

        def kept(sections: Any) -> Any:
            if not isinstance(sections, list):
                return sections  # not a list of sections: validation says so
            return [s for s in sections if not (isinstance(s, dict) and s.get("type") in needing)]

        out = dict(document)
        if isinstance(pages := document.get("pages"), dict):
            out["pages"] = {
                path: {**value, "sections": kept(value.get("sections", []))} if isinstance(value, dict) else kept(value)
                for path, value in pages.items()
            }
        if isinstance(layout := document.get("layout"), dict):
            out["layout"] = {
                part: kept(value) if part in ("header", "footer") else value for part, value in layout.items()
            }
        if isinstance(components := document.get("components"), list):
            out["components"] = [name for name in components if name not in needing]
        return out

    # -- drafts ----------------------------------------------------------------------------------------

    async def save_draft(self, tenant_id: str, path: str, value: Any, by: str) -> dict[str, Any]:
        # Under the tenant's write lock, as asset deletion: an asset is never deleted while a draft starts using it.
        async with self.publisher.lock.hold(tenant_id):
            document = await self.get(tenant_id)
            await self._validate(tenant_id, {**document, "pages": {**_pages(document), path: value}})
            record = {"path": path, "base": document["version"], "saved_at": self._now(), "by": by, "page": value}
            await self._blobs.put((DRAFT, draft_name(tenant_id, path)), orjson.dumps(record))
        await self.announce(Event(DRAFT_SAVED, tenant_id, int(document["version"]), path))
        return record

    async def draft(self, tenant_id: str, path: str) -> dict[str, Any]:
        data = await self._blobs.get((DRAFT, draft_name(tenant_id, path)))
        if data is None:
            raise NotFound(f"tenant {tenant_id}: no draft of page {path!r}")
        record: dict[str, Any] = orjson.loads(data)
        return record

    async def drafts(self, tenant_id: str) -> list[str]:
        names = await self._blobs.names(DRAFT, f"{tenant_id}/")
        return sorted(draft_path(name.split("/", 1)[1]) for name in names)

    async def delete_draft(self, tenant_id: str, path: str) -> None:
        await self.draft(tenant_id, path)
        await self._blobs.delete((DRAFT, draft_name(tenant_id, path)))

    async def publish(self, tenant_id: str, path: str, if_match: int | None, by: str) -> dict[str, Any]:
        record = await self.draft(tenant_id, path)
        document = await self.put_page(tenant_id, path, record["page"], if_match, by, live=True)
        await self._blobs.delete((DRAFT, draft_name(tenant_id, path)))
        return document

    async def preview(self, tenant_id: str, path: str) -> Tenant:
        """The tenant as it would be with this page's draft published (the page as published when no draft)."""
        document = await self.get(tenant_id)
        try:
            record = await self.draft(tenant_id, path)
        except NotFound:
            return await self._validate(tenant_id, document)
        pages = {**_pages(document), path: record["page"]}
        return await self._validate(tenant_id, {**document, "pages": pages})

    # -- history ---------------------------------------------------------------------------------------

    async def history(self, tenant_id: str) -> list[int]:
        return await self.publisher.history(tenant_id)

    async def version(self, tenant_id: str, version: int) -> dict[str, Any]:
        return await self.publisher.version(tenant_id, version)

    async def documents(self, tenant_id: str, old: int, new: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Two versions' documents, without their `version`: what a diff between them compares."""
        before, after = await self.version(tenant_id, old), await self.version(tenant_id, new)
        return without_version(before["document"]), without_version(after["document"])

    # -- the write path ---------------------------------------------------------------------------------

    async def _publish(
        self,
        tenant_id: str,
        build: Build,
        if_match: int | None,
        by: str,
        action: str,
        *,
        kind: str = TENANT_UPDATED,
        path: str | None = None,
        require: bool = True,
    ) -> dict[str, Any]:
        # The list's entry is refreshed by the change's event, which the publisher applies here before it returns.
        return await self.publisher.write(
            tenant_id, build, if_match=if_match, by=by, action=action, kind=kind, path=path, require=require
        )

    async def _validate(self, tenant_id: str, document: dict[str, Any]) -> Tenant:
        return await self.publisher.validate(tenant_id, document)

    async def announce(self, event: Event) -> None:
        await self.publisher.announce(event)

    async def _summaries(self) -> dict[str, Summary]:
        if self._index is None:
            self._index = await self.origin.summaries()
            self._stale.clear()
            self._claimed = None
        for tenant_id in list(self._stale):
            self._stale.discard(tenant_id)
            self._claimed = None
            document = await self.origin.load(tenant_id)
            if document is None:
                self._index.pop(tenant_id, None)
            else:
                try:
                    tenant = parse_tenant(tenant_id, document, self._registry, limits=None)
                    self._index[tenant_id] = Summary.of(tenant)
                except DocumentError:
                    self._index.pop(tenant_id, None)
        return self._index

    async def _claims(self) -> HostClaims:
        """Every tenant's hosts, indexed for `check` (built again only once the list changed)."""
        index = await self._summaries()
        if self._claimed is None:
            summaries = list(index.values())
            self._claimed = await asyncio.to_thread(
                HostClaims.of, (Claim(summary.id, host) for summary in summaries for host in summary.domains)
            )
        return self._claimed

    def _now(self) -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds")


def _pages(document: dict[str, Any]) -> dict[str, Any]:
    """The document's pages; a document without any serves the default ones."""
    pages = document.get("pages")
    return dict(pages) if isinstance(pages, dict) else dict(DEFAULT_PAGES)


def _served(document: dict[str, Any]) -> dict[str, Any]:
    """The document served on its hosts: without `"published": false` (absent means published)."""
    return {key: value for key, value in document.items() if key != "published"}


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DocumentError("request body", [ValidationIssue("", "expected a JSON object (a tenant document)")])
    return value
