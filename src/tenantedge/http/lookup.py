"""From a Host header and a path to a cached page or a tenant: the hot path's shortcut caches, in one place.

Four shortcuts, tried in this order, and dropped together by `forget`, the one place that drops them:
- aliases: the Host header as sent plus the path names a page in the page cache (one dict lookup, no tenant);
- experiment pages: the Host header as sent plus the path names a tenant's page running an experiment, whose
  variant's page-cache key only the visitor's cookie completes (tenantedge.experiments);
- routes: the Host header as sent names the tenant, for a store whose every change is announced (tenants.json);
- page keys: a host's match and tenant digest, with the time they hold, from a store that knows tenants only for
  a while (Redis or S3 behind memory): enough to find a cached page with no tenant document at hand.
One guard covers them all: `changes` counts the changes applied, and what was looked up before a change is not
remembered after it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from tenantedge.clock import Clock
from tenantedge.errors import StoreUnavailable
from tenantedge.hosts import MATCH_ALIAS, MATCH_DEFAULT, HostMatch
from tenantedge.invalidation import Change, ChangeKind
from tenantedge.pagecache import CachedPage, PageCache, PageKey
from tenantedge.store.base import Found, KnownPage, PageKeys, TenantStore
from tenantedge.store.budget import lookup_was_stale
from tenantedge.tenants import Page, Tenant

POSTS_TAG = "posts"  # the tag of the pages that show a tenant's posts
_ROUTES = 16_384


@dataclass(frozen=True, slots=True)
class ExperimentPage:
    """A page running an experiment, as a lookup found it: enough to pick a visitor's cached variant."""

    tenant: Tenant
    page: Page


@dataclass(slots=True)
class Lookup:
    """Where a request's host led: the tenant found (None: no site), or a cached page found by its key alone."""

    host: str
    raw_host: str | None
    found: Found | None = None
    page: CachedPage | None = None
    changes: int = 0  # the lookup's `changes` when this one began
    stale: bool = False  # a stale copy answered part of it, its tiers being down


class PageLookup:
    """Finds pages and tenants for the edge, through aliases, routes and page keys, and drops them all on a change."""

    def __init__(
        self,
        store: TenantStore,
        pages: PageCache,
        clock: Clock,
        *,
        page_keys: PageKeys | None = None,
        max_keys: int = 20_000,
        default_tenant: str | None = None,
    ) -> None:
        self._store = store
        self._pages = pages
        self._clock = clock
        # A store that can tell page keys knows tenants only for a while: its answers change unannounced as
        # they expire, so it gets page keys that expire and no routes; any other store gets routes.
        self._page_keys = page_keys
        self._max_keys = max_keys
        self._default_tenant = default_tenant
        self._routes: dict[bytes, Lookup] = {}
        self._keys: dict[str, KnownPage] = {}
        self._experiments: dict[tuple[bytes, str], ExperimentPage] = {}
        self.changes = 0

    def cached(self, header: bytes, path: str) -> CachedPage | None:
        """The page served moments ago for this Host header as sent and path, if the alias still holds."""
        return self._pages.by_alias((header, path))

    def experiment(self, header: bytes, path: str) -> ExperimentPage | None:
        """The page running an experiment served moments ago for this Host header as sent and path."""
        return self._experiments.get((header, path))

    def route(self, header: bytes) -> Lookup | None:
        """Where this Host header as sent led last time, while no change has been applied since."""
        return self._routes.get(header)

    async def find(self, host: str, raw_host: str | None, path: str, header: bytes | None, *, keys: bool) -> Lookup:
        """Where a normalised host leads for this path. `header`: the Host header as sent, when it alone names
        the site (no proxy in between), to be remembered; `keys`: whether a page found by its key will do. Called
        inside the caller's `one_lookup()`, which notes whether a stale copy answered (Lookup.stale).
        StoreUnavailable when the tiers that would know are down and nothing stale is left."""
        changes = self.changes
        if keys and self._page_keys is not None:
            page = await self._by_page_key(self._page_keys, host, path, header)
            if page is not None:
                return Lookup(host, raw_host, None, page, changes, lookup_was_stale())
        found = self._store.peek(host) or await self._resolve(host)
        lookup = Lookup(host, raw_host, found, None, changes, lookup_was_stale())
        if found is not None and header is not None and self._page_keys is None and changes == self.changes:
            if len(self._routes) >= _ROUTES:
                self._routes.clear()  # a flood of made-up hosts must not grow memory
            self._routes[header] = lookup
        return lookup

    async def serves(self, host: str) -> bool:
        """Whether a normalised host names a published tenant by its own domains, wildcards or aliases (the
        default tenant does not count): the question an on-demand TLS `ask` puts. StoreUnavailable as `find`."""
        found = self._store.peek(host) or await self._store.resolve(host)
        return found is not None and found[1].published

    def served(self, lookup: Lookup, header: bytes | None, path: str, key: PageKey) -> None:
        """A page of the tenant the lookup found is in the page cache: the header as sent becomes its alias, if
        no change was applied since the lookup began and the store announces every change."""
        if header is not None and self._page_keys is None and lookup.changes == self.changes:
            self._pages.alias((header, path), key)

    def experiment_served(self, lookup: Lookup, header: bytes | None, path: str, tenant: Tenant, page: Page) -> None:
        """A page running an experiment was served: the header as sent and the path lead to it, under the same
        guard as aliases."""
        if header is not None and self._page_keys is None and lookup.changes == self.changes:
            if len(self._experiments) >= _ROUTES:
                self._experiments.clear()  # bounded as routes are
            self._experiments[(header, path)] = ExperimentPage(tenant, page)

    def forget(self, change: Change) -> None:
        """Drop the pages a change makes wrong; any change but a post's also drops every alias, route and page
        key, since a host may have moved to another tenant and the change need not name the tenant it left."""
        self.changes += 1
        if change.kind is ChangeKind.POSTS:
            self._pages.drop_tagged(change.tenant, POSTS_TAG)
            return
        self._routes.clear()
        self._keys.clear()
        self._experiments.clear()
        self._pages.forget_aliases()
        if change.kind is ChangeKind.DOCUMENT:
            self._pages.drop_tenant(change.tenant)

    def metrics(self) -> dict[str, tuple[str, str, float]]:
        return {"tenantedge_routes": ("gauge", "Host headers with a cached route.", len(self._routes))}

    async def _by_page_key(self, keys: PageKeys, host: str, path: str, header: bytes | None) -> CachedPage | None:
        now = self._clock.now()
        known = self._keys.get(host)
        if known is None or now >= known.until:
            known = keys.peek_page(host)
            if known is None:
                with contextlib.suppress(StoreUnavailable):  # the full lookup decides what to answer
                    known = await keys.page_key(host)
            if known is None:
                return None
            if len(self._keys) >= self._max_keys:
                self._keys.clear()  # bounded like the domains a store holds
            self._keys[host] = known
        if known.match.rule == MATCH_ALIAS:
            return None
        key = (known.match.tenant_id, known.digest, path, "")
        page = self._pages.get(key, count_miss=False)
        if page is not None and header is not None:
            # Found through what the store knows for a while: the header as sent is the page's alias for as long.
            self._pages.alias((header, path), key, known.until)
        return page

    async def _resolve(self, host: str) -> Found | None:
        """The store's every tier, then the default tenant for unknown hosts."""
        found = await self._store.resolve(host)
        if found is None and self._default_tenant is not None:
            tenant = await self._store.get_tenant(self._default_tenant)
            if tenant is not None:
                found = (HostMatch(tenant.id, MATCH_DEFAULT, "*", tenant.canonical_domain), tenant)
        return found
