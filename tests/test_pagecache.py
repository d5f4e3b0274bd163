from __future__ import annotations

import gzip
import hashlib

import pytest

from tenantedge.app import cache_policy
from tenantedge.clock import ManualClock
from tenantedge.http.policy import surrogate_keys
from tenantedge.pagecache import CachedPage, PageCache, encode_page, header_lines
from tenantedge.settings import Settings

HEADERS = (
    (b"content-type", b"text/html; charset=utf-8"),
    (b"cache-control", b"public, max-age=60"),
    (b"vary", b"Accept-Encoding"),
)


def page(body: bytes = b"x" * 4000, status: int = 200) -> CachedPage:
    return encode_page(status, body, HEADERS, gzip_min_bytes=1024)


def test_encoding_once_with_strong_etags_from_the_bytes() -> None:
    body = b"<p>hello</p>" * 400
    encoded = encode_page(200, body, HEADERS, gzip_min_bytes=1024)
    assert encoded.gzipped is not None
    assert gzip.decompress(encoded.gzipped.body) == body
    for representation in (encoded.identity, encoded.gzipped):
        expected = b'"' + hashlib.sha256(representation.body).hexdigest()[:24].encode() + b'"'
        assert representation.etag == expected
        headers = dict(representation.headers)
        assert headers[b"etag"] == representation.etag
        assert headers[b"content-length"] == str(len(representation.body)).encode()
    assert encoded.identity.etag != encoded.gzipped.etag
    assert dict(encoded.gzipped.headers)[b"content-encoding"] == b"gzip"
    assert b"content-encoding" not in dict(encoded.identity.headers)
    not_modified = dict(encoded.gzipped.not_modified)
    assert set(not_modified) == {b"cache-control", b"vary", b"etag"}


@pytest.mark.parametrize(("size", "gzip_min", "compressed"), [(500, 1024, False), (1024, 1024, True), (5000, 0, False)])
def test_small_bodies_stay_plain(size: int, gzip_min: int, compressed: bool) -> None:
    encoded = encode_page(200, b"a" * size, HEADERS, gzip_min_bytes=gzip_min)
    assert (encoded.gzipped is not None) is compressed


def test_incompressible_bodies_stay_plain() -> None:
    noise = hashlib.shake_256(b"seed").digest(8000)
    assert encode_page(200, noise, HEADERS, gzip_min_bytes=1024).gzipped is None


def test_lru_by_entries() -> None:
    cache = PageCache(max_entries=2, max_bytes=1 << 30)
    a, b, c = ("t", "v1", "/a", ""), ("t", "v1", "/b", ""), ("t", "v1", "/c", "")
    cache.put(a, page())
    cache.put(b, page())
    assert cache.get(a) is not None  # a is now the most recent
    cache.put(c, page())
    assert cache.get(b) is None and cache.get(a) is not None and cache.get(c) is not None
    assert cache.evictions == 1 and len(cache) == 2


def test_lru_by_bytes() -> None:
    one = page()
    cache = PageCache(max_entries=1000, max_bytes=one.size * 3 + 10)
    for number in range(10):
        cache.put(("t", "v", f"/{number}", ""), page())
    assert len(cache) == 3
    assert cache.bytes <= cache.max_bytes
    assert [cache.get(("t", "v", f"/{n}", "")) is not None for n in (6, 7, 8, 9)] == [False, True, True, True]


def test_a_page_bigger_than_the_budget_is_not_kept() -> None:
    cache = PageCache(max_entries=10, max_bytes=100)
    cache.put(("t", "v", "/", ""), page())
    assert len(cache) == 0 and cache.bytes == 0


def test_drop_tenant_keeps_other_tenants() -> None:
    cache = PageCache(max_entries=100, max_bytes=1 << 30)
    for tenant in ("a", "b"):
        for version in ("v1", "v2"):
            cache.put((tenant, version, "/", ""), page())
    assert cache.drop_tenant("a") == 2
    assert cache.get(("a", "v2", "/", "")) is None
    assert cache.get(("b", "v1", "/", "")) is not None
    assert len(cache) == 2 and cache.bytes == 2 * page().size


def test_replacing_a_key_keeps_the_byte_count_right() -> None:
    cache = PageCache(max_entries=10, max_bytes=1 << 30)
    for _ in range(5):
        cache.put(("t", "v", "/", ""), page())
    assert len(cache) == 1 and cache.bytes == page().size


def test_disabled_cache_keeps_nothing() -> None:
    cache = PageCache(max_entries=0, max_bytes=1 << 30)
    cache.put(("t", "v", "/", ""), page())
    assert not cache.enabled and cache.get(("t", "v", "/", "")) is None


def test_a_miss_can_be_left_uncounted() -> None:
    cache = PageCache(max_entries=10, max_bytes=1 << 30)
    assert cache.get(("t", "v", "/", ""), count_miss=False) is None
    assert cache.misses == 0
    assert cache.get(("t", "v", "/", "")) is None
    assert cache.misses == 1


def test_a_page_used_since_it_was_stored_gets_a_second_chance() -> None:
    cache = PageCache(max_entries=3, max_bytes=1 << 30)
    a, b, c, d, e = (("t", "v", f"/{name}", "") for name in "abcde")
    for key in (a, b, c):
        cache.put(key, page())
    assert cache.get(a) is not None
    cache.put(d, page())  # a, the oldest, was used: b goes instead, and a loses its mark
    assert [cache.get(key, count_miss=False) is not None for key in (a, b, c, d)] == [True, False, True, True]
    cache.put(e, page())  # c, d and a were all just used: each loses its mark once, then c, now the oldest, goes
    assert [cache.get(key, count_miss=False) is not None for key in (a, c, d, e)] == [True, False, True, True]
    assert cache.evictions == 2 and len(cache) == 3


def test_the_page_just_stored_is_never_the_one_evicted() -> None:
    cache = PageCache(max_entries=1, max_bytes=1 << 30)
    cache.put(("t", "v", "/a", ""), page())
    assert cache.get(("t", "v", "/a", "")) is not None
    cache.put(("t", "v", "/b", ""), page())
    assert cache.get(("t", "v", "/b", "")) is not None and len(cache) == 1


def test_an_alias_finds_the_page_and_counts_a_hit() -> None:
    cache = PageCache(max_entries=10, max_bytes=1 << 30)
    key, stored = ("t", "v", "/", ""), page()
    cache.put(key, stored)
    cache.alias((b"t.example", "/"), key)
    found = cache.by_alias((b"t.example", "/"))
    assert found is stored and found.referenced
    assert cache.by_alias((b"other.example", "/")) is None
    assert (cache.hits, cache.misses) == (1, 0)


def test_an_alias_of_a_page_not_kept_is_not_made() -> None:
    cache = PageCache(max_entries=10, max_bytes=1 << 30)
    cache.alias((b"t.example", "/"), ("t", "v", "/", ""))
    assert cache.by_alias((b"t.example", "/")) is None


@pytest.mark.parametrize("how", ["evicted", "dropped", "replaced", "tagged", "cleared", "forgotten"])
def test_aliases_go_with_their_page(how: str) -> None:
    cache = PageCache(max_entries=1, max_bytes=1 << 30)
    key = ("t", "v", "/", "")
    cache.put(key, page(), tags=("posts",))
    cache.alias((b"t.example", "/"), key)
    cache.alias((b"T.EXAMPLE:80", "/"), key)
    if how == "evicted":
        cache.put(("u", "v", "/", ""), page())
    elif how == "dropped":
        cache.drop_tenant("t")
    elif how == "replaced":
        cache.put(key, page(b"y" * 4000))
    elif how == "tagged":
        cache.drop_tagged("t", "posts")
    elif how == "cleared":
        cache.clear()
    else:
        cache.forget_aliases()
    assert cache.by_alias((b"t.example", "/")) is None and cache.by_alias((b"T.EXAMPLE:80", "/")) is None
    if how in ("replaced", "forgotten"):
        assert cache.get(key) is not None  # the page itself stays


def test_an_alias_moved_to_another_page_leaves_the_first() -> None:
    cache = PageCache(max_entries=10, max_bytes=1 << 30)
    first, second = ("t", "v", "/", ""), ("u", "v", "/", "")
    cache.put(first, page())
    cache.put(second, page(b"z" * 4000))
    cache.alias((b"x.example", "/"), first)
    cache.alias((b"x.example", "/"), second)
    cache.drop_tenant("t")
    assert cache.by_alias((b"x.example", "/")) is cache.get(second)


def test_aliases_are_bounded() -> None:
    cache = PageCache(max_entries=2, max_bytes=1 << 30)
    key = ("t", "v", "/", "")
    cache.put(key, page())
    for number in range(100):
        cache.alias((f"spelling{number}".encode(), "/"), key)
    assert len(cache._aliases) <= 4
    assert cache.by_alias((b"spelling99", "/")) is not None


def test_a_page_not_to_be_kept_can_skip_its_serialised_heads() -> None:
    kept, once = page(), encode_page(200, b"x" * 4000, HEADERS, gzip_min_bytes=1024, prepare=False)
    assert kept.identity.head is not None and kept.gzipped is not None and kept.gzipped.not_modified_head is not None
    assert once.identity.head is None and once.gzipped is not None and once.gzipped.head is None
    assert once.identity.headers == kept.identity.headers


def test_the_byte_budget_counts_serialised_heads() -> None:
    kept, once = page(), encode_page(200, b"x" * 4000, HEADERS, gzip_min_bytes=1024, prepare=False)
    heads = sum(len(e.head or b"") + len(e.not_modified_head or b"") for e in (kept.identity, kept.gzipped) if e)
    assert heads > 0 and kept.size == once.size + heads


@pytest.mark.parametrize("prepare", [True, False])
def test_heads_built_from_serialised_headers_are_the_heads_serialised_whole(prepare: bool) -> None:
    lines = header_lines(HEADERS)
    assert lines is not None
    body = b"<p>hello</p>" * 400
    built = encode_page(200, body, HEADERS, gzip_min_bytes=1024, lines=lines, prepare=prepare)
    whole = encode_page(200, body, HEADERS, gzip_min_bytes=1024)
    assert built.gzipped is not None and whole.gzipped is not None
    for mine, theirs in ((built.identity, whole.identity), (built.gzipped, whole.gzipped)):
        assert mine.head == theirs.head == header_lines(theirs.headers)
        assert mine.headers == theirs.headers
        assert mine.not_modified_head == (theirs.not_modified_head if prepare else None)


def test_policy_heads_are_the_policy_headers_serialised() -> None:
    policy = cache_policy(Settings())
    for status in (200, 404):
        headers, lines = policy.page_headers(status, surrogate_keys("acme", "/caf\u00e9 menu"))
        assert lines is not None and lines == header_lines(headers)
    headers, lines = policy.page_headers(200, "tenant:acme\r\nx-injected: 1")
    assert lines is None and header_lines(headers) is None


def test_an_alias_given_an_end_serves_until_then_and_counts_no_hit_after() -> None:
    clock = ManualClock()
    cache = PageCache(10, 1 << 20, clock)
    key = ("acme", "d1", "/", "")
    cache.put(key, page())
    cache.alias((b"acme.example", "/"), key, until=clock.now() + 30)
    cache.alias((b"ACME.example", "/"), key)  # no end: as long as the page is kept
    assert cache.by_alias((b"acme.example", "/")) is not None
    clock.advance(30)
    hits = cache.hits
    assert cache.by_alias((b"acme.example", "/")) is None and cache.hits == hits
    assert cache.by_alias((b"ACME.example", "/")) is not None
