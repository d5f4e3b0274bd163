"""How a tenant document names an asset, and where it is served: pure functions, no store.

An asset's id is its content's SHA-256 and its kind's extension (`3f2a…c1.png`): the same bytes always get the
same id, and a changed logo a new one. A document refers to it as `"asset:3f2a…c1.png"` (an `image` prop, the
theme's `logo` and `favicon`); the page shows it at `/_edge/media/3f2a…c1.png` on the tenant's own domains.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tenantedge.jsonpath import JsonPath, child, format_path, item

SCHEME = "asset:"
MEDIA_PREFIX = "/_edge/media/"
ASSET_ID = re.compile(r"[0-9a-f]{64}\.(?:png|jpg|gif|webp|avif|ico|svg|woff2|woff)\Z")
REFERENCE = re.compile(r"asset:[0-9a-f]{64}\.(?:png|jpg|gif|webp|avif|ico|svg|woff2|woff)\Z")


def asset_id(digest: str, ext: str) -> str:
    return f"{digest}.{ext}"


def referenced(value: object) -> str | None:
    """The asset id a value names (`"asset:<id>"`), or None."""
    if isinstance(value, str) and REFERENCE.match(value):
        return value[len(SCHEME) :]
    return None


def media_path(asset: str) -> str:
    """Where an asset is served on its tenant's domains."""
    return MEDIA_PREFIX + asset


def references(document: object, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    """Every asset reference in a (raw) tenant document, with its JSON path."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from references(value, child(path, str(key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from references(value, item(path, index))
    else:
        asset = referenced(document)
        if asset is not None:
            yield path, asset


def place(path: JsonPath) -> str:
    """Where in the site a reference is, as a person reads it: `page /about`, `header`, `theme.logo`."""
    if len(path) >= 2 and path[0] == "pages":
        return f"page {path[1]}"
    if len(path) >= 2 and path[0] == "layout":
        return str(path[1])
    return format_path(path[:2]) if path else "document"


def places(document: object) -> dict[str, list[str]]:
    """Each asset the document uses, and the places it is used in (sorted, once each)."""
    found: dict[str, set[str]] = {}
    for path, asset in references(document):
        found.setdefault(asset, set()).add(place(path))
    return {asset: sorted(where) for asset, where in found.items()}
