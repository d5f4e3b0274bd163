"""The response side of a tenant's assets: immutable digest URLs, strong ETags, 304, HEAD and single byte ranges.

Only a tenant's own assets answer on its domains: the edge asks with the tenant the Host header found, and an
asset is looked up under that tenant alone, so another tenant's digest is a plain 404. An image's width variants
(`{sha256}-{width}w.webp`) answer the same way, made for the first request that finds them missing (when the
upload has not made them yet). An SVG opened directly runs in a sandbox with no script (Content-Security-Policy),
on top of the checks made when it was uploaded.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import Scope, Send

from tenantedge.errors import BackendError
from tenantedge.http.conditional import none_match
from tenantedge.http.endpoints import IMMUTABLE
from tenantedge.http.policy import NO_STORE
from tenantedge.http.responses import send_text
from tenantedge.http.server import SendPrepared
from tenantedge.media.cache import Large, MediaCache
from tenantedge.media.kinds import KINDS, SVG
from tenantedge.media.maker import VariantMaker
from tenantedge.media.references import ASSET_ID, MEDIA_PREFIX
from tenantedge.media.store import AssetStore, AssetStream
from tenantedge.media.variants import VARIANT_ID
from tenantedge.pagecache import header_lines

log = logging.getLogger("tenantedge.media")

Header = tuple[bytes, bytes]
# Browsers ask these of every site; a tenant whose theme names a favicon answers them with it.
ICON_PATHS = frozenset({"/favicon.ico", "/apple-touch-icon.png", "/apple-touch-icon-precomposed.png"})
SVG_POLICY = (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; sandbox")
ICON_CACHE = "public, max-age=300"  # /favicon.ico: the theme may name another icon at any time
RETRY_AFTER = b"5"
UNSATISFIABLE = (-1, -1)
_CONDITIONS = frozenset({b"if-none-match", b"range"})
_HEADS = 4096  # prepared heads kept; the table starts again when full


class MediaServer:
    def __init__(self, cache: MediaCache, store: AssetStore, variants: VariantMaker | None = None) -> None:
        self._cache = cache
        self._store = store
        # Width variants of images (None: not served), made for the first request that finds them missing.
        self._variants = variants
        # Heads of whole 200s by (asset id, fixed URL), serialised once: the id names the content, so its length.
        self._heads: dict[tuple[str, bool], _Head] = {}

    async def serve(
        self,
        scope: Scope,
        send: Send,
        tenant: str,
        asset: str,
        head: bool,
        *,
        fixed: bool = True,
        prepared: SendPrepared | None = None,
    ) -> None:
        """Answer a request for one of this tenant's assets (`asset`: its id, from the path). `fixed`: the URL names
        the content (cached for a year); else it is a fixed path (/favicon.ico) whose asset may change."""
        body = self._cache.hot((tenant, asset))
        if body is not None and _unconditional(scope["headers"]):
            # Held in memory, asked for whole: the head prepared for the id, written with the body in one go.
            whole = self._heads.get((asset, fixed)) or self._prepare(asset, fixed, len(body))
            if prepared is not None and whole.lines is not None:
                await prepared(send, 200, whole.headers, whole.lines, b"" if head else body, None)
                return
            await send({"type": "http.response.start", "status": 200, "headers": whole.headers})
            await send({"type": "http.response.body", "body": b"" if head else body})
            return
        variants = self._variants if VARIANT_ID.match(asset) else None
        if variants is None and not ASSET_ID.match(asset):
            await _not_found(send, head)
            return
        try:
            found = body if body is not None else await self._cache.get((tenant, asset))
            if found is None and variants is not None and await variants.ensure_variant(tenant, asset):
                self._cache.forget(tenant, asset)  # the miss remembered before it was made
                found = await self._cache.get((tenant, asset))
            if isinstance(found, Large) and found.stream is None:
                found = Large(await self._store.open(tenant, asset))
        except BackendError as e:
            log.warning("tenant %s asset %s: %s", tenant, asset, e)
            extra = [(b"retry-after", RETRY_AFTER), NO_STORE]
            await send_text(send, 503, "Service Unavailable: try again shortly", head=head, extra=extra)
            return
        if found is None or (isinstance(found, Large) and found.stream is None):
            await _not_found(send, head)
            return
        await self._send(scope, send, tenant, asset, found, head, IMMUTABLE if fixed else ICON_CACHE)

    async def _send(
        self, scope: Scope, send: Send, tenant: str, asset: str, found: bytes | Large, head: bool, cache: str
    ) -> None:
        stream = found.stream if isinstance(found, Large) else None
        total = len(found) if isinstance(found, bytes) else (stream.size if stream else 0)
        headers = _headers(asset, cache)
        etag = headers[2][1]
        if_none_match, range_header, if_range = _conditions(scope["headers"])
        if if_none_match is not None and none_match(if_none_match, etag):
            await _close(stream)
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        span = None
        if range_header is not None and (if_range is None or if_range.strip() == etag):
            span = byte_range(range_header, total)
        if span == UNSATISFIABLE:
            await _close(stream)
            headers.append((b"content-range", f"bytes */{total}".encode()))
            await _start(send, 416, headers, 0)
            await send({"type": "http.response.body", "body": b""})
            return
        status, first, last = (206, *span) if span is not None else (200, 0, total - 1)
        if status == 206:
            headers.append((b"content-range", f"bytes {first}-{last}/{total}".encode()))
        length = last - first + 1
        if isinstance(found, bytes):
            await _start(send, status, headers, length)
            await send({"type": "http.response.body", "body": b"" if head else found[first : last + 1]})
            return
        if head or status == 206:
            # A part of a file too large to hold: asked of the origin as that range, not read whole.
            await _close(stream)
            stream = None if head else await self._store.open(tenant, asset, first, last)
        await _start(send, status, headers, length)
        await _stream(send, stream)

    def _prepare(self, asset: str, fixed: bool, length: int) -> _Head:
        headers = (*_headers(asset, IMMUTABLE if fixed else ICON_CACHE), (b"content-length", str(length).encode()))
        if len(self._heads) >= _HEADS:
            self._heads.clear()  # ids name their content: any head dropped is made again, the same
        whole = self._heads[asset, fixed] = _Head(headers, header_lines(headers))
        return whole


@dataclass(frozen=True, slots=True)
class _Head:
    """The head of a whole asset's 200: its headers, and those as HTTP/1.1 lines for the prepared-head write."""

    headers: tuple[Header, ...]
    lines: bytes | None


def _headers(asset: str, cache: str) -> list[Header]:
    """An asset's response headers, but its length: the type its id's extension names, the digest as ETag."""
    digest, ext = asset.rsplit(".", 1)
    kind = KINDS[ext]
    headers: list[Header] = [
        (b"content-type", kind.content_type.encode()),
        (b"cache-control", cache.encode()),
        (b"etag", f'"{digest}"'.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"accept-ranges", b"bytes"),
    ]
    if kind is SVG:
        headers.append(SVG_POLICY)
    return headers


def _unconditional(raw: Sequence[tuple[bytes, bytes]]) -> bool:
    """No If-None-Match and no Range: the whole body is the answer."""
    for name, _ in raw:  # noqa: SIM110 - a loop: any() over a generator costs more, on every hot request
        if name in _CONDITIONS:
            return False
    return True


def byte_range(header: bytes, total: int) -> tuple[int, int] | None:
    """The one byte range a `Range` header asks of `total` bytes (RFC 9110 §14.1.2): (first, last), UNSATISFIABLE,
    or None where it is to be ignored (malformed, another unit, several ranges: the whole body is sent)."""
    unit, _, spec = header.strip().partition(b"=")
    if unit.strip().lower() != b"bytes" or b"," in spec:
        return None
    start, dash, end = spec.strip().partition(b"-")
    if not dash or not (start.isdigit() or end.isdigit()) or (start and not start.isdigit()):
        return None
    if end and not end.isdigit():
        return None
    if not start:
        suffix = int(end)
        return UNSATISFIABLE if suffix == 0 or total == 0 else (max(total - suffix, 0), total - 1)
    first = int(start)
    if end and int(end) < first:
        return None
    if first >= total:
        return UNSATISFIABLE
    return first, min(int(end), total - 1) if end else total - 1


def _conditions(raw: Sequence[tuple[bytes, bytes]]) -> tuple[bytes | None, bytes | None, bytes | None]:
    if_none_match = range_header = if_range = None
    for name, value in raw:
        if name == b"if-none-match":
            if_none_match = value
        elif name == b"range":
            range_header = value
        elif name == b"if-range":
            if_range = value
    return if_none_match, range_header, if_range


async def _start(send: Send, status: int, headers: list[Header], length: int) -> None:
    start_headers = [*headers, (b"content-length", str(length).encode())]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})


async def _stream(send: Send, stream: AssetStream | None) -> None:
    if stream is not None:
        try:
            async for chunk in stream.chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            await stream.close()
    await send({"type": "http.response.body", "body": b""})


async def _close(stream: AssetStream | None) -> None:
    if stream is not None:
        with contextlib.suppress(BackendError):
            await stream.close()


async def _not_found(send: Send, head: bool) -> None:
    await send_text(send, 404, "Not Found", head=head, extra=[(b"cache-control", b"public, max-age=30")])


def media_asset(path: str) -> str | None:
    """The asset id a request path names under /_edge/media/, or None."""
    return path[len(MEDIA_PREFIX) :] if path.startswith(MEDIA_PREFIX) else None
