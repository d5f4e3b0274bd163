"""What plugins add to one rendered page, computed before the (synchronous) render by tenantedge.plugins.host."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tenantedge.plugins.contract import Fragment
from tenantedge.plugins.csp import DEFAULT_POLICY


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
