"""The request path in plain ASGI: host → tenant → page → sections → bytes.

A page-cache hit never leaves this module: no Starlette routing, no Request object, no template code and
no JSON, just header bytes read once, a dictionary lookup or two, and the cached bytes sent: in one write
where the server offers the prepared-head extension (tenantedge.http.server), else in two `send` calls.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from time import perf_counter_ns, time_ns
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from starlette.types import ASGIApp, Receive, Scope, Send

from tenantedge.errors import HostError, StoreUnavailable
from tenantedge.experiments import Chosen, apply, assignments, label, visitor_label
from tenantedge.hosts import MATCH_ALIAS, MATCH_DEFAULT, normalise_host
from tenantedge.http.conditional import accepts_gzip, none_match
from tenantedge.http.endpoints import IMMUTABLE, METRICS_PATH, READY_PATH
from tenantedge.http.lookup import POSTS_TAG, Lookup, PageLookup
from tenantedge.http.media import ICON_PATHS, MediaServer, media_asset
from tenantedge.http.policy import HTML_TYPE, NO_STORE, TEXT_TYPE, XML_TYPE, CachePolicy, surrogate_keys
from tenantedge.http.proxies import IPNetwork, trust_checker
from tenantedge.http.responses import send_response, send_text
from tenantedge.http.server import PREPARED, SendPrepared
from tenantedge.http.visitors import VisitorPolicy
from tenantedge.media.references import MEDIA_PREFIX
from tenantedge.pagecache import CachedPage, Header, PageCache, PageKey, encode_page, header_lines
from tenantedge.plugins.host import PLUGIN_PREFIX, PluginHost
from tenantedge.render.additions import NO_ADDITIONS
from tenantedge.render.pages import THEME_PATH, PageRenderer, RenderedPage
from tenantedge.seo import ROBOTS_PATH, SEO_PATHS, robots_txt, sitemap_xml
from tenantedge.store.base import Found
from tenantedge.store.budget import one_lookup
from tenantedge.telemetry.requests import HIT, MISS, NO_TENANT, REQUEST_ID, STALE, CacheOutcome, Exchange, Recorder
from tenantedge.tenants import Page, Tenant

if TYPE_CHECKING:
    from tenantedge.content.blog import BlogContent

log = logging.getLogger("tenantedge.edge")

EDGE_PREFIX = "/_edge/"
EXPLAIN_HEADER = b"x-tenantedge-explain"
# The admin host answers these to holders of an admin token; a tenant's domain, as any unknown /_edge/ path.
DUPLICATE_HOST = "more than one Host header"
_ADMIN_EDGE_PATHS = frozenset({METRICS_PATH, READY_PATH})
_CSS_TYPE = (b"content-type", b"text/css; charset=utf-8")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_NO_SITE_KEY: PageKey = ("", "", "", "no-site")
RETRY_AFTER = b"5"
Hook = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class _Headers:
    """The request headers the edge reads, found in one pass over the header list."""

    host: bytes | None = None
    if_none_match: bytes | None = None
    accept_encoding: bytes | None = None
    forwarded_host: bytes | None = None
    forwarded_proto: bytes | None = None
    request_id: bytes | None = None
    duplicate_host: bool = False


class EdgeApp:
    """Serves every tenant's site; `/_edge/` endpoints that need no tenant go to a small Starlette router, and
    every request to the operations listener (told apart by the port it arrived on) to its own router."""

    def __init__(
        self,
        lookup: PageLookup,
        renderer: PageRenderer,
        pages: PageCache,
        edge_routes: ASGIApp,
        *,
        policy: CachePolicy,
        gzip_min_bytes: int = 1024,
        trusted_proxies: tuple[IPNetwork, ...] = (),
        debug: bool = False,
        on_startup: Sequence[Hook] = (),
        on_shutdown: Sequence[Hook] = (),
        admin: ASGIApp | None = None,
        admin_host: str | None = None,
        blog: BlogContent | None = None,
        operations: ASGIApp | None = None,
        operations_port: int = 0,
        media: MediaServer | None = None,
        recorder: Recorder | None = None,
        plugins: PluginHost | None = None,
        visitors: VisitorPolicy | None = None,
    ) -> None:
        self._lookup = lookup
        self._renderer = renderer
        self._pages = pages
        self._edge_routes = edge_routes
        self._policy = policy
        self._gzip_min_bytes = gzip_min_bytes
        self._trusted = trust_checker(trusted_proxies)
        self._debug = debug
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        # The admin host never reaches a tenant: it is checked before any store lookup, and never route-cached.
        self._admin = admin
        self._admin_host = admin_host if admin is not None else None
        # Posts from the content database, fetched before a page that shows them renders (None: no database).
        self._blog = blog
        self._operations = operations if operations_port else None
        self._operations_port = operations_port
        # Tenants' own assets, at /_edge/media/{id} and the icon paths on their own domains (None: not served).
        self._media = media
        # Counts each public request and writes its access log line (None: neither, as in explain mode).
        self._recorder = recorder
        # Installed plugins: what they add to pages, and the form POSTs they answer (None: no plugin loaded).
        self._plugins = plugins if plugins else None
        # How pages running an experiment know their visitor (the cookie's name, consent).
        self._visitors = visitors or VisitorPolicy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Dispatch: lifespan, the operations listener, sockets, the edge's own endpoints, the admin's writes.
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self._operations is not None and _local_port(scope) == self._operations_port:
            await self._operations(scope, receive, send)
            return
        if scope["type"] != "http":
            if self._admin is not None and self._for_admin(scope):
                await self._admin(scope, receive, send)
            else:
                await self._edge_routes(scope, receive, send)
            return
        recorder = self._recorder
        started = time_ns() if recorder is not None else 0
        path: str = scope["path"]
        method = scope["method"]
        head = method == "HEAD"
        headers = _read_headers(scope["headers"])
        trusted = (headers.forwarded_host or headers.forwarded_proto) is not None and self._trusted(scope)
        # Lookup: the Host header as sent names the site unless a trusted proxy says otherwise.
        header = headers.host if not trusted and not headers.duplicate_host else None
        # The hot path: a page the lookup holds for this Host header and path, sent at once (and, with a recorder,
        # counted and logged without wrapping `send`).
        if header is not None and (head or method == "GET") and not self._debug:
            page = self._lookup.cached(header, path)
            if page is not None:
                await self._send_page(send, page, headers, head, "", None, scope=scope, started=started)
                return
            # A page running an experiment: the visitor's variant, when it is cached (else the way below renders it).
            experiment = self._lookup.experiment(header, path)
            if experiment is not None:
                page, cookie = self._cached_variant(scope, headers, experiment.tenant, experiment.page)
                if page is not None:
                    await self._send_page(
                        send, page, headers, head, "", None, scope=scope, started=started, cookie=cookie
                    )  # fmt: skip
                    return
        # Every other request is counted and logged through its Exchange, which wraps `send`. In this frame, not a
        # nested coroutine: with no recorder it costs nothing.
        exchange = None
        if recorder is not None:
            send = exchange = Exchange(send, scope, recorder.ids)
        try:
            if path.startswith(EDGE_PREFIX) and path != THEME_PATH and not path.startswith(MEDIA_PREFIX):
                if self._plugins is not None and path.startswith(PLUGIN_PREFIX) and scope["method"] == "POST":
                    await self._plugin_post(scope, receive, send)
                elif path in _ADMIN_EDGE_PATHS and self._admin is not None and self._for_admin(scope):
                    await self._admin(scope, receive, send)
                else:
                    await self._edge_routes(scope, receive, send)
                return
            if method != "GET" and not head:
                if self._admin is not None and self._for_admin(scope):
                    await self._admin(scope, receive, send)
                    return
                await send_text(send, 405, "Method Not Allowed", extra=[(b"allow", b"GET, HEAD"), NO_STORE])
                return
            if headers.duplicate_host:
                await self._bad_host(send, HostError(DUPLICATE_HOST), head)
                return
            lookup = self._lookup.route(header) if header is not None else None
            if lookup is None:
                try:
                    raw_host = _host_header(headers, trusted)
                    host = normalise_host(raw_host)
                except HostError as e:
                    await self._bad_host(send, e, head)
                    return
                if host == self._admin_host and self._admin is not None:
                    await self._admin(scope, receive, send)
                    return
                try:
                    # One wait budget for the whole way to the tenant: a hung tier costs this request one timeout.
                    with one_lookup():
                        keys = not self._debug and path != THEME_PATH and not path.startswith(MEDIA_PREFIX)
                        lookup = await self._lookup.find(host, raw_host, path, header, keys=keys)
                except StoreUnavailable as e:
                    log.warning("host %s: %s", host, e)
                    await self._unavailable(send, head)
                    return
                if lookup.page is not None:
                    outcome = STALE if lookup.stale else HIT
                    await self._send_page(send, lookup.page, headers, head, host, None, outcome, scope=scope)
                    return
            # Send a cached page, or render one.
            try:
                await self._serve(scope, send, headers, head, trusted, header, lookup)
            except StoreUnavailable as e:
                log.warning("host %s path %s: %s", lookup.host, path, e)
                await self._unavailable(send, head)
            except Exception:
                log.exception("host %s path %s: request failed", lookup.host, path)
                await send_text(send, 500, "Internal Server Error", head=head, extra=[NO_STORE])
        finally:
            if exchange is not None and recorder is not None:
                recorder.finish(exchange, started)

    async def _serve(
        self,
        scope: Scope,
        send: Send,
        headers: _Headers,
        head: bool,
        trusted: bool,
        header: bytes | None,
        lookup: Lookup,
    ) -> None:
        path: str = scope["path"]
        host, found = lookup.host, lookup.found
        # A tenant not yet published answers as an unknown host does: nothing of it is served, nor cached as its own;
        # or, when it asks for it, with a coming-soon page showing its name and theme alone.
        if found is None or not found[1].published:
            if found is not None and found[1].coming_soon:
                await self._serve_coming_soon(scope, send, headers, head, lookup)
                return
            await self._send_page(send, self._no_site(), headers, head, host, None)
            return
        match, tenant = found
        if type(send) is Exchange:
            send.tenant = tenant.id
        if match.rule == MATCH_ALIAS:
            location = _url(_scheme(scope, headers, trusted), match.canonical, _port(lookup.raw_host or ""), scope)
            await self._redirect(send, location, head, self._explained(lambda: _explain(host, found, "redirect=alias")))
            return
        if path == THEME_PATH:
            explain = self._explained(lambda: _explain(host, found, "stylesheet"))
            await self._send_theme(scope, send, tenant, head, explain)
            return
        if self._media is not None:
            asset = media_asset(path)
            if asset is not None:
                await self._media.serve(scope, send, tenant.id, asset, head, prepared=_prepared(scope))
                return
            if path in ICON_PATHS and tenant.theme.favicon is not None:
                favicon = tenant.theme.favicon
                await self._media.serve(scope, send, tenant.id, favicon, head, fixed=False, prepared=_prepared(scope))
                return
        spec = tenant.pages.get(path)
        if spec is not None and spec.running:
            await self._serve_experiment(scope, send, headers, head, trusted, lookup, header, spec)
            return
        key = (tenant.id, tenant.digest, path, "")
        page = self._pages.get(key)
        outcome = STALE if lookup.stale else HIT if page is not None else MISS
        if page is None:
            began = perf_counter_ns()
            page = await self._render(tenant, path, key, headers)
            if type(send) is Exchange:
                send.render_ns = perf_counter_ns() - began
        if page is None:
            if path != "/" and path.endswith("/") and path.rstrip("/") in tenant.pages:
                location = _raw_path(scope).rstrip(b"/") + _query(scope)
                explain = self._explained(lambda: _explain(host, found, "redirect=trailing-slash"))
                await self._redirect(send, location, head, explain)
                return
            page = self._not_found(tenant)
        else:
            self._lookup.served(lookup, header, path, key)
        await self._send_page(send, page, headers, head, host, found, outcome, scope=scope)

    async def _serve_experiment(
        self,
        scope: Scope,
        send: Send,
        headers: _Headers,
        head: bool,
        trusted: bool,
        lookup: Lookup,
        header: bytes | None,
        spec: Page,
    ) -> None:
        """A page running an experiment: the visitor's variants, each combination its own page-cache entry, private
        to the browser; found again through its own shortcut, since an alias knows no visitor."""
        assert lookup.found is not None
        tenant = lookup.found[1]
        visitor = self._visitors.visitor(scope["headers"], _scheme(scope, headers, trusted) == "https")
        assigned = assignments(spec.running, visitor.id)
        path: str = scope["path"]
        key = (tenant.id, tenant.digest, path, label(assigned))
        page = self._pages.get(key)
        outcome = STALE if lookup.stale else HIT if page is not None else MISS
        if page is None:
            began = perf_counter_ns()
            page = await self._render(tenant, path, key, headers, apply(spec.sections, assigned))
            if type(send) is Exchange:
                send.render_ns = perf_counter_ns() - began
        if page is None:  # a blog page whose posts could not be shown as this page
            page = self._not_found(tenant)
        else:
            self._lookup.experiment_served(lookup, header, path, tenant, spec)
        cookie, detail = visitor.set_cookie, f"experiment={key[3]}"
        await self._send_page(
            send, page, headers, head, lookup.host, lookup.found, outcome, scope=scope, cookie=cookie, detail=detail
        )

    def _cached_variant(
        self, scope: Scope, headers: _Headers, tenant: Tenant, spec: Page
    ) -> tuple[CachedPage | None, Header | None]:
        """The visitor's variant of a page running an experiment, if the page cache holds it, and the cookie to set
        (no proxy in between: the Host header as sent named the site, so the scope's scheme is the visitor's)."""
        visitor = self._visitors.visitor(scope["headers"], scope.get("scheme") == "https")
        key = (tenant.id, tenant.digest, scope["path"], visitor_label(spec.running, visitor.id))
        return self._pages.get(key, count_miss=False), visitor.set_cookie

    async def _serve_coming_soon(self, scope: Scope, send: Send, headers: _Headers, head: bool, lookup: Lookup) -> None:
        assert lookup.found is not None
        tenant = lookup.found[1]
        if scope["path"] == THEME_PATH:
            explain = self._explained(lambda: _explain(lookup.host, lookup.found, "stylesheet"))
            await self._send_theme(scope, send, tenant, head, explain)
            return
        key = (tenant.id, tenant.digest, "", "coming-soon")
        page = self._pages.get(key)
        if page is None:
            rendered = self._renderer.render_coming_soon(tenant)
            page = self._store_page(key, rendered, surrogate_keys(tenant.id, None), headers)
        await self._send_page(send, page, headers, head, lookup.host, lookup.found)

    async def _plugin_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A form POST to a path a plugin claims, on a domain of a published tenant that enables the plugin."""
        assert self._plugins is not None
        try:
            headers = _read_headers(scope["headers"])
            if headers.duplicate_host:
                raise HostError(DUPLICATE_HOST)
            trusted = (headers.forwarded_host or headers.forwarded_proto) is not None and self._trusted(scope)
            raw_host = _host_header(headers, trusted)
            host = normalise_host(raw_host)
        except HostError as e:
            await self._bad_host(send, e, False)
            return
        try:
            with one_lookup():
                lookup = await self._lookup.find(host, raw_host, scope["path"], None, keys=False)
        except StoreUnavailable as e:
            log.warning("host %s: %s", host, e)
            await self._unavailable(send, False)
            return
        found = lookup.found if host != self._admin_host else None
        # The tenant's own domains only: not an alias, nor any host the default tenant answers for.
        if found is None or not found[1].published or found[0].rule in (MATCH_ALIAS, MATCH_DEFAULT):
            await send_text(send, 404, "Not Found", extra=[NO_STORE])
            return
        if type(send) is Exchange:
            send.tenant = found[1].id
        try:
            await self._plugins.post(found[1], scope, receive, send)
        except Exception:
            # A plugin's answer that cannot be sent (a bad status, a header that is not latin-1): the visitor
            # gets a 500 with its request id, not a dropped connection.
            log.exception("host %s: plugin POST %s failed", host, scope["path"])
            await send_text(send, 500, "Internal Server Error", extra=[NO_STORE])

    async def _unavailable(self, send: Send, head: bool) -> None:
        extra = [(b"retry-after", RETRY_AFTER), NO_STORE]
        await send_text(send, 503, "Service Unavailable: try again shortly", head=head, extra=extra)

    def _for_admin(self, scope: Scope) -> bool:
        try:
            headers = _read_headers(scope["headers"])
            if headers.duplicate_host:
                return False
            trusted = headers.forwarded_host is not None and self._trusted(scope)
            raw = _host_header(headers, trusted)
            return raw is not None and normalise_host(raw) == self._admin_host
        except HostError:
            return False

    def metrics(self) -> dict[str, tuple[str, str, float]]:
        pages = self._pages
        return {
            "tenantedge_page_cache_entries": ("gauge", "Rendered pages held by this worker.", len(pages)),
            "tenantedge_page_cache_bytes": ("gauge", "Bytes of rendered pages held by this worker.", pages.bytes),
            "tenantedge_page_cache_hits_total": ("counter", "Requests answered from the page cache.", pages.hits),
            "tenantedge_page_cache_misses_total": ("counter", "Page-cache lookups that found nothing.", pages.misses),
            "tenantedge_page_cache_evictions_total": ("counter", "Pages dropped to stay in budget.", pages.evictions),
            **self._lookup.metrics(),
        }

    async def _bad_host(self, send: Send, error: HostError, head: bool) -> None:
        reason = str(error)
        extra = [NO_STORE, *self._explained(lambda: f"rule=bad-host; error={reason}")]
        await send_text(send, 400, f"Bad Request: {reason}", head=head, extra=extra)

    async def _render(
        self, tenant: Tenant, path: str, key: PageKey, headers: _Headers, chosen: Chosen | None = None
    ) -> CachedPage | None:
        if path in SEO_PATHS:
            return await self._render_seo(tenant, path, key, headers)
        # The sizes of the images the version shows, read once; a page rendered without them is not kept.
        sized = await self._renderer.images.prepare(tenant)
        # What plugins add, their hooks run within their budget; a page one of them was left out of is not kept.
        additions = NO_ADDITIONS if self._plugins is None else await self._plugins.additions(tenant, path)
        sized = sized and additions.complete
        if self._blog is not None and tenant.feature("blog"):
            changes = self._lookup.changes
            shown = await self._blog.page_posts(tenant, path)  # StoreUnavailable: a post with no copy
            if shown is not None:
                blog_page = self._renderer.render_blog(tenant, path, shown.posts, additions, chosen=chosen)
                keys = surrogate_keys(tenant.id, path, posts=True)
                # A change applied while the posts were read (a post published, say): this page may show old posts.
                keep = sized and blog_page.complete and shown.cacheable and self._lookup.changes == changes
                return self._store_page(
                    key, blog_page, keys, headers, tags=(POSTS_TAG,), keep=keep, private=chosen is not None
                )
        rendered = self._renderer.render_page(tenant, path, additions, chosen=chosen)
        if rendered is None:
            return None
        keep = sized and rendered.complete
        keys = surrogate_keys(tenant.id, path)
        return self._store_page(key, rendered, keys, headers, keep=keep, private=chosen is not None)

    async def _render_seo(self, tenant: Tenant, path: str, key: PageKey, headers: _Headers) -> CachedPage | None:
        """robots.txt or sitemap.xml, cached as pages are; a sitemap listing posts is dropped when one changes."""
        seo, domain, keys = tenant.seo, tenant.canonical_domain, surrogate_keys(tenant.id, path)
        if path == ROBOTS_PATH:
            robots = RenderedPage(robots_txt(seo, domain), 200, ())
            return self._store_page(key, robots, keys, headers, content_type=TEXT_TYPE)
        if not seo.sitemap:
            return None
        if self._blog is None or not tenant.feature("blog"):
            sitemap = RenderedPage(sitemap_xml(domain, tenant.pages, seo), 200, ())
            return self._store_page(key, sitemap, keys, headers, content_type=XML_TYPE)
        changes = self._lookup.changes
        posts, fresh = await self._blog.sitemap_posts(tenant.id)  # StoreUnavailable: no copy of the posts
        sitemap = RenderedPage(sitemap_xml(domain, tenant.pages, seo, posts), 200, ())
        keys = surrogate_keys(tenant.id, path, posts=True)
        keep = fresh and self._lookup.changes == changes
        return self._store_page(key, sitemap, keys, headers, tags=(POSTS_TAG,), keep=keep, content_type=XML_TYPE)

    def _not_found(self, tenant: Tenant) -> CachedPage:
        key = (tenant.id, tenant.digest, "", "404")
        page = self._pages.get(key)
        if page is None:
            rendered = self._renderer.render_not_found(tenant)
            page = self._store_page(key, rendered, surrogate_keys(tenant.id, None), None)
        return page

    def _no_site(self) -> CachedPage:
        page = self._pages.get(_NO_SITE_KEY)
        if page is None:
            page = self._store_page(_NO_SITE_KEY, self._renderer.render_no_site(), "no-site", None)
        return page

    def _store_page(
        self,
        key: PageKey,
        rendered: RenderedPage,
        keys: str,
        headers: _Headers | None,
        *,
        tags: tuple[str, ...] = (),
        keep: bool = True,
        content_type: Header = HTML_TYPE,
        private: bool = False,
    ) -> CachedPage:
        # With the page cache off, compress only for a client that takes gzip: nobody else would use it.
        compress = self._pages.enabled or (headers is not None and _wants_gzip(headers))
        page_headers, lines = self._policy.page_headers(rendered.status, keys, content_type, private=private)
        page = encode_page(
            rendered.status,
            rendered.html.encode(),
            page_headers,
            gzip_min_bytes=self._gzip_min_bytes if compress else 0,
            templates=rendered.templates,
            prepare=keep and self._pages.enabled,
            lines=lines,
            tenant=key[0] or NO_TENANT,
        )
        if keep:
            self._pages.put(key, page, tags)
        return page

    async def _send_page(
        self,
        send: Send,
        page: CachedPage,
        headers: _Headers,
        head: bool,
        host: str,
        found: Found | None,
        outcome: CacheOutcome = HIT,
        *,
        scope: Scope | None = None,
        started: int = 0,
        cookie: Header | None = None,
        detail: str = "",
    ) -> None:
        """Send a page, in one write where the server offers it (`scope` given); with `started`, the hot path's
        request start, count and log it too. `cookie`: a Set-Cookie for this response alone; `detail`, for the
        explain header."""
        prepared = _prepared(scope) if scope is not None else None
        encoded = page.gzipped if page.gzipped is not None and _wants_gzip(headers) else page.identity
        # Preconditions only apply where the response would be a 2xx (RFC 9110 §13.2.1).
        if page.status == 200 and headers.if_none_match is not None and none_match(headers.if_none_match, encoded.etag):
            status, out, lines, body = 304, encoded.not_modified, encoded.not_modified_head, b""
        else:
            status, out, lines, body = page.status, encoded.headers, encoded.head, encoded.body
        request_id = b""
        if type(send) is Exchange:
            # Counted here, and sent through the server's own `send`, so the prepared head still goes in one write.
            send.status, send.size, send.tenant, send.host = status, 0 if head else len(body), page.tenant, headers.host
            send.outcome = outcome
            request_id = send.request_id(headers.request_id, read=True)
            send = send.send
        elif started and self._recorder is not None and scope is not None:
            request_id = self._recorder.ids.accept(headers.request_id, scope)
        if cookie is not None:
            out = (*out, cookie)
            prepared = None  # the head serialised in advance lacks it; only a visitor's first request sets it
        if self._debug:
            explained = f"cache={outcome.name.lower()}; templates={','.join(page.templates)}"
            explained += f"; {detail}" if detail else ""
            out = (*out, (EXPLAIN_HEADER, _explain(host, found, explained)))
            prepared = None
        elif prepared is not None and lines is None:
            # A page not kept has no 304 head: that one is serialised now, when it is sent (still cheaper than
            # two messages).
            lines = header_lines(out)
        extra = (REQUEST_ID, request_id) if request_id else None
        if prepared is not None and lines is not None:
            # The server writes the head serialised when the page was encoded, and the body, in one go.
            await prepared(send, status, out, lines, b"" if head else body, extra)
        else:
            if extra is not None:
                out = (*out, extra)
            # The cached header tuple itself: immutable, so sharing it across requests is safe (servers copy it).
            await send({"type": "http.response.start", "status": status, "headers": out})
            await send({"type": "http.response.body", "body": b"" if head else body})
        if request_id and started and scope is not None and self._recorder is not None:
            size = 0 if head else len(body)
            self._recorder.hit(scope, headers.host or b"", status, size, page.tenant, request_id, started)

    def _explained(self, describe: Callable[[], str | bytes]) -> list[Header]:
        """The explain header, built only in debug mode."""
        if not self._debug:
            return []
        value = describe()
        return [(EXPLAIN_HEADER, value if isinstance(value, bytes) else _header_safe(value))]

    async def _redirect(self, send: Send, location: bytes, head: bool, explain: list[Header]) -> None:
        extra = [(b"location", location), self._policy.redirect, *explain]
        await send_text(send, 301, f"Moved Permanently: {location.decode('latin-1')}", head=head, extra=extra)

    async def _send_theme(self, scope: Scope, send: Send, tenant: Tenant, head: bool, explain: list[Header]) -> None:
        stylesheet = self._renderer.stylesheet(tenant)
        requested = dict(parse_qsl(scope["query_string"].decode("latin-1"))).get("v")
        # A URL naming the current digest never changes; an old or missing digest gets the current CSS briefly.
        cache = IMMUTABLE if requested == stylesheet.digest else "public, max-age=60"
        headers = [_CSS_TYPE, (b"cache-control", cache.encode()), (b"x-content-type-options", b"nosniff"), *explain]
        await send_response(send, 200, headers, stylesheet.body, head=head)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for hook in self._on_startup:
                        await hook()
                except Exception as e:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                # What startup built (modules, templates, tenants) lives as long as the worker: moved out of the
                # collector's sight, a full collection no longer walks it and stalls requests for tens of ms.
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # One hook failing must not leave the others' connections open, nor the server waiting.
                failures = []
                for hook in self._on_shutdown:
                    name = getattr(hook, "__qualname__", repr(hook))
                    try:
                        await hook()
                    except Exception as e:
                        log.exception("shutdown: %s failed", name)
                        failures.append(f"{name} raised {e!r}")
                if failures:
                    await send({"type": "lifespan.shutdown.failed", "message": "; ".join(failures)})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return


def _prepared(scope: Scope) -> SendPrepared | None:
    """The server's way to send a response with a head serialised in advance, if it offers one."""
    extensions = scope.get("extensions")
    offer = extensions.get(PREPARED) if extensions else None
    return offer["send"] if offer else None


def _local_port(scope: Scope) -> int | None:
    """The port the request arrived on (None on a Unix socket, or when the server does not say)."""
    server = scope.get("server")
    return server[1] if server else None


def _read_headers(raw: Iterable[tuple[bytes, bytes]]) -> _Headers:
    headers = _Headers()
    for name, value in raw:
        if name == b"host":
            if headers.host is not None:
                headers.duplicate_host = True
            headers.host = value
        elif name == b"accept-encoding":
            headers.accept_encoding = value
        elif name == b"if-none-match":
            headers.if_none_match = value
        elif name == b"x-forwarded-host":
            headers.forwarded_host = value
        elif name == b"x-forwarded-proto":
            headers.forwarded_proto = value
        elif name == b"x-request-id":
            headers.request_id = value
    return headers


def _host_header(headers: _Headers, trusted: bool) -> str | None:
    """The Host header, or X-Forwarded-Host when the peer is a trusted proxy."""
    host = headers.host
    if trusted and headers.forwarded_host:
        # Proxies append: the last entry is the one our own trusted proxy saw.
        host = headers.forwarded_host.rsplit(b",", 1)[-1].strip()
    if host is None:
        return None
    try:
        return host.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HostError("Host header is not valid UTF-8") from e


def _wants_gzip(headers: _Headers) -> bool:
    return headers.accept_encoding is not None and accepts_gzip(headers.accept_encoding)


def _explain(host: str, found: Found | None, detail: str) -> bytes:
    """Why this response: which tenant and match rule won, and the detail of what answered."""
    if found is None:
        parts = [f"host={host}", "tenant=-", "rule=unknown-host"]
    else:
        match, tenant = found
        parts = [f"host={host}", f"tenant={tenant.id}", f"rule={match.rule}", f"pattern={match.pattern}"]
        parts += [f"version={tenant.version}", f"digest={tenant.digest}"]
    return _header_safe("; ".join([*parts, detail]))


def _header_safe(text: str) -> bytes:
    # Header values must stay visible ASCII: anything else (a hostile Host, say) is percent-encoded.
    return quote(text, safe="=;,/ .*:-_'()[]").encode()


def _scheme(scope: Scope, headers: _Headers, trusted: bool) -> str:
    if trusted and headers.forwarded_proto in (b"http", b"https"):
        return "https" if headers.forwarded_proto == b"https" else "http"
    return "https" if scope.get("scheme") == "https" else "http"


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


def _url(scheme: str, host: str, port: str, scope: Scope) -> bytes:
    netloc = host if not port or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return f"{scheme}://{netloc}".encode() + _raw_path(scope) + _query(scope)
