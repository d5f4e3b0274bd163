"""Rendered pages kept as encoded bytes with their headers, bounded by entries and bytes, evicted LRU.

A page is encoded once when stored: identity and (for bodies worth it) gzip, each with its own strong
ETag and complete header list, so a hit costs dictionary lookups and two `send` calls.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

Header = tuple[bytes, bytes]
# (tenant id, tenant digest, path, variant); the variant is empty until A/B tests need it.
PageKey = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class Encoded:
    """One representation of a page: its bytes and the headers of a 200 and of a 304 for it."""

    body: bytes
    etag: bytes
    headers: tuple[Header, ...]
    not_modified: tuple[Header, ...]


@dataclass(frozen=True, slots=True)
class CachedPage:
    status: int
    identity: Encoded
    gzipped: Encoded | None
    # For explain mode: the template file behind each section.
    templates: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.identity.body) + (len(self.gzipped.body) if self.gzipped else 0) + 512

    def pick(self, gzip_ok: bool) -> Encoded:
        return self.gzipped if gzip_ok and self.gzipped is not None else self.identity


def encode_page(
    status: int,
    body: bytes,
    headers: Sequence[Header],
    *,
    gzip_min_bytes: int,
    templates: tuple[str, ...] = (),
) -> CachedPage:
    """Encode a page once: identity always, gzip when the body is large enough to gain from it."""
    identity = _encoded(body, headers, ())
    gzipped = None
    if gzip_min_bytes and len(body) >= gzip_min_bytes:
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        if len(packed) < len(body):
            gzipped = _encoded(packed, headers, ((b"content-encoding", b"gzip"),))
    return CachedPage(status, identity, gzipped, templates)


def _encoded(body: bytes, headers: Sequence[Header], extra: tuple[Header, ...]) -> Encoded:
    # A strong validator derived from the exact bytes served (RFC 9110 §8.8.3).
    etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
    full = (*headers, *extra, (b"etag", etag), (b"content-length", str(len(body)).encode()))
    # A 304 repeats the validators and caching headers of the 200 it stands for (RFC 9110 §15.4.5).
    kept = {b"cache-control", b"vary", b"surrogate-key", b"content-location", b"expires"}
    not_modified = (*(h for h in headers if h[0] in kept), (b"etag", etag))
    return Encoded(body, etag, full, not_modified)


class PageCache:
    """LRU of rendered pages by key, within an entry count and a byte budget."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._pages: OrderedDict[PageKey, CachedPage] = OrderedDict()
        self._by_tenant: dict[str, set[PageKey]] = {}
        # (tenant, tag) -> pages: e.g. the pages that show a tenant's posts, dropped when a post is published.
        self._tagged: dict[tuple[str, str], set[PageKey]] = {}
        self._tags: dict[PageKey, tuple[str, ...]] = {}
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0

    def get(self, key: PageKey, *, count_miss: bool = True) -> CachedPage | None:
        """The page, marked as just used; `count_miss=False` for a lookup that another one will follow."""
        page = self._pages.get(key)
        if page is None:
            self.misses += count_miss
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        return page

    def put(self, key: PageKey, page: CachedPage, tags: tuple[str, ...] = ()) -> None:
        if not self.enabled or page.size > self.max_bytes:
            return
        self._remove(key)
        self._pages[key] = page
        self._by_tenant.setdefault(key[0], set()).add(key)
        if tags:
            self._tags[key] = tags
            for tag in tags:
                self._tagged.setdefault((key[0], tag), set()).add(key)
        self.bytes += page.size
        while len(self._pages) > self.max_entries or self.bytes > self.max_bytes:
            oldest = next(iter(self._pages))
            self._remove(oldest)
            self.evictions += 1

    def drop_tenant(self, tenant_id: str) -> int:
        """Forget every page of one tenant (all versions); returns how many were dropped."""
        keys = self._by_tenant.pop(tenant_id, set())
        for key in keys:
            self._remove(key)
        return len(keys)

    def drop_tagged(self, tenant_id: str, tag: str) -> int:
        """Forget the tenant's pages stored with this tag; returns how many were dropped."""
        keys = self._tagged.pop((tenant_id, tag), set())
        for key in keys:
            self._remove(key)
        return len(keys)

    def clear(self) -> None:
        self._pages.clear()
        self._by_tenant.clear()
        self._tagged.clear()
        self._tags.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._pages)

    def _remove(self, key: PageKey) -> None:
        page = self._pages.pop(key, None)
        if page is None:
            return
        self.bytes -= page.size
        keys = self._by_tenant.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_tenant[key[0]]
        for tag in self._tags.pop(key, ()):
            tagged = self._tagged.get((key[0], tag))
            if tagged is not None:
                tagged.discard(key)
                if not tagged:
                    del self._tagged[(key[0], tag)]
