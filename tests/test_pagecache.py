from __future__ import annotations

import gzip
import hashlib

import pytest

from tenantedge.pagecache import CachedPage, PageCache, encode_page

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
        expected = b'"' + hashlib.blake2b(representation.body, digest_size=12).hexdigest().encode() + b'"'
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
    assert encoded.pick(gzip_ok=True) is (encoded.gzipped or encoded.identity)
    assert encoded.pick(gzip_ok=False) is encoded.identity


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
