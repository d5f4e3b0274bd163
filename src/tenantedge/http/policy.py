"""Response headers of every kind tenantedge sends, computed once from the configured lifetimes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from tenantedge.pagecache import Header, header_lines

HTML_TYPE: Header = (b"content-type", b"text/html; charset=utf-8")
TEXT_TYPE: Header = (b"content-type", b"text/plain; charset=utf-8")
XML_TYPE: Header = (b"content-type", b"application/xml; charset=utf-8")
VARY: Header = (b"vary", b"Accept-Encoding")
NO_STORE: Header = (b"cache-control", b"no-store")
# What `quote(path, safe="/")` leaves as it is.
_UNRESERVED_PATH = re.compile(r"[A-Za-z0-9_.~/-]*")
# Pages carry their Content-Security-Policy and Referrer-Policy as <meta> tags in layouts/base.html, not as
# headers: a page's head is serialised once when it is cached, but every header still costs a check and a copy
# on each render, and a pass in Python on servers without the prepared-head extension. A reverse proxy can add
# more headers at no cost to the workers.


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """Cache-Control lifetimes for pages (RFC 9111, RFC 5861), and shorter ones for 404s and redirects."""

    page: Header
    not_found: Header
    redirect: Header
    # A page running an experiment differs per visitor: the browser may keep it, no shared cache may.
    experiment: Header = (b"cache-control", b"private, max-age=60")

    @classmethod
    def from_lifetimes(
        cls,
        *,
        max_age: int,
        s_maxage: int,
        stale_while_revalidate: int,
        stale_if_error: int,
        not_found_max_age: int,
        redirect_max_age: int,
    ) -> CachePolicy:
        """The headers for these lifetimes, in seconds."""
        page = (
            f"public, max-age={max_age}, s-maxage={s_maxage}, "
            f"stale-while-revalidate={stale_while_revalidate}, stale-if-error={stale_if_error}"
        )
        not_found = f"public, max-age={not_found_max_age}, s-maxage={not_found_max_age}"
        redirect = f"public, max-age={redirect_max_age}"
        return cls(
            (b"cache-control", page.encode()),
            (b"cache-control", not_found.encode()),
            (b"cache-control", redirect.encode()),
            (b"cache-control", f"private, max-age={max_age}".encode()),
        )

    def page_headers(
        self, status: int, surrogate_keys: str, content_type: Header = HTML_TYPE, *, private: bool = False
    ) -> tuple[tuple[Header, ...], bytes | None]:
        """Everything but the validators and length, which the page cache adds per encoding, and those headers
        serialised (None where one would not pass a server's checks). `private`: a page of an experiment."""
        keys = surrogate_keys.encode()
        control = self.experiment if private else self.page if status == 200 else self.not_found
        headers = (content_type, control, VARY, (b"surrogate-key", keys))
        fixed = _fixed_lines(*headers[:3])
        # Printable text holds no control character, which is all a header value must not hold.
        if fixed is None or not surrogate_keys.isprintable():
            return headers, None
        return headers, b"%ssurrogate-key: %s\r\n" % (fixed, keys)


@lru_cache(maxsize=16)
def _fixed_lines(*headers: Header) -> bytes | None:
    """The headers every page of one status shares, serialised once."""
    return header_lines(headers)


def surrogate_keys(tenant_id: str, path: str | None, *, posts: bool = False) -> str:
    """Tags a CDN or nginx can purge by: the tenant, the page when there is one, and `posts:` for pages that
    show the tenant's posts (purged when one is published)."""
    if path is None:
        keys = f"tenant:{tenant_id}"
    else:
        # Most paths are already what quoting would make them: checking that is cheaper than quoting.
        quoted = path if _UNRESERVED_PATH.fullmatch(path) else quote(path, safe="/")
        keys = f"tenant:{tenant_id} page:{tenant_id}:{quoted}"
    return f"{keys} posts:{tenant_id}" if posts else keys
