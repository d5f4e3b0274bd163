"""The Content-Security-Policy of pages, and the origins plugins may add to it for the tenants that enable them.

Only https origins (a hostname, an optional port, nothing else: no wildcard, path, scheme or keyword) in a few
directives are taken: a plugin can let a page load an analytics script or send it beacons, never allow inline
script, `eval`, or every host.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence

log = logging.getLogger("tenantedge.plugins")

# The policy every page carries (layouts/base.html writes it as a <meta> tag).
BASE_POLICY: Mapping[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "img-src": ("'self'", "https:", "data:"),
    "style-src": ("'self'",),
    "script-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'", "https:"),
}
EXTENSIBLE = ("script-src", "connect-src", "img-src", "frame-src", "form-action")
_ORIGIN = re.compile(
    r"https://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9](?::[0-9]{1,5})?\Z"
)


def policy(additions: Iterable[tuple[str, Mapping[str, Sequence[str]]]] = ()) -> str:
    """The policy with each plugin's allowed origins added; `additions` are (plugin name, sources by directive)."""
    directives = {name: list(sources) for name, sources in BASE_POLICY.items()}
    for plugin, sources in additions:
        for directive, origins in sources.items():
            if directive not in EXTENSIBLE:
                log.error(
                    "plugin %s: CSP directive %r cannot be extended; expected one of %s", plugin, directive, EXTENSIBLE
                )
                continue
            # A directive not in the base falls back to default-src: start from it, so 'self' is still allowed.
            current = directives.setdefault(directive, list(BASE_POLICY["default-src"]))
            for origin in origins if not isinstance(origins, str) else (origins,):
                if not isinstance(origin, str) or not _ORIGIN.match(origin):
                    log.error("plugin %s: CSP source %r refused: only https://host[:port] origins", plugin, origin)
                elif origin not in current:
                    current.append(origin)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


DEFAULT_POLICY = policy()
