"""Runs plugins' hooks for the tenants that enable them: one plugin at a time, each call within its budget.

A hook that raises or overruns is logged with the plugin's name and left out: the page renders without it (and
is not kept in the page cache, so the next request tries again), a form POST answers 503. The plugin then rests
for that tenant (TENANTEDGE_PLUGIN_COOLDOWN): a hook that hangs holds one of its plugin's threads, and a hook
that always fails would otherwise be retried, and logged, on every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import inspect
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from tenantedge.clock import Clock
from tenantedge.errors import PluginFailed
from tenantedge.events import PAGE_PUBLISHED, TENANT_DELETED, TENANT_UPDATED, Event
from tenantedge.http.proxies import IPNetwork, client_address
from tenantedge.plugins.contract import AdminRequest, Fragment, PageInfo, PluginEvent, PluginResponse, PostRequest
from tenantedge.plugins.csp import policy
from tenantedge.plugins.database import TenantDatabase, TenantTransactions
from tenantedge.plugins.discovery import Discovered, LoadedPlugin
from tenantedge.plugins.hookspecs import RENDER_HOOKS
from tenantedge.render.additions import NO_ADDITIONS, PageAdditions
from tenantedge.tenants import Tenant

log = logging.getLogger("tenantedge.plugins")

PLUGIN_PREFIX = "/_edge/plugins/"
# Threads per plugin for its plain (not async) hooks: a plugin whose hooks hang uses up its own, nobody else's.
_THREADS = 2
_EVENTS = (TENANT_UPDATED, PAGE_PUBLISHED, TENANT_DELETED)


class PluginHost:
    """The loaded plugins, and the one way to call their hooks."""

    def __init__(
        self,
        discovered: Discovered,
        clock: Clock,
        *,
        timeout: float = 0.5,
        cooldown: float = 30.0,
        max_body: int = 64 * 1024,
        database: TenantTransactions | None = None,
        trusted_proxies: tuple[IPNetwork, ...] = (),
    ) -> None:
        self.discovered = discovered
        self._plugins = discovered.loaded
        self._clock = clock
        self._timeout = timeout
        self._cooldown = cooldown
        self.max_body = max_body
        self._database = database
        self._trusted_proxies = trusted_proxies
        self._pools = {
            name: ThreadPoolExecutor(_THREADS, thread_name_prefix=f"plugin-{name}") for name in self._plugins
        }
        # (plugin, tenant) -> when the plugin may be called for the tenant again.
        self._resting: dict[tuple[str, str], float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def __bool__(self) -> bool:
        return bool(self._plugins)

    def template_folders(self) -> dict[str, Path]:
        """Each loaded plugin's folder, by name: the loader finds `plugins/<name>/sections/…` and
        `plugins/<name>/templates/…` in it."""
        return {name: plugin.manifest.root for name, plugin in self._plugins.items()}

    def asset_routes(self) -> list[BaseRoute]:
        """`/_edge/plugins/<name>/assets/<file>`: each plugin's static files, on every tenant's domain."""
        return [
            Mount(f"{PLUGIN_PREFIX}{name}/assets", StaticFiles(directory=plugin.manifest.assets))
            for name, plugin in self._plugins.items()
            if plugin.manifest.assets.is_dir()
        ]

    async def additions(self, tenant: Tenant, path: str) -> PageAdditions:
        """What the tenant's plugins add to the page at `path`; NO_ADDITIONS when it enables none."""
        if not tenant.plugins:
            return NO_ADDITIONS
        names = sorted(tenant.plugins)
        results = await asyncio.gather(*(self._page_hooks(tenant, name, path) for name in names))
        head, body_end, sources, stylesheets = [], [], [], []
        context: dict[str, Mapping[str, Any]] = {}
        missing: set[str] = set()
        complete = True
        for name, (outputs, ok) in zip(names, results, strict=True):
            plugin = self._plugins.get(name)
            if plugin is None:
                missing.add(name)  # broken at startup: every render is without it, so pages are still kept
                continue
            if not ok:
                missing.add(name)
                complete = False
            if isinstance(fragment := outputs.get("tenantedge_head"), Fragment):
                head.append((name, fragment))
            if isinstance(fragment := outputs.get("tenantedge_body_end"), Fragment):
                body_end.append((name, fragment))
            if isinstance(values := outputs.get("tenantedge_page_context"), Mapping):
                context[name] = dict(values)
            if isinstance(csp := outputs.get("tenantedge_csp"), Mapping):
                sources.append((name, csp))
            stylesheets += [f"{PLUGIN_PREFIX}{name}/assets/{sheet}" for sheet in plugin.manifest.css]
        return PageAdditions(
            head=tuple(head),
            body_end=tuple(body_end),
            context=context,
            csp=policy(sources),
            stylesheets=tuple(stylesheets),
            complete=complete,
            missing=frozenset(missing),
        )

    async def _page_hooks(self, tenant: Tenant, name: str, path: str) -> tuple[dict[str, Any], bool]:
        plugin = self._plugins.get(name)
        if plugin is None:
            return {}, False
        page = PageInfo(
            tenant.id,
            tenant.canonical_domain,
            path,
            tenant.lang,
            _read_only(tenant.plugins[name]),
            has_database=self._database is not None,
            rendered_at=self._clock.wall(),
        )
        outputs: dict[str, Any] = {}
        for hook in RENDER_HOOKS:
            if hook in plugin.hooks:
                try:
                    outputs[hook] = _expected(plugin, hook, await self.call(plugin, hook, tenant.id, page=page))
                except PluginFailed:
                    return {}, False
        return outputs, True

    async def call(self, plugin: LoadedPlugin, hook: str, tenant_id: str, **kwargs: Any) -> Any:
        """One hook of one plugin, within the budget; PluginFailed when it fails (logged here)."""
        key = (plugin.name, tenant_id)
        resting = self._resting.get(key)
        if resting is not None:
            if self._clock.now() < resting:
                raise PluginFailed(f"plugin {plugin.name} is resting for tenant {tenant_id}")
            del self._resting[key]
        caller: Callable[..., Any] = getattr(plugin.manager.hook, hook)
        try:
            async with asyncio.timeout(self._timeout):
                if hook in plugin.asynchronous:
                    result = caller(**kwargs)
                    return await result if inspect.isawaitable(result) else result
                loop = asyncio.get_running_loop()
                # In the request's context, so the plugin's log lines name the request as the edge's do.
                context = contextvars.copy_context()
                return await loop.run_in_executor(self._pools[plugin.name], context.run, partial(caller, **kwargs))
        except TimeoutError as e:
            log.error(
                "plugin %s: %s took over %ss for tenant %s; left out", plugin.name, hook, self._timeout, tenant_id
            )
            self._rest(key, hook)
            raise PluginFailed(f"plugin {plugin.name}: {hook} timed out") from e
        except Exception as e:
            log.exception("plugin %s: %s failed for tenant %s; left out", plugin.name, hook, tenant_id)
            self._rest(key, hook)
            raise PluginFailed(f"plugin {plugin.name}: {hook} raised {type(e).__name__}") from e

    def _rest(self, key: tuple[str, str], hook: str) -> None:
        # Only a failed render hook rests the plugin's pages: a POST, an admin call or an event that fails (a
        # visitor can make a POST slow) must not take the plugin off the tenant's pages, nor their caching.
        if self._cooldown > 0 and hook in RENDER_HOOKS:
            self._resting[key] = self._clock.now() + self._cooldown

    def database(self, tenant_id: str) -> TenantDatabase | None:
        return TenantDatabase(self._database, tenant_id) if self._database is not None else None

    async def post(self, tenant: Tenant, scope: Scope, receive: Receive, send: Send) -> None:
        """A POST to `/_edge/plugins/<name>/<path>` on the tenant's domain."""
        name, _, path = scope["path"].removeprefix(PLUGIN_PREFIX).partition("/")
        plugin = self._plugins.get(name)
        if (
            plugin is None
            or name not in tenant.plugins
            or path not in plugin.manifest.post_paths
            or "tenantedge_post" not in plugin.hooks
        ):
            await _send(send, PluginResponse(404, "Not Found"))
            return
        body = await _read_body(scope, receive, self.max_body)
        if body is _Cut.GONE:
            return  # the visitor left before sending the form: nobody to answer, nothing for the plugin
        if body is _Cut.TOO_LARGE:
            await _send(send, PluginResponse(413, f"Content Too Large: at most {self.max_body} bytes"))
            return
        request = PostRequest(
            tenant_id=tenant.id,
            domain=tenant.canonical_domain,
            path=path,
            settings=_read_only(tenant.plugins[name]),
            headers={key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]},
            query=scope.get("query_string", b"").decode("latin-1"),
            body=body,
            client=client_address(scope, self._trusted_proxies),
            database=self.database(tenant.id),
            received_at=self._clock.wall(),
        )
        try:
            answer = await self.call(plugin, "tenantedge_post", tenant.id, request=request)
        except PluginFailed:
            await _send(send, PluginResponse(503, "Service Unavailable: try again shortly"))
            return
        await _send(send, _expected(plugin, "tenantedge_post", answer) or PluginResponse(404, "Not Found"))

    async def admin(self, name: str, request: AdminRequest) -> PluginResponse:
        """An admin API call for the plugin, already authorised for `request.tenant_id`."""
        plugin = self._plugins.get(name)
        if plugin is None or "tenantedge_admin" not in plugin.hooks:
            return PluginResponse(404, "no such plugin route")
        try:
            answer = await self.call(plugin, "tenantedge_admin", request.tenant_id, request=request)
        except PluginFailed:
            return PluginResponse(503, "the plugin did not answer")
        return _expected(plugin, "tenantedge_admin", answer) or PluginResponse(404, "no such plugin route")

    def tell(self, event: Event, tenant: Tenant | None) -> None:
        """Tell the plugins the tenant enables (enabled, for a deleted tenant) of a change, in the background."""
        if event.type not in _EVENTS:
            return
        enabled = tenant.plugins if tenant is not None else {}
        names = list(enabled) if event.type != TENANT_DELETED else list(self._plugins)
        for name in names:
            plugin = self._plugins.get(name)
            if plugin is None or "tenantedge_event" not in plugin.hooks:
                continue
            settings = _read_only(enabled.get(name, {}))
            told = PluginEvent(
                event.type, event.tenant, event.version, event.path, settings, database=self.database(event.tenant)
            )
            task = asyncio.create_task(self._tell(plugin, told))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _tell(self, plugin: LoadedPlugin, event: PluginEvent) -> None:
        with contextlib.suppress(PluginFailed):  # logged by `call`
            await self.call(plugin, "tenantedge_event", event.tenant_id, event=event)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)


def _read_only(settings: Mapping[str, Any]) -> Mapping[str, Any]:
    # The tenant's own settings, shared by every render: a hook must not be able to change them for the next one.
    return MappingProxyType(dict(settings))


def _expected(plugin: LoadedPlugin, hook: str, value: Any) -> Any:
    """The value when it is of the hook's type; else logged and treated as no answer."""
    kinds: dict[str, type | tuple[type, ...]] = {
        "tenantedge_head": Fragment,
        "tenantedge_body_end": Fragment,
        "tenantedge_page_context": Mapping,
        "tenantedge_csp": Mapping,
        "tenantedge_post": PluginResponse,
        "tenantedge_admin": PluginResponse,
    }
    kind = kinds.get(hook)
    if value is None or kind is None or isinstance(value, kind):
        return value
    log.error("plugin %s: %s returned %s, not %s; ignored", plugin.name, hook, type(value).__name__, kind)
    return None


class _Cut(enum.Enum):
    """Why a request body was not read whole."""

    TOO_LARGE = "past the limit"
    GONE = "the client went away"


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes | _Cut:
    """The whole request body, or why not: past `limit` bytes (said by Content-Length, or counted as it comes),
    or the client gone before it all came."""
    for key, value in scope["headers"]:
        if key == b"content-length" and (not value.isdigit() or int(value) > limit):
            return _Cut.TOO_LARGE
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return _Cut.GONE
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _Cut.TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _site_path(location: str) -> bool:
    """A path on this site: '/…', not '//…', with visible ASCII only (no space, tab, backslash or control)."""
    return (
        location.startswith("/")
        and all(33 <= ord(character) <= 126 and character != "\\" for character in location)
        and not location.replace("\t", "").startswith("//")
    )


async def _send(send: Send, response: PluginResponse) -> None:
    body = response.body.encode() if isinstance(response.body, str) else response.body
    headers = [
        (b"content-type", response.content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
    ]
    if response.retry_after is not None and response.retry_after >= 0:
        headers.append((b"retry-after", str(int(response.retry_after)).encode()))
    status = response.status
    if not 200 <= status <= 599:
        raise ValueError(f"a plugin answered with status {status}")
    location = response.location
    # A redirect stays on the site: a path, never another host ('//evil.example', or '/\t/evil.example', which
    # browsers read as '//evil.example' once they drop the tab) or a scheme; visible ASCII only.
    if location is not None and _site_path(location):
        status = 303
        headers.append((b"location", location.encode("latin-1", "replace")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
