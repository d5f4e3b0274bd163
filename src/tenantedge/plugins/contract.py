"""What plugin hooks receive and return: small frozen values, never a request, a pool or a tenant document.

A hook sees only the tenant it is called for: its id, its canonical domain and the settings it gave the plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tenantedge.plugins.database import TenantDatabase


@dataclass(frozen=True, slots=True)
class Fragment:
    """Markup a hook adds to a page: one of the plugin's own templates (a path under its `templates/` folder),
    rendered autoescaped in the sandbox tenants' templates run in, with `settings`, `page` and these values.

    A hook never returns markup itself: only its templates produce HTML, so what it adds is escaped like the rest.
    """

    template: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PageInfo:
    """The page being rendered, as a render hook sees it. What a hook returns for it must depend on these
    values alone: the page is cached by the tenant's document (settings included) and path."""

    tenant_id: str
    domain: str
    path: str
    lang: str
    settings: Mapping[str, Any]
    # Whether PostRequest.database will be set: a form can say that it cannot take messages without one.
    has_database: bool = False
    # When the page was rendered (Unix seconds, by the app's clock); the page is cached with what the hooks made.
    rendered_at: float = 0.0


@dataclass(frozen=True, slots=True)
class PostRequest:
    """A form POST to `/_edge/plugins/<name>/<path>` on a domain of a tenant that enables the plugin.

    `body` is read whole, within TENANTEDGE_PLUGIN_MAX_BODY; `database` is a handle scoped to this tenant under
    row-level security (None when no database is configured); `client` is the visitor's address (the peer's, or
    from `X-Forwarded-For` when the peer is one of TENANTEDGE_TRUSTED_PROXIES).
    """

    tenant_id: str
    domain: str
    path: str
    settings: Mapping[str, Any]
    headers: Mapping[str, str]
    query: str
    body: bytes
    client: str | None
    database: TenantDatabase | None = None
    # When the request came (Unix seconds, by the app's clock).
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class AdminRequest:
    """An admin API call to `/api/plugins/<name>/tenants/<tenant>/<path>`, its token checked and allowed that
    tenant (`grant` names the token) before the plugin sees it."""

    tenant_id: str
    method: str
    path: str
    settings: Mapping[str, Any]
    query: str
    body: bytes
    grant: str
    database: TenantDatabase | None = None


@dataclass(frozen=True, slots=True)
class PluginResponse:
    """What a POST or admin hook answers. `location` (a path on the same site) makes it a 303 redirect, the
    answer to a form post that a reload must not send again."""

    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/plain; charset=utf-8"
    location: str | None = None
    # Seconds to wait before trying again (a 429 or 503 answer), sent as `Retry-After`.
    retry_after: int | None = None


@dataclass(frozen=True, slots=True)
class PluginEvent:
    """Something happened to a tenant that enables the plugin: `tenant.updated` (its document changed, settings
    included), `page.published` (`path` is the page) or `tenant.deleted` (`settings` are empty then)."""

    type: str
    tenant_id: str
    version: int
    path: str | None
    settings: Mapping[str, Any]
    # The tenant's rows, as in PostRequest (None without a database): a plugin removes a deleted tenant's data.
    database: TenantDatabase | None = None
