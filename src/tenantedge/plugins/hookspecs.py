"""The hooks a plugin may implement: every one of them, typed, in this one module (pluggy checks plugins
against it when they load: a misspelt hook or argument disables the plugin).

Implement one with `@hookimpl` as a plain function or as `async def`. Plugins take only the arguments they
need. The time budget (TENANTEDGE_PLUGIN_TIMEOUT) holds for both kinds: an `async def` hook is cancelled when it
runs out; a plain one runs in a thread of the plugin's own small pool and is abandoned (its thread cannot be
stopped), so a hook that hangs holds that thread and the plugin is skipped for the tenant until
TENANTEDGE_PLUGIN_COOLDOWN passes. An `async def` hook that blocks without awaiting blocks the whole worker:
call blocking code from a plain hook instead.

Every hook is called for one plugin at a time, so each returns its own single answer (`firstresult`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pluggy

from tenantedge.plugins.contract import AdminRequest, Fragment, PageInfo, PluginEvent, PluginResponse, PostRequest

PROJECT = "tenantedge"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def tenantedge_startup() -> None:
    """Once, when the plugin loads: check what it needs. Raising disables the plugin (logged with its name)."""


@hookspec(firstresult=True)
def tenantedge_head(page: PageInfo) -> Fragment | None:
    """Markup for the page's `<head>`, from one of the plugin's templates."""


@hookspec(firstresult=True)
def tenantedge_body_end(page: PageInfo) -> Fragment | None:
    """Markup for the end of the page's `<body>`, from one of the plugin's templates."""


@hookspec(firstresult=True)
def tenantedge_page_context(page: PageInfo) -> Mapping[str, Any] | None:
    """Values every template of the page sees as `plugins["<name>"]` (plain data: strings, numbers, lists)."""


@hookspec(firstresult=True)
def tenantedge_csp(page: PageInfo) -> Mapping[str, Sequence[str]] | None:
    """Origins to allow in the page's Content-Security-Policy, by directive: `{"script-src":
    ["https://plausible.io"]}`. Only https origins, in script-src, connect-src, img-src, frame-src and
    form-action, are taken (tenantedge.plugins.csp); anything else is dropped and logged."""


@hookspec(firstresult=True)
def tenantedge_post(request: PostRequest) -> PluginResponse | None:
    """Answer a form POST to one of the paths the manifest claims (`post_paths`); None answers 404."""


@hookspec(firstresult=True)
def tenantedge_admin(request: AdminRequest) -> PluginResponse | None:
    """Answer an admin API call under `/api/plugins/<name>/tenants/<tenant>/`; None answers 404."""


@hookspec(firstresult=True)
def tenantedge_event(event: PluginEvent) -> None:
    """React to a change of a tenant that enables the plugin (after it happened: nothing can be refused here)."""


# Hooks whose output is part of a rendered page: called on every page-cache miss of an enabling tenant.
RENDER_HOOKS = ("tenantedge_head", "tenantedge_body_end", "tenantedge_page_context", "tenantedge_csp")
