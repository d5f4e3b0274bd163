"""Request-header rules of HTTP caching: If-None-Match (RFC 9110 §13.1.2) and Accept-Encoding (§12.5.3)."""

from __future__ import annotations

from functools import lru_cache


def none_match(if_none_match: bytes, etag: bytes) -> bool:
    """True when If-None-Match names this representation: `*`, or any listed tag by weak comparison."""
    value = if_none_match.strip()
    if value == b"*":
        return True
    opaque = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == opaque for tag in value.split(b","))


@lru_cache(maxsize=512)
def accepts_gzip(accept_encoding: bytes) -> bool:
    """Whether gzip is acceptable: listed (or `*`) with a q-value above zero, and not refused explicitly."""
    gzip_q: float | None = None
    star_q: float | None = None
    for part in accept_encoding.lower().split(b","):
        coding, _, params = part.strip().partition(b";")
        quality = _quality(params)
        if coding.strip() in (b"gzip", b"x-gzip"):
            gzip_q = quality
        elif coding.strip() == b"*":
            star_q = quality
    if gzip_q is not None:
        return gzip_q > 0
    return star_q is not None and star_q > 0


def _quality(params: bytes) -> float:
    for param in params.split(b";"):
        name, _, value = param.strip().partition(b"=")
        if name.strip() == b"q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0
