"""The request path in plain ASGI: host → tenant → page → sections → bytes."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import parse_qsl, quote

from starlette.types import ASGIApp, Receive, Scope, Send

from tenantedge.errors import HostError
from tenantedge.hosts import MATCH_ALIAS, MATCH_DEFAULT, HostMatch, normalise_host
from tenantedge.http.endpoints import IMMUTABLE
from tenantedge.http.responses import HTML_TYPE, PAGE_SECURITY, send_response, send_text
from tenantedge.render.pages import THEME_PATH, PageRenderer, RenderedPage
from tenantedge.settings import IPNetwork
from tenantedge.store.base import TenantStore
from tenantedge.tenants import Tenant

log = logging.getLogger("tenantedge.edge")

EDGE_PREFIX = "/_edge/"
_READ_METHODS = ("GET", "HEAD")
_CSS_TYPE = (b"content-type", b"text/css; charset=utf-8")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class EdgeApp:
    """Serves every tenant's site; `/_edge/` endpoints that need no tenant go to a small Starlette router."""

    def __init__(
        self,
        store: TenantStore,
        renderer: PageRenderer,
        edge_routes: ASGIApp,
        *,
        default_tenant: str | None = None,
        trusted_proxies: tuple[IPNetwork, ...] = (),
    ) -> None:
        self._store = store
        self._renderer = renderer
        self._edge_routes = edge_routes
        self._default_tenant = default_tenant
        self._trusted = _trust_checker(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["path"].startswith(EDGE_PREFIX) and scope["path"] != THEME_PATH):
            await self._edge_routes(scope, receive, send)
            return
        method = scope["method"]
        head = method == "HEAD"
        if method not in _READ_METHODS:
            await send_text(send, 405, "Method Not Allowed", extra=[(b"allow", b"GET, HEAD")])
            return
        trusted = self._trusted(scope)
        try:
            raw_host = _requested_host(scope, trusted)
            host = normalise_host(raw_host)
        except HostError as e:
            await send_text(send, 400, f"Bad Request: {e}", head=head)
            return
        try:
            await self._serve_host(scope, send, host, raw_host or "", trusted, head)
        except Exception:
            log.exception("host %s path %s: request failed", host, scope["path"])
            await send_text(send, 500, "Internal Server Error", head=head)

    async def _serve_host(self, scope: Scope, send: Send, host: str, raw_host: str, trusted: bool, head: bool) -> None:
        match = await self._match(host)
        tenant = await self._store.get_tenant(match.tenant_id) if match else None
        if match is None or tenant is None:
            await self._send_page(send, self._renderer.render_no_site(host), head)
            return
        if match.rule == MATCH_ALIAS:
            location = _url(_scheme(scope, trusted), match.canonical, _port(raw_host), _raw_path(scope), scope)
            await send_text(
                send, 301, f"Moved Permanently: {location.decode()}", head=head, extra=[(b"location", location)]
            )
            return
        path = scope["path"]
        if path == THEME_PATH:
            await self._send_theme(scope, send, tenant, head)
            return
        page = self._renderer.render_page(tenant, path)
        if page is None:
            if path != "/" and path.endswith("/") and path.rstrip("/") in tenant.pages:
                location = _raw_path(scope).rstrip(b"/") + _query(scope)
                await send_text(send, 301, "Moved Permanently", head=head, extra=[(b"location", location)])
                return
            page = self._renderer.render_not_found(tenant, path)
        await self._send_page(send, page, head)

    async def _match(self, host: str) -> HostMatch | None:
        match = await self._store.lookup_host(host)
        if match is None and self._default_tenant is not None:
            return HostMatch(self._default_tenant, MATCH_DEFAULT, "*", "")
        return match

    @staticmethod
    async def _send_page(send: Send, page: RenderedPage, head: bool) -> None:
        await send_response(send, page.status, [HTML_TYPE, *PAGE_SECURITY], page.html.encode(), head=head)

    async def _send_theme(self, scope: Scope, send: Send, tenant: Tenant, head: bool) -> None:
        stylesheet = self._renderer.stylesheet(tenant)
        requested = dict(parse_qsl(scope["query_string"].decode("latin-1"))).get("v")
        # A URL naming the current digest never changes; an old or missing digest gets the current CSS briefly.
        cache = IMMUTABLE if requested == stylesheet.digest else "public, max-age=60"
        headers = [_CSS_TYPE, (b"cache-control", cache.encode()), (b"x-content-type-options", b"nosniff")]
        await send_response(send, 200, headers, stylesheet.body, head=head)


def _requested_host(scope: Scope, trusted: bool) -> str | None:
    """The Host header, or X-Forwarded-Host when the peer is a trusted proxy; two Host headers are refused."""
    host: bytes | None = None
    forwarded: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"host":
            if host is not None:
                raise HostError("more than one Host header")
            host = value
        elif name == b"x-forwarded-host":
            forwarded = value
    if trusted and forwarded:
        # Proxies append: the last entry is the one our own trusted proxy saw.
        host = forwarded.rsplit(b",", 1)[-1].strip()
    if host is None:
        return None
    try:
        return host.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HostError("Host header is not valid UTF-8") from e


def _trust_checker(networks: tuple[IPNetwork, ...]) -> Callable[[Scope], bool]:
    @lru_cache(maxsize=1024)
    def trusted_ip(ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in networks)

    def check(scope: Scope) -> bool:
        client = scope.get("client")
        return bool(networks) and client is not None and trusted_ip(client[0])

    return check


def _scheme(scope: Scope, trusted: bool) -> str:
    if trusted:
        for name, value in scope["headers"]:
            if name == b"x-forwarded-proto" and value in (b"http", b"https"):
                return "https" if value == b"https" else "http"
    scheme: str = scope.get("scheme", "http")
    return scheme


def _port(raw_host: str) -> str:
    if raw_host.startswith("["):
        _, _, rest = raw_host.partition("]")
        return rest[1:] if rest.startswith(":") else ""
    _, colon, port = raw_host.rpartition(":")
    return port if colon else ""


def _raw_path(scope: Scope) -> bytes:
    raw = scope.get("raw_path")
    return raw if raw else quote(scope["path"]).encode()


def _query(scope: Scope) -> bytes:
    query: bytes = scope.get("query_string", b"")
    return b"?" + query if query else b""


def _url(scheme: str, host: str, port: str, raw_path: bytes, scope: Scope) -> bytes:
    netloc = host if not port or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return f"{scheme}://{netloc}".encode() + raw_path + _query(scope)
