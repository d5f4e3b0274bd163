"""The one owner of invalidation: every cache of a worker registers here, and every change is applied here.

A change arrives from the bus (an admin write, a sync, a post), from tenants.json saved by an editor, from a
key changed in Redis, or as "trust nothing" after a reconnect; it becomes one `Change` handed to every
registered cache, which drops what it derived from that tenant or host. To add a cache, implement `forget`
and register it in the wiring (`app.create_app` lists every one); to add an event type, map it in `change_of`.
Caches keyed by what they were made from need no dropping: the renderer's (by tenant digest), rich text and
the policy's header lines (by content), the page cache's entries (by digest; dropped here only to free memory).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from tenantedge.events import ASSET_EVENTS, DRAFT_SAVED, POST_EVENTS, Event
from tenantedge.store.layout import TENANT, DocKey

log = logging.getLogger("tenantedge.invalidation")


class ChangeKind(enum.Enum):
    DOCUMENT = "document"  # a tenant's document changed, or the tenant was created or removed
    POSTS = "posts"  # one of a tenant's blog posts changed
    HOST = "host"  # a host's routing document changed on its own (a key edited in Redis)
    EVERYTHING = "everything"  # events may have been missed (a reconnect): trust nothing held


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    tenant: str = ""
    version: int | None = None  # the version the change made, when known: a fill must not store an older one
    host: str = ""


EVERYTHING = Change(ChangeKind.EVERYTHING)


class Forgets(Protocol):
    """A cache that holds something derived from tenants, hosts or posts."""

    def forget(self, change: Change) -> None:
        """Drop what this change makes wrong; a scope the cache does not hold is ignored."""
        ...


def change_of(event: Event) -> Change | None:
    """What an event changes for the caches; None when nothing served depends on it (a draft)."""
    if event.type == DRAFT_SAVED or event.type in ASSET_EVENTS:
        return None  # an asset's URL names its content: the media cache drops a deleted one itself
    if event.type in POST_EVENTS:
        return Change(ChangeKind.POSTS, event.tenant, event.version)
    return Change(ChangeKind.DOCUMENT, event.tenant, event.version)


def change_of_key(key: DocKey) -> Change:
    """What a document changed in Redis by someone else changes."""
    kind, name = key
    return Change(ChangeKind.DOCUMENT, name) if kind == TENANT else Change(ChangeKind.HOST, host=name)


class Invalidation:
    """Hands every change to every registered cache, in the order they registered (stores before pages)."""

    def __init__(self) -> None:
        self._caches: list[Forgets] = []

    def register(self, *caches: Forgets) -> None:
        self._caches.extend(caches)

    def apply(self, change: Change) -> None:
        for cache in self._caches:
            try:
                cache.forget(change)
            except Exception:  # one broken cache must not leave the others serving the old version
                log.exception("%s could not apply %s", type(cache).__name__, change)

    def tenants(self, tenant_ids: Iterable[str], version: int | None = None) -> None:
        for tenant_id in tenant_ids:
            self.apply(Change(ChangeKind.DOCUMENT, tenant_id, version))

    def event(self, event: Event) -> None:
        change = change_of(event)
        if change is not None:
            self.apply(change)

    def key_changed(self, key: DocKey) -> None:
        self.apply(change_of_key(key))

    def everything(self) -> None:
        self.apply(EVERYTHING)
