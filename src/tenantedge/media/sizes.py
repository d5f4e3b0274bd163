"""What a page needs to show a tenant's image without layout shift: its width and height, and its variants.

Rendering is synchronous, and an image's size is in the tenant's library, so the sizes of the images a tenant
version shows are read once, before the version first renders (`prepare`), and kept with that version. An
asset's size never changes (its id names its content), so what is kept is never stale.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from cachetools import LRUCache

from tenantedge.errors import BackendError
from tenantedge.media.references import MEDIA_PREFIX, media_path
from tenantedge.media.store import AssetStore
from tenantedge.media.variants import RESPONSIVE, variant_id, variant_widths
from tenantedge.tenants import Section, Tenant

log = logging.getLogger("tenantedge.media")

_Version = tuple[str, str]  # tenant id, document digest
_NONE: Mapping[str, ResponsiveImage] = MappingProxyType({})


class ResponsiveImage(NamedTuple):
    """What `responsive(src)` gives a template: the size and `srcset` of an asset image; for any other image,
    no size (None) and an empty `srcset`."""

    src: str
    srcset: str
    width: int | None
    height: int | None


class ImageSizes:
    """The shown images' sizes of each recently rendered tenant version."""

    def __init__(self, store: AssetStore | None, *, versions: int = 10_000) -> None:
        self._store = store
        self._versions: LRUCache[_Version, Mapping[str, ResponsiveImage]] = LRUCache(maxsize=versions)

    def ready(self, tenant: Tenant) -> bool:
        return self._store is None or (tenant.id, tenant.digest) in self._versions

    async def prepare(self, tenant: Tenant) -> bool:
        """Read the sizes of the images this tenant version shows, once; False when the origin could not say
        (the page then renders without sizes, and is not to be kept)."""
        key = (tenant.id, tenant.digest)
        if self._store is None or key in self._versions:
            return True
        shown = set(_images(tenant))
        if not shown:
            self._versions[key] = _NONE  # most versions show no uploaded image: one shared empty mapping
            return True
        try:
            library = await self._store.library(tenant.id)
        except BackendError as e:
            log.warning("tenant %s: image sizes not read: %s", tenant.id, e)
            return False
        found: dict[str, ResponsiveImage] = {}
        for asset in shown:
            record = library.get(asset)
            if record is not None and record.width and record.height:
                found[media_path(asset)] = responsive(asset, record.width, record.height)
        self._versions[key] = found
        return True

    def image(self, tenant: Tenant, src: str) -> ResponsiveImage:
        """The size and variants of an image a tenant version shows (none for a URL, or a version not prepared)."""
        shown = self._versions.get((tenant.id, tenant.digest))
        found = shown.get(src) if shown is not None else None
        return found if found is not None else ResponsiveImage(src, "", None, None)


def responsive(asset: str, width: int, height: int) -> ResponsiveImage:
    """An asset image's `srcset`: its WebP variants, then the original at its own width."""
    src = media_path(asset)
    digest = asset.split(".", 1)[0]
    widths = variant_widths(asset, width)
    candidates = [f"{media_path(variant_id(digest, each))} {each}w" for each in reversed(widths)]
    srcset = ", ".join([*candidates, f"{src} {width}w"]) if candidates else ""
    return ResponsiveImage(src, srcset, width, height)


def _images(tenant: Tenant) -> Iterator[str]:
    """The ids of the raster assets a tenant version's sections show."""
    sections: list[Section] = [*tenant.header, *tenant.footer]
    for page in tenant.pages.values():
        sections.extend(page.sections)
    for section in sections:
        yield from _in(section.props)


def _in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith(MEDIA_PREFIX) and value.rsplit(".", 1)[-1] in RESPONSIVE:
            yield value[len(MEDIA_PREFIX) :]
    elif isinstance(value, Mapping):
        for each in value.values():
            yield from _in(each)
    elif isinstance(value, list | tuple):
        for each in value:
            yield from _in(each)
