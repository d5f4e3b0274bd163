"""What plugins add to one rendered page (computed before the synchronous render by tenantedge.plugins.host), and
how the renderer shows it: fragments from the plugins' own templates, placeholders for plugins left out."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape

from tenantedge.plugins.contract import Fragment
from tenantedge.plugins.csp import DEFAULT_POLICY
from tenantedge.tenants import Tenant

log = logging.getLogger("tenantedge.render")


@dataclass(frozen=True, slots=True)
class PageAdditions:
    """Fragments for the head and the end of the body, by plugin; template values; the page's CSP and the
    plugins' stylesheets. `complete` is False when a plugin failed or was skipped: such a page is not kept."""

    head: tuple[tuple[str, Fragment], ...] = ()
    body_end: tuple[tuple[str, Fragment], ...] = ()
    context: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    csp: str = DEFAULT_POLICY
    stylesheets: tuple[str, ...] = ()
    complete: bool = True
    # Plugins left out of this render (failed, slow, resting or broken): previews show a placeholder for them.
    missing: frozenset[str] = frozenset()


NO_ADDITIONS = PageAdditions()


@dataclass(frozen=True, slots=True)
class Missing:
    """Plugins left out of a render, and what shows where their sections would be."""

    plugins: frozenset[str]
    preview: bool

    def placeholder(self, plugin: str, index: int) -> Markup:
        if self.preview:
            text = escape(f"Plugin “{plugin}” is unavailable: its section is not shown on the site right now.")
            return Markup('<div class="te-plugin-missing" role="note">%s</div>') % text
        return Markup(f"<!-- section {index}: plugin unavailable -->")  # noqa: S704 - no outside text in it


def render_fragments(
    env: Environment, namespace: str, tenant: Tenant, fragments: Sequence[tuple[str, Fragment]], base: dict[str, Any]
) -> tuple[Markup, bool]:
    """Plugins' fragments, each from the plugin's own template (`plugins/<name>/templates/…`, which a tenant may
    override) in the tenants' sandbox, and whether all rendered; one that fails is logged and left out."""
    parts, complete = [], True
    for plugin, fragment in fragments:
        try:
            template = env.get_template(f"{namespace}/plugins/{plugin}/templates/{fragment.template}")
            parts.append(template.render({**base, **fragment.values, "settings": tenant.plugins.get(plugin, {})}))
        except Exception:
            log.exception("tenant %s: plugin %s: template %s failed to render", tenant.id, plugin, fragment.template)
            complete = False
    return Markup("\n".join(parts)), complete  # noqa: S704 - each part rendered by an autoescaping template
