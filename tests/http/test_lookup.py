"""The hot path's shortcut caches: remembered while nothing changes, forgotten together, never across a change."""

from __future__ import annotations

import pytest

from tenantedge.clock import ManualClock
from tenantedge.http.lookup import Lookup, PageLookup
from tenantedge.invalidation import EVERYTHING, Change, ChangeKind
from tenantedge.pagecache import PageCache, PageKey, encode_page
from tenantedge.sections import SectionRegistry
from tenantedge.store.files import FileStore
from tests.server import ROOT

pytestmark = pytest.mark.anyio
HEADER = b"basicsite.com"


@pytest.fixture
def parts(registry: SectionRegistry) -> tuple[PageLookup, PageCache]:
    pages = PageCache(16, 1 << 20)
    return PageLookup(FileStore.open(ROOT / "tenants.json", registry), pages, ManualClock()), pages


async def cache_home(lookup: PageLookup, pages: PageCache) -> tuple[Lookup, PageKey]:
    found = await lookup.find("basicsite.com", "basicsite.com", "/", HEADER, keys=True)
    assert found.found is not None
    tenant = found.found[1]
    key = (tenant.id, tenant.digest, "/", "")
    pages.put(key, encode_page(200, b"<p>home</p>", (), gzip_min_bytes=0))
    return found, key


async def test_a_route_and_an_alias_are_remembered_while_nothing_changes(parts: tuple[PageLookup, PageCache]) -> None:
    lookup, pages = parts
    found, key = await cache_home(lookup, pages)
    assert lookup.route(HEADER) is found
    lookup.served(found, HEADER, "/", key)
    assert lookup.cached(HEADER, "/") is pages.get(key)


@pytest.mark.parametrize(
    "change",
    [Change(ChangeKind.DOCUMENT, "someone-else"), Change(ChangeKind.POSTS, "basicsite"), EVERYTHING],
    ids=["another-tenant", "a-post", "everything"],
)
async def test_nothing_looked_up_before_a_change_is_remembered_after_it(
    parts: tuple[PageLookup, PageCache], change: Change
) -> None:
    lookup, pages = parts
    found, key = await cache_home(lookup, pages)
    lookup.forget(change)  # applied while the page rendered
    lookup.served(found, HEADER, "/", key)
    assert lookup.cached(HEADER, "/") is None, "the header may name another tenant by now"


async def test_a_document_change_drops_routes_aliases_and_the_tenants_pages(
    parts: tuple[PageLookup, PageCache],
) -> None:
    lookup, pages = parts
    found, key = await cache_home(lookup, pages)
    lookup.served(found, HEADER, "/", key)
    lookup.forget(Change(ChangeKind.DOCUMENT, "clientsite"))  # another tenant: a host may have moved
    assert lookup.route(HEADER) is None and lookup.cached(HEADER, "/") is None
    assert pages.get(key) is not None, "pages of tenants that did not change stay"
    lookup.forget(Change(ChangeKind.DOCUMENT, "basicsite"))
    assert pages.get(key) is None
