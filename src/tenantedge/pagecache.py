"""Rendered pages kept as encoded bytes with their headers, bounded by entries and bytes, evicted LRU.

A page is encoded once when stored: identity and (for bodies worth it) gzip, each with its own strong
ETag, complete header list and those headers serialised, so a hit costs a dictionary lookup and one write
(or two `send` calls on a server without the prepared-head extension).

Recency is kept the CLOCK way (second chance), the usual approximation of LRU: a hit only sets the page's
`referenced` flag, and eviction moves a flagged page to the young end once instead of dropping it. A hit
then touches no list nodes, which matters when thousands of tenants' pages are spread over memory.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from tenantedge.clock import Clock, SystemClock

Header = tuple[bytes, bytes]
# (tenant id, tenant digest, path, variant); the variant is empty until A/B tests need it.
PageKey = tuple[str, str, str, str]
# Aliases per page on average, before the alias table starts over: room for a few spellings of each host.
_ALIASES_PER_ENTRY = 2


class Encoded(NamedTuple):
    """One representation of a page: its bytes and the headers of a 200 and of a 304 for it.

    `head` and `not_modified_head` are those headers serialised as header lines, for a server that takes a
    response whose head is prepared in advance (None if a header would not pass a server's checks).
    A named tuple, not a frozen dataclass: as immutable, and built in a third of the time (a render
    makes one or two).
    """

    body: bytes
    etag: bytes
    headers: tuple[Header, ...]
    not_modified: tuple[Header, ...]
    head: bytes | None = None
    not_modified_head: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.head or b"") + len(self.not_modified_head or b"")


@dataclass(slots=True, eq=False)
class CachedPage:
    status: int
    identity: Encoded
    gzipped: Encoded | None
    # For explain mode: the template file behind each section.
    templates: tuple[str, ...]
    # Set by a hit, cleared when eviction passes the page by once (CLOCK's second chance).
    referenced: bool = field(default=False, compare=False)
    # Whose page it is, for per-tenant figures and access logs ("-": no tenant's).
    tenant: str = field(default="-", compare=False)

    @property
    def size(self) -> int:
        """Bytes held: bodies and serialised heads, plus an allowance for the objects around them."""
        return self.identity.size + (self.gzipped.size if self.gzipped else 0) + 512


def encode_page(
    status: int,
    body: bytes,
    headers: Sequence[Header],
    *,
    gzip_min_bytes: int,
    templates: tuple[str, ...] = (),
    prepare: bool = True,
    lines: bytes | None = None,
    tenant: str = "-",
) -> CachedPage:
    """Encode a page once: identity always, gzip when the body is large enough to gain from it.

    `lines`: `headers` already serialised by `header_lines` (a caller that sends the same headers often keeps
    them so), to build each head from. `prepare=False` leaves out the heads that need a pass of their own (the
    304's): for a page sent once and not kept, they cost more than they save.
    """
    identity = _encoded(body, headers, lines, None, prepare)
    gzipped = None
    if gzip_min_bytes and len(body) >= gzip_min_bytes:
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        if len(packed) < len(body):
            gzipped = _encoded(packed, headers, lines, _GZIP, prepare)
    return CachedPage(status, identity, gzipped, templates, tenant=tenant)


_GZIP: Header = (b"content-encoding", b"gzip")


def _encoded(
    body: bytes, headers: Sequence[Header], lines: bytes | None, extra: Header | None, prepare: bool
) -> Encoded:
    # A strong validator derived from the exact bytes served (RFC 9110 §8.8.3).
    # SHA-256 (96 bits of it): where the CPU computes it (SHA-NI), twice as fast as BLAKE2b in Python here.
    etag = b'"' + hashlib.sha256(body).hexdigest()[:24].encode() + b'"'
    length = b"%d" % len(body)
    added = (extra,) if extra is not None else ()
    full = (*headers, *added, (b"etag", etag), (b"content-length", length))
    not_modified = (*[h for h in headers if h[0] in _NOT_MODIFIED_KEEPS], (b"etag", etag))
    head = None
    if lines is not None:
        # The extra header is ours (content-encoding), the validator and the length are made here, of hex digits
        # and digits: nothing in them to check.
        extra_line = b"%s: %s\r\n" % extra if extra is not None else b""
        head = b"%s%setag: %s\r\ncontent-length: %s\r\n" % (lines, extra_line, etag, length)
    elif prepare:
        head = header_lines(full)
    if not prepare:
        return Encoded(body, etag, full, not_modified, head)
    return Encoded(body, etag, full, not_modified, head, header_lines(not_modified))


# A 304 repeats the validators and caching headers of the 200 it stands for (RFC 9110 §15.4.5).
_NOT_MODIFIED_KEEPS = frozenset((b"cache-control", b"vary", b"surrogate-key", b"content-location", b"expires"))


def header_lines(headers: Sequence[Header]) -> bytes | None:
    """Headers as HTTP/1.1 header lines; None if a name is not a lowercase token or a value holds a control."""
    names = [name for name, _ in headers]
    if b"" in names or b"".join(names).translate(None, _TOKEN_BYTES):  # a byte left over is not a token's
        return None
    values = b"".join([value for _, value in headers])
    if len(values.translate(None, _CONTROLS)) != len(values):
        return None
    return b"".join([b"%s: %s\r\n" % header for header in headers])


# Tokens (RFC 9110 §5.6.2) in lowercase, as HTTP/1.1 servers send names; what a field value may not hold
# (§5.5: controls, but tab). Deleting bytes with `translate` checks a whole head in C, faster than a regex.
_TOKEN_BYTES = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
_CONTROLS = bytes([*range(0x09), *range(0x0A, 0x20), 0x7F])


class PageCache:
    """Rendered pages by key, within an entry count and a byte budget, evicted least recently used first.

    A page can also be found by aliases, such as the Host header as sent plus the path: one lookup for a hit,
    without resolving the tenant. An alias goes when its page goes, and `forget_aliases` drops them all
    (whenever hosts may have moved between tenants).
    """

    def __init__(self, max_entries: int, max_bytes: int, clock: Clock | None = None) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        # Reads the time for aliases that expire (made from what a store knows only for a while).
        self._clock = clock or SystemClock()
        self._pages: OrderedDict[PageKey, CachedPage] = OrderedDict()
        self._by_tenant: dict[str, set[PageKey]] = {}
        # (tenant, tag) -> pages: e.g. the pages that show a tenant's posts, dropped when a post is published.
        self._tagged: dict[tuple[str, str], set[PageKey]] = {}
        self._tags: dict[PageKey, tuple[str, ...]] = {}
        # An alias's page, or the page and the clock reading it is good until.
        self._aliases: dict[Hashable, CachedPage | tuple[CachedPage, float]] = {}
        self._alias_keys: dict[Hashable, PageKey] = {}
        self._aliases_of: dict[PageKey, set[Hashable]] = {}
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
        page.referenced = True
        self.hits += 1
        return page

    def by_alias(self, alias: Hashable) -> CachedPage | None:
        """The page stored under an alias, marked as just used; None (and no miss counted) if there is none."""
        entry = self._aliases.get(alias)
        if entry is None:
            return None
        if isinstance(entry, tuple):
            page, until = entry
            if self._clock.now() >= until:
                return None
        else:
            page = entry
        page.referenced = True
        self.hits += 1
        return page

    def alias(self, alias: Hashable, key: PageKey, until: float | None = None) -> None:
        """Let the page stored under `key`, if any, be found by `alias` too, for as long as the page is kept, and
        no longer than `until` (a clock reading) when given."""
        page = self._pages.get(key)
        if page is None or (until is None and self._aliases.get(alias) is page):
            return
        self._unlink_alias(alias)
        if len(self._aliases) >= _ALIASES_PER_ENTRY * self.max_entries:
            self.forget_aliases()  # a flood of made-up spellings must not grow memory
        self._aliases[alias] = page if until is None else (page, until)
        self._alias_keys[alias] = key
        self._aliases_of.setdefault(key, set()).add(alias)

    def forget_aliases(self) -> None:
        self._aliases = {}
        self._alias_keys = {}
        self._aliases_of = {}

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
            oldest, candidate = next(iter(self._pages.items()))
            if candidate.referenced or oldest == key:
                candidate.referenced = False  # its second chance; the page just stored is never the one to go
                self._pages.move_to_end(oldest)
                continue
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
        self.forget_aliases()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._pages)

    def _remove(self, key: PageKey) -> None:
        page = self._pages.pop(key, None)
        if page is None:
            return
        self.bytes -= page.size
        for alias in self._aliases_of.pop(key, ()):
            del self._aliases[alias], self._alias_keys[alias]
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

    def _unlink_alias(self, alias: Hashable) -> None:
        key = self._alias_keys.pop(alias, None)
        if key is None:
            return
        del self._aliases[alias]
        others = self._aliases_of[key]
        others.discard(alias)
        if not others:
            del self._aliases_of[key]
