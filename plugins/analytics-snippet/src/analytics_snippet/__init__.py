"""tenantedge plugin: an analytics script in the <head> of every page of the tenants that enable it.

Settings (tenants.json, `"plugins": {"analytics-snippet": {...}}`): `provider` (plausible, umami or matomo),
`site_id`, and `host` for a self-hosted instance. Nothing the tenant writes reaches the page but these checked
values, through templates/head.html; the page's Content-Security-Policy allows that one host's scripts and
beacons, for that tenant alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tenantedge.plugins import Fragment, Manifest, PageInfo, hookimpl

NAME = "analytics-snippet"
manifest = Manifest(
    name=NAME,
    version="0.1.0",
    requires=">=0.1,<0.2",
    root=Path(__file__).parent,
    title="Analytics",
    description="Counts visits with Plausible, Umami or Matomo: no cookies, one script in the page's head.",
)

# Where each provider's hosted service runs; Matomo has none, so it needs `host`.
CLOUD: Mapping[str, str] = {"plausible": "plausible.io", "umami": "cloud.umami.is"}
TITLES: Mapping[str, str] = {"plausible": "Plausible", "umami": "Umami", "matomo": "Matomo"}
# Matomo's tracker wants an inline script to configure it; the page's CSP allows none, so this file does it.
MATOMO_LOADER = f"/_edge/plugins/{NAME}/assets/matomo.js"


def analytics_host(settings: Mapping[str, Any]) -> str | None:
    """The host the script and the beacons go to; None when Matomo is chosen without one."""
    host = settings.get("host") or CLOUD.get(settings["provider"])
    return str(host) if host else None


@hookimpl
def tenantedge_head(page: PageInfo) -> Fragment | None:
    host = analytics_host(page.settings)
    if host is None:
        return None
    values = {"provider": page.settings["provider"], "site_id": page.settings["site_id"], "host": host}
    return Fragment("head.html", {**values, "matomo_loader": MATOMO_LOADER})


@hookimpl
def tenantedge_csp(page: PageInfo) -> Mapping[str, Sequence[str]] | None:
    host = analytics_host(page.settings)
    if host is None:
        return None
    return {"script-src": [f"https://{host}"], "connect-src": [f"https://{host}"]}


@hookimpl
def tenantedge_page_context(page: PageInfo) -> Mapping[str, Any]:
    # The Notice section names the provider.
    return {"provider": TITLES[page.settings["provider"]]}
